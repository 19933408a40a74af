/* sim_crawl.c - change over time in the WMS: a tick applies mutations the way real
 * warehouses move (orders ship, stock moves between buckets, ASNs get receipts...). Each
 * change is made on the WMS's version of a record (sim_wms_edit) and stamped with the
 * WMS's time; Trackstar's copy, and the webhooks, follow only when a crawl reads it
 * (sim_ingest.h). Stock follows the documents: shipping an order takes units out of
 * onhand/committed, a receipt moves awaiting into onhand, a received return restocks.
 * Every change of onhand also appends its inventory ledger entry (ledger()), where the
 * connection keeps a ledger. */
#include "sim_crawl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_events.h"
#include "sim_gen.h"
#include "sim_ingest.h"
#include "sim_text.h"
#include "util.h"
#include "values.h"

#define PICK_TRIES 12
#define FOLLOW_UP_PCT 25 /* order changes with a second change in the same second */

typedef struct crawl {
    sim_conn *c;
    uint64_t *rng;
    int64_t now;
    uint32_t mask;
    sim_crawl_result *out;
} crawl;

/* The WMS changes a resource the integration has (whatever Trackstar can read of it). */
static int live(const crawl *k, sim_res r) {
    return (k->c->actions & (1u << r)) != 0;
}

/* The WMS's version of rec (a record of r, as pick() returned it), ready to change. NULL
 * on out of memory (the change is skipped). */
static void *edit(crawl *k, sim_res r, const void *rec) {
    void *w = sim_wms_edit(k->c, r, ((const sim_meta *)rec)->num, k->now);
    if (!w) log_error("out of memory changing a record", "connection_id", k->c->id, NULL);
    return w;
}

/* The change is made: the WMS stamps its time (touch 0: a quantity-only change of a WMS
 * that leaves updated_date alone). */
static void stamp(crawl *k, sim_res r, void *rec, int touch) {
    sim_wms_stamp(k->c, r, rec, k->now, touch);
    if (!touch) k->c->n.quantity_only++;
    k->out->mutations++;
}

/* Add a new record (takes ownership). 0, or -1 when the table is full (rec freed). */
static int add_record(crawl *k, sim_res r, void *rec) {
    sim_meta *m = rec;
    int64_t s = k->now - k->now % 1000;
    m->created_ms = m->updated_ms = s;
    m->ts_created_ms = m->ts_updated_ms = 0; /* the copy learns of it at a crawl */
    if (sim_table_append(&k->c->t[r], rec) != 0) {
        free(rec);
        return -1;
    }
    sim_wms_created(&k->c->t[r], m->num, k->now);
    k->out->mutations++;
    return 0;
}

/* A random record of r (the WMS's version) for which ok() holds, or NULL. */
static void *pick(crawl *k, sim_res r, int (*ok)(const void *)) {
    sim_table *t = &k->c->t[r];
    for (int i = 0; i < PICK_TRIES && t->n; i++) {
        uint32_t num = 1 + sim_rand_below(k->rng, t->n);
        if (((const sim_meta *)sim_table_get(t, num))->removed) continue; /* gone from the WMS */
        void *rec = sim_wms_get(t, num);
        if (!ok || ok(rec)) return rec;
    }
    return NULL;
}

/* ---- inventory movements ---------------------------------------------------------- */

/* Onhand of item inv in warehouse wh moved by delta: its ledger entry, which counts as a
 * change of the WMS like the movement itself, unless the ledger-gap fault has the WMS
 * forget it (listed, so that the drift test knows what the ledger lacks). */
static void ledger(crawl *k, uint32_t inv, uint32_t wh, int32_t delta, sim_ledger_event ev,
                   uint32_t obj_num) {
    if (k->c->ledger_gap_pct > 0 && (k->c->actions & (1u << SIM_RES_LEDGER)) &&
        sim_rand_below(k->rng, 100) < (uint32_t)k->c->ledger_gap_pct) {
        if (sim_ledger_gap_add(k->c, inv, wh, delta, k->now) != 0)
            log_error("cannot list a ledger gap", "connection_id", k->c->id, NULL);
        return;
    }
    int rc = sim_ledger_append(k->c, inv, wh, delta, ev, obj_num, k->now);
    if (rc < 0)
        log_error("cannot add an inventory ledger entry", "connection_id", k->c->id, NULL);
    else
        k->out->mutations += rc;
}

