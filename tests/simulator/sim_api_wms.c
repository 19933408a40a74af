/* sim_api_wms.c - GET /wms/<resource>[/<id>] for every resource the simulator models,
 * served from Trackstar's stored copy: capability (501), query validation (422),
 * historical sync (empty lists until complete), keyset pagination with page tokens bound
 * to the filters and often-short pages, and 404 for ids the copy does not hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim_catalog.h"
#include "sim_http.h"
#include "sim_render.h"
#include "sim_resdef.h"

#define ID_LEN 48

typedef struct route {
    const char *segment; /* first path segment after /wms/ */
    sim_res res;
    const char *not_found; /* 404 message */
} route;

static const route routes[] = {
    {"orders", SIM_RES_ORDERS, "Order not found"},
    {"inventory", SIM_RES_INVENTORY, "Inventory item not found"},
    {"products", SIM_RES_PRODUCTS, "Product not found"},
    {"warehouses", SIM_RES_WAREHOUSES, "Warehouse not found"},
    {"shipping-methods", SIM_RES_SHIPPING_METHODS, "Shipping method not found"},
    {"returns", SIM_RES_RETURNS, "Return not found"},
    {"inbound-shipments", SIM_RES_INBOUND, "Inbound shipment not found"},
    {"billing", SIM_RES_BILLS, "Bill not found"},
    {"warehouse-customers", SIM_RES_WAREHOUSE_CUSTOMERS, "Warehouse customer not found"},
    {"labor-activities", SIM_RES_LABOR, "Labor activity not found"},
};

static const char *display_name(const sim_conn *c) {
    const sim_integration *in = sim_integration_find(c->integration);
    return in ? in->display : c->integration;
}

static void not_implemented(sim_resp *rs, const sim_conn *c, const char *function) {
    char msg[256];
    snprintf(msg, sizeof msg, "Endpoint %s is not implemented for %s", function, display_name(c));
    sim_resp_error(rs, 501, msg, NULL); /* the documented 501 body has no origin */
}

/* How many records this page may hold: fewer than asked, often, while next_token stays
 * set (reference §3.2: "fewer items per page than limit"; the short_pages fault: a third). */
static int page_size(const sim_conn *c, int limit) {
    if ((sim_g.faults.short_pages || c->faults.short_pages) && limit > 1)
        return limit / 3 > 0 ? limit / 3 : 1;
    if (sim_g.w.short_pages && limit > 1 && sim_rand_below(&sim_g.w.rng, 2) == 0) {
        int lo = limit / 3 > 0 ? limit / 3 : 1; /* [lo, limit) */
        return lo + (int)sim_rand_below(&sim_g.w.rng, (uint32_t)(limit - lo));
    }
    return limit;
}

/* Listings page over the copy's versions, in id order (a record whose copy changes after
 * the client's page passed it is not shown again in this listing) or, with the world's
 * page_by_id off, in (updated_date, id) order (it moves behind the client and shows up
 * again). The truth endpoint pages over the WMS's versions of every record in scope, in
 * id order. */
