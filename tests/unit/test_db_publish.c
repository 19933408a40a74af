/* test_db_publish.c - what wdb_apply reports as applied (the writer publishes exactly that),
 * deletes and comebacks in the version order of docs/consuming.md, the partition fence,
 * the stored rows of recovered records, and purged connections, against a real
 * PostgreSQL (TEST_DATABASE_URL). */
#include "db_test_records.h"
#include "purge.h"

#define INV_TOPIC "wms.inventory.v1"

/* A version of inventory item inv_1: updated at 2026-01-01 + minutes, name "v<variant>",
 * from source ("webhook" or "poll") observed at observed. */
static char *inv(int minutes, int variant, const char *source, const char *observed) {
    char *v = tent_make(&tents[1], "inv_1", minutes, variant, 0);
    cJSON *r = cJSON_Parse(v);
    free(v);
    cJSON_ReplaceItemInObjectCaseSensitive(r, "source", cJSON_CreateString(source));
    cJSON_ReplaceItemInObjectCaseSensitive(r, "observed_at", cJSON_CreateString(observed));
    char *out = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return out;
}

/* A delete record of inv_1 from a listing that began at listed_at, superseding the
 * version updated at 2026-01-01 + minutes. */
static char *gone(int minutes, const char *listed_at) {
    char ts[32], *out = malloc(1024);
    snprintf(ts, sizeof ts, "2026-01-01T%02d:%02d:00Z", minutes / 60, minutes % 60);
    snprintf(out, 1024,
             "{\"schema_version\":1,\"entity\":\"inventory_item\",\"connection_id\":\"conn_t\","
             "\"integration_name\":\"shiphero\",\"id\":\"inv_1\",\"source\":\"poll\","
             "\"event_id\":\"gone:%s\",\"event_type\":\"inventory.gone\","
             "\"source_updated_at\":\"%s\",\"trackstar_updated_at\":null,"
             "\"observed_at\":\"%s\",\"deleted\":true,\"deleted_at\":\"%s\"}",
             listed_at, ts, listed_at, listed_at);
    return out;
}

typedef struct run {
    int n;
    const wdb_pub *pubs;
    int npubs;
    wdb_item items[16];
} run;

/* Apply values[0..n) as one batch; the publish list lands in r. */
static void apply(wdb *db, run *r, char **values, int n, const int *recover) {
    char err[512];
    memset(r, 0, sizeof *r);
    r->n = n;
    for (int i = 0; i < n; i++)
        r->items[i] = (wdb_item){.topic = INV_TOPIC,
                                 .value = values[i],
                                 .value_len = strlen(values[i]),
                                 .recover = recover ? recover[i] : 0};
    wdb_result rc = wdb_apply(db, r->items, n, err, sizeof err);
    if (rc != WDB_OK) fail_msg("wdb_apply: %d %s", rc, err);
    for (int i = 0; i < n; i++)
        if (r->items[i].rejected) fail_msg("item %d rejected: %s", i, r->items[i].reason);
    r->npubs = wdb_published(db, &r->pubs);
}

/* The publish list as "item" numbers, "T" for a tombstone, "S" for a stored row. */
static void assert_pubs(const run *r, const char *want) {
    char got[256] = "";
    size_t len = 0;
    for (int i = 0; i < r->npubs; i++) {
        const wdb_pub *p = &r->pubs[i];
        assert_string_equal(p->topic, INV_TOPIC);
        assert_int_equal((int)p->key_len, (int)strlen("conn_t|inv_1"));
        assert_memory_equal(p->key, "conn_t|inv_1", p->key_len);
        if (p->item >= 0) {
            assert_ptr_equal(p->value, r->items[p->item].value);
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%d", i ? " " : "", p->item);
        } else {
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " " : "",
                                    p->value ? "S" : "T");
        }
    }
    if (strcmp(got, want) != 0) fail_msg("published [%s], expected [%s]", got, want);
}

