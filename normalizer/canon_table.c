/* canon_table.c - the engine that maps a source object to a canonical one by walking a
 * field table, writing each canonical member as it goes, and the shapes and envelope
 * every entity shares. Unknown source fields go to `extra` (canon_emit.c).
 *
 * Cost matters here (every record of every entity passes through it): the source object's
 * keys are read once and matched against the table, instead of one lookup per field.
 */
#include "normalizer/canon.h"
#include "normalizer/canon_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Index of the table field whose source key is key, -2 for a consumed key, -1 when
 * unknown. *hint is where the search starts: sources list their keys in roughly the
 * table's order, so the next key is usually at or just after the previous match. */
static long match_key(const canon_table *t, const char *key, size_t *hint) {
    size_t n = t->n, i = *hint < n ? *hint : 0;
    for (size_t k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
        const char *in = t->f[i].in;
        if (in && in[0] == key[0] && strcmp(in, key) == 0) {
            *hint = i + 1;
            return (long)i;
        }
    }
    if (t->consumed)
        for (const char *const *k = t->consumed; *k; k++)
            if ((*k)[0] == key[0] && strcmp(*k, key) == 0) return -2;
    return -1;
}

static int is_absent(const cJSON *v) {
    return v == NULL || cJSON_IsNull(v);
}

/* A string array: [] when absent or not an array; an element that is not a string is
 * left out (the value policy: both recorded as changes). */
static int map_strarr(canon_ctx *c, const cJSON *v, const char *name) {
    const cJSON *list = is_absent(v) ? NULL : v, *e;
    if (list && !cJSON_IsArray(list)) {
        if (canon_change(c, name, "nulled", "wrong type, want array of strings") < 0) return -1;
        list = NULL;
    }
    canon_w_open(c, '[');
    long i = 0;
    cJSON_ArrayForEach(e, list) {
        if (!cJSON_IsString(e)) {
            size_t top = canon_path_push(c, name), old = canon_path_push_index(c, i++);
            int rc = canon_change(c, NULL, "dropped", "wrong type, want string");
            canon_path_pop(c, old);
            canon_path_pop(c, top);
            if (rc < 0) return -1;
            continue;
        }
        i++;
        canon_w_elem(c);
        canon_w_str(c, e->valuestring);
    }
    canon_w_close(c, ']');
    return c->failed ? -1 : 0;
}

/* An array of objects, each mapped with t, field `name` of the object at c->path; []
 * when absent or not an array; an element that is not an object is left out (its
 * position stays its line number, so the others keep theirs). Both are changes. */
static int map_arr(canon_ctx *c, const canon_table *t, const cJSON *v, const char *name) {
    long i = 0;
    const cJSON *list = is_absent(v) ? NULL : v, *e;
    if (list && !cJSON_IsArray(list)) {
        if (canon_change(c, name, "nulled", "wrong type, want array") < 0) return -1;
        list = NULL;
    }
    size_t top = canon_path_push(c, name);
    canon_w_open(c, '[');
    cJSON_ArrayForEach(e, list) {
        if (!cJSON_IsObject(e)) {
            size_t old = canon_path_push_index(c, i++);
            int rc = canon_change(c, NULL, "dropped", "wrong type, want object");
            canon_path_pop(c, old);
            if (rc < 0) return -1;
            continue;
        }
        size_t old = canon_path_push_index(c, i);
        if (c->failed) return -1;
        canon_w_elem(c);
        canon_w_open(c, '{');
        if (canon_map_table(c, t, e, i) < 0) return -1;
        canon_w_close(c, '}');
        canon_path_pop(c, old);
        i++;
    }
    canon_w_close(c, ']');
    canon_path_pop(c, top);
    return c->failed ? -1 : 0;
}

