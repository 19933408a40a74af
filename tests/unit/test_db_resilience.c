/* test_db_resilience.c - wdb_apply when things go wrong around it: the server drops the
 * session, a statement is cancelled while waiting on a lock, the schema is not there yet,
 * and several writers apply overlapping histories at once. Transient failures must commit
 * nothing and mark nothing rejected; concurrent writers must converge on the newest
 * versions without a single unique violation. Needs TEST_DATABASE_URL. */
#include <pthread.h>

#include "db_test_records.h"

#define WRITERS 3
#define RACE_RECORDS 40
#define RACE_VERSIONS 5
#define RACE_BATCH 25
#define MAX_RETRIES 50

static int backend_pid(const tdb *t) {
    return (int)tdb_count(t->sql,
                          "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = '%s' "
                          "AND application_name = 'trackstar-writer'",
                          t->name);
}

static void test_lost_connection_is_a_retry(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    char *v1 = tent_make(&tents[0], "o1", 100, 1, 0), *v2 = tent_make(&tents[0], "o2", 100, 2, 0);
    tdb_apply(db, "wms.orders.v1", &v1, 1, WDB_OK);
    int pid = backend_pid(&t);
    assert_true(pid > 0);
    PQclear(tdb_q(t.sql, "SELECT pg_terminate_backend(%d)", pid));
    for (int i = 0; i < 100 && backend_pid(&t) == pid; i++)
        usleep(10000);

    wdb_item it = {.topic = "wms.orders.v1", .value = v2, .value_len = strlen(v2)};
    char err[256] = "";
    assert_int_equal(wdb_apply(db, &it, 1, err, sizeof err), WDB_RETRY);
    assert_false(it.rejected);
    assert_true(err[0] != '\0');
    assert_false(wdb_ok(db));
    assert_int_equal(wdb_apply(db, &it, 1, err, sizeof err), WDB_RETRY); /* still down: no crash */
    wdb_close(db);

    db = tdb_open(&t); /* what the writer's loop does: reopen, retry the same batch */
    assert_int_equal(wdb_apply(db, &it, 1, err, sizeof err), WDB_OK);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM orders"), 2);
    free(v1), free(v2);
    wdb_close(db);
    tdb_destroy(&t);
}

typedef struct apply_job {
    wdb *db;
    wdb_item *items;
    int n;
    wdb_result r;
    char err[256];
} apply_job;

static void *apply_thread(void *arg) {
    apply_job *j = arg;
    j->r = wdb_apply(j->db, j->items, j->n, j->err, sizeof j->err);
    return NULL;
}

static void test_cancelled_statement_commits_nothing(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    char *v1 = tent_make(&tents[0], "locked", 100, 1, 0);
    tdb_apply(db, "wms.orders.v1", &v1, 1, WDB_OK);
    int pid = backend_pid(&t);

    /* another session holds the row; the writer's batch (a new record plus an update of
     * the held one) blocks, then gets cancelled */
    PGconn *holder = PQconnectdb(t.conninfo);
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    PQclear(tdb_q(holder, "BEGIN"));
    PQclear(tdb_q(holder, "SELECT 1 FROM orders WHERE id = 'locked' FOR UPDATE"));
    char *vals[] = {tent_make(&tents[0], "fresh", 100, 1, 0),
                    tent_make(&tents[0], "locked", 200, 2, 0)};
    wdb_item items[2];
    for (int i = 0; i < 2; i++)
        items[i] =
            (wdb_item){.topic = "wms.orders.v1", .value = vals[i], .value_len = strlen(vals[i])};
    apply_job j = {.db = db, .items = items, .n = 2};
    pthread_t th;
    pthread_create(&th, NULL, apply_thread, &j);
    int waited = 0;
    for (int i = 0; i < 500 && !waited; i++) {
        waited =
            tdb_count(
                t.sql,
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %d AND wait_event_type = 'Lock'",
                pid) > 0;
        if (!waited) usleep(10000);
    }
    assert_true(waited);
    PQclear(tdb_q(t.sql, "SELECT pg_cancel_backend(%d)", pid));
    pthread_join(th, NULL);
    assert_int_equal(j.r, WDB_RETRY);
    assert_non_null(strstr(j.err, "57014"));
    assert_false(items[0].rejected || items[1].rejected);
    assert_true(wdb_ok(db)); /* the session survives a cancel */
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM orders WHERE id = 'fresh'"), 0);

    PQclear(tdb_q(holder, "COMMIT"));
    PQfinish(holder);
    assert_int_equal(wdb_apply(db, items, 2, j.err, sizeof j.err), WDB_OK);
    tdb_assert_val(
        t.sql, "v1|v2",
        "SELECT string_agg(status, '|' ORDER BY id) FROM orders WHERE id IN ('fresh', 'locked')");
    free(v1), free(vals[0]), free(vals[1]);
    wdb_close(db);
    tdb_destroy(&t);
}