typedef enum { INV_COMMIT, INV_SHIP, INV_RECEIVE, INV_EXPECT, INV_RESTOCK } inv_move;

/* The ledger's event for a movement that changes onhand (commit and expect do not). */
static sim_ledger_event move_event(inv_move mv) {
    switch (mv) {
    case INV_SHIP: return SIM_LE_SHIPMENT;
    case INV_RECEIVE: return SIM_LE_RECEIPT;
    default: return SIM_LE_RETURN;
    }
}

/* Move q units of item inv in warehouse wh; obj_num is the order, inbound shipment or
 * return that causes it (for the ledger). */
static void inv_apply(crawl *k, uint32_t inv, uint32_t wh, int32_t q, inv_move mv,
                      uint32_t obj_num) {
    sim_inventory *v = sim_wms_get(&k->c->t[SIM_RES_INVENTORY], inv);
    const sim_meta *row = sim_table_get(&k->c->t[SIM_RES_INVENTORY], inv);
    if (!v || !row || row->removed || wh == 0 || wh > v->nwh || q <= 0) return;
    if (!(v = edit(k, SIM_RES_INVENTORY, v))) return;
    sim_inv_wh *w = &v->wh[wh - 1];
    int32_t onhand_before = w->onhand;
    switch (mv) {
    case INV_COMMIT:
        w->committed += q;
        if (w->committed > w->onhand) w->committed = w->onhand;
        break;
    case INV_SHIP:
        w->onhand = w->onhand > q ? w->onhand - q : 0;
        w->committed = w->committed > q ? w->committed - q : 0;
        break;
    case INV_RECEIVE:
    case INV_RESTOCK:
        if (mv == INV_RECEIVE) /* received units were expected: awaiting -> onhand */
            w->awaiting = w->awaiting > q ? w->awaiting - q : 0;
        w->onhand += q;
        if (!w->loc_a && k->c->sizes.locations_per_wh > 0) {
            w->loc_a = (wh - 1) * (uint32_t)k->c->sizes.locations_per_wh + 1;
            w->loc_b = w->loc_a;
        }
        w->loc_a_qty += q;
        break;
    case INV_EXPECT: w->awaiting += q; break;
    }
    if (w->committed + w->unfulfillable > w->onhand) w->unfulfillable = w->onhand - w->committed;
    if (w->loc_a_qty > w->onhand) w->loc_a_qty = w->onhand;
    int32_t delta = w->onhand - onhand_before; /* a shipment takes at most what is there */
    stamp(k, SIM_RES_INVENTORY, v, !sim_g.w.quantity_only);
    if (delta) ledger(k, inv, wh, delta, move_event(mv), obj_num);
}

/* Apply mv to every stocked unit an order line stands for (kits: their components). */
static void order_stock(crawl *k, const sim_order *o, int from, int to, inv_move mv) {
    for (int i = from; i < to; i++) {
        const sim_product *p = sim_wms_get(&k->c->t[SIM_RES_PRODUCTS], o->lines[i].product);
        for (int j = 0; p && j < p->nitems; j++)
            inv_apply(k, p->inv[j], o->wh, o->lines[i].qty * p->unit_qty[j], mv, o->m.num);
    }
}

/* ---- mutations ---------------------------------------------------------------------- */

static int order_open(const void *rec) {
    const sim_order *o = rec;
    return o->status <= SIM_OS_PARTIAL || o->status == SIM_OS_BACKORDERED;
}

