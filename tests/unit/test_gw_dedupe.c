/* test_gw_dedupe.c - webhook-gw's svix-id table: window edges, the size bound (oldest
 * evicted first) and ids at the length limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "webhook-gw/gw_dedupe.h"

static void test_bad_arguments(void **state) {
    (void)state;
    assert_null(gw_dedupe_new(0, 10));
    assert_null(gw_dedupe_new(-1, 10));
    assert_null(gw_dedupe_new(1000, 0));
    assert_int_equal(gw_dedupe_seen(NULL, "x", 0), 0);
    gw_dedupe_add(NULL, "x", 0); /* no crash */
}

static void test_window_edges(void **state) {
    (void)state;
    gw_dedupe *d = gw_dedupe_new(1000, 16);
    assert_non_null(d);
    assert_int_equal(gw_dedupe_seen(d, "msg_a", 0), 0);
    gw_dedupe_add(d, "msg_a", 5000);
    assert_int_equal(gw_dedupe_seen(d, "msg_a", 5000), 1);
    assert_int_equal(gw_dedupe_seen(d, "msg_a", 5999), 1);
    assert_int_equal(gw_dedupe_seen(d, "msg_b", 5999), 0);
    assert_int_equal(gw_dedupe_seen(d, "msg_a", 6000), 0); /* window is [t, t+w) */
    assert_int_equal(gw_dedupe_size(d), 0);                /* expired entry reclaimed */
    gw_dedupe_free(d);
}

static void test_size_bound_evicts_oldest(void **state) {
    (void)state;
    enum { CAP = 8 };
    gw_dedupe *d = gw_dedupe_new(1000000, CAP);
    char id[32];
    for (int i = 0; i < CAP + 3; i++) {
        snprintf(id, sizeof id, "msg_%d", i);
        gw_dedupe_add(d, id, 100 + i);
        assert_true(gw_dedupe_size(d) <= CAP);
    }
    assert_int_equal(gw_dedupe_size(d), CAP);
    for (int i = 0; i < CAP + 3; i++) {
        snprintf(id, sizeof id, "msg_%d", i);
        assert_int_equal(gw_dedupe_seen(d, id, 200), i >= 3); /* 0..2 evicted */
    }
    gw_dedupe_free(d);
}

/* Many ids in few buckets: chains are unlinked correctly as the ring wraps. */
static void test_ring_wraps_many_times(void **state) {
    (void)state;
    enum { CAP = 5 };
    gw_dedupe *d = gw_dedupe_new(1000000, CAP);
    char id[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "id%d", i);
        gw_dedupe_add(d, id, i);
        assert_int_equal(gw_dedupe_seen(d, id, i), 1);
        if (i >= CAP) {
            snprintf(id, sizeof id, "id%d", i - CAP);
            assert_int_equal(gw_dedupe_seen(d, id, i), 0);
        }
    }
    gw_dedupe_free(d);
}

static void test_id_length_limit(void **state) {
    (void)state;
    gw_dedupe *d = gw_dedupe_new(1000, 4);
    char id[GW_DEDUPE_ID_MAX + 2];
    memset(id, 'x', sizeof id);
    id[GW_DEDUPE_ID_MAX] = '\0';
    gw_dedupe_add(d, id, 0);
    assert_int_equal(gw_dedupe_seen(d, id, 1), 1);
    id[GW_DEDUPE_ID_MAX] = 'x';
    id[GW_DEDUPE_ID_MAX + 1] = '\0';
    gw_dedupe_add(d, id, 0); /* too long: never remembered */
    assert_int_equal(gw_dedupe_seen(d, id, 1), 0);
    gw_dedupe_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_size_bound_evicts_oldest),
        cmocka_unit_test(test_ring_wraps_many_times),
        cmocka_unit_test(test_id_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
