/* test_sim_gen.c - the generator is deterministic (same seed -> byte-identical records,
 * another seed -> different ones), references resolve, the (updated_date, id) index
 * stays sorted through crawl ticks, previous_attributes diffs use dot paths, and the
 * time model: WMS changes reach Trackstar's copy only through crawls, which keep their
 * promise (every change made before a finished crawl's start is in the copy), with
 * equal updated_dates within a second and quantity-only inventory changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "tests/simulator/sim_crawl.h"
#include "tests/simulator/sim_diff.h"
#include "tests/simulator/sim_ingest.h"
#include "tests/simulator/sim_render.h"
#include "tests/simulator/sim_store.h"

#define BASE_MS 1767607200000LL /* 2026-01-05T10:00:00Z */

static const sim_sizes sizes = {.orders = 300,
                                .products = 40,
                                .warehouses = 3,
                                .locations_per_wh = 8,
                                .returns = 25,
                                .inbound = 12,
                                .bills = 20,
                                .shipping_methods = 5,
                                .warehouse_customers = 2};

/* Render every record of every resource of the only connection into one string. */
static char *render_all(uint64_t seed, int crawl_ticks) {
    sim_store_init(seed, 1);
    char err[128];
    sim_conn *c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    for (int i = 0; i < crawl_ticks; i++) {
        sim_crawl_result cr;
        sim_crawl_tick(c, 50, 0xffffffffu, BASE_MS + 60000LL * (i + 1), &cr);
        assert_true(cr.mutations > 0);
    }
    sbuf b = {0};
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        for (uint32_t i = 0; i < c->t[r].n; i++) {
            assert_int_equal(sim_render_record(&b, c, (sim_res)r, c->t[r].rows[i]), 0);
            sbuf_append(&b, "\n", 1);
        }
    }
    sim_store_free();
    return b.p;
}

static void test_same_seed_same_records(void **state) {
    (void)state;
    char *a = render_all(42, 0), *b = render_all(42, 0), *c = render_all(43, 0);
    assert_non_null(a);
    assert_true(strlen(a) > 100000);
    assert_string_equal(a, b);
    assert_true(strcmp(a, c) != 0);
    free(a);
    free(b);
    free(c);
}

static void test_same_seed_same_changes(void **state) {
    (void)state;
    char *a = render_all(7, 5), *b = render_all(7, 5), *base = render_all(7, 0);
    assert_string_equal(a, b);
    assert_true(strcmp(a, base) != 0); /* the crawl changed something */
    free(a);
    free(b);
    free(base);
}

static void assert_sorted(const sim_table *t) {
    for (uint32_t i = 1; i < t->n; i++) {
        const sim_meta *p = t->rows[t->order[i - 1]], *q = t->rows[t->order[i]];
        assert_true(p->updated_ms < q->updated_ms ||
                    (p->updated_ms == q->updated_ms && p->num < q->num));
    }
}

static void test_index_and_references(void **state) {
    (void)state;
    sim_store_init(9, 1);
    char err[128];
    sim_conn *c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->t[SIM_RES_ORDERS].n, 300);
    assert_int_equal(c->t[SIM_RES_WAREHOUSES].n, 3);
    assert_int_equal(c->t[SIM_RES_LOCATIONS].n, 24);
    for (int tick = 0; tick < 20; tick++) {
        sim_crawl_result cr;
        sim_crawl_tick(c, 40, 0xffffffffu, BASE_MS + 1000LL * tick, &cr);
        for (int r = 0; r < SIM_RES_COUNT; r++)
            assert_sorted(&c->t[r]);
    }
    /* every kit lists 2+ components; every order line points at a product */
    int kits = 0;
    for (uint32_t i = 0; i < c->t[SIM_RES_PRODUCTS].n; i++) {
        const sim_product *p = c->t[SIM_RES_PRODUCTS].rows[i];
        if (p->is_kit) {
            kits++;
            assert_true(p->nitems >= 2);
        }
        for (int k = 0; k < p->nitems; k++)
            assert_non_null(sim_table_get(&c->t[SIM_RES_INVENTORY], p->inv[k]));
    }
    assert_true(kits > 0);
    for (uint32_t i = 0; i < c->t[SIM_RES_ORDERS].n; i++) {
        const sim_order *o = c->t[SIM_RES_ORDERS].rows[i];
        for (int l = 0; l < o->nlines; l++)
            assert_non_null(sim_table_get(&c->t[SIM_RES_PRODUCTS], o->lines[l].product));
    }
    /* ids round-trip */
    char id[64];
    uint32_t num;
    sim_format_id(c, SIM_RES_ORDERS, 17, id, sizeof id);
    assert_int_equal(sim_parse_id(c, SIM_RES_ORDERS, id, &num), 0);
    assert_int_equal(num, 17);
    assert_int_equal(sim_parse_id(c, SIM_RES_PRODUCTS, id, &num), -1);
    sim_store_free();
}