/* One step of an order's life. 1 when it changed. */
static int advance_order(crawl *k, sim_order *o) {
    if (!(o = edit(k, SIM_RES_ORDERS, o))) return 0;
    uint32_t roll = sim_rand_below(k->rng, 100);
    if (o->status <= SIM_OS_CONFIRMED && roll < 5) {
        o->status = SIM_OS_CANCELLED;
        stamp(k, SIM_RES_ORDERS, o, 1);
        return 1;
    }
    switch (o->status) {
    case SIM_OS_OPEN: o->status = SIM_OS_CONFIRMED; break;
    case SIM_OS_BACKORDERED: o->status = SIM_OS_PROCESSING; break;
    case SIM_OS_CONFIRMED: o->status = SIM_OS_PROCESSING; break;
    case SIM_OS_PROCESSING:
        o->status = SIM_OS_PICKED;
        for (int i = 0; i < o->nlines; i++)
            o->lines[i].picked = 1;
        break;
    case SIM_OS_PICKED: o->status = SIM_OS_PACKED; break;
    case SIM_OS_PACKED:
    case SIM_OS_PARTIAL: {
        int from = o->nship ? o->ship[o->nship - 1].line_to : 0;
        int to = o->nlines;
        if (o->status == SIM_OS_PACKED && o->nlines >= 2 && roll < 30)
            to = o->nlines / 2; /* ship part now, the rest later */
        if (from >= to || sim_gen_add_shipment(k->c, o, k->rng, from, to, k->now) != 0) {
            o->status = SIM_OS_FULFILLED;
            stamp(k, SIM_RES_ORDERS, o, 1);
            return 1;
        }
        o->status = to == o->nlines ? SIM_OS_FULFILLED : SIM_OS_PARTIAL;
        stamp(k, SIM_RES_ORDERS, o, 1);
        order_stock(k, o, from, to, INV_SHIP);
        return 1;
    }
    default: break;
    }
    stamp(k, SIM_RES_ORDERS, o, 1);
    return 1;
}

static int m_order_advance(crawl *k) {
    sim_order *o = pick(k, SIM_RES_ORDERS, order_open);
    if (!o) return 0;
    uint32_t num = o->m.num;
    if (!advance_order(k, o)) return 0;
    if (sim_g.w.ingest_lag && sim_crawl_running(k->c, SIM_RES_ORDERS) &&
        sim_rand_below(k->rng, 100) < FOLLOW_UP_PCT) {
        /* Trackstar's crawl reads the order right now, and the WMS changes it again within
         * the same second: two versions in the copy with one updated_date. */
        sim_ingest_take(k->c, SIM_RES_ORDERS, num, k->now, 1);
        sim_order *again = sim_wms_get(&k->c->t[SIM_RES_ORDERS], num);
        if (again && order_open(again)) advance_order(k, again);
    }
    return 1;
}

static int m_order_create(crawl *k) {
    sim_order *o = sim_gen_order(k->c, k->rng, k->now, k->now);
    if (!o || add_record(k, SIM_RES_ORDERS, o) != 0) return 0;
    order_stock(k, o, 0, o->nlines, INV_COMMIT);
    return 1;
}

static int m_inventory_adjust(crawl *k) {
    sim_inventory *v = pick(k, SIM_RES_INVENTORY, NULL);
    if (!v || !v->nwh || !(v = edit(k, SIM_RES_INVENTORY, v))) return 0;
    uint32_t wh = 1 + sim_rand_below(k->rng, v->nwh);
    sim_inv_wh *w = &v->wh[wh - 1];
    int32_t onhand_before = w->onhand;
    sim_ledger_event ev = SIM_LE_COUNT_FIX;
    switch (sim_rand_below(k->rng, 3)) {
    case 0: /* damage found: fulfillable -> unfulfillable */
        if (w->onhand - w->committed - w->unfulfillable > 0) {
            w->unfulfillable++;
        } else {
            w->onhand += 5;
            ev = SIM_LE_FOUND;
        }
        break;
    case 1: { /* cycle count correction */
        int32_t d = (int32_t)sim_rand_below(k->rng, 7) - 3;
        if (d == 0) d = 2;
        w->onhand = w->onhand + d < w->committed + w->unfulfillable
                        ? w->committed + w->unfulfillable
                        : w->onhand + d;
        break;
    }
    default: /* a purchase order is placed */ w->awaiting += 24; break;
    }
    if (w->loc_a_qty > w->onhand) w->loc_a_qty = w->onhand;
    int32_t delta = w->onhand - onhand_before;
    stamp(k, SIM_RES_INVENTORY, v, !sim_g.w.quantity_only);
    if (delta) ledger(k, v->m.num, wh, delta, ev, 0);
    return 1;
}