static void test_missing_schema_is_a_retry_until_migrated(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 0);
    wdb *db = tdb_open(&t);
    char *v = tent_make(&tents[0], "o1", 100, 1, 0);
    wdb_item it = {.topic = "wms.orders.v1", .value = v, .value_len = strlen(v)};
    char err[256];
    assert_int_equal(wdb_apply(db, &it, 1, err, sizeof err), WDB_RETRY);
    assert_non_null(strstr(err, "does not exist"));
    assert_false(it.rejected);
    assert_int_equal(wdb_migrate(db, tdb_migrations(), err, sizeof err), 0);
    assert_int_equal(wdb_apply(db, &it, 1, err, sizeof err), WDB_OK);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM orders"), 1);
    free(v);
    wdb_close(db);
    tdb_destroy(&t);
}

typedef struct racer {
    const tdb *t;
    char **hist;
    int n;
    unsigned seed;
    int retries;
    char err[256];
    int failed;
} racer;

static void *race_thread(void *arg) {
    racer *r = arg;
    wdb *db = wdb_open(r->t->conninfo, r->err, sizeof r->err);
    if (!db) {
        r->failed = 1;
        return NULL;
    }
    wdb_item items[RACE_BATCH];
    for (int i = 0; i < r->n;) {
        int len = 1 + (int)(rand_r(&r->seed) % RACE_BATCH);
        if (len > r->n - i) len = r->n - i;
        for (int k = 0; k < len; k++) {
            items[k] = (wdb_item){.topic = strstr(r->hist[i + k], "\"entity\":\"order\"")
                                               ? "wms.orders.v1"
                                               : "wms.inventory.v1",
                                  .value = r->hist[i + k],
                                  .value_len = strlen(r->hist[i + k])};
        }
        int tries = 0;
        while (wdb_apply(db, items, len, r->err, sizeof r->err) != WDB_OK) {
            /* deadlocks between writers are transient: retry, reconnecting if needed */
            if (++tries > MAX_RETRIES) {
                r->failed = 1;
                wdb_close(db);
                return NULL;
            }
            r->retries++;
            if (!wdb_ok(db)) {
                wdb_close(db);
                db = wdb_open(r->t->conninfo, r->err, sizeof r->err);
                if (!db) {
                    r->failed = 1;
                    return NULL;
                }
            }
        }
        for (int k = 0; k < len; k++)
            if (items[k].rejected) r->failed = 1;
        i += len;
    }
    wdb_close(db);
    return NULL;
}

static void test_concurrent_writers_converge(void **state) {
    (void)state;
    tdb t, ref;
    tdb_create(&t, 1);
    tdb_create(&ref, 1);
    enum { N = 2 * RACE_RECORDS * RACE_VERSIONS };
    char *hist[N], *newest[2 * RACE_RECORDS];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < RACE_RECORDS; r++) {
            char id[16];
            snprintf(id, sizeof id, "x%d", r);
            for (int v = 0; v < RACE_VERSIONS; v++) {
                hist[n++] = tent_make(&tents[k], id, 10 * v + r % 7, v + r, 0);
                if (v == RACE_VERSIONS - 1) newest[k * RACE_RECORDS + r] = hist[n - 1];
            }
        }
    }
    racer rs[WRITERS];
    pthread_t th[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        /* every writer gets the whole history in its own order: maximal overlap */
        rs[w] = (racer){.t = &t, .n = N, .seed = 7u + (unsigned)w};
        rs[w].hist = malloc(sizeof hist);
        memcpy(rs[w].hist, hist, sizeof hist);
        for (int i = N - 1; i > 0; i--) {
            int j = (int)(rand_r(&rs[w].seed) % (unsigned)(i + 1));
            char *x = rs[w].hist[i];
            rs[w].hist[i] = rs[w].hist[j];
            rs[w].hist[j] = x;
        }
        pthread_create(&th[w], NULL, race_thread, &rs[w]);
    }
    for (int w = 0; w < WRITERS; w++) {
        pthread_join(th[w], NULL);
        if (rs[w].failed) fail_msg("writer %d failed: %s", w, rs[w].err);
        free(rs[w].hist);
    }
    wdb *db = tdb_open(&ref);
    assert_int_equal(tdb_apply(db, "wms.orders.v1", newest, RACE_RECORDS, WDB_OK), 0);
    assert_int_equal(tdb_apply(db, "wms.inventory.v1", newest + RACE_RECORDS, RACE_RECORDS, WDB_OK),
                     0);
    wdb_close(db);
    char *a = tdb_dump(t.sql, 0), *b = tdb_dump(ref.sql, 0);
    assert_string_equal(a, b);
    free(a), free(b);
    for (int i = 0; i < N; i++)
        free(hist[i]);
    tdb_destroy(&ref);
    tdb_destroy(&t); /* fails on any unique violation in the server log */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_connection_is_a_retry),
        cmocka_unit_test(test_cancelled_statement_commits_nothing),
        cmocka_unit_test(test_missing_schema_is_a_retry_until_migrated),
        cmocka_unit_test(test_concurrent_writers_converge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
