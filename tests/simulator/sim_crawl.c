/* sim_crawl.c - the crawl tick. Each mutation renders the record before and after the
 * change, so previous_attributes is a true dot-path diff of what a client saw. Stock
 * follows the documents: shipping an order takes units out of onhand/committed, a
 * receipt moves awaiting into onhand, a received return restocks. */
#include "sim_crawl.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_diff.h"
#include "sim_events.h"
#include "sim_gen.h"
#include "sim_render.h"
#include "util.h"

#define PICK_TRIES 12

typedef struct crawl {
    sim_conn *c;
    uint64_t *rng;
    int64_t now;
    uint32_t mask;
    sim_crawl_result *out;
} crawl;

/* A resource is "live" when its changes are observable: crawled, synced, permitted. */
static int live(const crawl *k, sim_res r) {
    const sim_conn *c = k->c;
    uint32_t b = 1u << r;
    return (c->actions & b) && (c->hist_done & b) && !(c->missing_perm & b) && !c->invalid_creds;
}

typedef struct change {
    sim_res r;
    void *rec;
    cJSON *old;
} change;

static cJSON *render_json(const sim_conn *c, sim_res r, const void *rec) {
    sbuf b = {0};
    cJSON *j = NULL;
    if (sim_render_record(&b, c, r, rec) == 0) j = cJSON_ParseWithLength(b.p, b.len);
    sbuf_free(&b);
    return j;
}

static void change_begin(crawl *k, change *ch, sim_res r, void *rec) {
    ch->r = r;
    ch->rec = rec;
    /* A record removed from the WMS may still be touched through another one (a kit's
     * component): its version stays, and no event goes out for a record Trackstar no
     * longer has, so a comeback shows the updated_date it had. */
    ch->old = live(k, r) && !((const sim_meta *)rec)->removed ? render_json(k->c, r, rec) : NULL;
}

/* Bump the record and emit <event>.<suffix>. whole_key (e.g. "shipments") replaces the
 * dot paths under it with the whole old array, as order.shipment.created carries it. */
static void change_end(crawl *k, change *ch, const char *suffix, const char *whole_key) {
    if (((const sim_meta *)ch->rec)->removed) return; /* see change_begin: no version, no event */
    sim_record_bump(k->c, ch->r, ch->rec, k->now);
    k->out->mutations++;
    if (!ch->old) return;
    cJSON *now = render_json(k->c, ch->r, ch->rec);
    cJSON *prev = now ? sim_diff_prev(ch->old, now) : NULL;
    if (prev && whole_key) {
        size_t wl = strlen(whole_key);
        cJSON *it = prev->child;
        while (it) {
            cJSON *next = it->next;
            if (strncmp(it->string, whole_key, wl) == 0 &&
                (it->string[wl] == '.' || !it->string[wl]))
                cJSON_Delete(cJSON_DetachItemViaPointer(prev, it));
            it = next;
        }
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(ch->old, whole_key);
        cJSON_AddItemToObject(prev, whole_key, arr ? cJSON_Duplicate(arr, 1) : cJSON_CreateArray());
    }
    char *ptext = prev ? cJSON_PrintUnformatted(prev) : NULL;
    if (ptext) {
        sim_event_record(k->c, ch->r, ch->rec, suffix, ptext);
        k->out->events++;
    } else {
        log_error("cannot build previous_attributes", "connection_id", k->c->id, NULL);
    }
    free(ptext);
    cJSON_Delete(prev);
    cJSON_Delete(now);
    cJSON_Delete(ch->old);
    ch->old = NULL;
}

/* Add a new record (takes ownership). 0, or -1 when the table is full (rec freed). */
static int add_record(crawl *k, sim_res r, void *rec) {
    sim_meta *m = rec;
    int64_t s = k->now - k->now % 1000;
    m->created_ms = m->updated_ms = s;
    m->ts_created_ms = m->ts_updated_ms = s;
    if (sim_table_append(&k->c->t[r], rec) != 0) {
        free(rec);
        return -1;
    }
    k->out->mutations++;
    return 0;
}

static void emit_created(crawl *k, sim_res r, const void *rec) {
    if (live(k, r)) {
        sim_event_record(k->c, r, rec, "created", NULL);
        k->out->events++;
    }
}

static int created(crawl *k, sim_res r, void *rec) {
    if (add_record(k, r, rec) != 0) return -1;
    emit_created(k, r, rec);
    return 0;
}

