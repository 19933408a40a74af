/* test_writer_partitions.c - the writer's partition bookkeeping (writer/partitions.h),
 * driven through its rebalance hook as librdkafka drives it. The case that lost data: a
 * session that timed out during a broker outage is revoked and then assigned the same
 * partitions, with no batch in between; the first batch after that must be applied (the
 * consumer's position has moved past it), not dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "writer/partitions.h"

#define TOPIC "trackstar.canonical.orders.v1"

/* Call the hook as the consumer would: assigned or revoked, for partitions of TOPIC. */
static void rebalance(wparts *w, int assigned, const int *parts, int n) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    assert_non_null(l);
    for (int i = 0; i < n; i++)
        assert_non_null(rd_kafka_topic_partition_list_add(l, TOPIC, parts[i]));
    wparts_hook(NULL, assigned, l, w);
    rd_kafka_topic_partition_list_destroy(l);
}

static void test_assigned_is_usable_revoked_is_not(void **state) {
    (void)state;
    wparts w = {0};
    const int p[] = {0, 1};
    assert_int_equal(wparts_usable(&w, TOPIC, 0), 0); /* never assigned */
    rebalance(&w, 1, p, 2);
    assert_int_equal(wparts_usable(&w, TOPIC, 0), 1);
    assert_int_equal(wparts_usable(&w, TOPIC, 1), 1);
    rebalance(&w, 0, p, 1); /* partition 0 moves to another writer */
    assert_int_equal(wparts_usable(&w, TOPIC, 0), 0);
    assert_int_equal(wparts_usable(&w, TOPIC, 1), 1);
    wparts_free(&w);
}

static void test_assigned_again_is_usable_and_claims_again(void **state) {
    (void)state;
    wparts w = {0};
    const int p[] = {3};
    rebalance(&w, 1, p, 1);
    wpart *e = wparts_find(&w, TOPIC, 3);
    assert_non_null(e);
    e->claimed = 1;         /* the writer claimed it for a batch */
    rebalance(&w, 0, p, 1); /* lost: the session timed out while the broker was paused */
    assert_int_equal(wparts_usable(&w, TOPIC, 3), 0);
    rebalance(&w, 1, p, 1); /* the same writer gets it back, no batch in between */
    assert_int_equal(wparts_usable(&w, TOPIC, 3), 1);
    e = wparts_find(&w, TOPIC, 3);
    assert_int_equal(e->claimed, 0); /* a new epoch before anything is applied */
    wparts_free(&w);
}

static void test_lost_fence_stops_until_assigned_again(void **state) {
    (void)state;
    wparts w = {0};
    const int p[] = {5};
    rebalance(&w, 1, p, 1);
    wparts_lost(&w, TOPIC, 5); /* another writer claimed it */
    assert_int_equal(wparts_usable(&w, TOPIC, 5), 0);
    rebalance(&w, 1, p, 1);
    assert_int_equal(wparts_usable(&w, TOPIC, 5), 1);
    wparts_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assigned_is_usable_revoked_is_not),
        cmocka_unit_test(test_assigned_again_is_usable_and_claims_again),
        cmocka_unit_test(test_lost_fence_stops_until_assigned_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
