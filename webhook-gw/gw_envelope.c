/* gw_envelope.c - event types, envelope fields and the raw topic's key.
 *
 * The event families come from the registry (common/entities.h), plus the connection's
 * own. Trackstar spells some prefixes two ways (shipping_method / shipping-method,
 * inbound_shipment / inbound-shipment): every comparison here treats '_' and '-' as the
 * same character, and the canonical (the 2025 OpenAPI's) spelling is what the gateway
 * puts in the event_type header.
 */
#include "gw_envelope.h"

#include "entities.h"
#include "json_arena.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The connection's own families: not entities, each with its own record-id rule. */
static const struct {
    const char *prefix;
    gw_event_kind kind;
    const char *const *events;
} conn_families[] = {
    {"connection", GW_KIND_CONNECTION,
     TS_LIST("created", "deleted", "historical-sync-completed", "force-sync-completed",
             "sync-job-completed", "sync-job-stuck", "schedule-stuck")},
    {"connection-error", GW_KIND_CONNECTION_ERROR, TS_LIST("created", "updated", "deleted")},
    {"install", GW_KIND_CONNECTION, TS_LIST("failed")},
};
#define CONN_FAMILY_COUNT ((int)(sizeof conn_families / sizeof conn_families[0]))

/* One family as the gateway sees it: the registry's (entities and the families it
 * passes on, resource from the registry) or the connection's. */
typedef struct family {
    const char *prefix, *resource;
    const char *const *events;
    gw_event_kind kind;
} family;

static int family_count(void) {
    return ts_family_count + CONN_FAMILY_COUNT;
}

static family family_at(int i) {
    if (i < ts_family_count)
        return (family){ts_families[i].prefix, ts_families[i].resource, ts_families[i].events,
                        GW_KIND_RECORD};
    i -= ts_family_count;
    return (family){conn_families[i].prefix, "connection", conn_families[i].events,
                    conn_families[i].kind};
}

/* The known event types are numbered family by family, event by event. */
static int event_count(const family *f) {
    int n = 0;
    while (f->events[n])
        n++;
    return n;
}

int gw_event_type_count(void) {
    int n = 0;
    for (int i = 0; i < family_count(); i++) {
        family f = family_at(i);
        n += event_count(&f);
    }
    return n;
}

int gw_event_type_name(int index, char *buf, size_t len) {
    for (int i = 0; i < family_count() && index >= 0; i++) {
        family f = family_at(i);
        int n = event_count(&f);
        if (index < n) {
            int w = snprintf(buf, len, "%s.%s", f.prefix, f.events[index]);
            return w > 0 && (size_t)w < len ? 0 : -1;
        }
        index -= n;
    }
    return -1;
}

void gw_event_lookup(const char *event_type, gw_event_info *out) {
    memset(out, 0, sizeof *out);
    out->known_index = -1;
    if (!event_type) event_type = "";
    size_t len = strlen(event_type);
    if (len > GW_EVENT_TYPE_MAX) len = GW_EVENT_TYPE_MAX;
    /* Case is ignored: compare a lower-case copy. */
    char lc[GW_EVENT_TYPE_MAX + 1];
    for (size_t i = 0; i < len; i++)
        lc[i] = (char)tolower((unsigned char)event_type[i]);
    lc[len] = '\0';

    const char *dot = memchr(lc, '.', len);
    size_t plen = dot ? (size_t)(dot - lc) : len;
    int base = 0, p = -1;
    family f = {0};
    for (int i = 0; i < family_count() && p < 0; i++) {
        f = family_at(i);
        if (ts_name_eq(lc, plen, f.prefix))
            p = i;
        else
            base += event_count(&f);
    }

    if (p < 0) {
        snprintf(out->canonical, sizeof out->canonical, "%.*s", (int)len, event_type);
        /* Unknown prefix: derive a resource that is safe inside the key. */
        int ok = plen > 0 && plen <= GW_RESOURCE_MAX;
        for (size_t i = 0; ok && i < plen; i++) {
            int c = lc[i] == '-' ? '_' : lc[i];
            if (!(isdigit(c) || (c >= 'a' && c <= 'z') || c == '_')) ok = 0;
            out->resource_buf[i] = (char)c;
        }
        if (ok)
            out->resource_buf[plen] = '\0';
        else
            snprintf(out->resource_buf, sizeof out->resource_buf, "unknown");
        out->resource = out->resource_buf;
        out->kind = GW_KIND_RECORD;
        return;
    }

    out->resource = f.resource;
    out->kind = f.kind;
    int ev = -1;
    for (int j = 0; dot && f.events[j] && ev < 0; j++)
        if (ts_name_eq(dot + 1, len - plen - 1, f.events[j])) ev = j;
    if (ev >= 0) {
        out->known = 1;
        out->known_index = base + ev;
        snprintf(out->canonical, sizeof out->canonical, "%s.%s", f.prefix, f.events[ev]);
        /* connection.historical-sync-completed has its own record-id rule. */
        if (f.kind == GW_KIND_CONNECTION && strcmp(f.prefix, "connection") == 0 &&
            strcmp(f.events[ev], "historical-sync-completed") == 0)
            out->kind = GW_KIND_HISTORICAL_SYNC;
    } else {
        /* Known family, new event (e.g. order.deleted): canonical prefix, rest as sent. */
        snprintf(out->canonical, sizeof out->canonical, "%s%.*s", f.prefix, (int)(len - plen),
                 event_type + plen);
    }
}

