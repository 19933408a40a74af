/* test_db_fx_restart.c - a restart that costs nothing (issue 24). What GET /connections/{id}
 * answered (an API-key request: the organisation's one budget) is stored, batched like the
 * stream state, and read back when a connection is owned, instead of asked again at once.
 * Shown against PostgreSQL (TEST_DATABASE_URL, as every test_db_*):
 *   - fx_db_checks_put / fx_db_check_get store and read back a check exactly, the actions
 *     unknown as NULL, n connections in one statement (one xmin);
 *   - fx_db_conns_load reads n connections' streams, checks and historical-sync rows
 *     together, each to its own;
 *   - an engine stores the answer's facts (actions, every stream's schedule and crawl
 *     error, the time) in one flush; a second engine on the same database (a restart)
 *     owns the connection and has them all back, its next check a gap after the stored
 *     one, not now;
 *   - a stored check older than the gap, or none at all: checked now, as before;
 *   - GET /integrations/wms (the API allows it once a minute for the organisation) is asked
 *     by the first engine and stored; a second one on the database (a restart, another
 *     replica) takes the stored answer and asks nothing; one older than
 *     FETCHER_INTEGRATIONS_TTL_S is asked again; an older answer never replaces a newer.
 */
#include "db_test_util.h"

#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <pthread.h>

#include "fetcher/fx_db.h"
#include "fetcher/fx_engine_int.h"
#include "fx_test_engine.h"
#include "metrics.h"
#include "util.h"

#define GAP_MS 60000 /* fx_test_engine's FETCHER_CONN_CHECK_S and FETCHER_HIST_CHECK_S */

static PGconn *fx_open(const tdb *t) {
    char err[512];
    PGconn *db = fx_db_open(t->conninfo, err, sizeof err);
    if (!db) fail_msg("fx_db_open: %s", err);
    return db;
}

/* ---- fx_db_checks_put / fx_db_check_get ---- */

static void checks_read_back_exactly(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    PGconn *db = fx_open(&t);
    char err[256] = "";
    uint32_t some = (1u << TS_ENT_ORDERS) | (1u << (TS_ENTITY_COUNT - 1));
    fx_db_check rows[3] = {
        {.conn = "conn-a", .checked_ms = 1780000000123LL, .reads_known = 1, .reads = some},
        {.conn = "conn-b", .checked_ms = 1780000001000LL, .reads_known = 0},
        {.conn = "conn-'c\"", .checked_ms = 1780000002000LL, .reads_known = 1, .reads = 0},
    };
    assert_int_equal(fx_db_checks_put(db, rows, 3, err, sizeof err), 0);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_connection_checks"), 3);
    assert_int_equal(
        tdb_count(t.sql, "SELECT count(DISTINCT xmin::text) FROM fetcher_connection_checks"), 1);
    assert_int_equal(
        tdb_count(t.sql, "SELECT count(*) FROM fetcher_connection_checks WHERE reads IS NULL"), 1);
    for (int i = 0; i < 3; i++) {
        fx_db_check got = {0};
        assert_int_equal(fx_db_check_get(db, rows[i].conn, &got, err, sizeof err), 1);
        assert_int_equal(got.checked_ms, rows[i].checked_ms);
        assert_int_equal(got.reads_known, rows[i].reads_known);
        assert_int_equal(got.reads, rows[i].reads);
    }
    /* the upsert: a newer answer replaces the row */
    rows[1] = (fx_db_check){.conn = "conn-b",
                            .checked_ms = 1780000009000LL,
                            .reads_known = 1,
                            .reads = (1u << TS_ENTITY_COUNT) - 1};
    assert_int_equal(fx_db_checks_put(db, &rows[1], 1, err, sizeof err), 0);
    fx_db_check got = {0};
    assert_int_equal(fx_db_check_get(db, "conn-b", &got, err, sizeof err), 1);
    assert_int_equal(got.checked_ms, 1780000009000LL);
    assert_int_equal(got.reads, (1u << TS_ENTITY_COUNT) - 1);
    assert_int_equal(fx_db_check_get(db, "conn-none", &got, err, sizeof err), 0);
    assert_int_equal(fx_db_checks_put(db, rows, FX_DB_STREAMS_MAX + 1, err, sizeof err), -1);
    PQfinish(db);
    tdb_destroy(&t);
}

