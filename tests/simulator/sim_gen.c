/* sim_gen.c - builds a connection's initial WMS state from its seed: warehouse customers,
 * warehouses and locations, shipping methods, products (kits too) with their inventory
 * items, orders with shipments, returns, inbound shipments with receipts, and bills.
 * All randomness comes from one stream seeded by the connection's seed, in a fixed order. */
#include "sim_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_text.h"

#define DAY_MS (86400LL * 1000)
#define SEC(ms) ((ms) - (ms) % 1000)

/* A random moment in [lo, hi], whole seconds. */
static int64_t rand_between(uint64_t *rng, int64_t lo, int64_t hi) {
    if (hi <= lo) return SEC(lo);
    return SEC(lo + (int64_t)(sim_rand(rng) % (uint64_t)(hi - lo)));
}

/* 1 for the share of time-series records generated older than the historical window. */
static int old_one(uint64_t *rng) {
    return (int)sim_rand_below(rng, 100) < sim_g.w.old_history_pct;
}

static void meta_init(sim_meta *m, uint64_t *rng, int64_t created, int64_t base) {
    m->created_ms = SEC(created);
    m->updated_ms = rand_between(rng, m->created_ms, base);
    m->ts_created_ms = SEC(base);
    m->ts_updated_ms = SEC(base);
}

static int append(sim_conn *c, sim_res r, void *row, char *errstr, size_t errlen) {
    if (!row || sim_table_append(&c->t[r], row) != 0) {
        free(row);
        snprintf(errstr, errlen, "cannot add %s record", sim_res_infos[r].plural);
        return -1;
    }
    return 0;
}

/* A random non-kit product num, or 0 when there are none. */
static uint32_t random_simple_product(sim_conn *c, uint64_t *rng) {
    sim_table *t = &c->t[SIM_RES_PRODUCTS];
    for (int tries = 0; tries < 16 && t->n; tries++) {
        sim_product *p = t->rows[sim_rand_below(rng, t->n)];
        if (!p->is_kit) return p->m.num;
    }
    for (uint32_t i = 0; i < t->n; i++)
        if (!((sim_product *)t->rows[i])->is_kit) return i + 1;
    return 0;
}

static uint8_t random_wc(sim_conn *c, uint64_t *rng) {
    uint32_t n = c->t[SIM_RES_WAREHOUSE_CUSTOMERS].n;
    return n ? (uint8_t)(1 + sim_rand_below(rng, n)) : 0;
}

static uint8_t random_wh(sim_conn *c, uint64_t *rng) {
    return (uint8_t)(1 + sim_rand_below(rng, c->t[SIM_RES_WAREHOUSES].n));
}

int sim_gen_add_shipment(sim_conn *c, sim_order *o, uint64_t *rng, int from, int to,
                         int64_t shipped_ms) {
    if (o->nship >= SIM_MAX_SHIPMENTS || from >= to) return -1;
    sim_shipment *s = &o->ship[o->nship++];
    memset(s, 0, sizeof *s);
    s->status = 1;
    s->shipped_ms = SEC(shipped_ms);
    s->wh = o->wh;
    s->line_from = (uint8_t)from;
    s->line_to = (uint8_t)to;
    s->npkg = (uint8_t)(1 + sim_rand_below(rng, (uint32_t)(to - from) < 2 ? 1 : 2));
    s->method = o->method ? o->method
                          : (uint8_t)(1 + sim_rand_below(rng, c->t[SIM_RES_SHIPPING_METHODS].n));
    return 0;
}

int sim_gen_add_receipt(sim_conn *c, sim_inbound *a, const int32_t *qty, int64_t arrived_ms) {
    if (a->nrcpt >= SIM_MAX_RECEIPTS) return -1;
    sim_receipt *r = &a->rcpt[a->nrcpt++];
    memset(r, 0, sizeof *r);
    r->arrived_ms = SEC(arrived_ms);
    r->num = c->next_receipt++;
    for (int i = 0; i < a->nlines; i++) {
        r->qty[i] = qty[i];
        a->lines[i].received += qty[i];
    }
    return 0;
}

