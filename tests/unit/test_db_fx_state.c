/* test_db_fx_state.c - the fetcher's stream state stored in batches (issue 24). Before,
 * every state change was a round trip of its own on the loop's thread (about five per
 * stream in a first sync); now a loop turn stores every dirty stream in one statement.
 * Shown here against PostgreSQL (TEST_DATABASE_URL, as every test_db_*):
 *   - N rows in one fx_db_streams_put are one transaction (one xmin), and every field
 *     reads back exactly as it was put, through the same reader the fetcher loads with;
 *   - the engine: N dirty streams queued by fx_stream_save, one fx_state_flush, one
 *     statement storing all N (the metrics count it), all clean afterwards;
 *   - a failed statement leaves every one of them dirty, unqueued and woken for its retry,
 *     and the next flush stores them;
 *   - more than FX_DB_STREAMS_MAX dirty streams are split into statements of at most that;
 *   - a loop turn (fx_state_flush_turn) stores one statement's worth: the rest stays queued
 *     in order for the next turns, a stream changed again while queued is stored once, and
 *     a connection's check waits until no stream is left queued.
 */
#include "db_test_util.h"

#include <librdkafka/rdkafka.h>

#include "fetcher/fx_db.h"
#include "fetcher/fx_engine_int.h"
#include "fx_test_engine.h"
#include "metrics.h"

#define T_HOUR_MS FX_TEST_HOUR_MS

static PGconn *fx_open(const tdb *t) {
    char err[512];
    PGconn *db = fx_db_open(t->conninfo, err, sizeof err);
    if (!db) fail_msg("fx_db_open: %s", err);
    return db;
}

/* A stream whose every field differs from the next one's; i == 0 leaves the optional
 * fields empty (stored as NULL), odd ones carry text needing quoting. s is zeroed or was
 * filled by this before (its last_error is freed). */
static void stream_values(int i, fx_db_stream *s) {
    fx_db_stream_clear(s);
    memset(s, 0, sizeof *s);
    snprintf(s->state, sizeof s->state, "%s", i % 2 ? "running" : "idle");
    snprintf(s->cursor_field, sizeof s->cursor_field, "%s",
             i % 3 ? "updated_date" : "trackstar_updated_date");
    if (i == 0) return;
    int64_t base = 1780000000000LL + (int64_t)i * 1001;
    s->cursor_ms = base + 1;
    s->backfill_done = i % 2;
    s->run_started_ms = base + 2;
    s->last_started_ms = base + 3;
    s->last_success_ms = base + 4;
    s->records_seen = (int64_t)i * 1000003;
    char err[128];
    snprintf(
        err, sizeof err, "%s %d",
        i % 2 ? "HTTP 500: \"quoted\", back\\slash, {brace}, 'tick', ünïcode, NULL" : "timeout", i);
    assert_int_equal(fx_db_stream_error(s, err), 0);
    s->next_due_ms = base + 5;
    s->unsupported_until_ms = base + 6;
    s->sync_frequency_s = i * 60;
    s->crawl_end_ms = base + 7;
    s->crawl_start_ms = base + 8;
    s->crawl_error = i % 3 == 1;
    s->cursor_rule = i % 2;
}

static void assert_stream_equal(const fx_db_stream *a, const fx_db_stream *b) {
    assert_string_equal(a->state, b->state);
    assert_string_equal(a->cursor_field, b->cursor_field);
    assert_int_equal(a->cursor_ms, b->cursor_ms);
    assert_int_equal(a->backfill_done, b->backfill_done);
    assert_int_equal(a->run_started_ms, b->run_started_ms);
    assert_int_equal(a->last_started_ms, b->last_started_ms);
    assert_int_equal(a->last_success_ms, b->last_success_ms);
    assert_int_equal(a->records_seen, b->records_seen);
    if (a->last_error && b->last_error)
        assert_string_equal(a->last_error, b->last_error);
    else
        assert_ptr_equal(a->last_error, b->last_error); /* both none */
    assert_int_equal(a->next_due_ms, b->next_due_ms);
    assert_int_equal(a->unsupported_until_ms, b->unsupported_until_ms);
    assert_int_equal(a->sync_frequency_s, b->sync_frequency_s);
    assert_int_equal(a->crawl_end_ms, b->crawl_end_ms);
    assert_int_equal(a->crawl_start_ms, b->crawl_start_ms);
    assert_int_equal(a->crawl_error, b->crawl_error);
    assert_int_equal(a->cursor_rule, b->cursor_rule);
}