/* fx_db_conns_load: n connections' streams, checks and first syncs in three statements,
 * each row to its own connection (ids needing quoting in an array literal too). */
#define N_LOAD 12
static void many_connections_read_together(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    PGconn *db = fx_open(&t);
    char err[256] = "";
    static char idbuf[N_LOAD][48];
    const char *ids[N_LOAD];
    for (int i = 0; i < N_LOAD; i++) {
        snprintf(idbuf[i], sizeof idbuf[i], i == 1 ? "we\"ird\\id,{%d} x" : "conn-%d", i);
        ids[i] = idbuf[i];
    }
    /* connection i stores streams 0..i-1 (none for 0, every one for the last) and, when
     * i is odd, a check; the last id is never stored */
    for (int i = 0; i < N_LOAD - 1; i++) {
        for (int r = 0; r < i && r < TS_ENTITY_COUNT; r++) {
            fx_db_stream st = {.sync_frequency_s = i * 100 + r, .crawl_error = (i + r) % 2};
            snprintf(st.state, sizeof st.state, "idle");
            snprintf(st.cursor_field, sizeof st.cursor_field, "updated_date");
            assert_int_equal(
                fx_db_stream_put(db, ids[i], ts_entities[r].name, &st, err, sizeof err), 0);
        }
        if (i % 2) {
            fx_db_check k = {.conn = ids[i],
                             .checked_ms = 1780000000000LL + i,
                             .reads_known = 1,
                             .reads = 1u << i};
            assert_int_equal(fx_db_checks_put(db, &k, 1, err, sizeof err), 0);
        }
        /* when i is a multiple of 3, its first two resources' first syncs: the first with
         * its oldest data date, the second without */
        if (i % 3 == 0) {
            assert_int_equal(fx_db_hist_put(db, ids[i], ts_entities[0].name, 1700000000000LL + i, 0,
                                            "api", err, sizeof err),
                             0);
            assert_int_equal(
                fx_db_hist_put(db, ids[i], ts_entities[1].name, 0, 0, "api", err, sizeof err), 0);
        }
    }
    /* a row of a resource this release does not know is skipped, not misplaced */
    assert_int_equal(fx_db_hist_put(db, ids[3], "no_such_resource", 1, 0, "api", err, sizeof err),
                     0);
    static fx_db_loaded L[N_LOAD];
    assert_int_equal(fx_db_conns_load(db, ids, N_LOAD, L, err, sizeof err), 0);
    for (int i = 0; i < N_LOAD; i++) {
        int nst = i == N_LOAD - 1 ? 0 : (i < TS_ENTITY_COUNT ? i : TS_ENTITY_COUNT);
        assert_int_equal(L[i].found, nst ? (uint32_t)((1ull << nst) - 1) : 0u);
        for (int r = 0; r < nst; r++) {
            assert_int_equal(L[i].streams[r].sync_frequency_s, i * 100 + r);
            assert_int_equal(L[i].streams[r].crawl_error, (i + r) % 2);
        }
        assert_int_equal(L[i].check_found, i % 2 && i != N_LOAD - 1);
        if (L[i].check_found) {
            assert_int_equal(L[i].check.checked_ms, 1780000000000LL + i);
            assert_int_equal(L[i].check.reads, 1u << i);
        }
        int hist = i % 3 == 0 && i != N_LOAD - 1;
        assert_int_equal(L[i].hist, hist ? 3u : 0u);
        assert_int_equal(L[i].hist_oldest_ms[0], hist ? 1700000000000LL + i : 0);
        assert_int_equal(L[i].hist_oldest_ms[1], 0);
    }
    assert_int_equal(fx_db_conns_load(db, ids, FX_DB_LOAD_MAX + 1, L, err, sizeof err), -1);
    PQfinish(db);
    tdb_destroy(&t);
}

/* ---- an engine stores, another one (the restart) reads back ---- */

typedef struct replica {
    rd_kafka_t *producer;
    fx_engine *e;
} replica;