sim_order *sim_gen_order(sim_conn *c, uint64_t *rng, int64_t created_ms, int64_t base_ms) {
    if (c->t[SIM_RES_PRODUCTS].n == 0 || c->t[SIM_RES_SHIPPING_METHODS].n == 0) return NULL;
    sim_order *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    meta_init(&o->m, rng, created_ms, created_ms); /* new: updated == created */
    o->wc = random_wc(c, rng);
    o->wh = random_wh(c, rng);
    o->type = (uint8_t)(sim_rand_below(rng, 10) < 8 ? 0 : 1 + sim_rand_below(rng, 3));
    o->channel =
        (uint8_t)(sim_rand_below(rng, 5) == 0 ? SIM_NONE : sim_rand_below(rng, sim_nchannels));
    o->method = (uint8_t)(sim_rand_below(rng, 6) == 0
                              ? 0
                              : 1 + sim_rand_below(rng, c->t[SIM_RES_SHIPPING_METHODS].n));
    o->nlines = (uint8_t)(1 + sim_rand_below(rng, 4));
    for (int i = 0; i < o->nlines; i++) {
        sim_table *pt = &c->t[SIM_RES_PRODUCTS];
        sim_product *p = pt->rows[sim_rand_below(rng, pt->n)];
        o->lines[i].product = p->m.num;
        o->lines[i].qty = (uint16_t)(1 + sim_rand_below(rng, 3));
        o->lines[i].unit_price_c = p->price_c;
        o->lines[i].discount_c = sim_rand_below(rng, 4) == 0 ? p->price_c / 10 : -1;
    }
    if (sim_rand_below(rng, 4) == 0) o->required_ship_ms = SEC(created_ms + 2 * DAY_MS);
    if (sim_rand_below(rng, 10) == 0) o->flags |= SIM_OF_SIGNATURE;
    if (sim_rand_below(rng, 20) == 0) o->flags |= SIM_OF_SATURDAY;
    if (o->type == 1 && sim_rand_below(rng, 2) == 0) o->flags |= SIM_OF_THIRD_PARTY;
    (void)base_ms;
    return o;
}

/* Age an order generated in the past: advance its status as a WMS would have by base. */
static void age_order(sim_conn *c, sim_order *o, uint64_t *rng, int64_t base_ms) {
    int64_t age = base_ms - o->m.created_ms;
    uint32_t roll = sim_rand_below(rng, 100);
    if (roll < 4) {
        o->status = SIM_OS_CANCELLED;
    } else if (roll < 6) {
        o->status = SIM_OS_BACKORDERED;
    } else if (roll < 7) {
        o->status = SIM_OS_EXCEPTION;
    } else if (roll < 8) {
        o->status = SIM_OS_OTHER;
    } else if (age > 3 * DAY_MS || roll < 60) {
        o->status = SIM_OS_FULFILLED;
    } else {
        o->status = (uint8_t)sim_rand_below(rng, SIM_OS_PARTIAL + 1);
    }
    int picked = o->status >= SIM_OS_PICKED && o->status <= SIM_OS_FULFILLED;
    for (int i = 0; i < o->nlines; i++)
        o->lines[i].picked = (uint8_t)picked;
    int64_t ship_at = rand_between(rng, o->m.created_ms, o->m.updated_ms);
    if (o->status == SIM_OS_FULFILLED)
        sim_gen_add_shipment(c, o, rng, 0, o->nlines, ship_at);
    else if (o->status == SIM_OS_PARTIAL) {
        if (o->nlines < 2)
            o->status = SIM_OS_PACKED;
        else
            sim_gen_add_shipment(c, o, rng, 0, o->nlines / 2, ship_at);
    }
}