static int return_moving(const void *rec) {
    const sim_return *r = rec;
    return r->status <= SIM_FS_RECEIVING;
}

static int m_return_advance(crawl *k) {
    sim_return *r = pick(k, SIM_RES_RETURNS, return_moving);
    if (!r || !(r = edit(k, SIM_RES_RETURNS, r))) return 0;
    switch (r->status) {
    case SIM_FS_OPEN:
        r->status = SIM_FS_IN_TRANSIT;
        r->has_ship = 1;
        r->shipped_ms = k->now - k->now % 1000;
        break;
    case SIM_FS_IN_TRANSIT:
        r->status = SIM_FS_RECEIVING;
        r->arrived_ms = k->now - k->now % 1000;
        for (int i = 0; i < r->nlines; i++)
            r->lines[i].received = r->lines[i].expected / 2;
        break;
    default:
        r->status = SIM_FS_RECEIVED;
        if (!r->has_ship) {
            r->has_ship = 1;
            r->shipped_ms = r->arrived_ms = k->now - k->now % 1000;
        }
        for (int i = 0; i < r->nlines; i++) {
            sim_return_line *l = &r->lines[i];
            l->received = l->expected;
            l->restocked = l->reason == 1 ? 0 : l->received; /* damaged goods are not restocked */
        }
        break;
    }
    stamp(k, SIM_RES_RETURNS, r, 1);
    if (r->status == SIM_FS_RECEIVED)
        for (int i = 0; i < r->nlines; i++)
            inv_apply(k, r->lines[i].inv, r->wh, r->lines[i].restocked, INV_RESTOCK, r->m.num);
    return 1;
}

static int m_return_create(crawl *k) {
    sim_return *r = sim_gen_return(k->c, k->rng, k->now, k->now);
    return r && add_record(k, SIM_RES_RETURNS, r) == 0;
}

static int asn_moving(const void *rec) {
    const sim_inbound *a = rec;
    return a->status <= SIM_FS_RECEIVING && a->nrcpt < SIM_MAX_RECEIPTS;
}

static int m_inbound_advance(crawl *k) {
    sim_inbound *a = pick(k, SIM_RES_INBOUND, asn_moving);
    if (!a || !(a = edit(k, SIM_RES_INBOUND, a))) return 0;
    if (a->status == SIM_FS_OPEN) {
        a->status = SIM_FS_IN_TRANSIT;
        stamp(k, SIM_RES_INBOUND, a, 1);
        return 1;
    }
    /* a receiving event: part of what is outstanding, or all of it */
    int32_t q[SIM_MAX_ASN_LINES] = {0};
    int all = a->status == SIM_FS_RECEIVING || a->nrcpt + 1 >= SIM_MAX_RECEIPTS;
    for (int i = 0; i < a->nlines; i++) {
        int32_t left = a->lines[i].expected - a->lines[i].received;
        q[i] = left <= 0 ? 0 : all ? left : (left + 1) / 2;
    }
    sim_gen_add_receipt(k->c, a, q, k->now);
    a->status = all ? SIM_FS_RECEIVED : SIM_FS_RECEIVING;
    stamp(k, SIM_RES_INBOUND, a, 1);
    for (int i = 0; i < a->nlines; i++)
        inv_apply(k, a->lines[i].inv, a->wh, q[i], INV_RECEIVE, a->m.num);
    return 1;
}

static int m_inbound_create(crawl *k) {
    sim_inbound *a = sim_gen_inbound(k->c, k->rng, k->now, k->now);
    if (!a) return 0;
    a->status = SIM_FS_OPEN;
    if (add_record(k, SIM_RES_INBOUND, a) != 0) return 0;
    for (int i = 0; i < a->nlines; i++)
        inv_apply(k, a->lines[i].inv, a->wh, a->lines[i].expected, INV_EXPECT, a->m.num);
    return 1;
}