const char *gw_env_result_name(gw_env_result r) {
    switch (r) {
    case GW_ENV_OK: return "ok";
    case GW_ENV_MALFORMED: return "malformed_json";
    case GW_ENV_MISSING_FIELD: return "missing_field";
    case GW_ENV_BAD_FIELD: return "bad_field";
    }
    return "unknown";
}

/* A field that goes into the key or a header: printable ASCII, no '|' (the key's
 * separator), 1..max bytes. Returns 0, -1 missing, -2 bad. */
static int take_field(const cJSON *obj, const char *name, char *dst, size_t max) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(v) || !v->valuestring || !v->valuestring[0]) return -1;
    size_t n = strlen(v->valuestring);
    if (n > max) return -2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v->valuestring[i];
        if (c < 0x21 || c > 0x7e || c == '|') return -2;
    }
    memcpy(dst, v->valuestring, n + 1);
    return 0;
}

/* A string or integral number as text, cut to the buffer; 0 or -1 when absent. */
static int value_text(const cJSON *v, char *dst, size_t cap) {
    if (cJSON_IsString(v) && v->valuestring && v->valuestring[0]) {
        snprintf(dst, cap, "%s", v->valuestring);
        return 0;
    }
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && floor(v->valuedouble) == v->valuedouble &&
        fabs(v->valuedouble) < 9.007199254740992e15) {
        snprintf(dst, cap, "%lld", (long long)v->valuedouble);
        return 0;
    }
    return -1;
}

/* Only whitespace in [p, end): cJSON's parser stops after the first value and would
 * take "{...}GARBAGE" for JSON, so the callers check what follows it. */
static int only_ws(const char *p, const char *end) {
    for (; p && p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return 0;
    return 1;
}

/* Parse exactly text[0..len) into a cJSON tree the caller deletes (the rare paths). */
static cJSON *parse_exact(const char *text, size_t len) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (j && !only_ws(end, text + len)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* The same, for every webhook: into the arena a, without a malloc per value. A body
 * whose strings hold "\u0000" is valid JSON the arena refuses, so that rare one goes
 * through parse_exact into *owned (the caller deletes it) and is published like any
 * other. */
static const cJSON *parse_exact_arena(json_arena *a, const char *text, size_t len, cJSON **owned) {
    const char *end = NULL;
    const cJSON *j = json_arena_parse(a, text, len, &end);
    *owned = NULL;
    if (!j && a->nul) return *owned = parse_exact(text, len);
    return j && only_ws(end, text + len) ? j : NULL;
}

static void find_record_id(const cJSON *data, gw_envelope *out) {
    out->record_id[0] = '\0';
    const size_t cap = sizeof out->record_id;
    switch (out->ev.kind) {
    case GW_KIND_CONNECTION:
        if (cJSON_IsObject(data) &&
            value_text(cJSON_GetObjectItemCaseSensitive(data, "id"), out->record_id, cap) == 0)
            return;
        snprintf(out->record_id, cap, "%s", out->connection_id);
        return;
    case GW_KIND_HISTORICAL_SYNC:
        if (value_text(cJSON_GetObjectItemCaseSensitive(data, "resource"), out->record_id, cap) ==
            0)
            return;
        break;
    case GW_KIND_CONNECTION_ERROR:
        if (value_text(cJSON_GetObjectItemCaseSensitive(data, "failed_url"), out->record_id, cap) ==
                0 ||
            value_text(cJSON_GetObjectItemCaseSensitive(data, "error_message"), out->record_id,
                       cap) == 0)
            return;
        break;
    case GW_KIND_RECORD: break;
    }
    if (cJSON_IsObject(data))
        value_text(cJSON_GetObjectItemCaseSensitive(data, "id"), out->record_id, cap);
}

gw_env_result gw_envelope_parse(const char *body, size_t len, gw_envelope *out) {
    memset(out, 0, sizeof *out);
    json_arena arena = {0};
    cJSON *owned;
    const cJSON *root = parse_exact_arena(&arena, body, len, &owned);
    gw_env_result rc = GW_ENV_OK;
    if (!root || !cJSON_IsObject(root)) {
        rc = GW_ENV_MALFORMED;
        goto done;
    }
    int a = take_field(root, "connection_id", out->connection_id, GW_CONN_ID_MAX);
    int b = take_field(root, "event_type", out->event_type, GW_EVENT_TYPE_MAX);
    if (a == -1 || b == -1) {
        rc = GW_ENV_MISSING_FIELD;
        goto done;
    }
    if (a || b) {
        rc = GW_ENV_BAD_FIELD;
        goto done;
    }
    gw_event_lookup(out->event_type, &out->ev);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    find_record_id(data, out);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "data_truncated"))) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "data_url");
        /* Truncated without a usable data_url: nothing to fetch; publish what came. */
        if (cJSON_IsString(u) && u->valuestring && u->valuestring[0] &&
            strlen(u->valuestring) <= GW_DATA_URL_MAX) {
            out->truncated = 1;
            snprintf(out->data_url, sizeof out->data_url, "%s", u->valuestring);
        }
    }