/* Write the value of field f, v being its source value (NULL when absent). */
static int map_field(canon_ctx *c, const canon_field *f, const cJSON *v) {
    size_t old;
    int rc;
    switch (f->kind) {
    case CANON_F_STR: return canon_conv_str(c, v, f->in);
    case CANON_F_TIME: return canon_conv_time(c, v, f->in);
    case CANON_F_DEC: return canon_conv_dec(c, v, f->in);
    case CANON_F_DECTEXT: {
        char dec[VAL_DEC_LEN];
        /* Trackstar itself types these as free text: a value that is not a number is
         * kept in extra rather than failing the whole record. */
        if (cJSON_IsString(v) && val_dec_from_text(v->valuestring, dec) < 0) {
            if (canon_extra_keep(c, f->in, v) < 0) return -1;
            canon_w_lit(c, "null");
            return canon_change(c, f->in, "nulled", "non-numeric text (kept in extra)");
        }
        return canon_conv_dec(c, v, f->in);
    }
    case CANON_F_INT: return canon_conv_int(c, v, f->in);
    case CANON_F_BOOL: return canon_conv_bool(c, v, f->in);
    case CANON_F_STRARR: return map_strarr(c, v, f->in);
    case CANON_F_RAW:
        if (v)
            canon_w_value(c, v);
        else
            canon_w_lit(c, "null");
        return c->failed ? -1 : 0;
    case CANON_F_RAWOBJ:
        if (is_absent(v)) {
            canon_w_lit(c, "{}");
            return 0;
        }
        if (!cJSON_IsObject(v)) {
            canon_w_lit(c, "{}");
            return canon_change(c, f->in, "nulled", "wrong type, want object");
        }
        canon_w_value(c, v);
        return c->failed ? -1 : 0;
    case CANON_F_OBJ:
        if (is_absent(v)) {
            canon_w_lit(c, "null");
            return 0;
        }
        if (!cJSON_IsObject(v)) {
            canon_w_lit(c, "null");
            return canon_change(c, f->in, "nulled", "wrong type, want object");
        }
        old = canon_path_push(c, f->in);
        canon_w_open(c, '{');
        rc = canon_map_table(c, f->table, v, -1);
        canon_w_close(c, '}');
        canon_path_pop(c, old);
        return rc;
    case CANON_F_ARR: return map_arr(c, f->table, v, f->in);
    case CANON_F_FLAT:
        if (is_absent(v)) {
            canon_w_lit(c, "null");
            return 0;
        }
        old = canon_path_push(c, f->in);
        if (!cJSON_IsObject(v)) { /* each field read from it says so */
            canon_w_lit(c, "null");
            rc = canon_change(c, f->sub, "nulled", "wrong type, want object around it");
            canon_path_pop(c, old);
            return rc;
        }
        rc = canon_conv_str(c, cJSON_GetObjectItemCaseSensitive(v, f->sub), f->sub);
        canon_path_pop(c, old);
        return rc;
    case CANON_F_CUSTOM: break; /* handled by the caller: it writes its own member */
    }
    return canon_fail(c, "internal: bad field kind for %s", f->out);
}

/* Unknown keys of the flattened object `in`: those no FLAT field with that `in` reads. */
static int keep_flat_extras(canon_ctx *c, const canon_table *t, size_t first, const cJSON *obj) {
    size_t old = canon_path_push(c, t->f[first].in);
    const cJSON *e;
    cJSON_ArrayForEach(e, obj) {
        int known = 0;
        for (size_t i = first; i < t->n && !known; i++)
            known = t->f[i].kind == CANON_F_FLAT && strcmp(t->f[i].in, t->f[first].in) == 0 &&
                    strcmp(t->f[i].sub, e->string) == 0;
        if (!known && canon_extra_keep(c, e->string, e) < 0) return -1;
    }
    canon_path_pop(c, old);
    return c->failed ? -1 : 0;
}

/* The first FLAT field of t reading the same source object as FLAT field i. */
static size_t first_flat(const canon_table *t, size_t i) {
    for (size_t j = 0; j < i; j++)
        if (t->f[j].kind == CANON_F_FLAT && strcmp(t->f[j].in, t->f[i].in) == 0) return j;
    return i;
}

/* The source value of FLAT field i: matching stores it at the first FLAT field with the
 * same `in` (first_flat), whichever of them the key happened to match. */
static const cJSON *flat_value(const canon_table *t, const cJSON *const *vals, size_t i) {
    if (vals[i]) return vals[i];
    for (size_t j = 0; j < i; j++)
        if (vals[j] && t->f[j].kind == CANON_F_FLAT && strcmp(t->f[j].in, t->f[i].in) == 0)
            return vals[j];
    return NULL;
}