static void replica_new(replica *r, PGconn *db) {
    char err[512];
    r->e = fx_test_engine_new(db, &r->producer, err, sizeof err);
    if (!r->e) fail_msg("engine: %s", err);
}

/* The connection registered with a token and owned (as a refresh does): own_conn loads
 * it from the database. */
static fx_conn *own(replica *r, const char *id) {
    fx_conn *c = fx_conn_get(r->e, id, 1);
    assert_non_null(c);
    assert_int_equal(fx_test_conn_token(r->e, c, "token"), 0);
    fx_engine_partition(r->e, c->partition, 1);
    assert_int_equal(c->owned, 1);
    return c;
}

#define CONN "conn-restart"

/* What one answer of GET /connections/{id} leaves behind (on_conn_info): actions, each
 * stream's schedule, a crawl error on one, the time; queued and stored by one flush. */
static void answer(fx_engine *e, fx_conn *c, int64_t checked_ms) {
    c->actions = (1u << TS_ENT_ORDERS) | (1u << TS_ENT_PRODUCTS);
    c->actions_known = 1;
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        st->prom.frequency_ms = (int64_t)(r + 1) * 3600 * 1000;
        st->prom.crawl_start_ms = 1780000000000LL + r * 1000;
        st->prom.crawl_end_ms = st->prom.crawl_start_ms + 500000;
        st->crawls_known = 1;
        st->crawl_error = r == TS_ENT_PRODUCTS;
        st->d.sync_frequency_s = (int)(st->prom.frequency_ms / 1000);
        st->d.crawl_start_ms = st->prom.crawl_start_ms;
        st->d.crawl_end_ms = st->prom.crawl_end_ms;
        st->d.crawl_error = st->crawl_error;
        st->dirty = 1;
        fx_stream_save(e, st);
    }
    c->checked_ms = checked_ms;
    c->check_dirty = 1;
    fx_conn_save(e, c);
    fx_conn_save(e, c); /* twice: queued once */
    assert_int_equal(e->ncheck, 1);
}

static void a_restart_reads_back_and_does_not_ask(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    PGconn *db = fx_open(&t);
    replica a;
    replica_new(&a, db);
    fx_conn *c = own(&a, CONN);
    /* never checked: asked at once, as before */
    assert_int_equal(c->hist_check_at, 0);
    assert_true(fx_sched_scheduled(&c->check));
    int64_t writes = metric_get(a.e->m.state_writes);
    answer(a.e, c, util_now_ms() - 1000);
    assert_int_equal(fx_state_flush(a.e), 0);
    /* the streams, then the check: two statements for the whole answer */
    assert_int_equal(metric_get(a.e->m.state_writes) - writes, 2);
    assert_int_equal(c->check_dirty, 0);
    assert_int_equal(c->check_queued, 0);
    assert_int_equal(a.e->ncheck, 0);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_connection_checks"), 1);
    fx_test_engine_free(a.e, a.producer);

    /* the restart */
    replica b;
    replica_new(&b, db);
    int64_t now = util_mono_ms();
    fx_conn *c2 = own(&b, CONN);
    assert_int_equal(c2->actions_known, 1);
    assert_int_equal(c2->actions, (1u << TS_ENT_ORDERS) | (1u << TS_ENT_PRODUCTS));
    assert_true(c2->checked_ms > 0);
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c2->streams[r];
        assert_int_equal(st->loaded, 1);
        assert_int_equal(st->prom.frequency_ms, (int64_t)(r + 1) * 3600 * 1000);
        assert_int_equal(st->prom.crawl_start_ms, 1780000000000LL + r * 1000);
        assert_int_equal(st->prom.crawl_end_ms, 1780000000000LL + r * 1000 + 500000);
        assert_int_equal(st->crawls_known, 1);
        assert_int_equal(st->crawl_error, r == TS_ENT_PRODUCTS);
        assert_true(fx_sched_scheduled(&st->wake)); /* every stream decides again */
    }
    /* not asked now: a gap after the stored answer (a second ago), jittered by at most a
     * tenth of it */
    assert_true(fx_sched_scheduled(&c2->check));
    assert_true(c2->check_restored);
    assert_true(c2->hist_check_at >= now + GAP_MS - 1000 - 100);
    assert_true(c2->hist_check_at <= util_mono_ms() + GAP_MS + GAP_MS / 10);
    fx_engine_tick(b.e, util_mono_ms(), util_now_ms());
    assert_null(c2->info_req); /* nothing was due */
    assert_int_equal(fx_integration_reads(b.e, c2, TS_ENT_INVENTORY), 0);
    fx_test_engine_free(b.e, b.producer);

    /* stored longer ago than the gap: due now, as a connection whose time came (a replica
     * that does not sweep leaves it a moment for the group's sweep), not at once as an
     * event asks (its facts are still read back) */
    PQclear(tdb_q(t.sql, "UPDATE fetcher_connection_checks SET checked_at = now() - interval "
                         "'2 minutes'"));
    replica d;
    replica_new(&d, db);
    fx_conn *c3 = own(&d, CONN);
    assert_int_equal(c3->actions_known, 1);
    assert_int_equal(c3->streams[TS_ENT_PRODUCTS].crawl_error, 1);
    assert_int_equal(c3->check_restored, 0);
    assert_true(c3->hist_check_at > 0 && c3->hist_check_at <= util_mono_ms());
    assert_true(fx_sched_scheduled(&c3->check));
    fx_test_engine_free(d.e, d.producer);
    PQfinish(db);
    tdb_destroy(&t);
}