/* A random record of r for which ok() holds, or NULL. */
static void *pick(crawl *k, sim_res r, int (*ok)(const void *)) {
    sim_table *t = &k->c->t[r];
    for (int i = 0; i < PICK_TRIES && t->n; i++) {
        void *rec = t->rows[sim_rand_below(k->rng, t->n)];
        if (((const sim_meta *)rec)->removed) continue;
        if (!ok || ok(rec)) return rec;
    }
    return NULL;
}

/* ---- inventory movements ---------------------------------------------------------- */

typedef enum { INV_COMMIT, INV_SHIP, INV_RECEIVE, INV_EXPECT, INV_RESTOCK } inv_move;

static void inv_apply(crawl *k, uint32_t inv, uint32_t wh, int32_t q, inv_move mv) {
    sim_inventory *v = sim_table_get(&k->c->t[SIM_RES_INVENTORY], inv);
    if (!v || v->m.removed || wh == 0 || wh > v->nwh || q <= 0) return;
    sim_inv_wh *w = &v->wh[wh - 1];
    change ch;
    change_begin(k, &ch, SIM_RES_INVENTORY, v);
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
    change_end(k, &ch, "updated", NULL);
}

/* Apply mv to every stocked unit an order line stands for (kits: their components). */
static void order_stock(crawl *k, const sim_order *o, int from, int to, inv_move mv) {
    for (int i = from; i < to; i++) {
        const sim_product *p = sim_table_get(&k->c->t[SIM_RES_PRODUCTS], o->lines[i].product);
        for (int j = 0; p && j < p->nitems; j++)
            inv_apply(k, p->inv[j], o->wh, o->lines[i].qty * p->unit_qty[j], mv);
    }
}

/* ---- mutations ---------------------------------------------------------------------- */

static int order_open(const void *rec) {
    const sim_order *o = rec;
    return o->status <= SIM_OS_PARTIAL || o->status == SIM_OS_BACKORDERED;
}

static int m_order_advance(crawl *k) {
    sim_order *o = pick(k, SIM_RES_ORDERS, order_open);
    if (!o) return 0;
    change ch;
    change_begin(k, &ch, SIM_RES_ORDERS, o);
    uint32_t roll = sim_rand_below(k->rng, 100);
    if (o->status <= SIM_OS_CONFIRMED && roll < 5) {
        o->status = SIM_OS_CANCELLED;
        change_end(k, &ch, "updated", NULL);
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
            change_end(k, &ch, "updated", NULL);
            return 1;
        }
        o->status = to == o->nlines ? SIM_OS_FULFILLED : SIM_OS_PARTIAL;
        change_end(k, &ch, "shipment.created", "shipments");
        order_stock(k, o, from, to, INV_SHIP);
        return 1;
    }
    default: break;
    }
    change_end(k, &ch, "updated", NULL);
    return 1;
}

static int m_order_create(crawl *k) {
    sim_order *o = sim_gen_order(k->c, k->rng, k->now, k->now);
    if (!o) return 0;
    created(k, SIM_RES_ORDERS, o);
    order_stock(k, o, 0, o->nlines, INV_COMMIT);
    return 1;
}