static void test_history_pending(void **state) {
    (void)state;
    sim_store_init(5, 1);
    char err[128];
    sim_conn *c = sim_conn_create("shipbob", &sizes, 0, 0, BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->hist_done, 0);
    assert_false(c->actions & (1u << SIM_RES_BILLS));  /* shipbob: no bills */
    assert_false(c->actions & (1u << SIM_RES_LEDGER)); /* enabled only on request */
    sim_crawl_result cr;
    sim_crawl_tick(c, 50, 0xffffffffu, BASE_MS + 1000, &cr);
    assert_int_equal(cr.events, 0); /* nothing is observable before the historical sync */
    int n = sim_crawl_complete_history(c, 0xffffffffu, BASE_MS + 2000);
    /* one per function: not bills, ledger, nor channels and suppliers (read with orders'
     * and inbound shipments' functions) */
    assert_int_equal(n, SIM_RES_COUNT - 4);
    assert_int_equal(c->hist_done, c->actions);
    assert_int_equal(sim_crawl_complete_history(c, 0xffffffffu, BASE_MS + 3000), 0); /* once */
    /* every order in the copy was first seen at completion; the older ones stay out */
    int in = 0, out = 0;
    for (uint32_t i = 0; i < c->t[SIM_RES_ORDERS].n; i++) {
        const sim_meta *m = c->t[SIM_RES_ORDERS].rows[i];
        if (sim_in_copy(m)) {
            assert_true(m->ts_updated_ms == BASE_MS + 2000);
            in++;
        } else {
            assert_true(m->updated_ms < BASE_MS - 30 * 86400000LL);
            out++;
        }
    }
    assert_true(in > 0 && out > 0); /* 10% of orders are older than the window by default */
    sim_store_free();
}

/* Run c's crawls from `from` to `to` in 100 ms steps, as the main loop does. */
static void run_crawls(sim_conn *c, int64_t from, int64_t to) {
    for (int64_t t = from; t <= to; t += 100)
        sim_ingest_tick(c, t);
}

static void test_changes_reach_copy_through_crawls(void **state) {
    (void)state;
    sim_store_init(11, 1);
    char err[128];
    sim_conn *c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    int64_t f = sim_sync_frequency_ms(SIM_RES_ORDERS);
    assert_int_equal(f, 3600); /* 3600 s x 0.001 */
    assert_int_equal(sim_sync_frequency_s(SIM_RES_ORDERS), 4);
    run_crawls(c, BASE_MS, BASE_MS + 2 * f); /* schedules settle */
    int64_t t0 = BASE_MS + 2 * f + 50;
    sim_crawl_result cr;
    sim_crawl_tick(c, 60, 1u << SIM_RES_ORDERS, t0, &cr);
    assert_true(cr.mutations > 0);
    sim_table *t = &c->t[SIM_RES_ORDERS];
    assert_true(t->ndirty > 0);
    /* the copy does not show the changes yet: the rows differ from the WMS's versions */
    int differ = 0;
    for (uint32_t i = 0; i < t->ndirty; i++) {
        uint32_t num = t->dirty[i];
        differ += sim_wms_get(t, num) != t->rows[num - 1];
    }
    assert_true(differ > 0);
    /* A crawl that starts after the changes and ends takes every one of them in. */
    run_crawls(c, t0 + 1, t0 + 3 * f);
    assert_int_equal(t->ndirty, 0);
    assert_true(c->crawl_start_ms[SIM_RES_ORDERS] > t0);
    assert_true(c->crawl_end_ms[SIM_RES_ORDERS] <= t0 + 3 * f);
    assert_true(c->n.late > 0);
    for (uint32_t num = 1; num <= t->n; num++) {
        const sim_meta *m = t->rows[num - 1];
        if (!sim_in_copy(m)) continue;
        assert_true(m->ts_updated_ms >= m->updated_ms); /* the copy took it after the WMS */
    }
    sim_store_free();
}

