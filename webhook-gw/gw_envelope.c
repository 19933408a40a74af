/* gw_envelope.c - event-type table, envelope fields and the raw topic's key.
 *
 * Trackstar spells some prefixes two ways (shipping_method / shipping-method,
 * inbound_shipment / inbound-shipment): every comparison here treats '_' and '-' as the
 * same character, and the canonical (hyphenated, as in the 2025 OpenAPI) name is what
 * the gateway puts in the event_type header.
 */
#include "gw_envelope.h"

#include "json_arena.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prefix (the part of the event type before the first '.') -> resource and key rule.
 * Resource names for the canonical entities match topics.h CANON_ENTITIES, so the
 * fetcher's polled records and the webhooks of the same record share a key. */
static const struct {
    const char *prefix;
    const char *resource;
    gw_event_kind kind;
} gw_prefixes[] = {
    {"order", "orders", GW_KIND_RECORD},
    {"inventory", "inventory", GW_KIND_RECORD},
    {"inventory_ledger", "inventory_ledger", GW_KIND_RECORD},
    {"product", "products", GW_KIND_RECORD},
    {"inbound-shipment", "inbound_shipments", GW_KIND_RECORD},
    {"return", "returns", GW_KIND_RECORD},
    {"bill", "bills", GW_KIND_RECORD},
    {"shipping-method", "shipping_methods", GW_KIND_RECORD},
    {"warehouse", "warehouses", GW_KIND_RECORD},
    {"warehouse-location", "warehouse_locations", GW_KIND_RECORD},
    {"warehouse-customer", "warehouse_customers", GW_KIND_RECORD},
    {"labor_activity", "labor_activities", GW_KIND_RECORD},
    {"cart-order", "cart_orders", GW_KIND_RECORD},
    {"cart-product", "cart_products", GW_KIND_RECORD},
    {"cart-warehouse", "cart_warehouses", GW_KIND_RECORD},
    {"freight-shipment", "freight_shipments", GW_KIND_RECORD},
    {"carrier-invoice-line-item", "carrier_invoice_line_items", GW_KIND_RECORD},
    {"carrier-file", "carrier_files", GW_KIND_RECORD},
    {"connection", "connection", GW_KIND_CONNECTION},
    {"connection-error", "connection", GW_KIND_CONNECTION_ERROR},
    {"install", "connection", GW_KIND_CONNECTION},
};
#define GW_PREFIX_COUNT ((int)(sizeof gw_prefixes / sizeof gw_prefixes[0]))

/* Every event type of reference §7.4, canonical spelling. */
const char *const gw_event_types[] = {
    "order.created",
    "order.updated",
    "order.shipment.created",
    "inventory.created",
    "inventory.updated",
    "inventory_ledger.created",
    "inventory_ledger.updated",
    "product.created",
    "product.updated",
    "inbound-shipment.created",
    "inbound-shipment.updated",
    "inbound-shipment.receipt.created",
    "return.created",
    "return.updated",
    "bill.created",
    "bill.updated",
    "shipping-method.created",
    "shipping-method.updated",
    "warehouse.created",
    "warehouse.updated",
    "warehouse-location.created",
    "warehouse-location.updated",
    "warehouse-customer.created",
    "warehouse-customer.updated",
    "labor_activity.created",
    "labor_activity.updated",
    "cart-order.created",
    "cart-order.updated",
    "cart-order.cart-shipment.created",
    "cart-product.created",
    "cart-product.updated",
    "cart-warehouse.created",
    "cart-warehouse.updated",
    "freight-shipment.created",
    "freight-shipment.updated",
    "carrier-invoice-line-item.created",
    "carrier-invoice-line-item.updated",
    "carrier-file.created",
    "connection.created",
    "connection.deleted",
    "connection.historical-sync-completed",
    "connection.force-sync-completed",
    "connection.sync-job-completed",
    "connection.sync-job-stuck",
    "connection.schedule-stuck",
    "connection-error.created",
    "connection-error.updated",
    "connection-error.deleted",
    "install.failed",
};
const int gw_event_types_count = (int)(sizeof gw_event_types / sizeof gw_event_types[0]);

/* One character folded for comparison: lower case, '_' read as '-'. */
static int fold(int c) {
    c = tolower((unsigned char)c);
    return c == '_' ? '-' : c;
}

/* Equal under fold() over exactly n bytes of a and all of b. */
static int same_n(const char *a, size_t n, const char *b) {
    size_t i = 0;
    for (; i < n && b[i]; i++)
        if (fold(a[i]) != fold(b[i])) return 0;
    return i == n && b[i] == '\0';
}

void gw_event_lookup(const char *event_type, gw_event_info *out) {
    memset(out, 0, sizeof *out);
    out->known_index = -1;
    if (!event_type) event_type = "";
    size_t len = strlen(event_type);
    if (len > GW_EVENT_TYPE_MAX) len = GW_EVENT_TYPE_MAX;

    for (int i = 0; i < gw_event_types_count; i++)
        if (same_n(event_type, len, gw_event_types[i])) {
            out->known = 1;
            out->known_index = i;
            break;
        }

    const char *dot = memchr(event_type, '.', len);
    size_t plen = dot ? (size_t)(dot - event_type) : len;
    int p = -1;
    for (int i = 0; i < GW_PREFIX_COUNT && p < 0; i++)
        if (same_n(event_type, plen, gw_prefixes[i].prefix)) p = i;

    if (out->known) {
        snprintf(out->canonical, sizeof out->canonical, "%s", gw_event_types[out->known_index]);
    } else if (p >= 0) {
        /* Known resource, new action (e.g. order.deleted): canonical prefix, rest as sent. */
        snprintf(out->canonical, sizeof out->canonical, "%s%.*s", gw_prefixes[p].prefix,
                 (int)(len - plen), event_type + plen);
    } else {
        snprintf(out->canonical, sizeof out->canonical, "%.*s", (int)len, event_type);
    }

    if (p >= 0) {
        out->resource = gw_prefixes[p].resource;
        out->kind = gw_prefixes[p].kind;
        /* connection.historical-sync-completed has its own record-id rule. */
        if (out->known &&
            strcmp(gw_event_types[out->known_index], "connection.historical-sync-completed") == 0)
            out->kind = GW_KIND_HISTORICAL_SYNC;
        return;
    }
    /* Unknown prefix: derive a resource that is safe inside the key. */
    int ok = plen > 0 && plen <= GW_RESOURCE_MAX;
    for (size_t i = 0; ok && i < plen; i++) {
        int c = tolower((unsigned char)event_type[i]);
        if (c == '-') c = '_';
        if (!(isdigit(c) || (c >= 'a' && c <= 'z') || c == '_')) ok = 0;
        out->resource_buf[i] = (char)c;
    }
    if (ok)
        out->resource_buf[plen] = '\0';
    else
        snprintf(out->resource_buf, sizeof out->resource_buf, "unknown");
    out->resource = out->resource_buf;
    out->kind = GW_KIND_RECORD;
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