/* ---- fx_db_streams_put ---- */

#define N_ROWS 40

static void many_rows_one_transaction_exact_values(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    PGconn *db = fx_open(&t);
    static fx_db_stream s[N_ROWS];
    static char ids[N_ROWS][32];
    fx_db_stream_row rows[N_ROWS];
    for (int i = 0; i < N_ROWS; i++) {
        stream_values(i, &s[i]);
        snprintf(ids[i], sizeof ids[i], "conn-%d", i / 4);
        rows[i] =
            (fx_db_stream_row){.conn = ids[i], .resource = ts_entities[i % 4].name, .s = &s[i]};
    }
    char err[256] = "";
    assert_int_equal(fx_db_streams_put(db, rows, N_ROWS, err, sizeof err), 0);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_streams"), N_ROWS);
    /* one statement, one transaction: every row carries the same xmin */
    assert_int_equal(tdb_count(t.sql, "SELECT count(DISTINCT xmin::text) FROM fetcher_streams"), 1);
    for (int i = 0; i < N_ROWS; i++) {
        fx_db_stream got;
        assert_int_equal(fx_db_stream_get(db, ids[i], rows[i].resource, &got, err, sizeof err), 1);
        assert_stream_equal(&got, &s[i]);
        fx_db_stream_clear(&got);
    }
    /* an update of rows stored: the upsert, again in one transaction */
    for (int i = 0; i < N_ROWS; i++)
        stream_values(N_ROWS - 1 - i, &s[i]);
    assert_int_equal(fx_db_streams_put(db, rows, N_ROWS, err, sizeof err), 0);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM fetcher_streams"), N_ROWS);
    assert_int_equal(tdb_count(t.sql, "SELECT count(DISTINCT xmin::text) FROM fetcher_streams"), 1);
    for (int i = 0; i < N_ROWS; i++) {
        fx_db_stream got;
        assert_int_equal(fx_db_stream_get(db, ids[i], rows[i].resource, &got, err, sizeof err), 1);
        assert_stream_equal(&got, &s[i]);
        fx_db_stream_clear(&got);
    }
    /* the single-row put is the same statement with one row */
    fx_db_stream one = {0};
    stream_values(7, &one);
    assert_int_equal(fx_db_stream_put(db, "conn-single", "orders", &one, err, sizeof err), 0);
    fx_db_stream got;
    assert_int_equal(fx_db_stream_get(db, "conn-single", "orders", &got, err, sizeof err), 1);
    assert_stream_equal(&got, &one);
    fx_db_stream_clear(&got);
    fx_db_stream_clear(&one);
    for (int i = 0; i < N_ROWS; i++)
        fx_db_stream_clear(&s[i]);
    /* bounded: a statement never takes more than FX_DB_STREAMS_MAX rows */
    assert_int_equal(fx_db_streams_put(db, rows, FX_DB_STREAMS_MAX + 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "at most"));
    assert_int_equal(fx_db_streams_put(db, rows, 0, err, sizeof err), 0);
    PQfinish(db);
    tdb_destroy(&t);
}

/* ---- the engine: fx_stream_save queues, fx_state_flush stores ---- */

typedef struct world {
    tdb t;
    PGconn *db;
    rd_kafka_t *producer;
    fx_engine *e;
} world;

static void world_new(world *w) {
    char err[512];
    tdb_create(&w->t, 1);
    w->db = fx_open(&w->t);
    w->e = fx_test_engine_new(w->db, &w->producer, err, sizeof err);
    assert_non_null(w->e);
}

static void world_free(world *w) {
    fx_test_engine_free(w->e, w->producer);
    PQfinish(w->db);
    tdb_destroy(&w->t);
}

/* nconn owned connections with every stream loaded, dirty (values i) and queued. */
static void add_dirty(world *w, int nconn, int salt) {
    fx_engine *e = w->e;
    for (int i = 0; i < nconn; i++) {
        char id[32];
        snprintf(id, sizeof id, "conn-%05d", i);
        fx_conn *c = fx_conn_get(e, id, 1);
        assert_non_null(c);
        if (!c->owned) {
            assert_int_equal(fx_conn_streams_new(c), 0);
            c->owned = 1;
            e->owned_conns++;
        }
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            fx_stream *st = &c->streams[r];
            st->loaded = 1;
            stream_values(i * TS_ENTITY_COUNT + r + salt, &st->d);
            st->dirty = 1;
            fx_stream_save(e, st);
            fx_stream_save(e, st); /* saved twice in a turn: queued once */
        }
    }
}