static void test_crawl_promise(void **state) {
    (void)state;
    sim_store_init(12, 0);
    char err[128];
    sim_conn *c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    /* Changes at random moments while crawls run: whenever a crawl has ended, nothing
     * changed before its start is still pending. */
    int64_t now = BASE_MS;
    int checked = 0;
    for (int step = 0; step < 400; step++, now += 100) {
        if (step % 3 == 0) {
            sim_crawl_result cr;
            sim_crawl_tick(c, 5, 0xffffffffu, now, &cr);
        }
        sim_ingest_tick(c, now);
        for (int r = 0; r < SIM_RES_COUNT; r++) {
            const sim_table *t = &c->t[r];
            int64_t start = c->crawl_start_ms[r];
            if (!start || sim_crawl_running(c, (sim_res)r)) continue;
            for (uint32_t i = 0; i < t->ndirty; i++)
                assert_true(t->pend[t->dirty[i] - 1].since_ms >= start);
            checked++;
        }
    }
    assert_true(checked > 100);
    assert_true(c->n.crawls > 20);
    sim_store_free();
}

static void test_equal_and_quantity_only(void **state) {
    (void)state;
    sim_store_init(13, 1);
    char err[128];
    sim_conn *c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    /* two changes within one second: one updated_date */
    sim_table *t = &c->t[SIM_RES_ORDERS];
    uint32_t num = 0;
    for (uint32_t i = 1; i <= t->n && !num; i++)
        if (sim_in_copy(t->rows[i - 1])) num = i;
    sim_order *o = sim_wms_edit(c, SIM_RES_ORDERS, num, BASE_MS + 10100);
    assert_non_null(o);
    sim_wms_stamp(c, SIM_RES_ORDERS, o, BASE_MS + 10100, 1);
    assert_int_equal(sim_ingest_take(c, SIM_RES_ORDERS, num, BASE_MS + 10200, 0), 0);
    int64_t first = ((sim_meta *)t->rows[num - 1])->updated_ms;
    assert_int_equal(first, BASE_MS + 10000);
    o = sim_wms_edit(c, SIM_RES_ORDERS, num, BASE_MS + 10900);
    o->status = SIM_OS_CANCELLED;
    sim_wms_stamp(c, SIM_RES_ORDERS, o, BASE_MS + 10900, 1);
    assert_int_equal(sim_ingest_take(c, SIM_RES_ORDERS, num, BASE_MS + 11500, 0), 0);
    const sim_order *copy = t->rows[num - 1];
    assert_int_equal(copy->m.updated_ms, first);              /* equal updated_date */
    assert_int_equal(copy->m.ts_updated_ms, BASE_MS + 11000); /* later copy */
    assert_int_equal(copy->status, SIM_OS_CANCELLED);
    assert_int_equal(c->n.equal_updated, 1);
    /* a quantity-only inventory change keeps updated_date */
    sim_crawl_result cr;
    sim_crawl_tick(c, 200, 1u << SIM_RES_INVENTORY, BASE_MS + 20000, &cr);
    assert_true(c->n.quantity_only > 0);
    const sim_table *it = &c->t[SIM_RES_INVENTORY];
    for (uint32_t i = 0; i < it->ndirty; i++) {
        uint32_t n = it->dirty[i];
        const sim_meta *w = sim_wms_get(it, n), *r = it->rows[n - 1];
        assert_int_equal(w->updated_ms, r->updated_ms);
    }
    sim_store_free();
}

/* Every order of c rendered into one string (caller frees): what a change to generation
 * elsewhere must leave alone. */
static char *render_orders(const sim_conn *c) {
    sbuf b = {0};
    for (uint32_t i = 0; i < c->t[SIM_RES_ORDERS].n; i++)
        assert_int_equal(sim_render_record(&b, c, SIM_RES_ORDERS, c->t[SIM_RES_ORDERS].rows[i]), 0);
    return b.p;
}

/* The sum of an item's ledger entries in one warehouse (the WMS's versions). */
static long long ledger_sum(const sim_conn *c, uint32_t inv, uint32_t wh) {
    const sim_table *t = &c->t[SIM_RES_LEDGER];
    long long s = 0;
    for (uint32_t num = 1; num <= t->n; num++) {
        const sim_ledger *e = sim_wms_get(t, num);
        if (e->inv == inv && e->wh == wh) s += e->qty;
    }
    return s;
}

/* A connection that keeps a ledger: every change of onhand the WMS makes (shipments,
 * receipts, restocks, adjustments) appends one entry, so an item's entries summed give
 * its onhand in every warehouse, from generation through many ticks; entries never
 * change; they reach the copy through crawls like any record. Without the ledger
 * enabled none is kept, and enabling it changes no other generated record. */