/* "live <name> <levels>" or "deleted <name> <levels>". */
static void assert_row(const tdb *t, const char *want) {
    char *got =
        tdb_val(t->sql, "SELECT CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'deleted' END "
                        "|| ' ' || name || ' ' || (SELECT count(*) FROM inventory_levels l "
                        "WHERE l.connection_id = i.connection_id AND l.inventory_item_id = i.id) "
                        "FROM inventory_items i WHERE connection_id = 'conn_t' AND id = 'inv_1'");
    if (strcmp(got, want) != 0) fail_msg("row is [%s], expected [%s]", got, want);
    free(got);
}

static void test_publishes_exactly_what_was_applied(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    run r;
    /* newer, then older, then the newer one again: the newest once (the first of two
     * webhooks of one version stands: writer/db_version.h) */
    char *a[] = {inv(20, 2, "webhook", "2026-02-01T00:00:00Z"),
                 inv(10, 1, "webhook", "2026-02-01T00:00:01Z"),
                 inv(20, 2, "webhook", "2026-02-01T00:00:00Z")};
    apply(db, &r, a, 3, NULL);
    assert_pubs(&r, "0");
    assert_row(&t, "live v2 3");
    /* the same again, and an older one: nothing applied, nothing published */
    apply(db, &r, a, 3, NULL);
    assert_pubs(&r, "");
    /* a newer one: published */
    char *b[] = {inv(30, 3, "poll", "2026-02-01T00:01:00Z")};
    apply(db, &r, b, 1, NULL);
    assert_pubs(&r, "0");
    assert_row(&t, "live v3 1");
    const char *at = wdb_applied_at(db);
    assert_int_equal((int)strlen(at), 24); /* 2026-01-01T00:00:00.000Z */
    assert_int_equal(at[23], 'Z');
    for (int i = 0; i < 3; i++)
        free(a[i]);
    free(b[0]);
    wdb_close(db);
    tdb_destroy(&t);
}

static void test_delete_and_comeback_order(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    run r;
    char *v1 = inv(10, 1, "poll", "2026-02-01T00:00:00Z");
    apply(db, &r, &v1, 1, NULL);
    /* a listing that began before a newer version was seen cannot delete it */
    char *v2 = inv(20, 2, "webhook", "2026-02-01T01:00:00Z");
    apply(db, &r, &v2, 1, NULL);
    char *stale = gone(10, "2026-02-01T00:30:00Z");
    apply(db, &r, &stale, 1, NULL);
    assert_pubs(&r, "");
    assert_row(&t, "live v2 3");
    /* the listing that supersedes the stored version deletes it: record, then tombstone */
    char *g = gone(20, "2026-02-01T02:00:00Z");
    apply(db, &r, &g, 1, NULL);
    assert_pubs(&r, "0 T");
    assert_row(&t, "deleted v2 0");
    char *rec = tdb_val(t.sql, "SELECT (record->>'deleted') || (record->>'deleted_at') FROM "
                               "inventory_items WHERE id = 'inv_1'");
    assert_string_equal(rec, "true2026-02-01T02:00:00Z");
    free(rec);
    /* replayed: nothing */
    apply(db, &r, &g, 1, NULL);
    assert_pubs(&r, "");
    /* a late webhook of an older or the same version: stays deleted */
    char *late[] = {inv(10, 1, "webhook", "2026-02-01T03:00:00Z"),
                    inv(20, 2, "webhook", "2026-02-01T03:00:00Z")};
    apply(db, &r, late, 2, NULL);
    assert_pubs(&r, "");
    assert_row(&t, "deleted v2 0");
    /* the same version polled before the listing began: stays deleted */
    char *early = inv(20, 2, "poll", "2026-02-01T01:59:00Z");
    apply(db, &r, &early, 1, NULL);
    assert_pubs(&r, "");
    /* seen again by a later poll, version unchanged: live again, children back */
    char *back = inv(20, 2, "poll", "2026-02-01T04:00:00Z");
    apply(db, &r, &back, 1, NULL);
    assert_pubs(&r, "0");
    assert_row(&t, "live v2 3");
    /* deleted again, then a strictly newer version from a webhook: live */
    char *g2 = gone(20, "2026-02-01T05:00:00Z");
    apply(db, &r, &g2, 1, NULL);
    assert_pubs(&r, "0 T");
    char *v3 = inv(30, 3, "webhook", "2026-02-01T05:30:00Z");
    apply(db, &r, &v3, 1, NULL);
    assert_pubs(&r, "0");
    assert_row(&t, "live v3 1");
    free(v1), free(v2), free(stale), free(g), free(late[0]), free(late[1]), free(early);
    free(back), free(g2), free(v3);
    wdb_close(db);
    tdb_destroy(&t);
}

