/* canon_table.c - the engine that maps a source object to a canonical one by walking a
 * field table, and the bookkeeping it shares with the hand-written mappers: sticky
 * errors, dot paths, and the `extra` object that keeps every field the tables do not know.
 */
#include "normalizer/canon.h"
#include "normalizer/canon_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int canon_fail(canon_ctx *c, const char *fmt, ...)
{
    if (!c->failed && c->errstr && c->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errstr, c->errlen, fmt, ap);
        va_end(ap);
    }
    c->failed = 1;
    return -1;
}

int canon_put(canon_ctx *c, cJSON *dst, const char *k, cJSON *item)
{
    if (c->failed) {
        cJSON_Delete(item);
        return -1;
    }
    if (!item)
        return canon_fail(c, "out of memory");
    /* Keys are static strings from our tables: no copy needed. */
    if (!cJSON_AddItemToObjectCS(dst, k, item)) {
        cJSON_Delete(item);
        return canon_fail(c, "out of memory");
    }
    return 0;
}

int canon_path(canon_ctx *c, char out[CANON_PATH_LEN], const char *path, const char *suffix)
{
    int n = path[0] ? snprintf(out, CANON_PATH_LEN, "%s.%s", path, suffix)
                    : snprintf(out, CANON_PATH_LEN, "%s", suffix);
    if (n < 0 || n >= CANON_PATH_LEN)
        return canon_fail(c, "field path too long");
    return 0;
}

int canon_extra_keep(canon_ctx *c, const char *path, const char *key, const cJSON *v)
{
    if (c->failed)
        return -1;
    /* Unknown keys come from the source, so their length is bounded only by the body:
     * allocate rather than truncate (a truncated key could merge two fields). */
    size_t plen = strlen(path), klen = strlen(key);
    char *full = malloc(plen + klen + 2);
    if (!full)
        return canon_fail(c, "out of memory");
    if (plen) {
        memcpy(full, path, plen);
        full[plen] = '.';
        memcpy(full + plen + 1, key, klen + 1);
    } else {
        memcpy(full, key, klen + 1);
    }
    int rc = 0;
    if (!cJSON_GetObjectItemCaseSensitive(c->extra, full)) {
        cJSON *dup = cJSON_Duplicate(v, 1);
        if (!dup || !cJSON_AddItemToObject(c->extra, full, dup)) {
            cJSON_Delete(dup);
            rc = canon_fail(c, "out of memory");
        }
    }
    free(full);
    return rc;
}

/* 1 when key is read by table t (as a source field, a flattened object or a consumed key). */
static int table_knows(const canon_table *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->f[i].in && strcmp(t->f[i].in, key) == 0)
            return 1;
    if (t->consumed)
        for (const char *const *k = t->consumed; *k; k++)
            if (strcmp(*k, key) == 0)
                return 1;
    return 0;
}

static cJSON *get(const cJSON *src, const char *key)
{
    return src ? cJSON_GetObjectItemCaseSensitive(src, key) : NULL;
}

static int is_absent(const cJSON *v) { return v == NULL || cJSON_IsNull(v); }

/* A string array: [] when absent; every element must be a string. */
static cJSON *map_strarr(canon_ctx *c, const cJSON *v, const char *path)
{
    if (!is_absent(v) && !cJSON_IsArray(v)) {
        canon_fail(c, "wrong type at %s, want array of strings", path);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        canon_fail(c, "out of memory");
        return NULL;
    }
    /* A plain variable: cJSON_ArrayForEach does not parenthesise its argument. */
    const cJSON *list = is_absent(v) ? NULL : v, *e;
    cJSON_ArrayForEach(e, list)
    {
        if (!cJSON_IsString(e)) {
            canon_fail(c, "wrong type in %s, want array of strings", path);
            break;
        }
        cJSON *s = cJSON_CreateString(e->valuestring);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            canon_fail(c, "out of memory");
            break;
        }
    }
    if (c->failed) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* An array of objects, each mapped with t; [] when absent. */