sim_return *sim_gen_return(sim_conn *c, uint64_t *rng, int64_t created_ms, int64_t base_ms) {
    sim_table *ot = &c->t[SIM_RES_ORDERS];
    sim_return *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    meta_init(&r->m, rng, created_ms, base_ms);
    r->wh = random_wh(c, rng);
    r->carrier = (uint8_t)sim_rand_below(rng, sim_ncarriers);
    /* usually for a shipped order; sometimes an unlinked ("blind") return */
    sim_order *o = NULL;
    for (int tries = 0; tries < 8 && ot->n; tries++) {
        sim_order *cand = ot->rows[sim_rand_below(rng, ot->n)];
        if (cand->nship) {
            o = cand;
            break;
        }
    }
    if (o && sim_rand_below(rng, 8) != 0) {
        r->order = o->m.num;
        r->wc = o->wc;
        const sim_shipment *s = &o->ship[0];
        for (int i = s->line_from; i < s->line_to && r->nlines < SIM_MAX_RETURN_LINES; i++) {
            sim_product *p = sim_table_get(&c->t[SIM_RES_PRODUCTS], o->lines[i].product);
            sim_return_line *l = &r->lines[r->nlines++];
            l->inv = p->inv[0];
            l->expected = o->lines[i].qty;
            l->reason = (uint8_t)sim_rand_below(rng, sim_nreturn_reasons);
        }
    }
    if (r->nlines == 0) {
        r->wc = random_wc(c, rng);
        uint32_t pnum = random_simple_product(c, rng);
        sim_product *p = sim_table_get(&c->t[SIM_RES_PRODUCTS], pnum);
        if (!p) {
            free(r);
            return NULL;
        }
        r->lines[0].inv = p->inv[0];
        r->lines[0].expected = 1;
        r->lines[0].reason = (uint8_t)sim_rand_below(rng, sim_nreturn_reasons);
        r->nlines = 1;
    }
    return r;
}

/* Move a return generated in the past to where it would be by base. */
static void age_return(sim_return *r, uint64_t *rng) {
    r->status = (uint8_t)sim_rand_below(rng, SIM_FS_CANCELLED + 1);
    if (r->status >= SIM_FS_IN_TRANSIT && r->status != SIM_FS_CANCELLED) {
        r->has_ship = 1;
        r->shipped_ms = rand_between(rng, r->m.created_ms, r->m.updated_ms);
    }
    if (r->status == SIM_FS_RECEIVING || r->status == SIM_FS_RECEIVED) {
        r->arrived_ms = rand_between(rng, r->shipped_ms, r->m.updated_ms);
        for (int i = 0; i < r->nlines; i++) {
            sim_return_line *l = &r->lines[i];
            l->received = r->status == SIM_FS_RECEIVED ? l->expected : l->expected / 2;
            l->restocked = r->status == SIM_FS_RECEIVED && l->reason != 1 ? l->received : 0;
        }
    }
}

sim_inbound *sim_gen_inbound(sim_conn *c, uint64_t *rng, int64_t created_ms, int64_t base_ms) {
    sim_inbound *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    meta_init(&a->m, rng, created_ms, base_ms);
    a->wc = random_wc(c, rng);
    a->wh = random_wh(c, rng);
    a->supplier =
        (uint8_t)(sim_rand_below(rng, 6) == 0 ? SIM_NONE : sim_rand_below(rng, sim_nsuppliers));
    a->expected_ms = sim_rand_below(rng, 8) == 0
                         ? 0
                         : SEC(created_ms + (int64_t)(3 + sim_rand_below(rng, 10)) * DAY_MS);
    int n = 1 + (int)sim_rand_below(rng, 4);
    for (int i = 0; i < n; i++) {
        uint32_t pnum = random_simple_product(c, rng);
        sim_product *p = sim_table_get(&c->t[SIM_RES_PRODUCTS], pnum);
        if (!p) break;
        sim_inventory *inv = sim_table_get(&c->t[SIM_RES_INVENTORY], p->inv[0]);
        sim_asn_line *l = &a->lines[a->nlines++];
        l->inv = p->inv[0];
        l->expected = 12 * (int32_t)(1 + sim_rand_below(rng, 20));
        l->unit_cost_c = sim_rand_below(rng, 5) == 0 ? -1 : (inv ? inv->unit_cost_c : 100);
    }
    if (a->nlines == 0) {
        free(a);
        return NULL;
    }
    return a;
}