/* A failed statement keeps the checks queued, and stores them once it can. */
static void a_failed_store_keeps_the_check(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    PGconn *db = fx_open(&t);
    replica a;
    replica_new(&a, db);
    fx_conn *c = own(&a, CONN);
    assert_int_equal(fx_state_flush(a.e), 0); /* the new streams' rows */
    PQclear(tdb_q(t.sql, "ALTER TABLE fetcher_connection_checks RENAME TO fcc_away"));
    answer(a.e, c, util_now_ms());
    assert_int_equal(fx_state_flush(a.e), -1);
    assert_int_equal(c->check_dirty, 1);
    assert_int_equal(c->check_queued, 1);
    assert_int_equal(a.e->ncheck, 1);
    PQclear(tdb_q(t.sql, "ALTER TABLE fcc_away RENAME TO fetcher_connection_checks"));
    a.e->check_retry_at = 0; /* its retry time has come */
    assert_int_equal(fx_state_flush(a.e), 0);
    assert_int_equal(c->check_dirty, 0);
    assert_int_equal(a.e->ncheck, 0);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_connection_checks"), 1);
    fx_test_engine_free(a.e, a.producer);
    PQfinish(db);
    tdb_destroy(&t);
}

/* fx_db_hist_put_many: a page's first syncs in one statement (one xmin), as that many
 * fx_db_hist_put without dates: a stored row keeps its dates, its change number moves. */
static void first_syncs_stored_together(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    PGconn *db = fx_open(&t);
    char err[256] = "";
    assert_int_equal(
        fx_db_hist_put(db, "conn-1", "orders", 1700000000000LL, 0, "webhook", err, sizeof err), 0);
    long seq0 = tdb_count(t.sql, "SELECT seq FROM fetcher_historical_syncs");
    const char *conns[] = {"conn-1", "conn-1", "conn-2", "we\"ird,{id}"};
    const char *res[] = {"orders", "returns", "orders", "bills"};
    assert_int_equal(fx_db_hist_put_many(db, conns, res, 4, err, sizeof err), 0);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_historical_syncs"), 4);
    assert_int_equal(tdb_count(t.sql, "SELECT count(DISTINCT xmin::text) FROM "
                                      "fetcher_historical_syncs"),
                     1);
    assert_int_equal(tdb_count(t.sql,
                               "SELECT count(*) FROM fetcher_historical_syncs WHERE "
                               "connection_id = 'conn-1' AND resource = 'orders' AND "
                               "oldest_data_date IS NOT NULL AND seq > %ld",
                               seq0),
                     1);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_historical_syncs WHERE "
                                      "connection_id = 'we\"ird,{id}' AND source = 'api'"),
                     1);
    assert_int_equal(fx_db_hist_put_many(db, conns, res, 0, err, sizeof err), 0);
    PQfinish(db);
    tdb_destroy(&t);
}