static int m_product_update(crawl *k) {
    sim_product *p = pick(k, SIM_RES_PRODUCTS, NULL);
    if (!p || !(p = edit(k, SIM_RES_PRODUCTS, p))) return 0;
    int toggle = sim_rand_below(k->rng, 4) == 0;
    if (toggle)
        p->active = !p->active;
    else
        p->price_c += (int32_t)(100 * (1 + sim_rand_below(k->rng, 3)));
    stamp(k, SIM_RES_PRODUCTS, p, 1);
    if (toggle && !p->is_kit) { /* the stocked item follows its product */
        sim_inventory *v = sim_wms_get(&k->c->t[SIM_RES_INVENTORY], p->inv[0]);
        if (v && (v = edit(k, SIM_RES_INVENTORY, v))) {
            v->active = p->active;
            stamp(k, SIM_RES_INVENTORY, v, 1);
        }
    }
    return 1;
}

static int m_product_create(crawl *k) {
    sim_conn *c = k->c;
    uint32_t nwh = c->t[SIM_RES_WAREHOUSES].n;
    sim_product *p = calloc(1, sizeof *p);
    sim_inventory *v = calloc(1, sizeof *v + nwh * sizeof v->wh[0]);
    if (!p || !v) {
        free(p);
        free(v);
        return 0;
    }
    p->wc = c->t[SIM_RES_WAREHOUSE_CUSTOMERS].n
                ? (uint8_t)(1 + sim_rand_below(k->rng, c->t[SIM_RES_WAREHOUSE_CUSTOMERS].n))
                : 0;
    p->active = 1;
    p->supplier = SIM_NONE;
    p->price_c = (int32_t)(999 + 100 * sim_rand_below(k->rng, 40));
    p->nitems = 1;
    p->unit_qty[0] = 1;
    p->inv[0] = c->t[SIM_RES_INVENTORY].n + 1;
    if (add_record(k, SIM_RES_PRODUCTS, p) != 0) {
        free(v);
        return 0;
    }
    v->product = p->m.num;
    v->wc = p->wc;
    v->active = 1;
    v->nwh = (uint8_t)nwh;
    v->unit_cost_c = p->price_c * 2 / 5;
    add_record(k, SIM_RES_INVENTORY, v);
    return 1;
}

static int m_warehouse(crawl *k) {
    sim_conn *c = k->c;
    if (sim_rand_below(k->rng, 4) == 0 && c->t[SIM_RES_WAREHOUSES].n < SIM_MAX_WAREHOUSES) {
        /* a new warehouse opens (warehouse.created); stock and bins come later */
        sim_warehouse *w = calloc(1, sizeof *w);
        if (!w) return 0;
        w->city = (uint8_t)sim_rand_below(k->rng, (uint32_t)sim_ncities);
        return add_record(k, SIM_RES_WAREHOUSES, w) == 0;
    }
    sim_warehouse *w = pick(k, SIM_RES_WAREHOUSES, NULL);
    if (!w || !(w = edit(k, SIM_RES_WAREHOUSES, w))) return 0;
    w->rev++;
    stamp(k, SIM_RES_WAREHOUSES, w, 1);
    return 1;
}

static int m_location(crawl *k) {
    sim_conn *c = k->c;
    if (sim_rand_below(k->rng, 2) == 0) {
        sim_location *l = pick(k, SIM_RES_LOCATIONS, NULL);
        if (!l || !(l = edit(k, SIM_RES_LOCATIONS, l))) return 0;
        l->type = (uint8_t)((l->type + 1) % 4);
        stamp(k, SIM_RES_LOCATIONS, l, 1);
        return 1;
    }
    sim_location *l = calloc(1, sizeof *l);
    if (!l) return 0;
    l->wh = 1 + sim_rand_below(k->rng, c->t[SIM_RES_WAREHOUSES].n);
    l->type = 2;
    l->aisle = (uint8_t)(20 + sim_rand_below(k->rng, 6)); /* overflow aisles */
    l->bay = (uint8_t)(1 + sim_rand_below(k->rng, 20));
    l->level = 1;
    return add_record(k, SIM_RES_LOCATIONS, l) == 0;
}