static void age_inbound(sim_conn *c, sim_inbound *a, uint64_t *rng) {
    a->status = (uint8_t)sim_rand_below(rng, SIM_FS_CANCELLED + 1);
    if (a->status == SIM_FS_RECEIVING || a->status == SIM_FS_RECEIVED) {
        int32_t q[SIM_MAX_ASN_LINES] = {0};
        for (int i = 0; i < a->nlines; i++)
            q[i] = a->status == SIM_FS_RECEIVED ? a->lines[i].expected : a->lines[i].expected / 2;
        sim_gen_add_receipt(c, a, q, rand_between(rng, a->m.created_ms, a->m.updated_ms));
    }
}

sim_bill *sim_gen_bill(sim_conn *c, uint64_t *rng, int64_t created_ms) {
    sim_bill *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    meta_init(&b->m, rng, created_ms, created_ms);
    b->charge = (uint8_t)sim_rand_below(rng, sim_ncharge_types);
    b->wc = random_wc(c, rng);
    switch (b->charge) {
    case 0:
    case 1:
        if (c->t[SIM_RES_ORDERS].n) {
            b->obj_type = 1;
            b->obj_num = 1 + sim_rand_below(rng, c->t[SIM_RES_ORDERS].n);
        }
        break;
    case 3:
        if (c->t[SIM_RES_INBOUND].n) {
            b->obj_type = 2;
            b->obj_num = 1 + sim_rand_below(rng, c->t[SIM_RES_INBOUND].n);
        }
        break;
    case 4:
        if (c->t[SIM_RES_RETURNS].n) {
            b->obj_type = 3;
            b->obj_num = 1 + sim_rand_below(rng, c->t[SIM_RES_RETURNS].n);
        }
        break;
    default: break;
    }
    b->amount_c = (int32_t)(150 + sim_rand_below(rng, 2500));
    return b;
}

static int gen_static(sim_conn *c, uint64_t *rng, int64_t base, char *errstr, size_t errlen) {
    const sim_sizes *sz = &c->sizes;
    int64_t old = base - 400 * DAY_MS;
    for (int i = 0; i < sz->warehouse_customers && i < SIM_MAX_WC; i++) {
        sim_wcust *w = calloc(1, sizeof *w);
        if (w) {
            meta_init(&w->m, rng, old + i * DAY_MS, base - 200 * DAY_MS);
            w->name = (uint8_t)((sim_mix(c->seed, 77) + (uint64_t)i) % (uint64_t)sim_nwc_names);
        }
        if (append(c, SIM_RES_WAREHOUSE_CUSTOMERS, w, errstr, errlen)) return -1;
    }
    for (int i = 0; i < sz->warehouses && i < SIM_MAX_WAREHOUSES; i++) {
        sim_warehouse *w = calloc(1, sizeof *w);
        if (w) {
            meta_init(&w->m, rng, old + i * DAY_MS, base - 100 * DAY_MS);
            w->city = (uint8_t)((sim_mix(c->seed, 99) + (uint64_t)i) % (uint64_t)sim_ncities);
        }
        if (append(c, SIM_RES_WAREHOUSES, w, errstr, errlen)) return -1;
    }
    for (uint32_t wh = 1; wh <= c->t[SIM_RES_WAREHOUSES].n; wh++) {
        for (int i = 0; i < sz->locations_per_wh; i++) {
            sim_location *l = calloc(1, sizeof *l);
            if (l) {
                meta_init(&l->m, rng, old + 5 * DAY_MS, base - 50 * DAY_MS);
                l->wh = wh;
                l->type = (uint8_t)(i % 7 == 6 ? 2 : i % 5 == 4 ? 1 : 0);
                l->aisle = (uint8_t)(i / 20);
                l->bay = (uint8_t)(i % 20 / 4 + 1);
                l->level = (uint8_t)(i % 4 + 1);
            }
            if (append(c, SIM_RES_LOCATIONS, l, errstr, errlen)) return -1;
        }
    }
    for (int i = 0; i < sz->shipping_methods; i++) {
        sim_shipmethod *s = calloc(1, sizeof *s);
        if (s) {
            meta_init(&s->m, rng, old + 10 * DAY_MS, base - 30 * DAY_MS);
            s->carrier = (uint8_t)(i % sim_ncarriers);
            s->service = (uint8_t)(i / sim_ncarriers % sim_nservices);
        }
        if (append(c, SIM_RES_SHIPPING_METHODS, s, errstr, errlen)) return -1;
    }
    return 0;
}

