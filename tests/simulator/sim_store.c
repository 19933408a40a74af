/* sim_store.c - the connection registry, record tables and their sorted indexes.
 * The generator (sim_gen.c) fills the tables; the crawl (sim_crawl.c) mutates them. */
#include "sim_store.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_catalog.h"
#include "sim_gen.h"

sim_store sim_g = {.mu = PTHREAD_MUTEX_INITIALIZER};

const sim_res_info sim_res_infos[SIM_RES_COUNT] = {
    [SIM_RES_ORDERS] = {"orders", "get_orders", "order", "ord", "GET /wms/orders", 3600},
    [SIM_RES_INVENTORY] = {"inventory", "get_inventory", "inventory", "inv", "GET /wms/inventory",
                           3600},
    [SIM_RES_PRODUCTS] = {"products", "get_products", "product", "prod", "GET /wms/products", 3600},
    [SIM_RES_WAREHOUSES] = {"warehouses", "get_warehouses", "warehouse", "wh",
                            "GET /wms/warehouses", 43200},
    [SIM_RES_LOCATIONS] = {"warehouse_locations", "get_warehouse_locations", "warehouse-location",
                           "loc", "GET /wms/warehouses/{warehouse_id}/locations", 43200},
    [SIM_RES_SHIPPING_METHODS] = {"shipping_methods", "get_shipping_methods", "shipping-method",
                                  "sm", "GET /wms/shipping-methods", 43200},
    [SIM_RES_RETURNS] = {"returns", "get_returns", "return", "ret", "GET /wms/returns", 3600},
    [SIM_RES_INBOUND] = {"inbound_shipments", "get_inbound_shipments", "inbound-shipment", "asn",
                         "GET /wms/inbound-shipments", 3600},
    [SIM_RES_BILLS] = {"bills", "get_bills", "bill", "bill", "GET /wms/billing", 3600},
    [SIM_RES_WAREHOUSE_CUSTOMERS] = {"warehouse_customers", "get_warehouse_customers",
                                     "warehouse-customer", "wc", "GET /wms/warehouse-customers",
                                     43200},
    [SIM_RES_LEDGER] = {"inventory_ledger", "get_inventory_ledger", "inventory_ledger", "led",
                        "GET /wms/inventory/ledger", 3600},
    /* no function, no webhooks of their own: the event names are never sent */
    [SIM_RES_CHANNELS] = {"order_channels", "get_orders", "order-channel", "ch",
                          "GET /wms/orders/channels", 3600},
    [SIM_RES_SUPPLIERS] = {"inbound_shipment_suppliers", "get_inbound_shipments",
                           "inbound-shipment-supplier", "sup",
                           "GET /wms/inbound-shipments/suppliers", 3600},
    /* the reference gives no frequency for labor activities (UNCONFIRMED): hourly */
    [SIM_RES_LABOR] = {"labor_activities", "get_labor_activities", "labor_activity", "la",
                       "GET /wms/labor-activities", 3600},
};

int sim_res_by_plural(const char *plural) {
    for (int i = 0; plural && i < SIM_RES_COUNT; i++)
        if (strcmp(sim_res_infos[i].plural, plural) == 0) return i;
    return -1;
}

int sim_res_by_function(const char *function) {
    for (int i = 0; function && i < SIM_RES_COUNT; i++)
        if (strcmp(sim_res_infos[i].function, function) == 0) return i;
    return -1;
}

sim_res sim_res_owner(sim_res r) {
    int o = sim_res_by_function(sim_res_infos[r].function);
    return o >= 0 ? (sim_res)o : r;
}

uint32_t sim_res_derive(uint32_t mask) {
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        sim_res o = sim_res_owner((sim_res)r);
        if (o == (sim_res)r) continue;
        mask = (mask & ~(1u << r)) | (((mask >> o) & 1u) << r);
    }
    return mask;
}

void sim_world_defaults(sim_world *w) {
    *w = (sim_world){.sync_scale = 0.001,
                     .ingest_lag = 1,
                     .same_second = 1,
                     .quantity_only = 1,
                     .page_by_id = 1,
                     .short_pages = 1,
                     .old_history_pct = 10,
                     .job_ms = 2000,
                     .drop_pct = 0,
                     .rng = 0x9e3779b97f4a7c15ULL};
}