static void each_stream(world *w, int nconn, void (*fn)(world *, fx_stream *, int, int)) {
    for (int i = 0; i < nconn; i++) {
        char id[32];
        snprintf(id, sizeof id, "conn-%05d", i);
        fx_conn *c = fx_conn_get(w->e, id, 0);
        assert_non_null(c);
        for (int r = 0; r < TS_ENTITY_COUNT; r++)
            fn(w, &c->streams[r], i, r);
    }
}

static int g_salt;
static void assert_clean_and_stored(world *w, fx_stream *st, int i, int r) {
    assert_int_equal(st->dirty, 0);
    assert_int_equal(st->save_queued, 0);
    fx_db_stream want = {0}, got;
    stream_values(i * TS_ENTITY_COUNT + r + g_salt, &want);
    char err[256] = "";
    assert_int_equal(fx_db_stream_get(w->db, st->c->id, ts_entities[r].name, &got, err, sizeof err),
                     1);
    assert_stream_equal(&got, &want);
    fx_db_stream_clear(&got);
    fx_db_stream_clear(&want);
}

static void assert_dirty_and_waking(world *w, fx_stream *st, int i, int r) {
    (void)w;
    (void)i;
    (void)r;
    assert_int_equal(st->dirty, 1);
    assert_int_equal(st->save_queued, 0);
    assert_true(fx_sched_scheduled(&st->wake)); /* its retry, FX_SAVE_RETRY_MS on */
}

#define N_CONNS 20 /* 20 x TS_ENTITY_COUNT streams: fewer than FX_DB_STREAMS_MAX */

static void dirty_streams_one_write_failure_keeps_them_dirty(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine *e = w.e;
    int n = N_CONNS * TS_ENTITY_COUNT;
    assert_true(n < FX_DB_STREAMS_MAX);
    add_dirty(&w, N_CONNS, g_salt = 0);
    assert_int_equal(e->nsave, n);
    int64_t writes = metric_get(e->m.state_writes), rows = metric_get(e->m.state_rows);
    int64_t fails = metric_get(e->m.state_write_failures);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_streams"), 0);

    assert_int_equal(fx_state_flush(e), 0);
    assert_int_equal(metric_get(e->m.state_writes) - writes, 1); /* one round trip */
    assert_int_equal(metric_get(e->m.state_rows) - rows, n);     /* storing all N */
    assert_int_equal(e->nsave, 0);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_streams"), n);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(DISTINCT xmin::text) FROM fetcher_streams"),
                     1);
    each_stream(&w, N_CONNS, assert_clean_and_stored);
    assert_int_equal(fx_state_flush(e), 0); /* nothing queued: no statement */
    assert_int_equal(metric_get(e->m.state_writes) - writes, 1);

    /* The statement fails (the table is not there): nothing is clean, all retry. */
    add_dirty(&w, N_CONNS, g_salt = 1);
    PQclear(tdb_q(w.t.sql, "ALTER TABLE fetcher_streams RENAME TO fetcher_streams_away"));
    assert_int_equal(fx_state_flush(e), -1);
    assert_int_equal(metric_get(e->m.state_write_failures) - fails, 1);
    assert_int_equal(metric_get(e->m.state_rows) - rows, n);
    assert_int_equal(e->nsave, 0);
    each_stream(&w, N_CONNS, assert_dirty_and_waking);
    PQclear(tdb_q(w.t.sql, "ALTER TABLE fetcher_streams_away RENAME TO fetcher_streams"));
    /* the rows still hold the first values: nothing of the failed batch was stored */
    g_salt = 0;
    for (int i = 0; i < N_CONNS; i++) {
        fx_db_stream want = {0}, got;
        char id[32], err[256] = "";
        snprintf(id, sizeof id, "conn-%05d", i);
        stream_values(i * TS_ENTITY_COUNT, &want);
        assert_int_equal(fx_db_stream_get(w.db, id, ts_entities[0].name, &got, err, sizeof err), 1);
        assert_stream_equal(&got, &want);
        fx_db_stream_clear(&got);
        fx_db_stream_clear(&want);
    }

    /* Their retry turn queues them again (stream_turn ends in fx_stream_save). */
    add_dirty(&w, N_CONNS, g_salt = 1);
    assert_int_equal(fx_state_flush(e), 0);
    assert_int_equal(metric_get(e->m.state_rows) - rows, 2 * n);
    each_stream(&w, N_CONNS, assert_clean_and_stored);
    world_free(&w);
}