static int m_shipmethod(crawl *k) {
    sim_conn *c = k->c;
    if (sim_rand_below(k->rng, 4) == 0 && c->t[SIM_RES_SHIPPING_METHODS].n < 64) {
        /* a new carrier service is set up (shipping-method.created) */
        sim_shipmethod *s = calloc(1, sizeof *s);
        if (!s) return 0;
        s->carrier = (uint8_t)sim_rand_below(k->rng, (uint32_t)sim_ncarriers);
        s->service = (uint8_t)sim_rand_below(k->rng, (uint32_t)sim_nservices);
        return add_record(k, SIM_RES_SHIPPING_METHODS, s) == 0;
    }
    sim_shipmethod *s = pick(k, SIM_RES_SHIPPING_METHODS, NULL);
    if (!s || !(s = edit(k, SIM_RES_SHIPPING_METHODS, s))) return 0;
    s->rev = (uint8_t)!s->rev;
    stamp(k, SIM_RES_SHIPPING_METHODS, s, 1);
    return 1;
}

static int m_bill(crawl *k) {
    if (sim_rand_below(k->rng, 5) == 0) {
        sim_bill *b = pick(k, SIM_RES_BILLS, NULL);
        if (!b || !(b = edit(k, SIM_RES_BILLS, b))) return 0;
        b->amount_c += 25; /* a rate correction */
        stamp(k, SIM_RES_BILLS, b, 1);
        return 1;
    }
    sim_bill *b = sim_gen_bill(k->c, k->rng, k->now);
    return b && add_record(k, SIM_RES_BILLS, b) == 0;
}

static int m_wcust(crawl *k) {
    sim_conn *c = k->c;
    if (sim_rand_below(k->rng, 4) == 0 && c->t[SIM_RES_WAREHOUSE_CUSTOMERS].n < SIM_MAX_WC) {
        /* a 3PL signs a new merchant (warehouse-customer.created) */
        sim_wcust *w = calloc(1, sizeof *w);
        if (!w) return 0;
        w->name = (uint8_t)sim_rand_below(k->rng, (uint32_t)sim_nwc_names);
        return add_record(k, SIM_RES_WAREHOUSE_CUSTOMERS, w) == 0;
    }
    sim_wcust *w = pick(k, SIM_RES_WAREHOUSE_CUSTOMERS, NULL);
    if (!w || !(w = edit(k, SIM_RES_WAREHOUSE_CUSTOMERS, w))) return 0;
    w->name = (uint8_t)((w->name + 1) % 8);
    stamp(k, SIM_RES_WAREHOUSE_CUSTOMERS, w, 1);
    return 1;
}

/* Order channels and suppliers: mostly renamed (updated_date moves); sometimes one is
 * added; sometimes one is removed from the WMS (a complete listing no longer holds it:
 * the pipeline must mark it deleted), while at least two stay. */
static int m_named(crawl *k, sim_res r, int nnames) {
    sim_conn *c = k->c;
    sim_table *t = &c->t[r];
    uint32_t roll = sim_rand_below(k->rng, 6), live_n = 0;
    for (uint32_t num = 1; num <= t->n; num++)
        live_n += !((const sim_meta *)sim_table_get(t, num))->removed;
    if (roll == 0 && live_n > 2) {
        sim_named_rec *x = pick(k, r, NULL);
        if (!x) return 0;
        sim_meta *row = sim_table_get(t, x->m.num);
        row->removed = 1; /* as POST /_sim/connections/{id}/records does */
        sim_named_rec *w = sim_wms_get(t, x->m.num);
        if (w) w->m.removed = 1;
        k->out->mutations++;
        return 1;
    }
    if (roll == 1 && t->n < 40) {
        sim_named_rec *x = calloc(1, sizeof *x);
        if (!x) return 0;
        x->name = (uint8_t)sim_rand_below(k->rng, (uint32_t)nnames);
        x->rev = 1; /* a new one is named apart from the first ones */
        return add_record(k, r, x) == 0;
    }
    sim_named_rec *x = pick(k, r, NULL);
    if (!x || !(x = edit(k, r, x))) return 0;
    x->rev = (uint8_t)(x->rev % 200 + 1);
    stamp(k, r, x, 1);
    return 1;
}