/* One batch holding a version, its delete, and the record seen again: applied in arrival
 * order (generations), and so published. */
static void test_batch_keeps_arrival_order_across_deletes(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    run r;
    char *a[] = {inv(10, 1, "poll", "2026-02-01T00:00:00Z"), gone(10, "2026-02-01T01:00:00Z"),
                 inv(10, 1, "webhook", "2026-02-01T01:30:00Z"),
                 inv(10, 1, "poll", "2026-02-01T02:00:00Z")};
    apply(db, &r, a, 4, NULL);
    assert_pubs(&r, "0 1 T 3");
    assert_row(&t, "live v1 2");
    /* the same batch on a fresh database but ending with the delete */
    tdb t2;
    tdb_create(&t2, 1);
    wdb *db2 = tdb_open(&t2);
    char *b[] = {inv(10, 1, "poll", "2026-02-01T00:00:00Z"),
                 inv(20, 2, "webhook", "2026-02-01T00:10:00Z"), gone(20, "2026-02-01T01:00:00Z")};
    apply(db2, &r, b, 3, NULL);
    assert_pubs(&r, "1 2 T");
    assert_row(&t2, "deleted v2 0");
    /* a dump of the second equals one record at a time */
    tdb t3;
    tdb_create(&t3, 1);
    wdb *db3 = tdb_open(&t3);
    for (int i = 0; i < 3; i++)
        apply(db3, &r, &b[i], 1, NULL);
    char *d2 = tdb_dump(t2.sql, 0), *d3 = tdb_dump(t3.sql, 0);
    assert_string_equal(d2, d3);
    free(d2), free(d3);
    for (int i = 0; i < 4; i++)
        free(a[i]);
    for (int i = 0; i < 3; i++)
        free(b[i]);
    wdb_close(db), wdb_close(db2), wdb_close(db3);
    tdb_destroy(&t), tdb_destroy(&t2), tdb_destroy(&t3);
}

static void test_recovered_items_publish_stored_rows(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    run r;
    char *v = inv(10, 1, "poll", "2026-02-01T00:00:00Z");
    apply(db, &r, &v, 1, NULL);
    /* re-read after a crash: not applied again, but its stored row is published */
    int rec[] = {1};
    apply(db, &r, &v, 1, rec);
    assert_pubs(&r, "S");
    cJSON *stored = cJSON_ParseWithLength(r.pubs[0].value, r.pubs[0].value_len);
    cJSON *orig = cJSON_Parse(v);
    assert_true(cJSON_Compare(stored, orig, 1));
    cJSON_Delete(stored);
    cJSON_Delete(orig);
    /* a deleted row: its delete record, then the tombstone */
    char *g = gone(10, "2026-02-01T01:00:00Z");
    apply(db, &r, &g, 1, NULL);
    apply(db, &r, &g, 1, rec);
    assert_pubs(&r, "S T");
    free(v), free(g);
    wdb_close(db);
    tdb_destroy(&t);
}