static void test_ledger_follows_inventory(void **state) {
    (void)state;
    char err[128];
    sim_store_init(11, 1);
    sim_conn *c = sim_conn_create("sandbox", &sizes, (1u << SIM_RES_COUNT) - 1, 0xffffffffu,
                                  BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_true(c->actions & (1u << SIM_RES_LEDGER));
    uint32_t opening = c->t[SIM_RES_LEDGER].n;
    assert_true(opening > 0);
    char *before = render_orders(c);
    for (int i = 0; i < 40; i++) {
        sim_crawl_result cr;
        sim_crawl_tick(c, 50, 0xffffffffu, BASE_MS + 60000LL * (i + 1), &cr);
    }
    const sim_table *lt = &c->t[SIM_RES_LEDGER];
    assert_true(lt->n > opening + 20);
    int seen[SIM_LE_COUNT] = {0};
    for (uint32_t num = 1; num <= lt->n; num++) {
        const sim_ledger *e = sim_wms_get(lt, num);
        assert_ptr_equal(e, lt->rows[num - 1]); /* immutable: no WMS version aside */
        assert_true(e->qty != 0);
        assert_true(e->event < SIM_LE_COUNT);
        seen[e->event]++;
        /* a shipment takes units out; receipts and restocks add them */
        if (e->event == SIM_LE_SHIPMENT) assert_true(e->qty < 0);
        if (e->event == SIM_LE_RECEIPT || e->event == SIM_LE_RETURN) assert_true(e->qty > 0);
        if (e->event == SIM_LE_SHIPMENT || e->event == SIM_LE_RECEIPT || e->event == SIM_LE_RETURN)
            assert_true(e->obj_num > 0);
    }
    assert_true(seen[SIM_LE_OPENING] > 0);
    assert_true(seen[SIM_LE_SHIPMENT] > 0);
    assert_true(seen[SIM_LE_RECEIPT] > 0);
    const sim_table *it = &c->t[SIM_RES_INVENTORY];
    int checked = 0;
    for (uint32_t num = 1; num <= it->n; num++) {
        const sim_inventory *v = sim_wms_get(it, num);
        for (uint32_t w = 0; w < v->nwh; w++, checked++)
            if (ledger_sum(c, num, w + 1) != v->wh[w].onhand)
                fail_msg("item %u warehouse %u: ledger sums to %lld, onhand %d", num, w + 1,
                         ledger_sum(c, num, w + 1), v->wh[w].onhand);
    }
    assert_true(checked > 40);
    /* the new entries are pending until a crawl of the ledger takes them into the copy */
    assert_true(lt->ndirty > 0);
    assert_true(sim_ingest_all(c, 1u << SIM_RES_LEDGER, BASE_MS + 3600000LL, 0) > 0);
    assert_int_equal(c->t[SIM_RES_LEDGER].ndirty, 0);
    const sim_ledger *last = lt->rows[lt->n - 1];
    assert_true(sim_in_copy(last));
    sbuf b = {0};
    assert_int_equal(sim_render_record(&b, c, SIM_RES_LEDGER, last), 0);
    cJSON *j = cJSON_Parse(b.p);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "quantity")->valueint, last->qty);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "inventory_item_id")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "sku")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "event_type")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "warehouse_id")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "entry_date")));
    cJSON_Delete(j);
    free(b.p);
    sim_store_free();

    /* the same seed without the ledger: no entry, and the same orders */
    sim_store_init(11, 1);
    c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_false(c->actions & (1u << SIM_RES_LEDGER));
    assert_int_equal(c->t[SIM_RES_LEDGER].n, 0);
    char *again = render_orders(c);
    assert_string_equal(before, again);
    sim_crawl_result cr;
    sim_crawl_tick(c, 200, 0xffffffffu, BASE_MS + 60000LL, &cr);
    assert_true(cr.mutations > 0);
    assert_int_equal(c->t[SIM_RES_LEDGER].n, 0);
    free(before);
    free(again);
    sim_store_free();
}

/* Labor activities: generated from a stream of their own (the other records are the same
 * with or without them), some in progress (end null), each for a record of the
 * connection in that record's warehouse; crawls end activities in progress (an update:
 * a newer updated_date) and start new ones; an integration without the function keeps
 * none. */