static int m_channel(crawl *k) {
    return m_named(k, SIM_RES_CHANNELS, sim_nchannels);
}

static int m_supplier(crawl *k) {
    return m_named(k, SIM_RES_SUPPLIERS, sim_nsuppliers);
}

static int labor_running(const void *rec) {
    return ((const sim_labor *)rec)->end_ms == 0;
}

/* Warehouse work: an activity in progress ends (labor_activity.updated: its end time
 * set), or a user starts a new one, in progress or already done by the time the WMS
 * records it (labor_activity.created). */
static int m_labor(crawl *k) {
    if (sim_rand_below(k->rng, 5) < 2) {
        sim_labor *a = pick(k, SIM_RES_LABOR, labor_running);
        if (a && (a = edit(k, SIM_RES_LABOR, a))) {
            int64_t now = k->now - k->now % 1000;
            a->end_ms = now > a->start_ms ? now : a->start_ms;
            if (a->qty == 0) a->qty = 1;
            stamp(k, SIM_RES_LABOR, a, 1);
            return 1;
        }
    }
    int64_t start = k->now - 1000LL * sim_rand_below(k->rng, 1800);
    sim_labor *a = sim_gen_labor(k->c, k->rng, start, k->now, sim_rand_below(k->rng, 2) == 0);
    return a && add_record(k, SIM_RES_LABOR, a) == 0;
}

typedef struct mutation {
    sim_res r;
    int weight;
    int (*fn)(crawl *k);
} mutation;

static const mutation mutations[] = {
    {SIM_RES_ORDERS, 30, m_order_advance},
    {SIM_RES_ORDERS, 10, m_order_create},
    {SIM_RES_INVENTORY, 12, m_inventory_adjust},
    {SIM_RES_RETURNS, 6, m_return_advance},
    {SIM_RES_RETURNS, 2, m_return_create},
    {SIM_RES_INBOUND, 6, m_inbound_advance},
    {SIM_RES_INBOUND, 2, m_inbound_create},
    {SIM_RES_PRODUCTS, 5, m_product_update},
    {SIM_RES_PRODUCTS, 1, m_product_create},
    {SIM_RES_WAREHOUSES, 1, m_warehouse},
    {SIM_RES_LOCATIONS, 1, m_location},
    {SIM_RES_SHIPPING_METHODS, 1, m_shipmethod},
    {SIM_RES_BILLS, 5, m_bill},
    {SIM_RES_WAREHOUSE_CUSTOMERS, 1, m_wcust},
    {SIM_RES_CHANNELS, 3, m_channel},
    {SIM_RES_SUPPLIERS, 3, m_supplier},
    {SIM_RES_LABOR, 4, m_labor},
};
#define NMUT ((int)(sizeof mutations / sizeof mutations[0]))

void sim_crawl_tick(sim_conn *c, int n, uint32_t res_mask, int64_t now_ms, sim_crawl_result *out) {
    memset(out, 0, sizeof *out);
    if (!c->live) return; /* a WMS keeps changing whatever Trackstar's errors */
    crawl k = {.c = c, .rng = &c->rng, .now = now_ms, .mask = res_mask, .out = out};
    if (n > SIM_CRAWL_MAX_MUTATIONS) n = SIM_CRAWL_MAX_MUTATIONS;
    int total = 0;
    for (int i = 0; i < NMUT; i++)
        if (live(&k, mutations[i].r) && (res_mask & (1u << mutations[i].r)))
            total += mutations[i].weight;
    int done = 0;
    for (int tries = 0; total > 0 && done < n && tries < 4 * n; tries++) {
        int roll = (int)sim_rand_below(k.rng, (uint32_t)total);
        for (int i = 0; i < NMUT; i++) {
            const mutation *m = &mutations[i];
            if (!live(&k, m->r) || !(res_mask & (1u << m->r))) continue;
            if (roll < m->weight) {
                done += m->fn(&k);
                break;
            }
            roll -= m->weight;
        }
    }
    /* A world without ingestion lag: Trackstar's copy takes the changes at once. */
    if (!sim_g.w.ingest_lag && !c->invalid_creds)
        out->events = sim_ingest_all(c, c->hist_done & ~c->missing_perm, now_ms, 1);
}

