/* sim_render.c - renders records as Trackstar serves them. Invariant text (names,
 * addresses, SKUs, tracking numbers) is derived from the connection seed and the record
 * number, so only what can change is stored. Field order follows the OpenAPI schemas. */
#include "sim_render.h"

#include <stdio.h>
#include <string.h>

#include "sim_catalog.h"
#include "sim_ingest.h"
#include "sim_text.h"
#include "values.h"

/* ---- JSON writer ------------------------------------------------------------------ */

void sim_jw_init(sim_jw *w, sbuf *b) {
    memset(w, 0, sizeof *w);
    w->b = b;
}

static void jw_put(sim_jw *w, const char *s, size_t n) {
    if (sbuf_append(w->b, s, n) != 0) w->err = 1;
}

/* Comma before a value unless it follows its key or opens its container. */
static void jw_pre(sim_jw *w) {
    if (w->after_key[w->d]) {
        w->after_key[w->d] = 0;
        return;
    }
    if (w->count[w->d]++ > 0) jw_put(w, ",", 1);
}

static void jw_open(sim_jw *w, char c) {
    jw_pre(w);
    jw_put(w, &c, 1);
    if (w->d + 1 >= SIM_JW_DEPTH) {
        w->err = 1;
        return;
    }
    w->d++;
    w->count[w->d] = 0;
    w->after_key[w->d] = 0;
}

void sim_jw_obj(sim_jw *w) {
    jw_open(w, '{');
}
void sim_jw_arr(sim_jw *w) {
    jw_open(w, '[');
}

void sim_jw_end(sim_jw *w, char close) {
    if (w->d > 0) w->d--;
    jw_put(w, &close, 1);
}

void sim_jw_key(sim_jw *w, const char *k) {
    if (w->count[w->d]++ > 0) jw_put(w, ",", 1);
    if (sbuf_json_str(w->b, k, strlen(k)) != 0) w->err = 1;
    jw_put(w, ":", 1);
    w->after_key[w->d] = 1;
}

void sim_jw_str(sim_jw *w, const char *s) {
    jw_pre(w);
    if (!s)
        jw_put(w, "null", 4);
    else if (sbuf_json_str(w->b, s, strlen(s)) != 0)
        w->err = 1;
}

void sim_jw_int(sim_jw *w, long long v) {
    char t[32];
    jw_pre(w);
    jw_put(w, t, (size_t)snprintf(t, sizeof t, "%lld", v));
}

void sim_jw_cents(sim_jw *w, long long c) {
    char t[40];
    jw_pre(w);
    long long a = c < 0 ? -c : c;
    int n = snprintf(t, sizeof t, "%s%lld.%02lld", c < 0 ? "-" : "", a / 100, a % 100);
    jw_put(w, t, (size_t)n);
}

