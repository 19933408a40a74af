/* test_sim_store.c - the connection registry without a cap: the store grows past its
 * first array sizes with every connection found by id and by token through its hash maps,
 * deleted ones found only by sim_conn_at, nothing found after sim_store_free, and the
 * same ids for the same seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/simulator/sim_store.h"

#define BASE_MS 1767607200000LL /* 2026-01-05T10:00:00Z */
#define NCONNS 1500             /* past the array's first sizes (64, 128, ... 1024) */

static const sim_sizes small = {.orders = 2,
                                .products = 2,
                                .warehouses = 1,
                                .locations_per_wh = 1,
                                .returns = 1,
                                .inbound = 1,
                                .bills = 1,
                                .shipping_methods = 1,
                                .warehouse_customers = 1};

/* Create NCONNS connections; write their ids into ids (NCONNS x 40) when not NULL. */
static void create_many(uint64_t seed, char (*ids)[40]) {
    sim_store_init(seed, 1);
    char err[128];
    for (int i = 0; i < NCONNS; i++) {
        sim_conn *c = sim_conn_create("sandbox", &small, 0, 0, BASE_MS, err, sizeof err);
        assert_non_null(c);
        assert_int_equal(c->idx, i);
        if (ids) memcpy(ids[i], c->id, sizeof ids[i]);
    }
    assert_int_equal(sim_g.nconns, NCONNS);
    assert_true(sim_g.capconns >= NCONNS);
}

static void test_store_grows_and_finds(void **state) {
    (void)state;
    create_many(5, NULL);
    for (int i = 0; i < NCONNS; i++) {
        sim_conn *c = sim_g.conns[i];
        assert_ptr_equal(sim_conn_by_id(c->id), c);
        assert_ptr_equal(sim_conn_by_token(c->token), c);
    }
    assert_null(sim_conn_by_id("00000000-0000-4000-8000-000000000000"));
    assert_null(sim_conn_by_token("sim_at_nope"));
    assert_null(sim_conn_by_token(""));
    assert_null(sim_conn_by_token(NULL));
    /* a deleted connection keeps its place: not found as live, found by sim_conn_at */
    sim_conn *d = sim_g.conns[NCONNS / 2];
    d->live = 0;
    assert_null(sim_conn_by_id(d->id));
    assert_null(sim_conn_by_token(d->token));
    assert_ptr_equal(sim_conn_at(d->id), d);
    assert_ptr_equal(sim_g.conns[NCONNS / 2 + 1], sim_conn_by_id(sim_g.conns[NCONNS / 2 + 1]->id));
    /* jobs are allocated on first use only */
    assert_null(sim_g.conns[0]->jobs);
    sim_store_free();
    assert_int_equal(sim_g.nconns, 0);
    assert_null(sim_conn_by_id("anything"));
}

static void test_store_ids_follow_seed(void **state) {
    (void)state;
    static char a[NCONNS][40], b[NCONNS][40], c[NCONNS][40];
    create_many(11, a);
    sim_store_free();
    create_many(11, b);
    sim_store_free();
    create_many(12, c);
    sim_store_free();
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a[0], c[0], sizeof a[0]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_grows_and_finds),
        cmocka_unit_test(test_store_ids_follow_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