void sim_wms_list(sim_req *rq, sim_resp *rs, sim_conn *c, sim_res r, uint32_t wh, int truth) {
    static const char *const truth_extra[] = {"connection_id", "warehouse_id", NULL};
    int nd = 0;
    const sim_fdef *defs = sim_resdef_fields(r, sim_g.trackstar_dates, &nd);
    sim_query q;
    sim_qerr qe;
    /* the truth endpoint takes no filters: only limit and page_token */
    if (sim_query_parse(defs, truth ? 0 : nd, rq->args, rq->nargs, truth ? truth_extra : NULL, &q,
                        &qe) != 0) {
        sim_resp_422(rs, "query", qe.param, qe.msg);
        return;
    }
    if (q.has_token &&
        (q.tok.res != (uint8_t)r || q.tok.conn != (uint32_t)c->idx || q.tok.fhash != q.fhash)) {
        sim_resp_422(
            rs, "query", "page_token",
            "page_token does not match this request: repeat the same filters on every page");
        sim_query_free(&q);
        return;
    }
    sbuf *b = &rs->body;
    b->len = 0;
    sbuf_append(b, "{\"data\":[", 9);
    int count = 0, more = 0, by_id = truth || sim_g.w.page_by_id;
    const sim_meta *last = NULL;
    sim_table *t = &c->t[r];
    int limit = truth ? q.limit : page_size(c, q.limit);
    if (truth || (c->hist_done & (1u << r))) {
        int64_t lo, hi;
        sim_query_updated_range(&q, &lo, &hi);
        uint32_t pos;
        if (by_id) {
            pos = q.has_token ? q.tok.last_num : 0;
        } else {
            pos = q.has_token ? sim_table_after(t, q.tok.last_updated_ms, q.tok.last_num) : 0;
            if (lo != INT64_MIN) {
                uint32_t p2 = sim_table_lower(t, lo);
                if (p2 > pos) pos = p2;
            }
        }
        sim_resctx ctx = {c, r};
        char id[ID_LEN];
        for (; pos < t->n; pos++) {
            uint32_t num = by_id ? pos + 1 : t->order[pos] + 1;
            const sim_meta *row = t->rows[num - 1];
            const sim_meta *m = truth ? sim_wms_get(t, num) : row;
            if (truth ? !sim_in_scope(t, num) : !sim_in_copy(row)) continue;
            if (!by_id && m->updated_ms > hi) break;
            if (row->removed) continue;
            if (!truth && (m->updated_ms < lo || m->updated_ms > hi)) continue;
            if (wh && ((const sim_location *)m)->wh != wh) continue;
            sim_format_id(c, r, m->num, id, sizeof id);
            if (!truth && !sim_query_match(&q, id, m, &ctx, sim_resdef_get)) continue;
            if (count == limit) {
                more = 1;
                break;
            }
            if (count) sbuf_append(b, ",", 1);
            if (sim_render_record(b, c, r, m) != 0) {
                sim_query_free(&q);
                sim_resp_error(rs, 500, "out of memory", "trackstar");
                return;
            }
            count++;
            last = row;
        }
    }
    sbuf_append(b, "],\"next_token\":", 15);
    if (more && last) {
        sim_ptoken tok = {.res = (uint8_t)r,
                          .conn = (uint32_t)c->idx,
                          .fhash = q.fhash,
                          .last_updated_ms = by_id ? 0 : last->updated_ms,
                          .last_num = last->num};
        char enc[SIM_TOKEN_MAX];
        sim_ptoken_encode(&tok, enc);
        sbuf_json_str(b, enc, strlen(enc));
        if (!truth) {
            if (count < q.limit) c->n.short_pages++;
            t->page_pos = last->num;
            t->page_seen_ms = rq->now_ms;
        }
    } else {
        sbuf_append(b, "null", 4);
        if (!truth) t->page_pos = 0;
    }
    sbuf_printf(b, ",\"total_count\":%d}", count);
    rs->status = 200;
    sim_query_free(&q);
}

static void get_one(sim_resp *rs, sim_conn *c, sim_res r, const char *id, uint32_t wh,
                    const char *not_found) {
    uint32_t num;
    const sim_meta *m = NULL;
    if ((c->hist_done & (1u << r)) && sim_parse_id(c, r, id, &num) == 0)
        m = sim_table_get(&c->t[r], num);
    if (m && (!sim_in_copy(m) || m->removed)) m = NULL; /* not in Trackstar's copy (yet) */
    if (m && wh && ((const sim_location *)m)->wh != wh) m = NULL;
    if (!m) {
        sim_resp_404(rs, not_found, id);
        return;
    }
    sbuf *b = &rs->body;
    b->len = 0;
    sbuf_append(b, "{\"data\":", 8);
    if (sim_render_record(b, c, r, m) != 0) {
        sim_resp_error(rs, 500, "out of memory", "trackstar");
        return;
    }
    sbuf_append(b, "}", 1);
    rs->status = 200;
}

/* ---- order packs (GET /wms/orders/{id}/packs) ---- */

/* The statuses in which packing has happened. The simulator never moves an order out of
 * them (only open and confirmed orders are cancelled), so an order's packs, once it has
 * any, only grow. */
static int pack_status(const char *s) {
    return s && (strcmp(s, "packed") == 0 || strcmp(s, "partially_fulfilled") == 0 ||
                 strcmp(s, "fulfilled") == 0);
}