void sim_jw_bool(sim_jw *w, int v) {
    jw_pre(w);
    jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void sim_jw_null(sim_jw *w) {
    jw_pre(w);
    jw_put(w, "null", 4);
}

void sim_jw_date(sim_jw *w, int64_t ms) {
    if (!ms) {
        sim_jw_null(w);
        return;
    }
    char t[32];
    val_time_format(ms, 0, t);
    sim_jw_str(w, t);
}

void sim_jw_raw(sim_jw *w, const char *json, size_t n) {
    jw_pre(w);
    jw_put(w, json, n);
}

/* keyed shorthands */
#define KSTR(w, k, v) (sim_jw_key(w, k), sim_jw_str(w, v))
#define KINT(w, k, v) (sim_jw_key(w, k), sim_jw_int(w, v))
#define KCENTS(w, k, v) (sim_jw_key(w, k), sim_jw_cents(w, v))
#define KBOOL(w, k, v) (sim_jw_key(w, k), sim_jw_bool(w, v))
#define KNULL(w, k) (sim_jw_key(w, k), sim_jw_null(w))
#define KDATE(w, k, v) (sim_jw_key(w, k), sim_jw_date(w, v))
#define KRAW(w, k, v) (sim_jw_key(w, k), sim_jw_raw(w, v, strlen(v)))

/* ---- derived text ------------------------------------------------------------------ */

#define ID_LEN 48

static uint64_t h3(const sim_conn *c, int salt, uint32_t num) {
    return sim_mix(sim_mix(c->seed, (uint64_t)salt), num);
}

static void fmt_id(const sim_conn *c, sim_res r, uint32_t num, char *buf) {
    sim_format_id(c, r, num, buf, ID_LEN);
}

/* Key "warehouse_customer_id": an id, or null for 0. */
static void k_ref(sim_jw *w, const char *k, const sim_conn *c, sim_res r, uint32_t num) {
    char id[ID_LEN];
    sim_jw_key(w, k);
    if (!num) {
        sim_jw_null(w);
        return;
    }
    fmt_id(c, r, num, id);
    sim_jw_str(w, id);
}

static void meta_fields(sim_jw *w, const sim_conn *c, sim_res r, const sim_meta *m, int with_wc,
                        uint32_t wc) {
    char id[ID_LEN];
    fmt_id(c, r, m->num, id);
    KSTR(w, "id", id);
    if (with_wc) k_ref(w, "warehouse_customer_id", c, SIM_RES_WAREHOUSE_CUSTOMERS, wc);
    KDATE(w, "created_date", m->created_ms);
    KDATE(w, "updated_date", m->updated_ms);
    if (sim_g.trackstar_dates) {
        KDATE(w, "trackstar_created_date", m->ts_created_ms);
        KDATE(w, "trackstar_updated_date", m->ts_updated_ms);
    }
}

static void tail_fields(sim_jw *w, const char *url, int with_url, int with_tags) {
    if (with_url) KSTR(w, "external_system_url", url);
    if (with_tags) {
        sim_jw_key(w, "trackstar_tags");
        sim_jw_arr(w);
        sim_jw_end(w, ']');
    }
    sim_jw_key(w, "additional_fields");
    sim_jw_obj(w);
    sim_jw_end(w, '}');
}

static void measurements(sim_jw *w, int l, int wd, int h, int weight_cg, int known) {
    sim_jw_key(w, "measurements");
    sim_jw_obj(w);
    if (!known) {
        KNULL(w, "length");
        KNULL(w, "width");
        KNULL(w, "height");
        KNULL(w, "unit");
        KNULL(w, "weight");
        KNULL(w, "weight_unit");
    } else {
        KINT(w, "length", l);
        KINT(w, "width", wd);
        KINT(w, "height", h);
        KSTR(w, "unit", "in");
        KCENTS(w, "weight", weight_cg);
        KSTR(w, "weight_unit", "lb");
    }
    sim_jw_end(w, '}');
}

static void short_address(sim_jw *w, const char *key, const sim_city *ct, const char *addr2) {
    sim_jw_key(w, key);
    sim_jw_obj(w);
    KSTR(w, "address1", ct->street);
    KSTR(w, "address2", addr2);
    KNULL(w, "address3");
    KSTR(w, "city", ct->city);
    KSTR(w, "state", ct->state);
    KSTR(w, "postal_code", ct->postal);
    KSTR(w, "country", ct->country);
    sim_jw_end(w, '}');
}

static const sim_city *wh_city(const sim_conn *c, uint32_t wh) {
    const sim_warehouse *w = sim_table_get(&c->t[SIM_RES_WAREHOUSES], wh);
    return &sim_cities[w ? w->city % sim_ncities : 0];
}

/* Product name and SKU: "Organic Mug" / "MUG-00012"; kits: "... Bundle" / "KIT-00008". */
void sim_render_product_text(const sim_conn *c, uint32_t pnum, char *name, size_t nl, char *sku,
                             size_t sl) {
    const sim_product *p = sim_table_get(&c->t[SIM_RES_PRODUCTS], pnum);
    uint64_t h = h3(c, 11, pnum);
    const char *noun = sim_product_nouns[h % (uint64_t)sim_nnouns];
    const char *adj = sim_product_adjs[(h >> 16) % (uint64_t)sim_nadjs];
    if (p && p->is_kit) {
        snprintf(name, nl, "%s %s Bundle", adj, noun);
        snprintf(sku, sl, "KIT-%05u", pnum);
        return;
    }
    snprintf(name, nl, "%s %s", adj, noun);
    char code[4] = {0};
    for (int i = 0, j = 0; noun[i] && j < 3; i++)
        if ((noun[i] >= 'A' && noun[i] <= 'Z') || (noun[i] >= 'a' && noun[i] <= 'z'))
            code[j++] = (char)(noun[i] & ~0x20);
    snprintf(sku, sl, "%s-%05u", code, pnum);
}

static void inv_sku(const sim_conn *c, uint32_t inv, char *sku, size_t sl) {
    const sim_inventory *v = sim_table_get(&c->t[SIM_RES_INVENTORY], inv);
    char name[96];
    if (!v) {
        snprintf(sku, sl, "UNKNOWN");
        return;
    }
    sim_render_product_text(c, v->product, name, sizeof name, sku, sl);
}

void sim_render_order_refs(const sim_conn *c, uint32_t num, char *order_number, char *reference_id,
                           size_t len) {
    snprintf(order_number, len, "#%u", 1000 + num);
    snprintf(reference_id, len, "SO-%s-%06u", c->tag, num);
}

int sim_render_po(const sim_conn *c, uint32_t num, char *buf, size_t len) {
    if (num % 9 == 0) /* some ASNs have no purchase order */
        return 0;
    snprintf(buf, len, "PO-%s-%05u", c->tag, num);
    return 1;
}

static const char *integration_display(const sim_conn *c) {
    const sim_integration *in = sim_integration_find(c->integration);
    return in ? in->display : c->integration;
}

/* ---- records ---------------------------------------------------------------------- */

static void render_wcust(sim_jw *w, const sim_conn *c, const sim_wcust *x) {
    meta_fields(w, c, SIM_RES_WAREHOUSE_CUSTOMERS, &x->m, 0, 0);
    const char *name = sim_wc_names[x->name % sim_nwc_names];
    char email[96], *e;
    snprintf(email, sizeof email, "ops@%s.example", name);
    for (e = email; *e; e++)
        if (*e == ' ' || *e == '&') *e = '-';
    KSTR(w, "name", name);
    KSTR(w, "email", x->m.num % 3 == 0 ? NULL : email);
    tail_fields(w, NULL, 0, 0);
}

static void render_warehouse(sim_jw *w, const sim_conn *c, const sim_warehouse *x) {
    const sim_city *ct = &sim_cities[x->city % sim_ncities];
    char name[96];
    snprintf(name, sizeof name, x->rev % 2 ? "%s Fulfillment Center%s" : "%s DC%s", ct->city,
             x->rev > 1 ? " (renamed)" : "");
    meta_fields(w, c, SIM_RES_WAREHOUSES, &x->m, 0, 0);
    KSTR(w, "name", name);
    KSTR(w, "code", ct->code);
    short_address(w, "address", ct, x->m.num % 2 ? "Dock 4" : NULL);
    tail_fields(w, NULL, 0, 1);
}

static void render_location(sim_jw *w, const sim_conn *c, const sim_location *x) {
    char name[32], wh[ID_LEN];
    snprintf(name, sizeof name, "%c-%02u-%02u", 'A' + x->aisle % 26, x->bay, x->level);
    fmt_id(c, SIM_RES_WAREHOUSES, x->wh, wh);
    meta_fields(w, c, SIM_RES_LOCATIONS, &x->m, 0, 0);
    KSTR(w, "name", name);
    KSTR(w, "warehouse_id", wh);
    KSTR(w, "type", sim_location_types[x->type % sim_nlocation_types]);
    int pallet = x->type == 2;
    measurements(w, 48, 40, 60, 5000, pallet);
    tail_fields(w, NULL, 0, 0);
}

static void render_shipmethod(sim_jw *w, const sim_conn *c, const sim_shipmethod *x) {
    const sim_carrier *cr = &sim_carriers[x->carrier % sim_ncarriers];
    char name[96];
    snprintf(name, sizeof name, "%s %s%s", cr->name, sim_services[x->service % sim_nservices],
             x->rev ? " Saver" : "");
    meta_fields(w, c, SIM_RES_SHIPPING_METHODS, &x->m, 0, 0);
    KSTR(w, "name", name);
    KNULL(w, "carrier");
    KSTR(w, "carrier_id", cr->id);
    KSTR(w, "carrier_name", cr->name);
    KSTR(w, "scac", cr->scac);
    tail_fields(w, NULL, 0, 0);
}

/* The name an order channel or supplier has in this version (renames append a number;
 * an unnamed one stays null until renamed), into buf; NULL for null. */
static const char *named_name(const sim_named_rec *x, const sim_named *list, int n, char *buf,
                              size_t len) {
    const char *base = list[x->name % n].name;
    if (!x->rev) return base;
    snprintf(buf, len, "%s %u", base ? base : "Unnamed", (unsigned)x->rev + 1);
    return buf;
}

/* An order channel or supplier record (GET /wms/orders/channels,
 * /wms/inbound-shipments/suppliers): the same shape. */
static void render_named(sim_jw *w, const sim_conn *c, sim_res r, const sim_named_rec *x) {
    char name[96];
    meta_fields(w, c, r, &x->m, 0, 0);
    KSTR(w, "name",
         r == SIM_RES_CHANNELS ? named_name(x, sim_channels, sim_nchannels, name, sizeof name)
                               : named_name(x, sim_suppliers, sim_nsuppliers, name, sizeof name));
    k_ref(w, "warehouse_customer_id", c, SIM_RES_WAREHOUSE_CUSTOMERS, x->wc);
    tail_fields(w, NULL, 0, 0);
}

/* The id of the supplier or channel record a reference (index into sim_suppliers /
 * sim_channels) names: record num index + 1 of the connection's list. */
static void named_id(const sim_conn *c, sim_res r, uint8_t idx, char *buf) {
    fmt_id(c, r, (uint32_t)idx + 1, buf);
}

static void supplier_object(sim_jw *w, const sim_conn *c, uint8_t sup) {
    sim_jw_key(w, "supplier_object");
    if (sup == SIM_NONE) {
        sim_jw_null(w);
        return;
    }
    const sim_named *s = &sim_suppliers[sup % sim_nsuppliers];
    char id[ID_LEN];
    named_id(c, SIM_RES_SUPPLIERS, (uint8_t)(sup % sim_nsuppliers), id);
    sim_jw_obj(w);
    KSTR(w, "supplier_id", id);
    KSTR(w, "supplier_name", s->name);
    sim_jw_end(w, '}');
}

static void render_product(sim_jw *w, const sim_conn *c, const sim_product *x) {
    char name[96], sku[32], gtin[16], url[160], isku[32], iid[ID_LEN];
    sim_render_product_text(c, x->m.num, name, sizeof name, sku, sizeof sku);
    snprintf(gtin, sizeof gtin, "0%011llu",
             (unsigned long long)(h3(c, 13, x->m.num) % 100000000000ULL));
    snprintf(url, sizeof url, "https://app.%s.example/products/%u", c->integration, x->m.num);
    meta_fields(w, c, SIM_RES_PRODUCTS, &x->m, 1, x->wc);
    KSTR(w, "name", name);
    KSTR(w, "sku", sku);
    KSTR(w, "gtin", x->is_kit ? NULL : gtin);
    KCENTS(w, "unit_price", x->price_c);
    sim_jw_key(w, "inventory_items");
    sim_jw_arr(w);
    for (int i = 0; i < x->nitems; i++) {
        inv_sku(c, x->inv[i], isku, sizeof isku);
        fmt_id(c, SIM_RES_INVENTORY, x->inv[i], iid);
        sim_jw_obj(w);
        KSTR(w, "inventory_item_id", iid);
        KSTR(w, "sku", isku);
        KINT(w, "unit_quantity", x->unit_qty[i]);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    KBOOL(w, "is_kit", x->is_kit);
    KBOOL(w, "active", x->active);
    KNULL(w, "supplier");
    supplier_object(w, c, x->supplier);
    KSTR(w, "country_of_origin", x->m.num % 3 ? "US" : "CN");
    KSTR(w, "harmonized_code", x->m.num % 4 ? "6109.10" : NULL);
    sim_jw_key(w, "supplier_products");
    sim_jw_arr(w);
    if (x->supplier != SIM_NONE) {
        const sim_named *s = &sim_suppliers[x->supplier % sim_nsuppliers];
        char ext[32], cost[32], sid[ID_LEN];
        snprintf(ext, sizeof ext, "%s-%u", s->id + 4, x->m.num);
        snprintf(cost, sizeof cost, "%d.%02d", x->price_c * 2 / 5 / 100, x->price_c * 2 / 5 % 100);
        named_id(c, SIM_RES_SUPPLIERS, (uint8_t)(x->supplier % sim_nsuppliers), sid);
        sim_jw_obj(w);
        KSTR(w, "supplier_id", sid);
        KSTR(w, "supplier_name", s->name);
        KSTR(w, "external_id", ext);
        KSTR(w, "unit_cost", cost);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    tail_fields(w, url, 1, 1);
}

static void render_inventory(sim_jw *w, const sim_conn *c, const sim_inventory *x) {
    char name[96], sku[32], id[ID_LEN];
    sim_render_product_text(c, x->product, name, sizeof name, sku, sizeof sku);
    long long aw = 0, on = 0, cm = 0, un = 0;
    for (int i = 0; i < x->nwh; i++) {
        aw += x->wh[i].awaiting;
        on += x->wh[i].onhand;
        cm += x->wh[i].committed;
        un += x->wh[i].unfulfillable;
    }
    long long ff = on - cm - un < 0 ? 0 : on - cm - un;
    meta_fields(w, c, SIM_RES_INVENTORY, &x->m, 1, x->wc);
    KSTR(w, "name", name);
    KSTR(w, "sku", sku);
    KCENTS(w, "unit_cost", x->unit_cost_c);
    KBOOL(w, "active", x->active);
    KINT(w, "awaiting", aw);
    KINT(w, "onhand", on);
    KINT(w, "committed", cm);
    KINT(w, "unfulfillable", un);
    KINT(w, "fulfillable", ff);
    KINT(w, "unsellable", un);
    KINT(w, "sellable", ff);
    sim_jw_key(w, "substitute_skus");
    sim_jw_arr(w);
    sim_jw_end(w, ']');
    sim_jw_key(w, "inventory_by_warehouse_id");
    sim_jw_obj(w);
    for (int i = 0; i < x->nwh; i++) {
        const sim_inv_wh *q = &x->wh[i];
        if (!q->onhand && !q->awaiting && !q->committed) continue;
        int f = q->onhand - q->committed - q->unfulfillable;
        fmt_id(c, SIM_RES_WAREHOUSES, (uint32_t)i + 1, id);
        sim_jw_key(w, id);
        sim_jw_obj(w);
        KINT(w, "awaiting", q->awaiting);
        KINT(w, "onhand", q->onhand);
        KINT(w, "committed", q->committed);
        KINT(w, "unfulfillable", q->unfulfillable);
        KINT(w, "fulfillable", f < 0 ? 0 : f);
        KINT(w, "unsellable", q->unfulfillable);
        KINT(w, "sellable", f < 0 ? 0 : f);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, '}');
    sim_jw_key(w, "lots");
    sim_jw_arr(w);
    for (int i = 0; x->has_lots && i < x->nwh; i++) {
        if (x->wh[i].onhand <= 0) continue;
        char lot[48];
        snprintf(lot, sizeof lot, "LOT-%u-%d", x->m.num, i + 1);
        fmt_id(c, SIM_RES_WAREHOUSES, (uint32_t)i + 1, id);
        sim_jw_obj(w);
        KSTR(w, "lot_id", lot);
        KINT(w, "onhand", x->wh[i].onhand);
        KDATE(w, "expiration_date", x->m.created_ms + 365LL * 86400 * 1000);
        KSTR(w, "warehouse_id", id);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    uint64_t h = h3(c, 17, x->product);
    measurements(w, 4 + (int)(h % 10), 3 + (int)(h >> 8) % 8, 1 + (int)(h >> 16) % 5,
                 10 + (int)((h >> 24) % 300), x->m.num % 5 != 0);
    sim_jw_key(w, "locations");
    sim_jw_arr(w);
    for (int i = 0; i < x->nwh; i++) {
        const sim_inv_wh *q = &x->wh[i];
        if (q->onhand <= 0 || !q->loc_a) continue;
        char wh[ID_LEN];
        fmt_id(c, SIM_RES_WAREHOUSES, (uint32_t)i + 1, wh);
        uint32_t locs[2] = {q->loc_a, q->loc_b};
        int32_t qty[2] = {q->loc_a_qty, q->onhand - q->loc_a_qty};
        for (int k = 0; k < 2; k++) {
            if (qty[k] <= 0 || (k == 1 && q->loc_b == q->loc_a)) continue;
            fmt_id(c, SIM_RES_LOCATIONS, locs[k], id);
            sim_jw_obj(w);
            KSTR(w, "location_id", id);
            KINT(w, "quantity", qty[k]);
            KSTR(w, "warehouse_id", wh);
            sim_jw_end(w, '}');
        }
    }
    sim_jw_end(w, ']');
    tail_fields(w, NULL, 1, 1);
}

/* The customer an order ships to, derived from the order number. */
static void ship_to(sim_jw *w, const sim_conn *c, const sim_order *o) {
    uint64_t h = h3(c, 23, o->m.num);
    const sim_city *ct = &sim_cities[h % (uint64_t)sim_ncities];
    char name[64], addr1[64], phone[32], email[96];
    const char *first = sim_first_names[(h >> 8) % (uint64_t)sim_nfirst];
    const char *last = sim_last_names[(h >> 16) % (uint64_t)sim_nlast];
    snprintf(name, sizeof name, "%s %s", first, last);
    snprintf(addr1, sizeof addr1, "%u %s", (unsigned)(1 + (h >> 24) % 9999),
             sim_streets[(h >> 40) % (uint64_t)sim_nstreets]);
    snprintf(phone, sizeof phone, "+1-555-%04u", (unsigned)((h >> 12) % 10000));
    snprintf(email, sizeof email, "%c.%s%u@mail.example", first[0] | 0x20, last, o->m.num);
    for (char *p = email; *p; p++) {
        if (*p == '\'')
            *p = '-';
        else if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p | 0x20);
    }
    sim_jw_key(w, "ship_to_address");
    sim_jw_obj(w);
    KSTR(w, "full_name", name);
    KSTR(w, "company", o->type == 1 ? sim_wc_names[(h >> 4) % (uint64_t)sim_nwc_names] : NULL);
    KSTR(w, "address1", addr1);
    KSTR(w, "address2", (h >> 50) % 4 == 0 ? "Apt 2" : NULL);
    KNULL(w, "address3");
    KSTR(w, "city", ct->city);
    KSTR(w, "state", ct->state);
    KSTR(w, "postal_code", ct->postal);
    KSTR(w, "country", ct->country);
    KSTR(w, "phone_number", (h >> 56) % 3 ? phone : NULL);
    KSTR(w, "email_address", (h >> 58) % 4 ? email : NULL);
    sim_jw_end(w, '}');
}

/* Ship lines of an order line: a kit expands into its components. mode 0: shipment line
 * items; 1: package line items (with lot fields). */
static void shipped_lines(sim_jw *w, const sim_conn *c, const sim_order *o, const sim_shipment *s,
                          int pkg, int mode) {
    for (int i = s->line_from; i < s->line_to; i++) {
        if (pkg >= 0 && (i - s->line_from) % s->npkg != pkg) continue;
        const sim_product *p = sim_table_get(&c->t[SIM_RES_PRODUCTS], o->lines[i].product);
        if (!p) continue;
        char pid[ID_LEN];
        fmt_id(c, SIM_RES_PRODUCTS, p->m.num, pid);
        for (int k = 0; k < p->nitems; k++) {
            char iid[ID_LEN], sku[32];
            fmt_id(c, SIM_RES_INVENTORY, p->inv[k], iid);
            inv_sku(c, p->inv[k], sku, sizeof sku);
            const sim_inventory *v = sim_table_get(&c->t[SIM_RES_INVENTORY], p->inv[k]);
            sim_jw_obj(w);
            KSTR(w, "inventory_item_id", iid);
            KSTR(w, "sku", sku);
            KINT(w, "quantity", o->lines[i].qty * p->unit_qty[k]);
            if (mode == 1) {
                char lot[48];
                snprintf(lot, sizeof lot, "LOT-%u-%u", p->inv[k], (unsigned)s->wh);
                int lots = v && v->has_lots;
                KSTR(w, "lot_id", lots ? lot : NULL);
                KDATE(w, "expiration_date", lots ? v->m.created_ms + 365LL * 86400 * 1000 : 0);
            }
            KSTR(w, "parent_product_id", p->is_kit ? pid : NULL);
            sim_jw_end(w, '}');
        }
    }
}

static void shipment(sim_jw *w, const sim_conn *c, const sim_order *o, int si) {
    const sim_shipment *s = &o->ship[si];
    char id[64], wh[ID_LEN], smid[ID_LEN];
    snprintf(id, sizeof id, "shp_%s_%06u_%d", c->tag, o->m.num, si + 1);
    fmt_id(c, SIM_RES_WAREHOUSES, s->wh, wh);
    sim_jw_obj(w);
    KSTR(w, "shipment_id", id);
    KSTR(w, "warehouse_id", wh);
    KSTR(w, "raw_status", s->status == 1 ? "Shipped" : s->status == 2 ? "Void" : "Pending");
    KSTR(w, "status", sim_shipment_status_names[s->status % 3]);
    KDATE(w, "shipped_date", s->shipped_ms);
    KNULL(w, "shipping_method");
    sim_jw_key(w, "line_items");
    sim_jw_arr(w);
    shipped_lines(w, c, o, s, -1, 0);
    sim_jw_end(w, ']');
    ship_to(w, c, o);
    short_address(w, "ship_from_address", wh_city(c, s->wh), NULL);
    const sim_shipmethod *m = sim_table_get(&c->t[SIM_RES_SHIPPING_METHODS], s->method);
    const sim_carrier *cr = &sim_carriers[m ? m->carrier % sim_ncarriers : 0];
    char mname[96];
    snprintf(mname, sizeof mname, "%s %s%s", cr->name,
             sim_services[m ? m->service % sim_nservices : 0], m && m->rev ? " Saver" : "");
    fmt_id(c, SIM_RES_SHIPPING_METHODS, s->method, smid);
    sim_jw_key(w, "packages");
    sim_jw_arr(w);
    for (int k = 0; k < s->npkg; k++) {
        uint64_t h = h3(c, 29, o->m.num * 8u + (uint32_t)si * 3u + (uint32_t)k);
        char pid[64], pname[24], trk[48], url[160];
        snprintf(pid, sizeof pid, "pkg_%s_%06u_%d_%d", c->tag, o->m.num, si + 1, k + 1);
        int L = 6 + (int)(h % 12), W = 4 + (int)((h >> 8) % 8), H = 2 + (int)((h >> 16) % 6);
        snprintf(pname, sizeof pname, "%dx%dx%d", L, W, H);
        snprintf(trk, sizeof trk, "%s%012llu", cr->tracking_prefix,
                 (unsigned long long)((h >> 20) % 1000000000000ULL));
        snprintf(url, sizeof url, cr->tracking_url, trk);
        sim_jw_obj(w);
        KSTR(w, "package_id", pid);
        KSTR(w, "package_name", pname);
        KSTR(w, "tracking_number", trk);
        KSTR(w, "tracking_url", url);
        KNULL(w, "shipping_method");
        KNULL(w, "carrier");
        KSTR(w, "shipping_method_id", m ? smid : NULL);
        KSTR(w, "shipping_method_name", m ? mname : NULL);
        KSTR(w, "carrier_id", cr->id);
        KSTR(w, "carrier_name", cr->name);
        KSTR(w, "scac", cr->scac);
        KCENTS(w, "shipping_cost", 450 + (long long)((h >> 40) % 1500));
        measurements(w, L, W, H, 20 + (int)((h >> 48) % 900), 1);
        sim_jw_key(w, "line_items");
        sim_jw_arr(w);
        shipped_lines(w, c, o, s, k, 1);
        sim_jw_end(w, ']');
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    sim_jw_end(w, '}');
}

static void render_order(sim_jw *w, const sim_conn *c, const sim_order *o) {
    char buf[96], url[160];
    uint64_t h = h3(c, 31, o->m.num);
    meta_fields(w, c, SIM_RES_ORDERS, &o->m, 1, o->wc);
    /* fields must follow OrderSchema order; warehouse_id sits before created_date there,
     * but JSON objects are unordered and keeping meta together is clearer */
    k_ref(w, "warehouse_id", c, SIM_RES_WAREHOUSES, o->wh);
    char onum[40];
    sim_render_order_refs(c, o->m.num, onum, buf, sizeof onum);
    KSTR(w, "reference_id", buf);
    KSTR(w, "order_number", onum);
    KSTR(w, "status", sim_order_status_names[o->status % SIM_OS_COUNT]);
    KSTR(w, "raw_status", sim_order_raw_status[o->status % SIM_OS_COUNT]);
    const sim_named *ch = o->channel == SIM_NONE ? NULL : &sim_channels[o->channel % sim_nchannels];
    KSTR(w, "channel", ch ? ch->name : NULL);
    sim_jw_key(w, "channel_object");
    if (!ch) {
        sim_jw_null(w);
    } else {
        char chid[ID_LEN];
        named_id(c, SIM_RES_CHANNELS, (uint8_t)(o->channel % sim_nchannels), chid);
        sim_jw_obj(w);
        KSTR(w, "channel_id", chid);
        KSTR(w, "channel_name", ch->name);
        sim_jw_end(w, '}');
    }
    KSTR(w, "type", sim_order_types[o->type % sim_norder_types]);
    KSTR(w, "trading_partner", o->type == 1 ? "Target" : NULL);
    KNULL(w, "shipping_method");
    const sim_shipmethod *m =
        o->method ? sim_table_get(&c->t[SIM_RES_SHIPPING_METHODS], o->method) : NULL;
    const sim_carrier *cr = m ? &sim_carriers[m->carrier % sim_ncarriers] : NULL;
    KSTR(w, "service_level", m ? sim_service_levels[m->service % sim_nservices] : NULL);
    k_ref(w, "shipping_method_id", c, SIM_RES_SHIPPING_METHODS, m ? o->method : 0);
    if (m)
        snprintf(buf, sizeof buf, "%s %s%s", cr->name, sim_services[m->service % sim_nservices],
                 m->rev ? " Saver" : "");
    KSTR(w, "shipping_method_name", m ? buf : NULL);
    KSTR(w, "carrier_id", cr ? cr->id : NULL);
    KSTR(w, "carrier_name", cr ? cr->name : NULL);
    KSTR(w, "scac", cr ? cr->scac : NULL);
    int tpf = (o->flags & SIM_OF_THIRD_PARTY) != 0;
    sim_jw_key(w, "is_third_party_freight");
    if (o->type == 1)
        sim_jw_bool(w, tpf);
    else
        sim_jw_null(w);
    snprintf(buf, sizeof buf, "TPF%08llu", (unsigned long long)(h % 100000000ULL));
    KSTR(w, "third_party_freight_account_number", tpf ? buf : NULL);
    KNULL(w, "first_party_freight_account_number");
    KSTR(w, "invoice_currency_code", "USD");
    long long sub = 0, disc = 0;
    for (int i = 0; i < o->nlines; i++) {
        sub += (long long)o->lines[i].unit_price_c * o->lines[i].qty;
        if (o->lines[i].discount_c > 0) disc += o->lines[i].discount_c;
    }
    long long ship = o->type == 1 ? 0 : 599, tax = (sub - disc) * 8 / 100;
    KCENTS(w, "total_price", sub - disc + ship + tax);
    KCENTS(w, "total_tax", tax);
    KCENTS(w, "total_discount", disc);
    KCENTS(w, "total_shipping", ship);
    ship_to(w, c, o);
    sim_jw_key(w, "line_items");
    sim_jw_arr(w);
    for (int i = 0; i < o->nlines; i++) {
        const sim_order_line *l = &o->lines[i];
        char name[96], sku[32], pid[ID_LEN];
        sim_render_product_text(c, l->product, name, sizeof name, sku, sizeof sku);
        fmt_id(c, SIM_RES_PRODUCTS, l->product, pid);
        sim_jw_obj(w);
        KSTR(w, "product_id", pid);
        KSTR(w, "sku", sku);
        KINT(w, "quantity", l->qty);
        KCENTS(w, "unit_price", l->unit_price_c);
        KBOOL(w, "is_picked", l->picked);
        sim_jw_key(w, "discount_amount");
        if (l->discount_c < 0)
            sim_jw_null(w);
        else
            sim_jw_cents(w, l->discount_c);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    sim_jw_key(w, "tags");
    sim_jw_arr(w);
    if (h % 5 == 0) sim_jw_str(w, "vip");
    if (ch && h % 3 == 0) {
        snprintf(buf, sizeof buf, "source:%s", ch->id + 3);
        sim_jw_str(w, buf);
    }
    sim_jw_end(w, ']');
    KDATE(w, "required_ship_date", o->required_ship_ms);
    KBOOL(w, "saturday_delivery", (o->flags & SIM_OF_SATURDAY) != 0);
    KBOOL(w, "signature_required", (o->flags & SIM_OF_SIGNATURE) != 0);
    const sim_city *dest = &sim_cities[h3(c, 23, o->m.num) % (uint64_t)sim_ncities];
    KSTR(w, "international_duty_paid_by", strcmp(dest->country, "US") ? "recipient" : NULL);
    sim_jw_key(w, "shipments");
    sim_jw_arr(w);
    for (int i = 0; i < o->nship; i++)
        shipment(w, c, o, i);
    sim_jw_end(w, ']');
    snprintf(url, sizeof url, "https://app.%s.example/orders/%u", c->integration, o->m.num);
    tail_fields(w, url, 1, 1);
}

static void render_return(sim_jw *w, const sim_conn *c, const sim_return *x) {
    char wh[ID_LEN], iid[ID_LEN], sku[32];
    fmt_id(c, SIM_RES_WAREHOUSES, x->wh, wh);
    meta_fields(w, c, SIM_RES_RETURNS, &x->m, 1, x->wc);
    KSTR(w, "status", sim_flow_status_names[x->status % SIM_FS_COUNT]);
    KSTR(w, "raw_status", sim_return_raw_status[x->status % SIM_FS_COUNT]);
    k_ref(w, "order_id", c, SIM_RES_ORDERS, x->order);
    sim_jw_key(w, "notes");
    sim_jw_arr(w);
    if (x->m.num % 4 == 0) sim_jw_str(w, "Customer requested exchange");
    sim_jw_end(w, ']');
    sim_jw_key(w, "line_items");
    sim_jw_arr(w);
    for (int i = 0; i < x->nlines; i++) {
        const sim_return_line *l = &x->lines[i];
        fmt_id(c, SIM_RES_INVENTORY, l->inv, iid);
        inv_sku(c, l->inv, sku, sizeof sku);
        sim_jw_obj(w);
        KSTR(w, "inventory_item_id", iid);
        KSTR(w, "sku", sku);
        KINT(w, "expected_quantity", l->expected);
        KINT(w, "received_quantity", l->received);
        sim_jw_key(w, "restocked_quantity");
        if (x->status == SIM_FS_RECEIVED)
            sim_jw_int(w, l->restocked);
        else
            sim_jw_null(w);
        KSTR(w, "return_reason", sim_return_reasons[l->reason % sim_nreturn_reasons]);
        KINT(w, "quantity", l->expected);
        KNULL(w, "warehouse_id");
        KNULL(w, "returned_date");
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    sim_jw_key(w, "shipments");
    sim_jw_arr(w);
    if (x->has_ship) {
        const sim_carrier *cr = &sim_carriers[x->carrier % sim_ncarriers];
        char trk[48];
        snprintf(trk, sizeof trk, "%s%012llu", cr->tracking_prefix,
                 (unsigned long long)(h3(c, 37, x->m.num) % 1000000000000ULL));
        sim_jw_obj(w);
        KSTR(w, "tracking_number", trk);
        KDATE(w, "shipped_date", x->shipped_ms);
        KDATE(w, "arrived_date", x->arrived_ms);
        KSTR(w, "warehouse_id", wh);
        KNULL(w, "carrier");
        KSTR(w, "carrier_id", cr->id);
        KSTR(w, "carrier_name", cr->name);
        KSTR(w, "scac", cr->scac);
        KNULL(w, "shipping_cost");
        measurements(w, 0, 0, 0, 0, 0);
        sim_jw_key(w, "line_items");
        sim_jw_arr(w);
        for (int i = 0; i < x->nlines; i++) {
            const sim_return_line *l = &x->lines[i];
            fmt_id(c, SIM_RES_INVENTORY, l->inv, iid);
            inv_sku(c, l->inv, sku, sizeof sku);
            sim_jw_obj(w);
            KSTR(w, "inventory_item_id", iid);
            KSTR(w, "sku", sku);
            KINT(w, "quantity", l->expected);
            sim_jw_key(w, "receiving_details");
            sim_jw_arr(w);
            if (l->restocked > 0) {
                sim_jw_obj(w);
                KINT(w, "quantity", l->restocked);
                KSTR(w, "condition", "new");
                KSTR(w, "disposition", "restocked");
                sim_jw_end(w, '}');
            }
            if (l->received > l->restocked) {
                sim_jw_obj(w);
                KINT(w, "quantity", l->received - l->restocked);
                KSTR(w, "condition", "damaged");
                KSTR(w, "disposition", x->status == SIM_FS_RECEIVED ? "disposed" : NULL);
                sim_jw_end(w, '}');
            }
            sim_jw_end(w, ']');
            sim_jw_end(w, '}');
        }
        sim_jw_end(w, ']');
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    tail_fields(w, NULL, 1, 1);
}

static void render_inbound(sim_jw *w, const sim_conn *c, const sim_inbound *x) {
    char buf[96], iid[ID_LEN], sku[32];
    meta_fields(w, c, SIM_RES_INBOUND, &x->m, 1, x->wc);
    int has_po = sim_render_po(c, x->m.num, buf, sizeof buf);
    KSTR(w, "purchase_order_number", has_po ? buf : NULL);
    KSTR(w, "status", sim_flow_status_names[x->status % SIM_FS_COUNT]);
    KSTR(w, "raw_status", sim_asn_raw_status[x->status % SIM_FS_COUNT]);
    KNULL(w, "supplier");
    supplier_object(w, c, x->supplier);
    KDATE(w, "expected_arrival_date", x->expected_ms);
    k_ref(w, "warehouse_id", c, SIM_RES_WAREHOUSES, x->wh);
    sim_jw_key(w, "line_items");
    sim_jw_arr(w);
    for (int i = 0; i < x->nlines; i++) {
        const sim_asn_line *l = &x->lines[i];
        fmt_id(c, SIM_RES_INVENTORY, l->inv, iid);
        inv_sku(c, l->inv, sku, sizeof sku);
        sim_jw_obj(w);
        KSTR(w, "inventory_item_id", iid);
        KSTR(w, "sku", sku);
        KINT(w, "expected_quantity", l->expected);
        KINT(w, "received_quantity", l->received);
        sim_jw_key(w, "unit_cost");
        if (l->unit_cost_c < 0)
            sim_jw_null(w);
        else
            sim_jw_cents(w, l->unit_cost_c);
        snprintf(buf, sizeof buf, "POL-%u-%d", x->m.num, i + 1);
        KSTR(w, "external_id", x->m.num % 2 ? buf : NULL);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    sim_jw_key(w, "receipts");
    sim_jw_arr(w);
    for (int r = 0; r < x->nrcpt; r++) {
        const sim_receipt *rc = &x->rcpt[r];
        snprintf(buf, sizeof buf, "rcpt_%s_%06u", c->tag, rc->num);
        sim_jw_obj(w);
        KSTR(w, "id", buf);
        KDATE(w, "arrived_date", rc->arrived_ms);
        sim_jw_key(w, "line_items");
        sim_jw_arr(w);
        for (int i = 0; i < x->nlines; i++) {
            if (rc->qty[i] <= 0) continue;
            fmt_id(c, SIM_RES_INVENTORY, x->lines[i].inv, iid);
            inv_sku(c, x->lines[i].inv, sku, sizeof sku);
            sim_jw_obj(w);
            KSTR(w, "inventory_item_id", iid);
            KSTR(w, "sku", sku);
            KINT(w, "quantity", rc->qty[i]);
            sim_jw_end(w, '}');
        }
        sim_jw_end(w, ']');
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    /* suppliers ship from abroad: mostly null address parts, like real ASNs */
    sim_jw_key(w, "ship_from_address");
    sim_jw_obj(w);
    KNULL(w, "address1");
    KNULL(w, "address2");
    KNULL(w, "address3");
    KSTR(w, "city", x->m.num % 2 ? "Shenzhen" : "Ho Chi Minh City");
    KNULL(w, "state");
    KNULL(w, "postal_code");
    KSTR(w, "country", x->m.num % 2 ? "CN" : "VN");
    sim_jw_end(w, '}');
    sim_jw_key(w, "tracking_numbers");
    sim_jw_arr(w);
    if (x->status >= SIM_FS_IN_TRANSIT && x->status <= SIM_FS_RECEIVED) {
        snprintf(buf, sizeof buf, "MSKU%07u", (unsigned)(h3(c, 41, x->m.num) % 10000000));
        sim_jw_str(w, buf);
    }
    sim_jw_end(w, ']');
    sim_jw_key(w, "notes");
    sim_jw_arr(w);
    sim_jw_end(w, ']');
    tail_fields(w, NULL, 1, 1);
}

static void render_bill(sim_jw *w, const sim_conn *c, const sim_bill *x) {
    static const char *const obj_types[] = {NULL, "order", "inbound_shipment", "return"};
    static const sim_res obj_res[] = {SIM_RES_ORDERS, SIM_RES_ORDERS, SIM_RES_INBOUND,
                                      SIM_RES_RETURNS};
    meta_fields(w, c, SIM_RES_BILLS, &x->m, 1, x->wc);
    int ot = x->obj_type < 4 ? x->obj_type : 0;
    k_ref(w, "object_id", c, obj_res[ot], ot ? x->obj_num : 0);
    KSTR(w, "object_type", obj_types[ot]);
    KSTR(w, "charge_type", sim_charge_types[x->charge % sim_ncharge_types]);
    KCENTS(w, "amount", x->amount_c);
    KSTR(w, "currency_code", "USD");
    tail_fields(w, NULL, 0, 0);
}

/* InventoryLedgerSchema. The entry's item, sku, warehouse and cause are those of the
 * movement that appended it (sim_ledger_append); entry_date is when it happened. */
static void render_ledger(sim_jw *w, const sim_conn *c, const sim_ledger *x) {
    char name[96], sku[32];
    const sim_inventory *v = sim_table_get(&c->t[SIM_RES_INVENTORY], x->inv);
    int ev = x->event < SIM_LE_COUNT ? x->event : SIM_LE_OPENING;
    meta_fields(w, c, SIM_RES_LEDGER, &x->m, 0, 0);
    KDATE(w, "entry_date", x->m.created_ms);
    k_ref(w, "inventory_item_id", c, SIM_RES_INVENTORY, x->inv);
    if (v) {
        sim_render_product_text(c, v->product, name, sizeof name, sku, sizeof sku);
        KSTR(w, "sku", sku);
    } else {
        KNULL(w, "sku");
    }
    KINT(w, "quantity", x->qty);
    KSTR(w, "raw_event_type", sim_ledger_events[ev].raw);
    KSTR(w, "event_type", sim_ledger_events[ev].type);
    KSTR(w, "reason", sim_ledger_events[ev].reason);
    k_ref(w, "object_id", c, sim_ledger_events[ev].obj_res, x->obj_num);
    KSTR(w, "object_type", x->obj_num ? sim_ledger_events[ev].obj_type : NULL);
    k_ref(w, "warehouse_id", c, SIM_RES_WAREHOUSES, x->wh);
    k_ref(w, "location_id", c, SIM_RES_LOCATIONS, x->loc);
    tail_fields(w, NULL, 0, 0);
}

void sim_render_user_id(const sim_conn *c, int user, char *buf, size_t len) {
    snprintf(buf, len, "usr_%s_%02d", c->tag, (user ? user - 1 : 0) % sim_nuser_names + 1);
}

/* LaborActivitySchema. The user's id and names are derived from the user number (some
 * names null, as a WMS that knows only a login); the associated object is one of the
 * connection's records. */
static void render_labor(sim_jw *w, const sim_conn *c, const sim_labor *x) {
    char user[ID_LEN];
    int u = (x->user ? x->user - 1 : 0) % sim_nuser_names;
    int ot = x->obj_num && x->obj_type < SIM_LO_COUNT ? x->obj_type : SIM_LO_NONE;
    meta_fields(w, c, SIM_RES_LABOR, &x->m, 0, 0);
    sim_render_user_id(c, x->user, user, sizeof user);
    KSTR(w, "user_id", user);
    KSTR(w, "user_first_name", sim_user_first[u]);
    KSTR(w, "user_last_name", sim_user_last[u]);
    k_ref(w, "warehouse_id", c, SIM_RES_WAREHOUSES, x->wh);
    KSTR(w, "activity_type", sim_labor_types[x->type % sim_nlabor_types]);
    KDATE(w, "activity_start_time", x->start_ms);
    KDATE(w, "activity_end_time", x->end_ms);
    KSTR(w, "associated_object_type", ot ? sim_labor_objs[ot].name : NULL);
    k_ref(w, "associated_object_id", c, sim_labor_objs[ot].res, ot ? x->obj_num : 0);
    if (x->qty < 0)
        KNULL(w, "quantity");
    else
        KINT(w, "quantity", x->qty);
    tail_fields(w, NULL, 0, 0);
}

int sim_render_record(sbuf *b, const sim_conn *c, sim_res r, const void *rec) {
    sim_jw w;
    sim_jw_init(&w, b);
    sim_jw_obj(&w);
    switch (r) {
    case SIM_RES_ORDERS: render_order(&w, c, rec); break;
    case SIM_RES_INVENTORY: render_inventory(&w, c, rec); break;
    case SIM_RES_PRODUCTS: render_product(&w, c, rec); break;
    case SIM_RES_WAREHOUSES: render_warehouse(&w, c, rec); break;
    case SIM_RES_LOCATIONS: render_location(&w, c, rec); break;
    case SIM_RES_SHIPPING_METHODS: render_shipmethod(&w, c, rec); break;
    case SIM_RES_RETURNS: render_return(&w, c, rec); break;
    case SIM_RES_INBOUND: render_inbound(&w, c, rec); break;
    case SIM_RES_BILLS: render_bill(&w, c, rec); break;
    case SIM_RES_WAREHOUSE_CUSTOMERS: render_wcust(&w, c, rec); break;
    case SIM_RES_LEDGER: render_ledger(&w, c, rec); break;
    case SIM_RES_CHANNELS:
    case SIM_RES_SUPPLIERS: render_named(&w, c, r, rec); break;
    case SIM_RES_LABOR: render_labor(&w, c, rec); break;
    default: return -1;
    }
    sim_jw_end(&w, '}');
    return w.err ? -1 : 0;
}

/* ---- connections -------------------------------------------------------------------- */

static void actions_array(sim_jw *w, const sim_conn *c) {
    sim_jw_arr(w);
    for (int r = 0; r < SIM_RES_COUNT; r++)
        if ((c->actions & (1u << r)) && sim_res_owner((sim_res)r) == (sim_res)r)
            sim_jw_str(w, sim_res_infos[r].function);
    const sim_integration *in = sim_integration_find(c->integration);
    for (int i = 0; in && in->writes[i]; i++)
        sim_jw_str(w, in->writes[i]);
    sim_jw_end(w, ']');
}

int sim_render_actions(sbuf *b, const sim_conn *c) {
    sim_jw w;
    sim_jw_init(&w, b);
    actions_array(&w, c);
    return w.err ? -1 : 0;
}

static void affected(sim_jw *w, const sim_conn *c, int res) {
    sim_jw_key(w, "affected_endpoints");
    sim_jw_arr(w);
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        if (!(c->actions & (1u << r)) || (res >= 0 && r != res)) continue;
        if (res < 0 && sim_res_owner((sim_res)r) != (sim_res)r) continue; /* one per function */
        sim_jw_obj(w);
        KSTR(w, "endpoint", sim_res_infos[r].endpoint);
        KBOOL(w, "preventing_sync", 1);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
}

static void error_message(const sim_conn *c, int res, char *buf, size_t len) {
    if (res < 0)
        snprintf(buf, len, "Invalid %s credentials. Please reinstall the integration.",
                 integration_display(c));
    else
        snprintf(buf, len, "Missing %s permissions for URL: https://api.%s.example/%s.",
                 c->integration, c->integration, sim_res_infos[res].plural);
}

int sim_render_conn_error(sbuf *b, const sim_conn *c, int res) {
    sim_jw w;
    char url[160], msg[256];
    sim_jw_init(&w, b);
    snprintf(url, sizeof url, "https://api.%s.example/%s", c->integration,
             res < 0 ? "auth" : sim_res_infos[res].plural);
    error_message(c, res, msg, sizeof msg);
    sim_jw_obj(&w);
    KSTR(&w, "failed_url", url);
    affected(&w, c, res);
    KSTR(&w, "integration_name", c->integration);
    KSTR(&w, "error_message", msg);
    KDATE(&w, "created_date", c->err_first_seen);
    KDATE(&w, "updated_date", c->err_last_seen);
    KDATE(&w, "last_seen", c->err_last_seen);
    sim_jw_end(&w, '}');
    return w.err ? -1 : 0;
}

int sim_render_connection(sbuf *b, const sim_conn *c) {
    sim_jw w;
    sim_jw_init(&w, b);
    sim_jw_obj(&w);
    KSTR(&w, "connection_id", c->id);
    KSTR(&w, "integration_name", c->integration);
    KSTR(&w, "integration_display_name", integration_display(c));
    KSTR(&w, "customer_id", c->has_customer ? c->customer_id : NULL);
    KDATE(&w, "created_at", c->created_ms);
    KDATE(&w, "last_used", c->last_used_ms);
    KINT(&w, "times_used", c->times_used);
    int64_t latest = 0;
    for (int r = 0; r < SIM_RES_COUNT; r++)
        if (c->crawl_end_ms[r] > latest) latest = c->crawl_end_ms[r];
    KDATE(&w, "latest_sync", latest);
    sim_jw_key(&w, "sync_schedules");
    sim_jw_arr(&w);
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        /* one schedule per function: get_orders' crawls read order channels too */
        if (!(c->actions & (1u << r)) || sim_res_owner((sim_res)r) != (sim_res)r) continue;
        int done = (c->hist_done >> r) & 1;
        int blocked = c->invalid_creds || ((c->missing_perm >> r) & 1);
        int running = sim_crawl_running(c, (sim_res)r);
        sim_jw_obj(&w);
        KSTR(&w, "function_name", sim_res_infos[r].function);
        KDATE(&w, "latest_sync", c->crawl_end_ms[r]);
        /* While a crawl runs, its start is the last start, and the end is the previous
         * crawl's: the two do not always belong to one crawl. */
        KDATE(&w, "last_crawl_start", running ? c->run_start_ms[r] : c->crawl_start_ms[r]);
        KDATE(&w, "last_crawl_end", c->crawl_end_ms[r]);
        KINT(&w, "sync_frequency", sim_sync_frequency_s((sim_res)r));
        KBOOL(&w, "in_progress", !done || running);
        KSTR(&w, "sync_status",
             blocked   ? "error"
             : !done   ? "first_sync_in_progress"
             : running ? "sync_in_progress"
                       : "enabled");
        sim_jw_end(&w, '}');
    }
    sim_jw_end(&w, ']');
    sim_jw_key(&w, "errors");
    sim_jw_arr(&w);
    for (int r = -1; r < SIM_RES_COUNT; r++) {
        if (r < 0 ? !c->invalid_creds : !((c->missing_perm >> r) & 1)) continue;
        char msg[256];
        error_message(c, r, msg, sizeof msg);
        sim_jw_obj(&w);
        KSTR(&w, "error_message", msg);
        affected(&w, c, r);
        KDATE(&w, "first_seen", c->err_first_seen);
        KDATE(&w, "last_seen", c->err_last_seen);
        sim_jw_end(&w, '}');
    }
    sim_jw_end(&w, ']');
    sim_jw_key(&w, "available_actions");
    actions_array(&w, c);
    sim_jw_key(&w, "available_endpoints");
    actions_array(&w, c);
    KSTR(&w, "integration_type", "wms");
    KBOOL(&w, "webhooks_disabled", c->webhooks_disabled);
    sim_jw_key(&w, "historical_sync_completed");
    sim_jw_obj(&w);
    for (int r = 0; r < SIM_RES_COUNT; r++)
        if ((c->actions & (1u << r)) && sim_res_owner((sim_res)r) == (sim_res)r)
            KBOOL(&w, sim_res_infos[r].function, (c->hist_done >> r) & 1);
    sim_jw_end(&w, '}');
    sim_jw_end(&w, '}');
    return w.err ? -1 : 0;
}

static const char *const job_status[] = {"open", "completed", "cancelled", "stuck"};

int sim_render_job(sbuf *b, const sim_conn *c, const sim_job *j) {
    sim_jw w;
    sim_jw_init(&w, b);
    sim_jw_obj(&w);
    KSTR(&w, "id", j->id);
    KSTR(&w, "connection_id", c->id);
    KSTR(&w, "function_name", sim_res_infos[j->res].function);
    KDATE(&w, "requested_start_time", j->start_ms);
    KDATE(&w, "requested_end_time", j->end_ms);
    KDATE(&w, "created_at", j->created_ms);
    KSTR(&w, "status", job_status[j->status]);
    sim_jw_end(&w, '}');
    return w.err ? -1 : 0;
}