/* ---- GET /integrations/wms stored ---- */

typedef struct integ_server {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    int asked;
    char url[64];
} integ_server;

static enum MHD_Result integ_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version, const char *upload,
                                     size_t *upload_len, void **req_cls) {
    (void)version, (void)upload, (void)upload_len, (void)req_cls;
    integ_server *s = cls;
    static const char list[] =
        "{\"data\":[{\"integration_name\":\"sandbox\",\"available_actions\":[\"get_orders\"]}]}";
    int found = strcmp(method, "GET") == 0 && strcmp(url, "/integrations/wms") == 0;
    if (found) {
        pthread_mutex_lock(&s->mu);
        s->asked++;
        pthread_mutex_unlock(&s->mu);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        found ? sizeof list - 1 : 0, (void *)(found ? list : ""), MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, found ? 200 : 404, r);
    MHD_destroy_response(r);
    return rc;
}

static int integ_asked(integ_server *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->asked;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* A replica on db asking s; turns until its integrations are known (or 5 s). */
static void integ_replica(replica *r, PGconn *db, integ_server *s) {
    replica_new(r, db);
    r->e->cfg.base_url = s->url;
    int64_t until = util_mono_ms() + 5000;
    while (!r->e->integ_known && util_mono_ms() < until)
        fx_engine_step(r->e, 10);
    assert_int_equal(r->e->integ_known, 1);
    assert_int_equal(r->e->ninteg, 1);
    assert_string_equal(r->e->integs[0].name, "sandbox");
    assert_true(r->e->integs[0].reads & (1u << TS_ENT_ORDERS));
}

static void integrations_stored_and_read_back(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    PGconn *db = fx_open(&t);
    integ_server s = {0};
    assert_int_equal(pthread_mutex_init(&s.mu, NULL), 0);
    s.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                           integ_handler, &s, MHD_OPTION_END);
    assert_non_null(s.d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    snprintf(s.url, sizeof s.url, "http://127.0.0.1:%u", (unsigned)info->port);

    replica a; /* nothing stored: asks, and stores the answer */
    integ_replica(&a, db, &s);
    assert_int_equal(integ_asked(&s), 1);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_integrations"
                                      " WHERE fetched_at > now() - interval '1 minute'"),
                     1);
    fx_test_engine_free(a.e, a.producer);

    replica b; /* the restart: the stored answer, and the next look an hour after it */
    int64_t now = util_mono_ms();
    integ_replica(&b, db, &s);
    assert_int_equal(integ_asked(&s), 1);
    assert_true(b.e->integ_next >= now + FX_TEST_HOUR_MS - 60000);
    assert_true(b.e->integ_next <= util_mono_ms() + FX_TEST_HOUR_MS + FX_TEST_HOUR_MS / 10);
    fx_test_engine_free(b.e, b.producer);

    /* stored longer ago than the lifetime: asked again */
    PQclear(tdb_q(t.sql, "UPDATE fetcher_integrations SET fetched_at = now() - interval "
                         "'2 hours'"));
    replica d;
    integ_replica(&d, db, &s);
    assert_int_equal(integ_asked(&s), 2);
    fx_test_engine_free(d.e, d.producer);

    /* an older answer (a slow replica's) does not replace the newer one */
    char err[256] = "";
    assert_int_equal(fx_db_integrations_put(db, "{\"data\":[]}", 1000, err, sizeof err), 0);
    char *body = NULL;
    int64_t fetched = 0;
    assert_int_equal(fx_db_integrations_get(db, &body, &fetched, err, sizeof err), 1);
    assert_non_null(strstr(body, "sandbox"));
    assert_true(fetched > util_now_ms() - 60000);
    free(body);
    MHD_stop_daemon(s.d);
    pthread_mutex_destroy(&s.mu);
    PQfinish(db);
    tdb_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checks_read_back_exactly),
        cmocka_unit_test(many_connections_read_together),
        cmocka_unit_test(a_restart_reads_back_and_does_not_ask),
        cmocka_unit_test(a_failed_store_keeps_the_check),
        cmocka_unit_test(integrations_stored_and_read_back),
        cmocka_unit_test(first_syncs_stored_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