done:
    cJSON_Delete(owned);
    json_arena_free(&arena);
    return rc;
}

size_t gw_envelope_key(const gw_envelope *env, char *buf, size_t len) {
    int n = snprintf(buf, len, "%s|%s|%s", env->connection_id, env->ev.resource, env->record_id);
    if (n < 0) return 0;
    return (size_t)n < len ? (size_t)n : len - 1;
}

int gw_envelope_full(const char *orig, size_t olen, const gw_envelope *orig_env,
                     const char *fetched, size_t flen, char **out_body, size_t *out_len,
                     char *errstr, size_t errlen) {
    cJSON *f = NULL, *o = NULL;
    char *printed = NULL;
    int rc = -1;
    *out_body = NULL;
    *out_len = 0;
    f = parse_exact(fetched, flen);
    if (!cJSON_IsObject(f)) {
        snprintf(errstr, errlen, "downloaded event is not a JSON object");
        goto fail;
    }
    const cJSON *fdata = cJSON_GetObjectItemCaseSensitive(f, "data");
    int is_envelope = cJSON_IsObject(fdata) &&
                      cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "connection_id"));
    const cJSON *record = is_envelope || cJSON_IsObject(fdata) ? fdata : f;

    /* The full record must be the one the truncated event named. */
    char want[GW_RECORD_ID_MAX + 1] = "", got[GW_RECORD_ID_MAX + 1] = "";
    if (orig_env->ev.kind == GW_KIND_RECORD && orig_env->record_id[0] &&
        value_text(cJSON_GetObjectItemCaseSensitive(record, "id"), got, sizeof got) == 0) {
        snprintf(want, sizeof want, "%s", orig_env->record_id);
        if (strcmp(want, got) != 0) {
            snprintf(errstr, errlen, "downloaded record id differs from the truncated event's");
            goto fail;
        }
    }
    if (is_envelope) {
        char cid[GW_CONN_ID_MAX + 1];
        if (take_field(f, "connection_id", cid, GW_CONN_ID_MAX) != 0 ||
            strcmp(cid, orig_env->connection_id) != 0) {
            snprintf(errstr, errlen, "downloaded event is for another connection");
            goto fail;
        }
        cJSON_Delete(f);
        return 0; /* *out_body stays NULL: publish fetched unchanged */
    }
    o = parse_exact(orig, olen);
    if (!cJSON_IsObject(o)) {
        snprintf(errstr, errlen, "original event is not a JSON object");
        goto fail;
    }
    cJSON *copy = cJSON_Duplicate(record, 1);
    if (!copy) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }
    /* JSON allows a key twice and cJSON keeps both: remove every copy, or the rebuilt
     * event would still say it is truncated. */
    static const char *const drop[] = {"data", "data_truncated", "data_url"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        while (cJSON_GetObjectItemCaseSensitive(o, drop[i]))
            cJSON_DeleteItemFromObjectCaseSensitive(o, drop[i]);
    cJSON_AddItemToObject(o, "data", copy);
    printed = cJSON_PrintUnformatted(o);
    if (!printed) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }
    *out_body = printed;
    *out_len = strlen(printed);
    printed = NULL;
    rc = 0;
fail:
    free(printed);
    cJSON_Delete(o);
    cJSON_Delete(f);
    return rc;
}
