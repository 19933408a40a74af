/* test_kafka_close.c - kafka_consumer_destroy against librdkafka's own mock cluster (a real
 * group, real fetches): a consumer closed while its queue still holds fetched messages it
 * never read (what every stage has at a SIGTERM) revokes its partitions through the
 * rebalance hook, commits the offsets it stored and nothing beyond them, and returns.
 * The first bounded close served the close queue with rd_kafka_queue_poll_callback, which
 * cannot hand a fetched message back: librdkafka 2.0.2 aborted ("res !=
 * RD_KAFKA_OP_RES_PASS"), and test_fetcher's SIGTERM case saw the fetcher exit 134.
 * A consumer closed after its broker is gone returns within the close's bound (15 s);
 * rd_kafka_consumer_close() alone took 46 s here, and 14 minutes in a CI rehearsal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <string.h>
#include <unistd.h>

#include "kafka.h"
#include "util.h"

#define TOPIC "test.close"
#define GROUP "test-close"
#define N_MESSAGES 2000

typedef struct hook_seen {
    int assigned, revoked;
} hook_seen;

static void on_assignment(rd_kafka_t *rk, int assigned,
                          const rd_kafka_topic_partition_list_t *parts, void *arg) {
    (void)rk;
    (void)parts;
    hook_seen *seen = arg;
    if (assigned)
        seen->assigned++;
    else
        seen->revoked++;
}

static rd_kafka_t *mock_producer(void) {
    char err[512];
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(pc, "test.mock.num.brokers", "1", err, sizeof err),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(pc, "log_level", "0", err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    assert_non_null(p);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(p);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int i = 0; i < N_MESSAGES; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "m%d", i);
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                                           RD_KAFKA_V_VALUE(v, (size_t)n),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    return p;
}

/* The group's committed offset of partition 0, read by a consumer that never joins. */
static int64_t committed_offset(const char *bootstraps) {
    char err[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(cc, "bootstrap.servers", bootstraps, err, sizeof err),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(cc, "group.id", GROUP, err, sizeof err), RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(cc, "log_level", "0", err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, 0);
    assert_int_equal(rd_kafka_committed(c, parts, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t off = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(c);
    return off;
}

/* Poll c until n messages were read (at most 20 s), storing their offsets: how many. */
static int read_and_store(rd_kafka_t *c, int n) {
    int read = 0;
    for (int64_t deadline = util_mono_ms() + 20000; read < n && util_mono_ms() < deadline;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (!m->err) {
            kafka_store_offsets(c, &m, 1);
            read++;
        }
        rd_kafka_message_destroy(m);
    }
    return read;
}

static void close_with_unread_messages_commits_what_was_stored(void **state) {
    (void)state;
    rd_kafka_t *p = mock_producer();
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(rd_kafka_handle_mock_cluster(p));
    const char *topics[] = {TOPIC};
    char err[512];
    rd_kafka_t *c = kafka_consumer_new(bootstraps, GROUP, "test-close", "", "log_level=0", topics,
                                       1, err, sizeof err);
    if (!c) fail_msg("kafka_consumer_new: %s", err);
    hook_seen seen = {0, 0};
    kafka_consumer_set_rebalance_hook(c, on_assignment, &seen);

    assert_int_equal(read_and_store(c, 3), 3); /* the first three messages only */
    assert_int_equal(seen.assigned, 1);
    /* the rest of the partition is fetched into the consumer's queue meanwhile */
    for (int64_t until = util_mono_ms() + 500; util_mono_ms() < until;)
        usleep(20000);
    int64_t t0 = util_mono_ms();
    kafka_consumer_destroy(c);
    int64_t took = util_mono_ms() - t0;
    print_message("closed in %lld ms\n", (long long)took);
    assert_int_equal(seen.revoked, 1);
    assert_true(took < 10000);
    /* stored: offsets 0..2, so the next owner starts at 3, not at the unread rest */
    assert_int_equal(committed_offset(bootstraps), 3);
    rd_kafka_destroy(p);
}

/* The broker gone before the close (test_hardening stops its dev broker and writer
 * together): the close gives up within its bound and the caller goes on to exit. */
static void close_without_a_broker_returns(void **state) {
    (void)state;
    rd_kafka_t *p = mock_producer();
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(rd_kafka_handle_mock_cluster(p));
    const char *topics[] = {TOPIC};
    char err[512];
    rd_kafka_t *c = kafka_consumer_new(bootstraps, GROUP "-gone", "test-close", "", "log_level=0",
                                       topics, 1, err, sizeof err);
    if (!c) fail_msg("kafka_consumer_new: %s", err);
    assert_int_equal(read_and_store(c, 1), 1);
    rd_kafka_destroy(p); /* and its mock cluster with it */
    int64_t t0 = util_mono_ms();
    kafka_consumer_destroy(c);
    int64_t took = util_mono_ms() - t0;
    print_message("closed in %lld ms without a broker\n", (long long)took);
    assert_true(took < 20000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(close_with_unread_messages_commits_what_was_stored),
        cmocka_unit_test(close_without_a_broker_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