static void test_fence_refuses_a_writer_that_lost_its_partition(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *a = tdb_open(&t), *b = tdb_open(&t);
    char err[512];
    long long ea, eb, applied;
    assert_int_equal(wdb_claim(a, "g", "topic", 3, &ea, &applied, err, sizeof err), 0);
    assert_int_equal(applied, -1);
    char *v = inv(10, 1, "poll", "2026-02-01T00:00:00Z");
    wdb_item it = {.topic = INV_TOPIC, .value = v, .value_len = strlen(v)};
    wdb_fence f = {.topic = "topic", .partition = 3, .epoch = ea, .offset = 41};
    assert_int_equal(wdb_apply_fenced(a, "g", &f, 1, &it, 1, err, sizeof err), WDB_OK);
    /* b takes over: it learns what a applied, and a can no longer commit */
    assert_int_equal(wdb_claim(b, "g", "topic", 3, &eb, &applied, err, sizeof err), 0);
    assert_true(eb > ea);
    assert_int_equal(applied, 41);
    char *v2 = inv(20, 2, "poll", "2026-02-01T00:01:00Z");
    it = (wdb_item){.topic = INV_TOPIC, .value = v2, .value_len = strlen(v2)};
    f = (wdb_fence){.topic = "topic", .partition = 3, .epoch = ea, .offset = 42};
    assert_int_equal(wdb_apply_fenced(a, "g", &f, 1, &it, 1, err, sizeof err), WDB_FENCED);
    assert_int_equal(f.lost, 1);
    const wdb_pub *p;
    assert_int_equal(wdb_published(a, &p), 0);
    assert_row(&t, "live v1 2");
    /* the same batch under b's epoch commits; another group's fence is its own */
    f = (wdb_fence){.topic = "topic", .partition = 3, .epoch = eb, .offset = 42};
    assert_int_equal(wdb_apply_fenced(b, "g", &f, 1, &it, 1, err, sizeof err), WDB_OK);
    assert_row(&t, "live v2 3");
    assert_int_equal(wdb_claim(a, "other", "topic", 3, &ea, &applied, err, sizeof err), 0);
    assert_int_equal(applied, -1);
    free(v), free(v2);
    wdb_close(a), wdb_close(b);
    tdb_destroy(&t);
}

static void test_purged_connections_are_skipped(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    run r;
    PQclear(tdb_q(t.sql, "INSERT INTO purged_connections (connection_hash) VALUES "
                         "(purge_marker('conn_t'))"));
    char *v = inv(10, 1, "poll", "2026-02-01T00:00:00Z");
    apply(db, &r, &v, 1, NULL);
    assert_int_equal(r.items[0].skipped, 1);
    assert_pubs(&r, "");
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM inventory_items"), 0);
    free(v);
    wdb_close(db);
    tdb_destroy(&t);
}

/* A list taken out of the handle stays as it was while the next batch is applied: the
 * writer publishes batch k while k + 1 is applied. */
static void test_taken_list_outlives_the_next_batch(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    run r;
    char *v1 = inv(10, 1, "poll", "2026-02-01T00:00:00Z");
    apply(db, &r, &v1, 1, NULL);
    /* a recovered record publishes its stored row: text the list owns */
    const int rec[] = {1};
    apply(db, &r, &v1, 1, rec);
    wdb_publist first = {0};
    wdb_take_published(db, &first);
    assert_int_equal(first.n, 1);
    assert_int_equal(first.pubs[0].item, -1);
    char *stored = strndup(first.pubs[0].value, first.pubs[0].value_len);
    char *at = strdup(first.applied_at);
    assert_true(*at != '\0');
    assert_non_null(strstr(stored, "\"v1\""));
    const wdb_pub *p;
    assert_int_equal(wdb_published(db, &p), 0); /* taken: nothing left behind */
    char *v2 = inv(20, 2, "webhook", "2026-02-01T00:01:00Z");
    apply(db, &r, &v2, 1, NULL);
    assert_pubs(&r, "0");
    assert_int_equal(first.n, 1);
    assert_int_equal((int)first.pubs[0].key_len, (int)strlen("conn_t|inv_1"));
    assert_memory_equal(first.pubs[0].key, "conn_t|inv_1", first.pubs[0].key_len);
    assert_int_equal((int)first.pubs[0].value_len, (int)strlen(stored));
    assert_memory_equal(first.pubs[0].value, stored, strlen(stored));
    assert_string_equal(first.applied_at, at);
    /* taking again hands the first list's buffers back to the handle */
    wdb_publist second = {0};
    wdb_take_published(db, &second);
    wdb_take_published(db, &first);
    assert_int_equal(second.n, 1);
    assert_ptr_equal(second.pubs[0].value, r.items[0].value);
    assert_int_equal(first.n, 0);
    wdb_publist_free(&first);
    wdb_publist_free(&second);
    free(stored), free(at), free(v1), free(v2);
    wdb_close(db);
    tdb_destroy(&t);
}

