/* test_sim_gen.c - the generator is deterministic (same seed -> byte-identical records,
 * another seed -> different ones), references resolve, the (updated_date, id) index
 * stays sorted through crawl ticks, and previous_attributes diffs use dot paths. */
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
    assert_false(c->actions & (1u << SIM_RES_BILLS)); /* shipbob: no bills */
    sim_crawl_result cr;
    sim_crawl_tick(c, 50, 0xffffffffu, BASE_MS + 1000, &cr);
    assert_int_equal(cr.events, 0); /* nothing is observable before the historical sync */
    int n = sim_crawl_complete_history(c, 0xffffffffu, BASE_MS + 2000);
    assert_int_equal(n, SIM_RES_COUNT - 1);
    assert_int_equal(c->hist_done, c->actions);
    assert_int_equal(sim_crawl_complete_history(c, 0xffffffffu, BASE_MS + 3000), 0); /* once */
    const sim_meta *m = c->t[SIM_RES_ORDERS].rows[0];
    assert_true(m->ts_updated_ms == BASE_MS + 2000);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_records),
        cmocka_unit_test(test_same_seed_same_changes),
        cmocka_unit_test(test_index_and_references),
        cmocka_unit_test(test_history_pending),
        cmocka_unit_test(test_diff_dot_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