static sim_inventory *new_inventory(sim_conn *c, uint64_t *rng, const sim_product *p) {
    uint32_t nwh = c->t[SIM_RES_WAREHOUSES].n;
    sim_inventory *v = calloc(1, sizeof *v + nwh * sizeof v->wh[0]);
    if (!v) return NULL;
    v->m.created_ms = p->m.created_ms;
    v->m.updated_ms = p->m.updated_ms;
    v->m.ts_created_ms = p->m.ts_created_ms;
    v->m.ts_updated_ms = p->m.ts_updated_ms;
    v->product = p->m.num;
    v->wc = p->wc;
    v->active = p->active;
    v->nwh = (uint8_t)nwh;
    v->has_lots = sim_rand_below(rng, 5) == 0;
    v->unit_cost_c = p->price_c * 2 / 5;
    uint32_t lpw = (uint32_t)c->sizes.locations_per_wh;
    for (uint32_t w = 0; w < nwh; w++) {
        sim_inv_wh *q = &v->wh[w];
        /* not every item is stocked in every warehouse */
        if (w > 0 && sim_rand_below(rng, 3) == 0) continue;
        q->onhand = (int32_t)sim_rand_below(rng, 400);
        q->committed = q->onhand ? (int32_t)sim_rand_below(rng, (uint32_t)q->onhand / 4 + 1) : 0;
        q->unfulfillable = q->onhand - q->committed > 10 ? (int32_t)sim_rand_below(rng, 6) : 0;
        q->awaiting = sim_rand_below(rng, 3) == 0 ? (int32_t)sim_rand_below(rng, 100) : 0;
        if (lpw) {
            q->loc_a = w * lpw + 1 + sim_rand_below(rng, lpw);
            q->loc_b = w * lpw + 1 + sim_rand_below(rng, lpw);
            q->loc_a_qty = q->loc_a == q->loc_b ? q->onhand : q->onhand * 2 / 3;
        }
    }
    return v;
}

static int gen_catalogue(sim_conn *c, uint64_t *rng, int64_t base, char *errstr, size_t errlen) {
    int64_t start = base - 120 * DAY_MS;
    for (int i = 0; i < c->sizes.products; i++) {
        sim_product *p = calloc(1, sizeof *p);
        if (!p) return append(c, SIM_RES_PRODUCTS, NULL, errstr, errlen);
        meta_init(&p->m, rng, rand_between(rng, start, base - DAY_MS), base);
        p->wc = random_wc(c, rng);
        p->active = sim_rand_below(rng, 20) != 0;
        p->supplier =
            (uint8_t)(sim_rand_below(rng, 4) == 0 ? SIM_NONE : sim_rand_below(rng, sim_nsuppliers));
        p->price_c = (int32_t)(499 + 100 * sim_rand_below(rng, 60));
        /* every 8th product is a kit of earlier items, once there are some to bundle */
        uint32_t simple = c->t[SIM_RES_INVENTORY].n;
        if (i % 8 == 7 && simple >= 2) {
            p->is_kit = 1;
            p->nitems = (uint8_t)(2 + sim_rand_below(rng, simple >= 3 ? 2 : 1));
            for (int k = 0; k < p->nitems; k++) {
                p->inv[k] = 1 + sim_rand_below(rng, simple);
                for (int j = 0; j < k; j++) /* distinct components */
                    if (p->inv[j] == p->inv[k]) p->inv[k] = p->inv[k] % simple + 1;
                p->unit_qty[k] = (uint8_t)(1 + sim_rand_below(rng, 2));
            }
            if (append(c, SIM_RES_PRODUCTS, p, errstr, errlen)) return -1;
            continue;
        }
        p->nitems = 1;
        p->unit_qty[0] = 1;
        p->inv[0] = c->t[SIM_RES_INVENTORY].n + 1;
        if (append(c, SIM_RES_PRODUCTS, p, errstr, errlen)) return -1;
        if (append(c, SIM_RES_INVENTORY, new_inventory(c, rng, p), errstr, errlen)) return -1;
    }
    return 0;
}