static cJSON *pick(const cJSON *from, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
    return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* An order's packs, derived from the order as rendered (deterministic): one pack per
 * package of its shipments (pack_id = package_id, its measurements and line items);
 * carrier, shipping method and ship-to address of the order (carrier, deprecated: null,
 * as the order has none); its line items. Orders not (yet) in a packing status have no
 * packs; an order packed but not shipped has no packages yet, so none either. in_front:
 * the fetcher's identity fields go first, and an order not in a packing status gives a
 * JSON null (the truth). NULL when out of memory. */
static cJSON *order_packs_doc(const sim_conn *c, const sim_meta *m, int in_front) {
    sbuf b = {0};
    if (sim_render_record(&b, c, SIM_RES_ORDERS, m) != 0) {
        sbuf_free(&b);
        return NULL;
    }
    cJSON *o = cJSON_ParseWithLength(b.p, b.len);
    sbuf_free(&b);
    if (!o) return NULL;
    cJSON *d = cJSON_CreateObject(), *packs = cJSON_CreateArray(), *lines = cJSON_CreateArray();
    if (in_front) {
        cJSON_AddItemToObject(d, "id", pick(o, "id"));
        cJSON_AddItemToObject(d, "updated_date", pick(o, "updated_date"));
        cJSON_AddItemToObject(d, "order_id", pick(o, "id"));
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status"), *s, *p, *li;
    if (pack_status(cJSON_IsString(st) ? st->valuestring : NULL)) {
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(o, "shipments")) {
            cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(s, "packages")) {
                cJSON *pk = cJSON_CreateObject(), *pl = cJSON_CreateArray();
                cJSON_AddItemToObject(pk, "pack_id", pick(p, "package_id"));
                cJSON_AddItemToObject(pk, "measurements", pick(p, "measurements"));
                cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(p, "line_items")) {
                    cJSON *x = cJSON_CreateObject();
                    cJSON_AddItemToObject(x, "inventory_item_id", pick(li, "inventory_item_id"));
                    cJSON_AddItemToObject(x, "sku", pick(li, "sku"));
                    cJSON_AddItemToObject(x, "quantity", pick(li, "quantity"));
                    cJSON_AddItemToArray(pl, x);
                }
                cJSON_AddItemToObject(pk, "line_items", pl);
                cJSON_AddItemToArray(packs, pk);
            }
        }
    }
    cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(o, "line_items")) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToObject(x, "product_id", pick(li, "product_id"));
        cJSON_AddItemToObject(x, "sku", pick(li, "sku"));
        cJSON_AddItemToObject(x, "quantity", pick(li, "quantity"));
        cJSON_AddItemToArray(lines, x);
    }
    cJSON_AddItemToObject(d, "packs", packs);
    cJSON_AddItemToObject(d, "carrier", cJSON_CreateNull());
    cJSON_AddItemToObject(d, "carrier_id", pick(o, "carrier_id"));
    cJSON_AddItemToObject(d, "carrier_name", pick(o, "carrier_name"));
    cJSON_AddItemToObject(d, "scac", pick(o, "scac"));
    cJSON_AddItemToObject(d, "shipping_method", pick(o, "shipping_method"));
    cJSON_AddItemToObject(d, "shipping_method_id", pick(o, "shipping_method_id"));
    cJSON_AddItemToObject(d, "shipping_method_name", pick(o, "shipping_method_name"));
    cJSON_AddItemToObject(d, "ship_to_address", pick(o, "ship_to_address"));
    cJSON_AddItemToObject(d, "order_line_items", lines);
    cJSON_AddItemToObject(d, "additional_fields", cJSON_CreateObject());
    const cJSON *stv = cJSON_GetObjectItemCaseSensitive(o, "status");
    int packed = pack_status(cJSON_IsString(stv) ? stv->valuestring : NULL);
    cJSON_Delete(o);
    if (in_front && !packed) {
        cJSON_Delete(d);
        return cJSON_CreateNull(); /* the truth holds packed orders only */
    }
    return d;
}

/* GET /wms/orders/{id}/packs: from Trackstar's copy of the order, like a get-one. */
static void get_order_packs(sim_resp *rs, sim_conn *c, const char *id) {
    uint32_t num;
    const sim_meta *m = NULL;
    if ((c->hist_done & (1u << SIM_RES_ORDERS)) && sim_parse_id(c, SIM_RES_ORDERS, id, &num) == 0)
        m = sim_table_get(&c->t[SIM_RES_ORDERS], num);
    if (m && (!sim_in_copy(m) || m->removed)) m = NULL;
    if (!m) {
        sim_resp_404(rs, "Order not found", id);
        return;
    }
    cJSON *d = order_packs_doc(c, m, 0);
    char *txt = d ? cJSON_PrintUnformatted(d) : NULL;
    cJSON_Delete(d);
    if (!txt) {
        sim_resp_error(rs, 500, "out of memory", "trackstar");
        return;
    }
    sbuf *b = &rs->body;
    b->len = 0;
    sbuf_append(b, "{\"data\":", 8);
    sbuf_append(b, txt, strlen(txt));
    sbuf_append(b, "}", 1);
    free(txt);
    rs->status = 200;
}

void sim_wms_order_packs_truth(sim_resp *rs, sim_conn *c) {
    sim_table *t = &c->t[SIM_RES_ORDERS];
    sbuf *b = &rs->body;
    b->len = 0;
    sbuf_append(b, "{\"data\":[", 9);
    int count = 0;
    for (uint32_t num = 1; num <= t->n; num++) {
        const sim_meta *row = t->rows[num - 1];
        if (!sim_in_scope(t, num) || row->removed) continue;
        const sim_meta *m = sim_wms_get(t, num);
        cJSON *d = order_packs_doc(c, m, 1);
        if (!d) {
            sim_resp_error(rs, 500, "out of memory", "trackstar");
            return;
        }
        if (cJSON_IsNull(d)) {
            cJSON_Delete(d);
            continue;
        }
        char *txt = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        if (!txt) {
            sim_resp_error(rs, 500, "out of memory", "trackstar");
            return;
        }
        if (count++) sbuf_append(b, ",", 1);
        sbuf_append(b, txt, strlen(txt));
        free(txt);
    }
    sbuf_printf(b, "],\"next_token\":null,\"total_count\":%d}", count);
    rs->status = 200;
}