static void test_labor_activities(void **state) {
    (void)state;
    char err[128];
    sim_sizes with = sizes;
    with.labor = 80;
    sim_store_init(12, 1);
    sim_conn *c = sim_conn_create("sandbox", &with, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_true(c->actions & (1u << SIM_RES_LABOR));
    const sim_table *lt = &c->t[SIM_RES_LABOR];
    assert_int_equal(lt->n, 80);
    char *before = render_orders(c);
    int running = 0, linked = 0;
    uint32_t first_running = 0;
    for (uint32_t num = 1; num <= lt->n; num++) {
        const sim_labor *a = sim_table_get(lt, num);
        assert_true(a->user >= 1 && a->user <= SIM_MAX_USERS);
        assert_true(a->wh >= 1 && a->wh <= c->t[SIM_RES_WAREHOUSES].n);
        assert_int_equal(a->m.created_ms, a->start_ms);
        if (!a->end_ms) {
            running++;
            if (!first_running && sim_in_copy(a)) first_running = num;
            assert_int_equal(a->m.updated_ms, a->start_ms);
        } else {
            assert_true(a->end_ms > a->start_ms);
            assert_int_equal(a->m.updated_ms, a->end_ms);
        }
        if (a->obj_type == SIM_LO_ORDER) {
            const sim_order *o = sim_table_get(&c->t[SIM_RES_ORDERS], a->obj_num);
            assert_non_null(o);
            assert_int_equal(o->wh, a->wh);
            linked++;
        }
    }
    assert_true(running > 0 && running < 40);
    assert_true(linked > 0);
    assert_true(first_running > 0);
    for (int i = 0; i < 40; i++) {
        sim_crawl_result cr;
        sim_crawl_tick(c, 10, 1u << SIM_RES_LABOR, BASE_MS + 60000LL * (i + 1), &cr);
    }
    assert_true(lt->n > 80);
    int ended = 0;
    for (uint32_t num = 1; num <= 80; num++) {
        const sim_labor *copy = sim_table_get(lt, num), *wms = sim_wms_get(lt, num);
        if (!copy->end_ms && wms->end_ms) {
            assert_true(wms->m.updated_ms > copy->m.updated_ms);
            assert_true(wms->end_ms >= wms->start_ms);
            ended++;
        }
    }
    assert_true(ended > 0);
    assert_true(sim_ingest_all(c, 1u << SIM_RES_LABOR, BASE_MS + 3600000LL, 0) > 0);
    assert_int_equal(lt->ndirty, 0);
    sbuf b = {0};
    assert_int_equal(sim_render_record(&b, c, SIM_RES_LABOR, lt->rows[lt->n - 1]), 0);
    cJSON *j = cJSON_Parse(b.p);
    assert_non_null(j);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "user_id")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "activity_type")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "activity_start_time")));
    assert_non_null(cJSON_GetObjectItem(j, "activity_end_time"));
    assert_non_null(cJSON_GetObjectItem(j, "associated_object_id"));
    cJSON_Delete(j);
    free(b.p);
    sim_store_free();

    /* the same seed without activities: the same orders */
    sim_store_init(12, 1);
    c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->t[SIM_RES_LABOR].n, 0);
    char *again = render_orders(c);
    assert_string_equal(before, again);
    free(before);
    free(again);
    sim_store_free();

    /* an integration without the function keeps none, and its WMS makes none */
    sim_store_init(12, 1);
    c = sim_conn_create("cool-wms", &with, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_false(c->actions & (1u << SIM_RES_LABOR));
    sim_crawl_result cr;
    sim_crawl_tick(c, 200, 0xffffffffu, BASE_MS + 60000LL, &cr);
    assert_int_equal(c->t[SIM_RES_LABOR].n, 0);
    sim_store_free();
}