static int m_inventory_adjust(crawl *k) {
    sim_inventory *v = pick(k, SIM_RES_INVENTORY, NULL);
    if (!v || !v->nwh) return 0;
    sim_inv_wh *w = &v->wh[sim_rand_below(k->rng, v->nwh)];
    change ch;
    change_begin(k, &ch, SIM_RES_INVENTORY, v);
    switch (sim_rand_below(k->rng, 3)) {
    case 0: /* damage found: fulfillable -> unfulfillable */
        if (w->onhand - w->committed - w->unfulfillable > 0)
            w->unfulfillable++;
        else
            w->onhand += 5;
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
    change_end(k, &ch, "updated", NULL);
    return 1;
}

static int return_moving(const void *rec) {
    const sim_return *r = rec;
    return r->status <= SIM_FS_RECEIVING;
}

static int m_return_advance(crawl *k) {
    sim_return *r = pick(k, SIM_RES_RETURNS, return_moving);
    if (!r) return 0;
    change ch;
    change_begin(k, &ch, SIM_RES_RETURNS, r);
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
    change_end(k, &ch, "updated", NULL);
    if (r->status == SIM_FS_RECEIVED)
        for (int i = 0; i < r->nlines; i++)
            inv_apply(k, r->lines[i].inv, r->wh, r->lines[i].restocked, INV_RESTOCK);
    return 1;
}

static int m_return_create(crawl *k) {
    sim_return *r = sim_gen_return(k->c, k->rng, k->now, k->now);
    if (!r) return 0;
    created(k, SIM_RES_RETURNS, r);
    return 1;
}

static int asn_moving(const void *rec) {
    const sim_inbound *a = rec;
    return a->status <= SIM_FS_RECEIVING && a->nrcpt < SIM_MAX_RECEIPTS;
}

static int m_inbound_advance(crawl *k) {
    sim_inbound *a = pick(k, SIM_RES_INBOUND, asn_moving);
    if (!a) return 0;
    change ch;
    change_begin(k, &ch, SIM_RES_INBOUND, a);
    if (a->status == SIM_FS_OPEN) {
        a->status = SIM_FS_IN_TRANSIT;
        change_end(k, &ch, "updated", NULL);
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
    change_end(k, &ch, "receipt.created", "receipts");
    for (int i = 0; i < a->nlines; i++)
        inv_apply(k, a->lines[i].inv, a->wh, q[i], INV_RECEIVE);
    return 1;
}

static int m_inbound_create(crawl *k) {
    sim_inbound *a = sim_gen_inbound(k->c, k->rng, k->now, k->now);
    if (!a) return 0;
    a->status = SIM_FS_OPEN;
    created(k, SIM_RES_INBOUND, a);
    for (int i = 0; i < a->nlines; i++)
        inv_apply(k, a->lines[i].inv, a->wh, a->lines[i].expected, INV_EXPECT);
    return 1;
}

static int m_product_update(crawl *k) {
    sim_product *p = pick(k, SIM_RES_PRODUCTS, NULL);
    if (!p) return 0;
    change ch;
    change_begin(k, &ch, SIM_RES_PRODUCTS, p);
    int toggle = sim_rand_below(k->rng, 4) == 0;
    if (toggle)
        p->active = !p->active;
    else
        p->price_c += (int32_t)(100 * (1 + sim_rand_below(k->rng, 3)));
    change_end(k, &ch, "updated", NULL);
    if (toggle && !p->is_kit) { /* the stocked item follows its product */
        sim_inventory *v = sim_table_get(&k->c->t[SIM_RES_INVENTORY], p->inv[0]);
        if (v) {
            change_begin(k, &ch, SIM_RES_INVENTORY, v);
            v->active = p->active;
            change_end(k, &ch, "updated", NULL);
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
    /* both exist before either event renders: each references the other */
    int have_inv = add_record(k, SIM_RES_INVENTORY, v) == 0;
    emit_created(k, SIM_RES_PRODUCTS, p);
    if (have_inv) emit_created(k, SIM_RES_INVENTORY, v);
    return 1;
}

static int m_warehouse_update(crawl *k) {
    sim_warehouse *w = pick(k, SIM_RES_WAREHOUSES, NULL);
    if (!w) return 0;
    change ch;
    change_begin(k, &ch, SIM_RES_WAREHOUSES, w);
    w->rev++;
    change_end(k, &ch, "updated", NULL);
    return 1;
}

static int m_location(crawl *k) {
    sim_conn *c = k->c;
    if (sim_rand_below(k->rng, 2) == 0) {
        sim_location *l = pick(k, SIM_RES_LOCATIONS, NULL);
        if (!l) return 0;
        change ch;
        change_begin(k, &ch, SIM_RES_LOCATIONS, l);
        l->type = (uint8_t)((l->type + 1) % 4);
        change_end(k, &ch, "updated", NULL);
        return 1;
    }
    sim_location *l = calloc(1, sizeof *l);
    if (!l) return 0;
    l->wh = 1 + sim_rand_below(k->rng, c->t[SIM_RES_WAREHOUSES].n);
    l->type = 2;
    l->aisle = (uint8_t)(20 + sim_rand_below(k->rng, 6)); /* overflow aisles */
    l->bay = (uint8_t)(1 + sim_rand_below(k->rng, 20));
    l->level = 1;
    created(k, SIM_RES_LOCATIONS, l);
    return 1;
}

static int m_shipmethod(crawl *k) {
    sim_shipmethod *s = pick(k, SIM_RES_SHIPPING_METHODS, NULL);
    if (!s) return 0;
    change ch;
    change_begin(k, &ch, SIM_RES_SHIPPING_METHODS, s);
    s->rev = (uint8_t)!s->rev;
    change_end(k, &ch, "updated", NULL);
    return 1;
}

static int m_bill(crawl *k) {
    if (sim_rand_below(k->rng, 5) == 0) {
        sim_bill *b = pick(k, SIM_RES_BILLS, NULL);
        if (!b) return 0;
        change ch;
        change_begin(k, &ch, SIM_RES_BILLS, b);
        b->amount_c += 25; /* a rate correction */
        change_end(k, &ch, "updated", NULL);
        return 1;
    }
    sim_bill *b = sim_gen_bill(k->c, k->rng, k->now);
    if (!b) return 0;
    created(k, SIM_RES_BILLS, b);
    return 1;
}

static int m_wcust(crawl *k) {
    sim_wcust *w = pick(k, SIM_RES_WAREHOUSE_CUSTOMERS, NULL);
    if (!w) return 0;
    change ch;
    change_begin(k, &ch, SIM_RES_WAREHOUSE_CUSTOMERS, w);
    w->name = (uint8_t)((w->name + 1) % 8);
    change_end(k, &ch, "updated", NULL);
    return 1;
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
    {SIM_RES_WAREHOUSES, 1, m_warehouse_update},
    {SIM_RES_LOCATIONS, 1, m_location},
    {SIM_RES_SHIPPING_METHODS, 1, m_shipmethod},
    {SIM_RES_BILLS, 5, m_bill},
    {SIM_RES_WAREHOUSE_CUSTOMERS, 1, m_wcust},
};
#define NMUT ((int)(sizeof mutations / sizeof mutations[0]))

void sim_crawl_tick(sim_conn *c, int n, uint32_t res_mask, int64_t now_ms, sim_crawl_result *out) {
    memset(out, 0, sizeof *out);
    if (!c->live || c->invalid_creds) return; /* invalid credentials stop every sync */
    crawl k = {.c = c, .rng = &c->rng, .now = now_ms, .mask = res_mask, .out = out};
    if (n > SIM_CRAWL_MAX_MUTATIONS) n = SIM_CRAWL_MAX_MUTATIONS;
    int total = 0;
    for (int i = 0; i < NMUT; i++)
        if (live(&k, mutations[i].r) && (res_mask & (1u << mutations[i].r)))
            total += mutations[i].weight;
    for (int r = 0; r < SIM_RES_COUNT; r++)
        if (live(&k, (sim_res)r) && (res_mask & (1u << r)))
            c->crawl_start_ms[r] = now_ms - now_ms % 1000;
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
    for (int r = 0; r < SIM_RES_COUNT; r++)
        if (live(&k, (sim_res)r) && (res_mask & (1u << r)))
            c->crawl_end_ms[r] = now_ms - now_ms % 1000;
}

int sim_crawl_complete_history(sim_conn *c, uint32_t mask, int64_t now_ms) {
    int n = 0;
    int64_t s = now_ms - now_ms % 1000;
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        uint32_t b = 1u << r;
        if (!(mask & b) || !(c->actions & b) || (c->hist_done & b)) continue;
        sim_table *t = &c->t[r];
        int64_t oldest = 0, newest = 0;
        for (uint32_t i = 0; i < t->n; i++) {
            sim_meta *m = t->rows[i];
            m->ts_created_ms = m->ts_updated_ms = s; /* Trackstar first sees them now */
            if (!oldest || m->created_ms < oldest) oldest = m->created_ms;
            if (m->updated_ms > newest) newest = m->updated_ms;
        }
        c->hist_done |= b;
        c->crawl_start_ms[r] = c->crawl_end_ms[r] = s;
        char data[256], o[32], nw[32];
        util_rfc3339(oldest, 0, o);
        util_rfc3339(newest, 0, nw);
        if (oldest) /* an empty resource has no data dates */
            snprintf(
                data, sizeof data,
                "{\"resource\":\"%s\",\"oldest_data_date\":\"%s\",\"newest_data_date\":\"%s\"}",
                sim_res_infos[r].plural, o, nw);
        else
            snprintf(data, sizeof data,
                     "{\"resource\":\"%s\",\"oldest_data_date\":null,\"newest_data_date\":null}",
                     sim_res_infos[r].plural);
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
        sim_event_conn_error(c, "created", -1);
    } else {
        c->err_last_seen = now_ms - now_ms % 1000;
        sim_event_conn_error(c, "deleted", -1);
        c->invalid_creds = 0;
    }
}

void sim_health_missing_perm(sim_conn *c, int res, int on, int64_t now_ms) {
    uint32_t b = 1u << res;
    if (!!on == !!(c->missing_perm & b)) return;
    if (on) {
        touch_error_times(c, now_ms);
        c->missing_perm |= b;
        sim_event_conn_error(c, "created", res);
    } else {
        c->err_last_seen = now_ms - now_ms % 1000;
        sim_event_conn_error(c, "deleted", res);
        c->missing_perm &= ~b;
    }
}

void sim_health_clear(sim_conn *c, int64_t now_ms) {
    sim_health_invalid_creds(c, 0, now_ms);
    for (int r = 0; r < SIM_RES_COUNT; r++)
        sim_health_missing_perm(c, r, 0, now_ms);
}