/* The capability check shared by list and get. 0 = go on. Connection errors do not stop
 * reads: reads never reach the WMS, they are served from Trackstar's stored copy (§6.1),
 * which stops changing while an error stops its crawls (§9.1). */
static int gate(sim_resp *rs, sim_conn *c, sim_res r) {
    if (!(c->actions & (1u << r))) {
        not_implemented(rs, c, sim_res_infos[r].function);
        return -1;
    }
    return 0;
}

void sim_wms_handle(sim_req *rq, sim_resp *rs) {
    sim_conn *c = rq->conn;
    if (strcmp(rq->method, "GET") != 0) {
        /* writes are forwarded to the WMS in production; the simulator models reads only */
        sim_resp_error(rs, 501, "Write endpoints are not implemented by the simulator",
                       "trackstar");
        return;
    }
    /* split "/wms/a/b/c/d" into at most 4 segments */
    char path[512];
    snprintf(path, sizeof path, "%s", rq->path + 5);
    char *seg[5] = {0};
    int nseg = 0;
    for (char *save = NULL, *t = strtok_r(path, "/", &save); t && nseg < 5;
         t = strtok_r(NULL, "/", &save))
        seg[nseg++] = t;
    const route *rt = NULL;
    for (size_t i = 0; nseg && i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(seg[0], routes[i].segment) == 0) rt = &routes[i];
    if (!rt || nseg > 4) {
        sim_resp_error(rs, 404, "Not found", "trackstar");
        return;
    }
    if (rt->res == SIM_RES_WAREHOUSES && nseg >= 3) {
        /* /warehouses/{id}/locations[/{location_id}] */
        if (strcmp(seg[2], "locations") != 0) {
            sim_resp_error(rs, 404, "Not found", "trackstar");
            return;
        }
        if (gate(rs, c, SIM_RES_LOCATIONS)) return;
        uint32_t wh;
        const void *whrec = NULL;
        if (sim_parse_id(c, SIM_RES_WAREHOUSES, seg[1], &wh) != 0 ||
            !(whrec = sim_table_get(&c->t[SIM_RES_WAREHOUSES], wh)) || !sim_in_copy(whrec) ||
            !(c->hist_done & (1u << SIM_RES_WAREHOUSES))) {
            sim_resp_404(rs, "Warehouse not found", seg[1]);
            return;
        }
        if (nseg == 4)
            get_one(rs, c, SIM_RES_LOCATIONS, seg[3], wh, "Warehouse location not found");
        else
            sim_wms_list(rq, rs, c, SIM_RES_LOCATIONS, wh, 0);
        return;
    }
    if (rt->res == SIM_RES_ORDERS && nseg == 3 && strcmp(seg[2], "packs") == 0) {
        /* read with get_orders (no function of its own) */
        if (gate(rs, c, SIM_RES_ORDERS)) return;
        get_order_packs(rs, c, seg[1]);
        return;
    }
    if (nseg > 2) {
        sim_resp_error(rs, 404, "Not found", "trackstar");
        return;
    }
    if (rt->res == SIM_RES_INVENTORY && nseg == 2 && strcmp(seg[1], "ledger") == 0) {
        /* /inventory/ledger: a list only (the API has no get-one for entries), served
         * where Trackstar enabled the ledger for the connection, else 501 */
        if (gate(rs, c, SIM_RES_LEDGER)) return;
        sim_wms_list(rq, rs, c, SIM_RES_LEDGER, 0, 0);
        return;
    }
    if ((rt->res == SIM_RES_ORDERS && nseg == 2 && strcmp(seg[1], "channels") == 0) ||
        (rt->res == SIM_RES_INBOUND && nseg == 2 && strcmp(seg[1], "suppliers") == 0)) {
        /* lists only (the API has no get-one), read with get_orders / get_inbound_shipments:
         * paged, short pages and rate limits like every other list */
        sim_res r = rt->res == SIM_RES_ORDERS ? SIM_RES_CHANNELS : SIM_RES_SUPPLIERS;
        if (gate(rs, c, r)) return;
        sim_wms_list(rq, rs, c, r, 0, 0);
        return;
    }
    if (gate(rs, c, rt->res)) return;
    if (nseg == 2)
        get_one(rs, c, rt->res, seg[1], 0, rt->not_found);
    else
        sim_wms_list(rq, rs, c, rt->res, 0, 0);
}