/* Inventory item rows in order of creation (then number), for gen_ledger. */
static const sim_table *by_created_items;
static int by_created_cmp(const void *a, const void *b) {
    const sim_meta *x = by_created_items->rows[*(const uint32_t *)a];
    const sim_meta *y = by_created_items->rows[*(const uint32_t *)b];
    if (x->created_ms != y->created_ms) return x->created_ms < y->created_ms ? -1 : 1;
    return x->num < y->num ? -1 : x->num > y->num;
}

/* The ledger of a connection that keeps one begins with each item's stock: one opening
 * entry per item and warehouse holding units, dated when the item was created, so that
 * an item's entries summed give its onhand from the start. Items are taken in order of
 * creation, so that each entry lands at the end of the table's date index (a random
 * order would move the index on every insert: quadratic for 100k items). Uses no
 * randomness: enabling the ledger leaves every other generated record as it was. */
static int gen_ledger(sim_conn *c, char *errstr, size_t errlen) {
    if (!(c->actions & (1u << SIM_RES_LEDGER))) return 0;
    const sim_table *it = &c->t[SIM_RES_INVENTORY];
    if (!it->n) return 0;
    uint32_t *idx = malloc(it->n * sizeof *idx);
    if (!idx) return append(c, SIM_RES_LEDGER, NULL, errstr, errlen);
    for (uint32_t i = 0; i < it->n; i++)
        idx[i] = i;
    by_created_items = it; /* generation runs under the store lock: no other user */
    qsort(idx, it->n, sizeof *idx, by_created_cmp);
    int rc = 0;
    for (uint32_t i = 0; i < it->n && !rc; i++) {
        const sim_inventory *v = it->rows[idx[i]];
        for (uint32_t w = 0; w < v->nwh && !rc; w++) {
            if (!v->wh[w].onhand) continue;
            sim_ledger *e = calloc(1, sizeof *e);
            if (e) {
                e->m.created_ms = e->m.updated_ms = v->m.created_ms;
                e->m.ts_created_ms = e->m.ts_updated_ms = v->m.ts_created_ms;
                e->inv = v->m.num;
                e->wh = (uint8_t)(w + 1);
                e->qty = v->wh[w].onhand;
                e->event = SIM_LE_OPENING;
                e->loc = v->wh[w].loc_a;
            }
            rc = append(c, SIM_RES_LEDGER, e, errstr, errlen);
        }
    }
    free(idx);
    return rc;
}

/* Every connection's order channels and suppliers: one per entry of sim_channels /
 * sim_suppliers, record num = index + 1, the ids its orders, inbound shipments and
 * products reference (sim_render). Some belong to a warehouse customer. From a random
 * stream of their own: adding them leaves every other generated record as it was. */
static int gen_named(sim_conn *c, int64_t base, char *errstr, size_t errlen) {
    uint64_t rng = sim_mix(c->seed, 0x6368616e6e656cULL) | 1;
    const struct {
        sim_res r;
        int n;
    } lists[] = {{SIM_RES_CHANNELS, sim_nchannels}, {SIM_RES_SUPPLIERS, sim_nsuppliers}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        for (int i = 0; i < lists[l].n; i++) {
            sim_named_rec *x = calloc(1, sizeof *x);
            if (x) {
                meta_init(&x->m, &rng, base - (500 - 30 * i) * DAY_MS, base - 50 * DAY_MS);
                x->name = (uint8_t)i;
                x->wc = sim_rand_below(&rng, 3) == 0 ? random_wc(c, &rng) : 0;
            }
            if (append(c, lists[l].r, x, errstr, errlen)) return -1;
        }
    }
    return 0;
}

/* Minutes an activity of each type takes at least, and the spread above that (indexed
 * like sim_labor_types: pick, pack, put_away, transfer, receive). */
static const int labor_min_m[] = {2, 1, 5, 5, 10}, labor_spread_m[] = {18, 9, 25, 55, 80};

/* A random record num of r when the connection has r and holds some, else 0. */
static uint32_t random_num(const sim_conn *c, uint64_t *rng, sim_res r) {
    uint32_t n = c->t[r].n;
    if (!(c->actions & (1u << r)) || !n) return 0;
    return 1 + sim_rand_below(rng, n);
}