int sim_crawl_complete_history(sim_conn *c, uint32_t mask, int64_t now_ms) {
    int n = 0;
    mask = sim_res_derive(mask); /* get_orders' first sync reads order channels too */
    int64_t s = now_ms - now_ms % 1000;
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        uint32_t b = 1u << r;
        if (!(mask & b) || !(c->actions & b) || (c->hist_done & b)) continue;
        sim_table *t = &c->t[r];
        /* The first sync reads the WMS as it is now: pending changes too, silently (no
         * resource webhooks for backfilled records, §6.3). */
        sim_ingest_all(c, b, now_ms, 0);
        int64_t oldest = 0, newest = 0;
        for (uint32_t i = 0; i < t->n; i++) {
            sim_meta *m = t->rows[i];
            if (!sim_in_copy(m)) continue;           /* older than the window it reads */
            m->ts_created_ms = m->ts_updated_ms = s; /* Trackstar first sees them now */
            if (!oldest || m->created_ms < oldest) oldest = m->created_ms;
            if (m->updated_ms > newest) newest = m->updated_ms;
        }
        c->hist_done |= b;
        c->crawl_start_ms[r] = c->crawl_end_ms[r] = s;
        char data[256], o[32], nw[32];
        val_time_format(oldest, 0, o);
        val_time_format(newest, 0, nw);
        if (oldest) /* an empty resource has no data dates */
            snprintf(
                data, sizeof data,
                "{\"resource\":\"%s\",\"oldest_data_date\":\"%s\",\"newest_data_date\":\"%s\"}",
                sim_res_infos[r].plural, o, nw);
        else
            snprintf(data, sizeof data,
                     "{\"resource\":\"%s\",\"oldest_data_date\":null,\"newest_data_date\":null}",
                     sim_res_infos[r].plural);
        /* one per function: none for what another's function reads (order channels) */
        if (sim_res_owner((sim_res)r) != (sim_res)r) continue;
        sim_event_send(c, "connection.historical-sync-completed", 1, data, NULL);
        log_info("historical sync completed", "connection_id", c->id, "resource",
                 sim_res_infos[r].plural, NULL);
        n++;
    }
    if ((c->hist_done & c->actions) == c->actions) c->hist_due_ms = 0;
    return n;
}

static void touch_error_times(sim_conn *c, int64_t now_ms) {
    int64_t s = now_ms - now_ms % 1000;
    if (!c->invalid_creds && !c->missing_perm) c->err_first_seen = s;
    c->err_last_seen = s;
}

void sim_health_invalid_creds(sim_conn *c, int on, int64_t now_ms) {
    if (!!on == !!c->invalid_creds) return;
    if (on) {
        touch_error_times(c, now_ms);
        c->invalid_creds = 1;
        sim_event_conn_error(c, "created", -1, NULL);
    } else {
        c->err_last_seen = now_ms - now_ms % 1000;
        sim_event_conn_error(c, "deleted", -1, NULL);
        c->invalid_creds = 0;
    }
}

void sim_health_missing_perm(sim_conn *c, int res, int on, int64_t now_ms) {
    uint32_t b = 1u << res;
    if (!!on == !!(c->missing_perm & b)) return;
    if (on) {
        touch_error_times(c, now_ms);
        c->missing_perm |= b;
        sim_event_conn_error(c, "created", res, NULL);
    } else {
        c->err_last_seen = now_ms - now_ms % 1000;
        sim_event_conn_error(c, "deleted", res, NULL);
        c->missing_perm &= ~b;
    }
}

void sim_health_clear(sim_conn *c, int64_t now_ms) {
    sim_health_invalid_creds(c, 0, now_ms);
    for (int r = 0; r < SIM_RES_COUNT; r++)
        sim_health_missing_perm(c, r, 0, now_ms);
}
