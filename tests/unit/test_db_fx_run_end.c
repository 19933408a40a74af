/* test_db_fx_run_end.c - every kind of run ends once its answers are in (issue 24).
 * A running stream is looked at only when what it waits for comes (an answer, an
 * acknowledgement, a request slot, its retry time). A warehouse-locations run and a
 * per-order run learn that their last sub-list was read in their turn's schedule
 * (open_locations, open_orders), after the acknowledgements were looked at; when every
 * record was acknowledged already (here: there are none), no event followed and the run
 * stayed on for good. CI's test_fetcher saw it: new connections' warehouse_locations and
 * order_packs still running 55 s after their last answer.
 *
 * Against PostgreSQL (TEST_DATABASE_URL, as every test_db_*): its stores must succeed,
 * since a failed one wakes the stream for its retry and hides a lost wake. The API is a
 * local server whose every list is one empty page.
 */
#include "db_test_util.h"

#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <time.h>

#include "fetcher/fx_db.h"
#include "fetcher/fx_engine_int.h"
#include "fx_test_engine.h"
#include "util.h"

static enum MHD_Result empty_lists(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload,
                                   size_t *upload_len, void **req_cls) {
    (void)url, (void)method, (void)version, (void)upload, (void)upload_len;
    if (!*req_cls) { /* the headers; the answer goes at the next call */
        *req_cls = cls;
        return MHD_YES;
    }
    __atomic_add_fetch((int *)cls, 1, __ATOMIC_RELAXED);
    static const char body[] = "{\"data\":[],\"next_token\":null}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static int runs_on(const fx_conn *c) {
    int on = 0;
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        on += c->streams[r].run != FX_RUN_NONE;
    return on;
}

static void every_run_ends_once_its_answers_are_in(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    char err[512];
    PGconn *db = fx_db_open(t.conninfo, err, sizeof err);
    if (!db) fail_msg("fx_db_open: %s", err);
    int answered = 0;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL,
                                            NULL, empty_lists, &answered, MHD_OPTION_END);
    assert_non_null(d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)info->port);
    rd_kafka_t *producer;
    fx_engine *e = fx_test_engine_new(db, &producer, err, sizeof err);
    if (!e) fail_msg("engine: %s", err);
    e->cfg.base_url = url;

    /* one owned connection, its first syncs done; every stream asked to poll now */
    fx_conn *c = fx_test_conn_idle(e, "conn-run-end");
    assert_non_null(c);
    int64_t wall = util_now_ms();
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        st->d.last_started_ms = wall - 1000;
        st->d.next_due_ms = wall + FX_TEST_HOUR_MS;
        st->force = 1;
        fx_stream_wake(e, st, 0);
    }
    fx_engine_tick(e, util_mono_ms(), util_now_ms());
    assert_int_equal(runs_on(c), TS_ENTITY_COUNT);

    int64_t t0 = util_mono_ms();
    while (runs_on(c) > 0 && util_mono_ms() - t0 < 20000) {
        if (fx_http_run(e->http, 20) == 0) nanosleep(&(struct timespec){0, 2000000}, NULL);
        fx_engine_tick(e, util_mono_ms(), util_now_ms());
    }
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        if (c->streams[r].run != FX_RUN_NONE)
            print_message("still running after its answers: %s\n", ts_entities[r].name);
    assert_int_equal(runs_on(c), 0);
    assert_int_equal(fx_http_inflight(e->http), 0);
    assert_true(__atomic_load_n(&answered, __ATOMIC_RELAXED) >= TS_ENTITY_COUNT);
    /* each run succeeded, and that is what is stored */
    assert_int_equal(fx_state_flush(e), 0);
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        const fx_stream *st = &c->streams[r];
        if (st->state != FX_ST_IDLE)
            print_message("%s: %s (%s)\n", ts_entities[r].name, fx_state_names[st->state],
                          st->d.last_error ? st->d.last_error : "no error");
        assert_int_equal(st->state, FX_ST_IDLE);
    }
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_streams WHERE connection_id = "
                                      "'conn-run-end' AND state = 'idle' AND last_error IS NULL"),
                     TS_ENTITY_COUNT);
    fx_test_engine_free(e, producer);
    MHD_stop_daemon(d);
    PQfinish(db);
    tdb_destroy(&t);
}

int main(void) {
    log_init("test", LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_run_ends_once_its_answers_are_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