sim_labor *sim_gen_labor(sim_conn *c, uint64_t *rng, int64_t start_ms, int64_t now_ms,
                         int in_progress) {
    sim_labor *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->user = (uint8_t)(1 + sim_rand_below(rng, SIM_MAX_USERS));
    a->type = (uint8_t)sim_rand_below(rng, (uint32_t)sim_nlabor_types);
    /* picks and packs are for orders; receipts for inbound shipments or returns; put
     * aways for what was received or for stock; transfers move stock */
    uint32_t roll = sim_rand_below(rng, 4);
    switch (a->type) {
    case 0:
    case 1: a->obj_type = SIM_LO_ORDER; break;
    case 4: a->obj_type = roll == 0 ? SIM_LO_RETURN : SIM_LO_INBOUND; break;
    case 2: a->obj_type = roll < 2 ? SIM_LO_INBOUND : SIM_LO_INVENTORY; break;
    default: a->obj_type = SIM_LO_INVENTORY; break;
    }
    if (sim_rand_below(rng, 10) == 0) a->obj_type = SIM_LO_NONE; /* the WMS did not link it */
    if (a->obj_type != SIM_LO_NONE)
        a->obj_num = random_num(c, rng, sim_labor_objs[a->obj_type].res);
    if (!a->obj_num) a->obj_type = SIM_LO_NONE;
    /* the work happens in the warehouse of the record it is for */
    const void *obj =
        a->obj_num ? sim_wms_get(&c->t[sim_labor_objs[a->obj_type].res], a->obj_num) : NULL;
    switch (obj ? a->obj_type : SIM_LO_NONE) {
    case SIM_LO_ORDER: a->wh = ((const sim_order *)obj)->wh; break;
    case SIM_LO_INBOUND: a->wh = ((const sim_inbound *)obj)->wh; break;
    case SIM_LO_RETURN: a->wh = ((const sim_return *)obj)->wh; break;
    default: break;
    }
    if (!a->wh || a->wh > c->t[SIM_RES_WAREHOUSES].n) a->wh = random_wh(c, rng);
    a->qty = sim_rand_below(rng, 8) == 0 ? -1 : (int32_t)(1 + sim_rand_below(rng, 40));
    a->start_ms = SEC(start_ms);
    int64_t end = a->start_ms + 60000LL * (labor_min_m[a->type] +
                                           (int64_t)sim_rand_below(rng, labor_spread_m[a->type]));
    a->end_ms = in_progress || end >= now_ms ? 0 : SEC(end);
    return a;
}

/* Activities in order of their updated_date, for gen_labor. */
static int by_updated_cmp(const void *a, const void *b) {
    const sim_meta *x = *(sim_meta *const *)a, *y = *(sim_meta *const *)b;
    return (x->updated_ms > y->updated_ms) - (x->updated_ms < y->updated_ms);
}

/* A connection's labor activities over the historical window, one in ten still in
 * progress (started in the last two hours, end null), some older than the window (not
 * in the copy). They draw from a stream of their own, so that every other generated
 * record is the same with or without them, and are appended in updated_date order (the
 * date index grows at its end). */
static int gen_labor(sim_conn *c, int64_t base, int64_t from, char *errstr, size_t errlen) {
    int n = c->sizes.labor;
    if (!(c->actions & (1u << SIM_RES_LABOR)) || n <= 0) return 0;
    uint64_t rng = sim_mix(c->seed, 0x6c61626f72ULL) | 1;
    int64_t old_from = base - SIM_OLD_HISTORY_DAYS * DAY_MS, old_to = from - 10 * DAY_MS;
    sim_labor **all = calloc((size_t)n, sizeof *all);
    if (!all) return append(c, SIM_RES_LABOR, NULL, errstr, errlen);
    for (int i = 0; i < n; i++) {
        int old = old_one(&rng);
        int running = !old && sim_rand_below(&rng, 10) == 0;
        int64_t start = old       ? rand_between(&rng, old_from, old_to)
                        : running ? rand_between(&rng, base - 7200000LL, base - 60000)
                                  : rand_between(&rng, from, base - 60000);
        sim_labor *a = sim_gen_labor(c, &rng, start, base, running);
        if (!a) {
            for (int j = 0; j < i; j++)
                free(all[j]);
            free(all);
            return append(c, SIM_RES_LABOR, NULL, errstr, errlen);
        }
        a->m.created_ms = a->start_ms;
        a->m.updated_ms = a->end_ms ? a->end_ms : a->start_ms;
        a->m.ts_created_ms = a->m.ts_updated_ms = old ? 0 : base;
        all[i] = a;
    }
    qsort(all, (size_t)n, sizeof *all, by_updated_cmp);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc)
            free(all[i]);
        else
            rc = append(c, SIM_RES_LABOR, all[i], errstr, errlen);
    }
    free(all);
    return rc;
}

