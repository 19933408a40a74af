/* test_db_fx_events.c - the fetcher's connection events applied a loop turn at a time, in
 * one transaction (issue 24): a link exchange of 10,000 connections sends ~120,000 events
 * (connection.created, then one historical-sync-completed per function), and each was an
 * autocommit of its own on the loop's thread, minutes in which no HTTP answer was read.
 * Against PostgreSQL (TEST_DATABASE_URL, as every test_db_*) and librdkafka's own mock
 * cluster (a real consumer, real headers):
 *   - N historical-sync events (and the fetcher's own polled records among them, skipped)
 *     consumed by fx_events_step land in fewer transactions than steps that changed
 *     something, one per step, never one per event (each transaction is one xmin);
 *   - a step whose statement fails stores nothing, keeps its messages held (their offsets
 *     unstored) and, once the database is back, applies them all.
 */
#include "db_test_util.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include "fetcher/fx_db.h"
#include "fetcher/fx_events.h"
#include "seal.h"
#include "topics.h"
#include "util.h"

#define TOPIC "test.raw"
#define N_EVENTS 40
#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

typedef struct world {
    tdb t;
    PGconn *db;
    rd_kafka_t *producer, *consumer;
    seal_ring ring;
} world;

static void world_new(world *w) {
    char err[512];
    memset(w, 0, sizeof *w);
    tdb_create(&w->t, 1);
    w->db = fx_db_open(w->t.conninfo, err, sizeof err);
    if (!w->db) fail_msg("fx_db_open: %s", err);
    assert_int_equal(seal_ring_parse(KEY, NULL, &w->ring, err, sizeof err), 0);

    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(pc, "test.mock.num.brokers", "1", err, sizeof err),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(pc, "log_level", "0", err, sizeof err), RD_KAFKA_CONF_OK);
    w->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    assert_non_null(w->producer);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(w->producer);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);

    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc)},
                           {"group.id", "fetcher-events-test"},
                           {"enable.auto.offset.store", "false"},
                           {"log_level", "0"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(rd_kafka_conf_set(cc, kv[i][0], kv[i][1], err, sizeof err),
                         RD_KAFKA_CONF_OK);
    w->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    assert_non_null(w->consumer);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(w->consumer, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
}

static void world_free(world *w, fx_events_in *in) {
    fx_events_in_clear(in);
    rd_kafka_consumer_close(w->consumer);
    rd_kafka_destroy(w->consumer);
    rd_kafka_destroy(w->producer);
    seal_ring_wipe(&w->ring);
    PQfinish(w->db);
    tdb_destroy(&w->t);
}

/* A connection.historical-sync-completed for conn-<i> (source webhook), or one of the
 * fetcher's own polled records (source poll: not an event). */
static void produce(world *w, int i, int own_record) {
    char body[256], conn[32];
    snprintf(conn, sizeof conn, "conn-%03d", i);
    snprintf(body, sizeof body,
             "{\"connection_id\":\"%s\",\"event_type\":\"connection.historical-sync-completed\","
             "\"data\":{\"resource\":\"returns\",\"oldest_data_date\":\"2026-01-01T00:00:00Z\"}}",
             conn);
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, HDR_SOURCE, -1, own_record ? "poll" : "webhook", -1);
    rd_kafka_header_add(h, HDR_EVENT_TYPE, -1,
                        own_record ? "returns.polled" : "connection.historical-sync-completed", -1);
    assert_int_equal(rd_kafka_producev(w->producer, RD_KAFKA_V_TOPIC(TOPIC),
                                       RD_KAFKA_V_KEY(conn, strlen(conn)),
                                       RD_KAFKA_V_VALUE(body, strlen(body)),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Steps until the table holds want rows (or 10 s); the steps that changed something. */
static int steps_until(world *w, fx_events_in *in, long want) {
    int changed_steps = 0;
    int64_t until = util_mono_ms() + 10000;
    char err[256];
    while (tdb_count(w->t.sql, "SELECT count(*) FROM fetcher_historical_syncs") < want &&
           util_mono_ms() < until) {
        int rc = fx_events_step(in, w->consumer, w->db, &w->ring, err, sizeof err);
        if (rc < 0) fail_msg("fx_events_step: %s", err);
        changed_steps += rc;
        if (rc == 0) usleep(10000);
    }
    return changed_steps;
}

static void a_burst_is_one_transaction_per_step(void **state) {
    (void)state;
    world w;
    world_new(&w);
    static fx_events_in in;
    memset(&in, 0, sizeof in);
    for (int i = 0; i < N_EVENTS; i++) {
        produce(&w, i, 0);
        if (i % 4 == 0) produce(&w, i, 1);
    }
    assert_int_equal(rd_kafka_flush(w.producer, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int steps = steps_until(&w, &in, N_EVENTS);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_historical_syncs"), N_EVENTS);
    long xacts = tdb_count(w.t.sql, "SELECT count(DISTINCT xmin::text) FROM "
                                    "fetcher_historical_syncs");
    /* one transaction per step that changed something: with an autocommit per event it was
     * N_EVENTS */
    assert_true(steps >= 1);
    assert_int_equal(xacts, steps);
    assert_true(xacts < N_EVENTS / 4);
    assert_int_equal(in.nheld, 0);
    world_free(&w, &in);
}

static void a_failed_step_holds_its_messages(void **state) {
    (void)state;
    world w;
    world_new(&w);
    static fx_events_in in;
    memset(&in, 0, sizeof in);
    in.retry_ms = 0;
    PQclear(tdb_q(w.t.sql, "ALTER TABLE fetcher_historical_syncs RENAME TO fhs_away"));
    for (int i = 0; i < 5; i++)
        produce(&w, i, 0);
    assert_int_equal(rd_kafka_flush(w.producer, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    char err[256] = "";
    int64_t until = util_mono_ms() + 10000;
    while (in.nheld < 5 && util_mono_ms() < until) {
        int rc = fx_events_step(&in, w.consumer, w.db, &w.ring, err, sizeof err);
        if (in.nheld) assert_int_equal(rc, -1); /* the table is not there */
        usleep(10000);
    }
    assert_int_equal(in.nheld, 5);
    PQclear(tdb_q(w.t.sql, "ALTER TABLE fhs_away RENAME TO fetcher_historical_syncs"));
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_historical_syncs"), 0);
    assert_int_equal(fx_events_step(&in, w.consumer, w.db, &w.ring, err, sizeof err), 1);
    assert_int_equal(in.nheld, 0);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_historical_syncs"), 5);
    world_free(&w, &in);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_burst_is_one_transaction_per_step),
        cmocka_unit_test(a_failed_step_holds_its_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