static cJSON *map_arr(canon_ctx *c, const canon_table *t, const cJSON *v, const char *path)
{
    char ipath[CANON_PATH_LEN], idx[24];
    if (!is_absent(v) && !cJSON_IsArray(v)) {
        canon_fail(c, "wrong type at %s, want array", path);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        canon_fail(c, "out of memory");
        return NULL;
    }
    long i = 0;
    const cJSON *list = is_absent(v) ? NULL : v, *e;
    cJSON_ArrayForEach(e, list)
    {
        snprintf(idx, sizeof idx, "%ld", i);
        if (canon_path(c, ipath, path, idx) < 0)
            break;
        if (!cJSON_IsObject(e)) {
            canon_fail(c, "wrong type at %s, want object", ipath);
            break;
        }
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            canon_fail(c, "out of memory");
            break;
        }
        if (canon_map_table(c, t, e, o, ipath, i) < 0)
            break;
        i++;
    }
    if (c->failed) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* The value of field f read from src; NULL after canon_fail. */
static cJSON *map_field(canon_ctx *c, const canon_field *f, const cJSON *src, const char *path)
{
    char fpath[CANON_PATH_LEN];
    const cJSON *v = f->in ? get(src, f->in) : NULL;

    if (canon_path(c, fpath, path, f->in ? f->in : f->out) < 0)
        return NULL;
    switch (f->kind) {
    case CANON_F_STR:
        return canon_conv_str(c, v, fpath);
    case CANON_F_TIME:
        return canon_conv_time(c, v, fpath);
    case CANON_F_DEC:
        return canon_conv_dec(c, v, fpath);
    case CANON_F_DECTEXT: {
        char dec[CANON_DEC_LEN];
        /* Trackstar itself types these as free text: a value that is not a number is
         * kept in extra rather than failing the whole record. */
        if (cJSON_IsString(v) && canon_dec_from_text(v->valuestring, dec) < 0) {
            if (canon_extra_keep(c, path, f->in, v) < 0)
                return NULL;
            return cJSON_CreateNull();
        }
        return canon_conv_dec(c, v, fpath);
    }
    case CANON_F_INT:
        return canon_conv_int(c, v, fpath);
    case CANON_F_BOOL:
        return canon_conv_bool(c, v, fpath);
    case CANON_F_STRARR:
        return map_strarr(c, v, fpath);
    case CANON_F_RAW:
        return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
    case CANON_F_RAWOBJ:
        if (is_absent(v))
            return cJSON_CreateObject();
        if (!cJSON_IsObject(v)) {
            canon_fail(c, "wrong type at %s, want object", fpath);
            return NULL;
        }
        return cJSON_Duplicate(v, 1);
    case CANON_F_OBJ: {
        if (is_absent(v))
            return cJSON_CreateNull();
        if (!cJSON_IsObject(v)) {
            canon_fail(c, "wrong type at %s, want object", fpath);
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        if (o && canon_map_table(c, f->table, v, o, fpath, -1) < 0) {
            cJSON_Delete(o);
            return NULL;
        }
        return o;
    }
    case CANON_F_ARR:
        return map_arr(c, f->table, v, fpath);
    case CANON_F_FLAT: {
        if (is_absent(v))
            return cJSON_CreateNull();
        if (!cJSON_IsObject(v)) {
            canon_fail(c, "wrong type at %s, want object", fpath);
            return NULL;
        }
        char spath[CANON_PATH_LEN];
        if (canon_path(c, spath, fpath, f->sub) < 0)
            return NULL;
        return canon_conv_str(c, get(v, f->sub), spath);
    }
    case CANON_F_CUSTOM:
        break; /* handled by the caller: it adds its own value */
    }
    canon_fail(c, "internal: bad field kind for %s", f->out);
    return NULL;
}

/* Unknown keys of the flattened object `in`: those no FLAT field with that `in` reads. */
static int keep_flat_extras(canon_ctx *c, const canon_table *t, size_t first, const cJSON *obj,
                            const char *path)
{
    char opath[CANON_PATH_LEN];
    if (canon_path(c, opath, path, t->f[first].in) < 0)
        return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, obj)
    {
        int known = 0;
        for (size_t i = first; i < t->n && !known; i++)
            known = t->f[i].kind == CANON_F_FLAT && strcmp(t->f[i].in, t->f[first].in) == 0 &&
                    strcmp(t->f[i].sub, e->string) == 0;
        if (!known && canon_extra_keep(c, opath, e->string, e) < 0)
            return -1;
    }
    return 0;
}