static void test_diff_dot_paths(void **state) {
    (void)state;
    cJSON *a = cJSON_Parse(
        "{\"status\":\"open\",\"line_items\":[{\"q\":1},{\"q\":1}],\"n\":{\"x\":1,\"y\":2},"
        "\"shipments\":[],\"same\":true}");
    cJSON *b = cJSON_Parse(
        "{\"status\":\"received\",\"line_items\":[{\"q\":1},{\"q\":3}],\"n\":{\"x\":1,\"y\":5},"
        "\"shipments\":[{\"id\":1}],\"same\":true}");
    cJSON *d = sim_diff_prev(a, b);
    char *s = cJSON_PrintUnformatted(d);
    assert_string_equal(s, "{\"status\":\"open\",\"line_items.1.q\":1,\"n.y\":2,\"shipments\":[]}");
    free(s);
    cJSON_Delete(d);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* Order channels and suppliers: one record per entry of the static lists, the ids orders
 * and inbound shipments reference; had exactly when get_orders / get_inbound_shipments
 * is; crawls rename and remove them (at least two stay) and the copy takes them without
 * a webhook. */
static void test_channels_and_suppliers(void **state) {
    (void)state;
    char err[128], id[64];
    sim_store_init(13, 1);
    sim_conn *c = sim_conn_create("sandbox", &sizes, 0, 0xffffffffu, BASE_MS, err, sizeof err);
    assert_non_null(c);
    assert_true(c->actions & (1u << SIM_RES_CHANNELS));
    assert_true(c->hist_done & (1u << SIM_RES_SUPPLIERS));
    assert_int_equal(c->t[SIM_RES_CHANNELS].n, 4);
    assert_int_equal(c->t[SIM_RES_SUPPLIERS].n, 4);
    assert_int_equal(sim_res_owner(SIM_RES_CHANNELS), SIM_RES_ORDERS);
    assert_int_equal(sim_res_owner(SIM_RES_SUPPLIERS), SIM_RES_INBOUND);
    assert_int_equal(sim_res_owner(SIM_RES_BILLS), SIM_RES_BILLS);
    assert_int_equal(sim_res_derive(1u << SIM_RES_ORDERS),
                     (1u << SIM_RES_ORDERS) | (1u << SIM_RES_CHANNELS));
    assert_int_equal(sim_res_derive(1u << SIM_RES_CHANNELS), 0);
    assert_int_equal(sim_res_by_function("get_orders"), SIM_RES_ORDERS);
    /* an order's channel_object names a channel record */
    int named = 0;
    for (uint32_t i = 0; i < c->t[SIM_RES_ORDERS].n && !named; i++) {
        const sim_order *o = c->t[SIM_RES_ORDERS].rows[i];
        if (o->channel == SIM_NONE) continue;
        sbuf b = {0};
        assert_int_equal(sim_render_record(&b, c, SIM_RES_ORDERS, o), 0);
        sim_format_id(c, SIM_RES_CHANNELS, (uint32_t)o->channel + 1, id, sizeof id);
        assert_non_null(strstr(b.p, id));
        sbuf_free(&b);
        named = 1;
    }
    assert_true(named);
    /* without get_orders: no channels */
    sim_conn *d = sim_conn_create("sandbox", &sizes, 1u << SIM_RES_PRODUCTS, 0xffffffffu, BASE_MS,
                                  err, sizeof err);
    assert_non_null(d);
    assert_false(d->actions & (1u << SIM_RES_CHANNELS));
    assert_false(d->actions & (1u << SIM_RES_SUPPLIERS));
    /* the WMS renames and removes; taking it in sends nothing */
    uint32_t mask = (1u << SIM_RES_CHANNELS) | (1u << SIM_RES_SUPPLIERS);
    sim_crawl_result cr;
    for (int i = 0; i < 30; i++)
        sim_crawl_tick(c, 10, mask, BASE_MS + 1000LL * (i + 1), &cr);
    int removed = 0, live_n = 0, renamed = 0;
    for (uint32_t i = 0; i < c->t[SIM_RES_CHANNELS].n; i++) {
        const sim_named_rec *x = c->t[SIM_RES_CHANNELS].rows[i];
        removed += x->m.removed;
        live_n += !x->m.removed;
        renamed += c->t[SIM_RES_CHANNELS].pend[i].since_ms != 0;
    }
    assert_true(removed > 0);
    assert_true(live_n >= 2);
    assert_true(renamed > 0);
    assert_int_equal(sim_ingest_all(c, mask, BASE_MS + 60000, 1), 0); /* no webhook */
    assert_int_equal(c->t[SIM_RES_CHANNELS].ndirty, 0);
    assert_true(((const sim_meta *)c->t[SIM_RES_CHANNELS].rows[0])->ts_updated_ms > 0);
    sim_store_free();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_records),
        cmocka_unit_test(test_same_seed_same_changes),
        cmocka_unit_test(test_index_and_references),
        cmocka_unit_test(test_history_pending),
        cmocka_unit_test(test_changes_reach_copy_through_crawls),
        cmocka_unit_test(test_crawl_promise),
        cmocka_unit_test(test_equal_and_quantity_only),
        cmocka_unit_test(test_ledger_follows_inventory),
        cmocka_unit_test(test_channels_and_suppliers),
        cmocka_unit_test(test_labor_activities),
        cmocka_unit_test(test_diff_dot_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