static void more_than_a_statement_is_split(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine *e = w.e;
    /* 1,200 streams or so: three statements of at most FX_DB_STREAMS_MAX rows */
    int nconn = (2 * FX_DB_STREAMS_MAX + 100 + TS_ENTITY_COUNT - 1) / TS_ENTITY_COUNT;
    int n = nconn * TS_ENTITY_COUNT;
    int64_t writes = metric_get(e->m.state_writes), rows = metric_get(e->m.state_rows);
    add_dirty(&w, nconn, g_salt = 3);
    assert_int_equal(fx_state_flush(e), 0);
    assert_int_equal(metric_get(e->m.state_writes) - writes,
                     (n + FX_DB_STREAMS_MAX - 1) / FX_DB_STREAMS_MAX);
    assert_int_equal(metric_get(e->m.state_rows) - rows, n);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_streams"), n);
    each_stream(&w, nconn, assert_clean_and_stored);
    world_free(&w);
}

static void a_turn_stores_one_statement(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine *e = w.e;
    int nconn = (2 * FX_SAVE_TURN_ROWS + 100 + TS_ENTITY_COUNT - 1) / TS_ENTITY_COUNT;
    int n = nconn * TS_ENTITY_COUNT;
    int64_t writes = metric_get(e->m.state_writes), rows = metric_get(e->m.state_rows);
    add_dirty(&w, nconn, g_salt = 5);
    fx_conn *c0 = fx_conn_get(e, "conn-00000", 0);
    c0->checked_ms = 1780000000000LL;
    c0->check_dirty = 1;
    fx_conn_save(e, c0);

    assert_int_equal(fx_state_flush_turn(e), 0);
    assert_int_equal(metric_get(e->m.state_writes) - writes, 1);
    assert_int_equal(metric_get(e->m.state_rows) - rows, FX_SAVE_TURN_ROWS);
    assert_int_equal(e->nsave, n - FX_SAVE_TURN_ROWS);
    assert_int_equal(e->ncheck, 1); /* its streams stored, but others wait: not yet */
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_connection_checks"), 0);
    /* the first ones queued went first, in order */
    assert_int_equal(c0->streams[0].dirty, 0);
    fx_stream *last = &fx_conn_get(e, "conn-00000", 0)->streams[0];
    char lid[32];
    snprintf(lid, sizeof lid, "conn-%05d", nconn - 1);
    fx_stream *tail = &fx_conn_get(e, lid, 0)->streams[TS_ENTITY_COUNT - 1];
    assert_int_equal(tail->dirty, 1);
    assert_int_equal(tail->save_queued, 1);
    /* changed again: the queued one stays queued once, the stored one queues at the end */
    tail->dirty = 1;
    fx_stream_save(e, tail);
    last->dirty = 1;
    fx_stream_save(e, last);
    assert_int_equal(e->nsave, n - FX_SAVE_TURN_ROWS + 1);

    int turns = 1;
    while (e->nsave > 0 && turns < 10) {
        assert_int_equal(fx_state_flush_turn(e), 0);
        turns++;
    }
    assert_int_equal(turns, (n + 1 + FX_SAVE_TURN_ROWS - 1) / FX_SAVE_TURN_ROWS);
    assert_int_equal(metric_get(e->m.state_rows) - rows, n + 1);
    /* statements: one a turn, then the check with the last */
    assert_int_equal(metric_get(e->m.state_writes) - writes, turns + 1);
    assert_int_equal(e->ncheck, 0);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_connection_checks"), 1);
    assert_int_equal(tdb_count(w.t.sql, "SELECT count(*) FROM fetcher_streams"), n);
    each_stream(&w, nconn, assert_clean_and_stored);
    world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_rows_one_transaction_exact_values),
        cmocka_unit_test(dirty_streams_one_write_failure_keeps_them_dirty),
        cmocka_unit_test(more_than_a_statement_is_split),
        cmocka_unit_test(a_turn_stores_one_statement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