/* The writer keeps the purge lock from batch to batch while a batch is in flight: it must
 * see a purge that waits for it (an exclusive request not granted), and one release must
 * let the purge in however often the lock was taken. */
static void test_a_waiting_purge_is_seen(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    char err[512];
    int waiting = -1;
    assert_int_equal(wdb_purge_lock(db, 1, err, sizeof err), 0);
    assert_int_equal(wdb_purge_lock(db, 1, err, sizeof err), 0);
    assert_int_equal(wdb_purge_locked(db), 1);
    assert_int_equal(wdb_purge_waiting(db, &waiting, err, sizeof err), 0);
    assert_int_equal(waiting, 0);
    /* a purge waiting in another database is not this one's */
    PGconn *holder = PQconnectdb(tdb_url()), *other = PQconnectdb(tdb_url());
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    PQclear(tdb_q(holder, "SELECT pg_advisory_lock_shared(" PURGE_LOCK_KEY ")"));
    assert_int_equal(PQsendQuery(other, "SELECT pg_advisory_lock(" PURGE_LOCK_KEY ")"), 1);
    long queued = 0;
    for (int i = 0; i < 500 && queued == 0; i++) {
        queued = tdb_count(holder, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                   "AND objid = " PURGE_LOCK_KEY " AND NOT granted");
        if (queued == 0) usleep(10000);
    }
    assert_int_equal(queued, 1);
    assert_int_equal(wdb_purge_waiting(db, &waiting, err, sizeof err), 0);
    assert_int_equal(waiting, 0);
    PQfinish(holder); /* the other database's purge gets its lock */
    PQfinish(other);
    /* the purge (exclusive) waits behind the writer */
    PGconn *purge = PQconnectdb(t.conninfo);
    assert_int_equal(PQstatus(purge), CONNECTION_OK);
    assert_int_equal(PQsendQuery(purge, "SELECT pg_advisory_lock(" PURGE_LOCK_KEY ")"), 1);
    for (int i = 0; i < 500 && waiting != 1; i++) {
        assert_int_equal(wdb_purge_waiting(db, &waiting, err, sizeof err), 0);
        if (waiting != 1) usleep(10000);
    }
    assert_int_equal(waiting, 1);
    assert_int_equal(PQconsumeInput(purge), 1);
    assert_int_equal(PQisBusy(purge), 1); /* still waiting */
    /* one release (the lock was taken twice) lets it in */
    assert_int_equal(wdb_purge_lock(db, 0, err, sizeof err), 0);
    assert_int_equal(wdb_purge_locked(db), 0);
    int busy = 1;
    for (int i = 0; i < 500 && busy; i++) {
        assert_int_equal(PQconsumeInput(purge), 1);
        busy = PQisBusy(purge);
        if (busy) usleep(10000);
    }
    assert_int_equal(busy, 0); /* granted within 5 s */
    PGresult *got = PQgetResult(purge);
    assert_int_equal(PQresultStatus(got), PGRES_TUPLES_OK);
    PQclear(got);
    while ((got = PQgetResult(purge)))
        PQclear(got);
    assert_int_equal(wdb_purge_waiting(db, &waiting, err, sizeof err), 0);
    assert_int_equal(waiting, 0); /* granted: nothing waits */
    PQfinish(purge);
    wdb_close(db);
    tdb_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publishes_exactly_what_was_applied),
        cmocka_unit_test(test_delete_and_comeback_order),
        cmocka_unit_test(test_batch_keeps_arrival_order_across_deletes),
        cmocka_unit_test(test_recovered_items_publish_stored_rows),
        cmocka_unit_test(test_fence_refuses_a_writer_that_lost_its_partition),
        cmocka_unit_test(test_purged_connections_are_skipped),
        cmocka_unit_test(test_taken_list_outlives_the_next_batch),
        cmocka_unit_test(test_a_waiting_purge_is_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