int sim_gen_connection(sim_conn *c, int64_t base_ms, char *errstr, size_t errlen) {
    uint64_t rng = sim_mix(c->seed, 0x67656eULL) | 1;
    int64_t base = SEC(base_ms);
    int64_t from = base - SIM_HISTORY_DAYS * DAY_MS;
    if (c->sizes.warehouses < 1) {
        snprintf(errstr, errlen, "a connection needs at least one warehouse");
        return -1;
    }
    if (gen_static(c, &rng, base, errstr, errlen) || gen_catalogue(c, &rng, base, errstr, errlen))
        return -1;
    /* Some orders, returns, ASNs and bills are older than the historical sync's window:
     * the WMS has them, Trackstar's copy does not (ts_created_ms 0), until an on-demand
     * sync reads their window or they change. */
    int64_t old_from = base - SIM_OLD_HISTORY_DAYS * DAY_MS, old_to = from - 10 * DAY_MS;
    for (int i = 0; i < c->sizes.orders; i++) {
        int old = old_one(&rng);
        int64_t created =
            old ? rand_between(&rng, old_from, old_to) : rand_between(&rng, from, base - 60000);
        sim_order *o = sim_gen_order(c, &rng, created, base);
        if (o) {
            o->m.updated_ms =
                rand_between(&rng, o->m.created_ms, old ? created + 3 * DAY_MS : base);
            o->m.ts_created_ms = o->m.ts_updated_ms = old ? 0 : base;
            age_order(c, o, &rng, base);
        }
        if (append(c, SIM_RES_ORDERS, o, errstr, errlen)) return -1;
    }
    for (int i = 0; i < c->sizes.returns; i++) {
        int old = old_one(&rng);
        int64_t created =
            old ? rand_between(&rng, old_from, old_to) : rand_between(&rng, from, base - 60000);
        sim_return *r = sim_gen_return(c, &rng, created, old ? created + 3 * DAY_MS : base);
        if (r) {
            age_return(r, &rng);
            if (old) r->m.ts_created_ms = r->m.ts_updated_ms = 0;
        }
        if (append(c, SIM_RES_RETURNS, r, errstr, errlen)) return -1;
    }
    for (int i = 0; i < c->sizes.inbound; i++) {
        int old = old_one(&rng);
        int64_t created =
            old ? rand_between(&rng, old_from, old_to) : rand_between(&rng, from, base - 60000);
        sim_inbound *a = sim_gen_inbound(c, &rng, created, old ? created + 3 * DAY_MS : base);
        if (a) {
            age_inbound(c, a, &rng);
            if (old) a->m.ts_created_ms = a->m.ts_updated_ms = 0;
        }
        if (append(c, SIM_RES_INBOUND, a, errstr, errlen)) return -1;
    }
    for (int i = 0; i < c->sizes.bills; i++) {
        int old = old_one(&rng);
        int64_t created =
            old ? rand_between(&rng, old_from, old_to) : rand_between(&rng, from, base - 60000);
        sim_bill *b = sim_gen_bill(c, &rng, created);
        if (b) b->m.ts_created_ms = b->m.ts_updated_ms = old ? 0 : base;
        if (append(c, SIM_RES_BILLS, b, errstr, errlen)) return -1;
    }
    if (gen_named(c, base, errstr, errlen)) return -1;
    if (gen_ledger(c, errstr, errlen)) return -1;
    return gen_labor(c, base, from, errstr, errlen);
}