int canon_map_table(canon_ctx *c, const canon_table *t, const cJSON *src, cJSON *dst,
                    const char *path, long line_number)
{
    if (c->failed)
        return -1;
    if (t->line_number && line_number >= 0) {
        char buf[24];
        snprintf(buf, sizeof buf, "%ld", line_number);
        if (canon_put(c, dst, "line_number", cJSON_CreateRaw(buf)) < 0)
            return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        const canon_field *f = &t->f[i];
        if (f->kind == CANON_F_CUSTOM) {
            if (f->fn(c, src, dst, f->out, path) < 0)
                return canon_fail(c, "mapping %s failed", f->out);
            continue;
        }
        if (canon_put(c, dst, f->out, map_field(c, f, src, path)) < 0)
            return -1;
    }
    if (!src)
        return 0;
    /* Unknown fields: at this level, and inside flattened objects (once per object). */
    const cJSON *e;
    cJSON_ArrayForEach(e, src)
    {
        if (!table_knows(t, e->string) && canon_extra_keep(c, path, e->string, e) < 0)
            return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (t->f[i].kind != CANON_F_FLAT)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = t->f[j].kind == CANON_F_FLAT && strcmp(t->f[j].in, t->f[i].in) == 0;
        const cJSON *obj = get(src, t->f[i].in);
        if (!seen && cJSON_IsObject(obj) && keep_flat_extras(c, t, i, obj, path) < 0)
            return -1;
    }
    return c->failed ? -1 : 0;
}

/* ---------------------------------------------------------------- shared shapes */

static const canon_field address_fields[] = {
    {"full_name", "full_name", CANON_F_STR},     {"company", "company", CANON_F_STR},
    {"address1", "address1", CANON_F_STR},       {"address2", "address2", CANON_F_STR},
    {"address3", "address3", CANON_F_STR},       {"city", "city", CANON_F_STR},
    {"state", "state", CANON_F_STR},             {"postal_code", "postal_code", CANON_F_STR},
    {"country", "country", CANON_F_STR},         {"phone_number", "phone_number", CANON_F_STR},
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

static cJSON *str_or_null(const char *s) { return s ? cJSON_CreateString(s) : cJSON_CreateNull(); }

cJSON *canon_envelope(canon_ctx *c, const canon_env *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        canon_fail(c, "out of memory");
        return NULL;
    }
    char v[16];
    snprintf(v, sizeof v, "%d", CANON_SCHEMA_VERSION);
    canon_put(c, o, "schema_version", cJSON_CreateRaw(v));
    canon_put(c, o, "entity", cJSON_CreateString(e->entity));
    canon_put(c, o, "connection_id", str_or_null(e->connection_id));
    canon_put(c, o, "integration_name", str_or_null(e->integration_name));
    canon_put(c, o, "id", str_or_null(e->id));
    canon_put(c, o, "source", str_or_null(e->source));
    canon_put(c, o, "event_id", str_or_null(e->event_id));
    canon_put(c, o, "event_type", str_or_null(e->event_type));
    canon_put(c, o, "source_updated_at", str_or_null(e->source_updated_at));
    canon_put(c, o, "trackstar_updated_at", str_or_null(e->trackstar_updated_at));
    canon_put(c, o, "observed_at", str_or_null(e->observed_at));
    if (c->failed) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