int canon_map_table(canon_ctx *c, const canon_table *t, const cJSON *src, long line_number) {
    const cJSON *vals[CANON_MAX_FIELDS] = {0};
    size_t unknown = 0, hint = 0;
    const cJSON *e;

    if (c->failed) return -1;
    if (t->n > CANON_MAX_FIELDS)
        return canon_fail(c, "internal: table larger than %d fields", CANON_MAX_FIELDS);
    /* One pass over the source keys: each known key's first occurrence is its value (as a
     * lookup would find it); unknown ones are only counted here, and kept after the
     * fields so that extra lists them in the order it always has. */
    cJSON_ArrayForEach(e, src) {
        long i = match_key(t, e->string, &hint);
        if (i >= 0) {
            if (t->f[i].kind == CANON_F_FLAT) i = (long)first_flat(t, (size_t)i);
            if (!vals[i]) vals[i] = e;
        } else if (i == -1) {
            unknown++;
        }
    }
    if (t->line_number && line_number >= 0) {
        canon_w_key(c, "line_number");
        canon_w_i64(c, line_number);
    }
    for (size_t i = 0; i < t->n; i++) {
        const canon_field *f = &t->f[i];
        if (f->kind == CANON_F_CUSTOM) {
            if (f->fn(c, src, f->out) < 0) return canon_fail(c, "mapping %s failed", f->out);
            continue;
        }
        canon_w_key(c, f->out);
        if (map_field(c, f, f->kind == CANON_F_FLAT ? flat_value(t, vals, i) : vals[i]) < 0)
            return -1;
    }
    if (!src) return c->failed ? -1 : 0;
    /* Unknown fields: at this level, and inside flattened objects (once per object). */
    if (unknown) {
        hint = 0;
        cJSON_ArrayForEach(e, src) {
            if (match_key(t, e->string, &hint) == -1 && canon_extra_keep(c, e->string, e) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        if (t->f[i].kind != CANON_F_FLAT) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = t->f[j].kind == CANON_F_FLAT && strcmp(t->f[j].in, t->f[i].in) == 0;
        const cJSON *obj = flat_value(t, vals, i);
        if (!seen && cJSON_IsObject(obj) && keep_flat_extras(c, t, i, obj) < 0) return -1;
    }
    return c->failed ? -1 : 0;
}

/* ---------------------------------------------------------------- shared shapes */

static const canon_field address_fields[] = {
    {"full_name", "full_name", CANON_F_STR},
    {"company", "company", CANON_F_STR},
    {"address1", "address1", CANON_F_STR},
    {"address2", "address2", CANON_F_STR},
    {"address3", "address3", CANON_F_STR},
    {"city", "city", CANON_F_STR},
    {"state", "state", CANON_F_STR},
    {"postal_code", "postal_code", CANON_F_STR},
    {"country", "country", CANON_F_STR},
    {"phone_number", "phone_number", CANON_F_STR},
    {"email_address", "email_address", CANON_F_STR},
};
const canon_table canon_tbl_address = CANON_TABLE(address_fields, 0, NULL);

static const canon_field from_address_fields[] = {
    {"address1", "address1", CANON_F_STR}, {"address2", "address2", CANON_F_STR},
    {"address3", "address3", CANON_F_STR}, {"city", "city", CANON_F_STR},
    {"state", "state", CANON_F_STR},       {"postal_code", "postal_code", CANON_F_STR},
    {"country", "country", CANON_F_STR},
};
const canon_table canon_tbl_from_address = CANON_TABLE(from_address_fields, 0, NULL);

static const canon_field measurement_fields[] = {
    {"length", "length", CANON_F_DEC}, {"width", "width", CANON_F_DEC},
    {"height", "height", CANON_F_DEC}, {"unit", "unit", CANON_F_STR},
    {"weight", "weight", CANON_F_DEC}, {"weight_unit", "weight_unit", CANON_F_STR},
};
const canon_table canon_tbl_measurements = CANON_TABLE(measurement_fields, 0, NULL);

/* ---------------------------------------------------------------- envelope */

const char *const canon_envelope_keys[] = {"id", "updated_date", "trackstar_updated_date", NULL};

void canon_envelope(canon_ctx *c, const canon_env *e) {
    canon_w_open(c, '{');
    canon_w_key(c, "schema_version");
    canon_w_i64(c, CANON_SCHEMA_VERSION);
    canon_w_key(c, "entity");
    canon_w_str(c, e->entity);
    canon_w_key(c, "connection_id");
    canon_w_str_or_null(c, e->connection_id);
    canon_w_key(c, "integration_name");
    canon_w_str_or_null(c, e->integration_name);
    canon_w_key(c, "id");
    canon_w_str_or_null(c, e->id);
    canon_w_key(c, "source");
    canon_w_str_or_null(c, e->source);
    canon_w_key(c, "event_id");
    canon_w_str_or_null(c, e->event_id);
    canon_w_key(c, "event_type");
    canon_w_str_or_null(c, e->event_type);
    canon_w_key(c, "source_updated_at");
    canon_w_str_or_null(c, e->source_updated_at);
    canon_w_key(c, "trackstar_updated_at");
    canon_w_str_or_null(c, e->trackstar_updated_at);
    canon_w_key(c, "observed_at");
    canon_w_str_or_null(c, e->observed_at);
}