void sim_store_init(uint64_t seed, int trackstar_dates) {
    sim_g.seed = seed;
    sim_g.trackstar_dates = trackstar_dates;
    sim_world_defaults(&sim_g.w);
    sim_g.w.rng = sim_mix(seed, 0x776f726c64ULL) | 1;
}

void sim_store_free(void) {
    for (int i = 0; i < sim_g.nconns; i++) {
        sim_conn *c = sim_g.conns[i];
        for (int r = 0; r < SIM_RES_COUNT; r++)
            sim_table_free(&c->t[r]);
        free(c->drops);
        free(c->gaps);
        free(c->jobs);
        free(c);
    }
    free(sim_g.conns);
    sim_g.conns = NULL;
    sim_g.nconns = sim_g.capconns = 0;
    strmap_free(sim_g.by_id);
    strmap_free(sim_g.by_token);
    sim_g.by_id = sim_g.by_token = NULL;
}

void sim_store_lock(void) {
    pthread_mutex_lock(&sim_g.mu);
}
void sim_store_unlock(void) {
    pthread_mutex_unlock(&sim_g.mu);
}

uint64_t sim_mix(uint64_t a, uint64_t b) {
    /* splitmix64 finaliser over a combination: cheap, well distributed, stable */
    uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sim_rand(uint64_t *s) {
    /* xorshift64*; a zero state would stick at zero */
    uint64_t x = *s ? *s : 0x2545f4914f6cdd1dULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

uint32_t sim_rand_below(uint64_t *s, uint32_t n) {
    return n ? (uint32_t)(sim_rand(s) % n) : 0;
}

void sim_format_id(const sim_conn *c, sim_res r, uint32_t num, char *buf, size_t len) {
    snprintf(buf, len, "%s_%s_%06u", sim_res_infos[r].id_prefix, c->tag, num);
}

int sim_parse_id(const sim_conn *c, sim_res r, const char *id, uint32_t *num) {
    const char *p = sim_res_infos[r].id_prefix;
    size_t pl = strlen(p), tl = strlen(c->tag);
    if (strncmp(id, p, pl) != 0 || id[pl] != '_' || strncmp(id + pl + 1, c->tag, tl) != 0 ||
        id[pl + 1 + tl] != '_')
        return -1;
    const char *d = id + pl + 2 + tl;
    if (strlen(d) < 6 || strlen(d) > 9) return -1;
    uint32_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9') return -1;
        v = v * 10 + (uint32_t)(*d - '0');
    }
    if (v == 0) return -1;
    *num = v;
    return 0;
}

void *sim_table_get(const sim_table *t, uint32_t num) {
    if (num == 0 || num > t->n) return NULL;
    return t->rows[num - 1];
}

static int meta_cmp(const sim_meta *a, int64_t upd, uint32_t num) {
    if (a->updated_ms != upd) return a->updated_ms < upd ? -1 : 1;
    if (a->num != num) return a->num < num ? -1 : 1;
    return 0;
}

uint32_t sim_table_after(const sim_table *t, int64_t upd, uint32_t num) {
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const sim_meta *m = t->rows[t->order[mid]];
        if (meta_cmp(m, upd, num) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t sim_table_lower(const sim_table *t, int64_t upd) {
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const sim_meta *m = t->rows[t->order[mid]];
        if (m->updated_ms < upd)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Insert row index idx into the sorted order (positions [0, count) are sorted). */
static void order_insert(sim_table *t, uint32_t count, uint32_t idx) {
    const sim_meta *m = t->rows[idx];
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (meta_cmp(t->rows[t->order[mid]], m->updated_ms, m->num) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&t->order[lo + 1], &t->order[lo], (count - lo) * sizeof t->order[0]);
    t->order[lo] = idx;
}

int sim_table_append(sim_table *t, void *row) {
    if (t->n >= SIM_MAX_RECORDS) return -1;
    if (t->n == t->cap) {
        /* small first: 100,000 connections of a few records each must fit */
        uint32_t cap = t->cap ? t->cap * 2 : 4;
        void **rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows) return -1;
        t->rows = rows;
        uint32_t *ord = realloc(t->order, cap * sizeof *ord);
        if (!ord) return -1;
        t->order = ord;
        sim_pending *pend = realloc(t->pend, cap * sizeof *pend);
        if (!pend) return -1;
        memset(pend + t->cap, 0, (cap - t->cap) * sizeof *pend);
        t->pend = pend;
        t->cap = cap;
    }
    t->rows[t->n] = row;
    ((sim_meta *)row)->num = t->n + 1;
    order_insert(t, t->n, t->n);
    t->n++;
    return 0;
}

void sim_table_touch(sim_table *t, uint32_t num) {
    uint32_t idx = num - 1;
    /* find and remove the stale position (linear: positions moved, keys changed) */
    for (uint32_t i = 0; i < t->n; i++) {
        if (t->order[i] == idx) {
            memmove(&t->order[i], &t->order[i + 1], (t->n - i - 1) * sizeof t->order[0]);
            break;
        }
    }
    order_insert(t, t->n - 1, idx);
}

void sim_table_free(sim_table *t) {
    for (uint32_t i = 0; i < t->n; i++) {
        free(t->rows[i]);
        free(t->pend[i].wms);
    }
    free(t->rows);
    free(t->order);
    free(t->pend);
    free(t->dirty);
    memset(t, 0, sizeof *t);
}

/* ---- the WMS's versions and the copy ---------------------------------------------- */

size_t sim_record_size(sim_res r, const void *rec) {
    switch (r) {
    case SIM_RES_ORDERS: return sizeof(sim_order);
    case SIM_RES_INVENTORY:
        return sizeof(sim_inventory) + ((const sim_inventory *)rec)->nwh * sizeof(sim_inv_wh);
    case SIM_RES_PRODUCTS: return sizeof(sim_product);
    case SIM_RES_WAREHOUSES: return sizeof(sim_warehouse);
    case SIM_RES_LOCATIONS: return sizeof(sim_location);
    case SIM_RES_SHIPPING_METHODS: return sizeof(sim_shipmethod);
    case SIM_RES_RETURNS: return sizeof(sim_return);
    case SIM_RES_INBOUND: return sizeof(sim_inbound);
    case SIM_RES_BILLS: return sizeof(sim_bill);
    case SIM_RES_WAREHOUSE_CUSTOMERS: return sizeof(sim_wcust);
    case SIM_RES_LEDGER: return sizeof(sim_ledger);
    case SIM_RES_CHANNELS:
    case SIM_RES_SUPPLIERS: return sizeof(sim_named_rec);
    case SIM_RES_LABOR: return sizeof(sim_labor);
    case SIM_RES_COUNT: break;
    }
    return sizeof(sim_meta);
}

void *sim_wms_get(const sim_table *t, uint32_t num) {
    if (num == 0 || num > t->n) return NULL;
    return t->pend[num - 1].wms ? t->pend[num - 1].wms : t->rows[num - 1];
}

int sim_in_copy(const void *rec) {
    return ((const sim_meta *)rec)->ts_created_ms != 0;
}

int sim_in_scope(const sim_table *t, uint32_t num) {
    if (num == 0 || num > t->n) return 0;
    return sim_in_copy(t->rows[num - 1]) || t->pend[num - 1].since_ms != 0;
}

static int dirty_add(sim_table *t, uint32_t num) {
    if (t->ndirty == t->capdirty) {
        uint32_t cap = t->capdirty ? t->capdirty * 2 : 64;
        uint32_t *d = realloc(t->dirty, cap * sizeof *d);
        if (!d) return -1;
        t->dirty = d;
        t->capdirty = cap;
    }
    t->dirty[t->ndirty++] = num;
    t->pend[num - 1].dpos = t->ndirty;
    return 0;
}

static int mark_pending(sim_table *t, uint32_t num, int64_t now_ms) {
    sim_pending *p = &t->pend[num - 1];
    if (p->since_ms) return 0;
    if (dirty_add(t, num) != 0) return -1;
    p->since_ms = now_ms > 0 ? now_ms : 1;
    p->visible_ms = 0;
    return 0;
}

void sim_pending_clear(sim_table *t, uint32_t num) {
    sim_pending *p = &t->pend[num - 1];
    if (p->dpos) {
        uint32_t last = t->dirty[--t->ndirty];
        t->dirty[p->dpos - 1] = last;
        t->pend[last - 1].dpos = p->dpos;
    }
    free(p->wms);
    memset(p, 0, sizeof *p);
}

void *sim_wms_edit(sim_conn *c, sim_res r, uint32_t num, int64_t now_ms) {
    sim_table *t = &c->t[r];
    if (num == 0 || num > t->n) return NULL;
    sim_pending *p = &t->pend[num - 1];
    void *row = t->rows[num - 1];
    if (mark_pending(t, num, now_ms) != 0) return NULL;
    if (p->wms || !sim_in_copy(row)) return p->wms ? p->wms : row;
    size_t sz = sim_record_size(r, row);
    p->wms = malloc(sz);
    if (!p->wms) return NULL;
    memcpy(p->wms, row, sz);
    return p->wms;
}

void sim_wms_stamp(sim_conn *c, sim_res r, void *rec, int64_t now_ms, int touch) {
    sim_meta *m = rec;
    if (touch) {
        int64_t now_s = now_ms - now_ms % 1000;
        if (sim_g.w.same_second)
            m->updated_ms = now_s > m->updated_ms ? now_s : m->updated_ms;
        else
            m->updated_ms = now_s > m->updated_ms ? now_s : m->updated_ms + 1000;
    }
    sim_table *t = &c->t[r];
    /* The index orders the rows: re-sort when the change was made on a row itself. */
    if (t->rows[m->num - 1] == rec) sim_table_touch(t, m->num);
}

void sim_wms_created(sim_table *t, uint32_t num, int64_t now_ms) {
    mark_pending(t, num, now_ms);
}

int sim_ledger_append(sim_conn *c, uint32_t inv, uint32_t wh, int32_t qty, sim_ledger_event event,
                      uint32_t obj_num, int64_t now_ms) {
    if (qty == 0 || !(c->actions & (1u << SIM_RES_LEDGER))) return 0;
    const sim_inventory *v = sim_wms_get(&c->t[SIM_RES_INVENTORY], inv);
    if (!v || wh == 0 || wh > v->nwh) return 0;
    sim_ledger *e = calloc(1, sizeof *e);
    if (!e) return -1;
    int64_t s = now_ms - now_ms % 1000;
    e->m.created_ms = e->m.updated_ms = s; /* entries never change: one version */
    e->inv = inv;
    e->wh = (uint8_t)wh;
    e->qty = qty;
    e->event = (uint8_t)event;
    e->obj_num = obj_num;
    e->loc = v->wh[wh - 1].loc_a;
    sim_table *t = &c->t[SIM_RES_LEDGER];
    if (sim_table_append(t, e) != 0) {
        free(e);
        return -1;
    }
    /* the copy learns of it at a crawl of the ledger, as of any record the WMS creates */
    if (mark_pending(t, e->m.num, now_ms) != 0) return -1;
    return 1;
}

int sim_ledger_gap_add(sim_conn *c, uint32_t inv, uint32_t wh, int32_t qty, int64_t now_ms) {
    if (c->ngaps >= SIM_MAX_LEDGER_GAPS) return -1;
    if (c->ngaps % 256 == 0) {
        sim_ledger_gap *g = realloc(c->gaps, (size_t)(c->ngaps + 256) * sizeof *g);
        if (!g) return -1;
        c->gaps = g;
    }
    c->gaps[c->ngaps++] = (sim_ledger_gap){
        .inv = inv, .wh = (uint8_t)wh, .qty = qty, .at_ms = now_ms - now_ms % 1000};
    return 0;
}

/* The connection a map gives for key: the index is checked against nconns, for an entry
 * that a failed creation left (sim_conn_create). */
static sim_conn *lookup(const strmap *m, const char *key) {
    int i;
    if (!m || !key || !strmap_get(m, key, &i) || i < 0 || i >= sim_g.nconns) return NULL;
    return sim_g.conns[i];
}

sim_conn *sim_conn_at(const char *id) {
    return lookup(sim_g.by_id, id);
}

sim_conn *sim_conn_by_token(const char *token) {
    sim_conn *c = token && *token ? lookup(sim_g.by_token, token) : NULL;
    return c && c->live ? c : NULL;
}

sim_conn *sim_conn_by_id(const char *id) {
    sim_conn *c = sim_conn_at(id);
    return c && c->live ? c : NULL;
}

/* Room for one more connection in sim_g.conns, and both maps made: 0 / -1. */
static int conns_reserve(void) {
    if (!sim_g.by_id && !(sim_g.by_id = strmap_new())) return -1;
    if (!sim_g.by_token && !(sim_g.by_token = strmap_new())) return -1;
    if (sim_g.nconns < sim_g.capconns) return 0;
    int cap = sim_g.capconns ? sim_g.capconns * 2 : 64;
    if (cap > SIM_MAX_CONNECTIONS) cap = SIM_MAX_CONNECTIONS;
    if (cap <= sim_g.nconns) return -1;
    sim_conn **a = realloc(sim_g.conns, (size_t)cap * sizeof *a);
    if (!a) return -1;
    sim_g.conns = a;
    sim_g.capconns = cap;
    return 0;
}

sim_conn *sim_conn_create(const char *integration, const sim_sizes *sz, uint32_t actions,
                          uint32_t hist_done, int64_t base_ms, char *errstr, size_t errlen) {
    const sim_integration *in = sim_integration_find(integration);
    if (!in) {
        snprintf(errstr, errlen, "unknown integration");
        return NULL;
    }
    if (sim_g.nconns >= SIM_MAX_CONNECTIONS) {
        snprintf(errstr, errlen, "too many connections (max %d)", SIM_MAX_CONNECTIONS);
        return NULL;
    }
    sim_conn *c = conns_reserve() == 0 ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    c->idx = sim_g.nconns;
    c->live = 1;
    c->seed = sim_mix(sim_g.seed, (uint64_t)c->idx + 1);
    c->rng = sim_mix(c->seed, 0x6d757461ULL) | 1;
    /* a deterministic UUIDv4-shaped id: the same seed gives the same connection ids */
    uint64_t a = sim_mix(c->seed, 1), b = sim_mix(c->seed, 2);
    snprintf(c->id, sizeof c->id, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
    memcpy(c->tag, c->id, 6);
    c->tag[6] = 0;
    /* the token is a real secret: random, never derived from the seed */
    unsigned char rnd[24];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        snprintf(errstr, errlen, "RAND_bytes failed");
        free(c);
        return NULL;
    }
    char *p = c->token;
    p += sprintf(p, "sim_at_");
    for (size_t i = 0; i < sizeof rnd; i++)
        p += sprintf(p, "%02x", rnd[i]);
    snprintf(c->integration, sizeof c->integration, "%s", in->name);
    c->created_ms = base_ms;
    /* functions enabled only on request are in the actions only when asked for */
    c->actions = sim_res_derive((actions ? actions : in->reads & ~SIM_ON_REQUEST) & in->reads);
    c->hist_done = sim_res_derive(hist_done) & c->actions;
    c->sizes = *sz;
    c->next_receipt = 1;
    if (sim_gen_connection(c, base_ms, errstr, errlen) != 0) goto fail;
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        if (c->hist_done & (1u << r)) {
            c->crawl_start_ms[r] = base_ms;
            c->crawl_end_ms[r] = base_ms;
        }
    }
    /* An id entry left by a failed token put names index nconns, which lookups refuse
     * until the next connection takes that index, and with it the same id (the id
     * derives from the seed and the index). */
    if (strmap_put(sim_g.by_id, c->id, c->idx) != 0 ||
        strmap_put(sim_g.by_token, c->token, c->idx) != 0) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }
    sim_g.conns[sim_g.nconns++] = c;
    return c;
fail:
    for (int r = 0; r < SIM_RES_COUNT; r++)
        sim_table_free(&c->t[r]);
    free(c);
    return NULL;
}
