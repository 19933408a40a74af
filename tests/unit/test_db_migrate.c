/* test_db_migrate.c - wdb_migrate against a real PostgreSQL: every file once, in order,
 * idempotent, safe when several writers start at once, and refusing edited or broken
 * files without leaving half a migration behind. Needs TEST_DATABASE_URL. */
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>

#include "db_test_util.h"
#include "writer/db_spec.h"

#define CONCURRENT_WRITERS 6

static int count_sql_files(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".sql") == 0) n++;
    }
    closedir(d);
    return n;
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void test_applies_every_file_in_order(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 0);
    wdb *db = tdb_open(&t);
    char err[512];
    assert_int_equal(wdb_migrate(db, tdb_migrations(), err, sizeof err), 0);
    int files = count_sql_files(tdb_migrations());
    assert_true(files >= 3);
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM schema_migrations"), files);
    tdb_assert_val(t.sql, "001_entities.sql",
                   "SELECT name FROM schema_migrations ORDER BY version LIMIT 1");
    /* a table from each file, and the views */
    assert_int_equal(
        tdb_count(t.sql,
                  "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
                  "AND table_name IN ('orders','order_packages','inventory_levels','connections',"
                  "'sync_status','historical_syncs','inventory_by_sku','sync_overview')"),
        8);
    wdb_close(db);
    tdb_destroy(&t);
}

static void test_second_run_is_a_no_op(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    char *before = tdb_val(
        t.sql,
        "SELECT string_agg(version || ':' || sha256 || ':' || applied_at, ',' ORDER BY version) "
        "FROM schema_migrations");
    long objects = tdb_count(
        t.sql, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE n.nspname = 'public'");
    wdb *db = tdb_open(&t);
    char err[512];
    for (int i = 0; i < 3; i++)
        assert_int_equal(wdb_migrate(db, tdb_migrations(), err, sizeof err), 0);
    tdb_assert_val(
        t.sql, before,
        "SELECT string_agg(version || ':' || sha256 || ':' || applied_at, ',' ORDER BY version) "
        "FROM schema_migrations");
    assert_int_equal(
        tdb_count(t.sql,
                  "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE n.nspname = 'public'"),
        objects);
    /* the session is still usable for batches afterwards */
    assert_true(wdb_ok(db));
    free(before);
    wdb_close(db);
    tdb_destroy(&t);
}

/* The writer finds a parent's child rows by the primary key's prefix (connection_id,
 * parent id). Any other index that starts with connection_id serves the same condition,
 * and with statistics that make connection_id look unique (analyzed at one row) the
 * planner took the smaller one and read every row of the connection per parent
 * (migration 023). Two indexes keep connection_id first on purpose: their second column
 * is a range a connection's lists read. */
static void test_child_lookups_have_only_the_primary_key(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    for (int i = 0; i < wdb_nspecs; i++)
        for (int c = 0; c < wdb_specs[i]->nchildren; c++) {
            const char *table = wdb_specs[i]->children[c].table;
            char *found =
                tdb_val(t.sql,
                        "SELECT coalesce(string_agg(x.indexrelid::regclass::text, ','), '') FROM "
                        "pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = "
                        "x.indkey[0] WHERE x.indrelid = '%s'::regclass AND NOT x.indisprimary AND "
                        "a.attname = 'connection_id' AND x.indexrelid::regclass::text NOT IN "
                        "('order_shipments_shipped_at_idx', 'inventory_lots_expiration_idx')",
                        table);
            if (found[0]) fail_msg("%s: %s also starts with connection_id", table, found);
            free(found);
        }
    tdb_destroy(&t);
}

typedef struct mig_thread {
    const tdb *t;
    pthread_barrier_t *start;
    int rc;
    char err[512];
} mig_thread;

static void *migrate_thread(void *arg) {
    mig_thread *m = arg;
    wdb *db = wdb_open(m->t->conninfo, m->err, sizeof m->err);
    pthread_barrier_wait(m->start);
    m->rc = db ? wdb_migrate(db, tdb_migrations(), m->err, sizeof m->err) : -1;
    wdb_close(db);
    return NULL;
}

static void test_concurrent_writers_migrate_once(void **state) {
    (void)state;
    for (int round = 0; round < 3; round++) {
        tdb t;
        tdb_create(&t, 0);
        pthread_t th[CONCURRENT_WRITERS];
        mig_thread m[CONCURRENT_WRITERS];
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, CONCURRENT_WRITERS);
        for (int i = 0; i < CONCURRENT_WRITERS; i++) {
            m[i] = (mig_thread){.t = &t, .start = &start};
            pthread_create(&th[i], NULL, migrate_thread, &m[i]);
        }
        for (int i = 0; i < CONCURRENT_WRITERS; i++) {
            pthread_join(th[i], NULL);
            if (m[i].rc != 0) fail_msg("writer %d: %s", i, m[i].err);
        }
        pthread_barrier_destroy(&start);
        assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM schema_migrations"),
                         count_sql_files(tdb_migrations()));
        assert_int_equal(tdb_count(t.sql, "SELECT count(DISTINCT version) FROM schema_migrations"),
                         count_sql_files(tdb_migrations()));
        tdb_destroy(&t); /* also checks the server log for unique violations */
    }
}

static void test_edited_file_is_refused(void **state) {
    (void)state;
    char dir[] = "/tmp/wdb_mig_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "001_a.sql", "CREATE TABLE a (x int);\n");
    write_file(dir, "README.md", "not a migration\n");
    tdb t;
    tdb_create(&t, 0);
    wdb *db = tdb_open(&t);
    char err[512];
    assert_int_equal(wdb_migrate(db, dir, err, sizeof err), 0);
    write_file(dir, "001_a.sql", "CREATE TABLE a (x int, y int);\n");
    assert_int_equal(wdb_migrate(db, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "001_a.sql changed after it was applied"));
    assert_int_equal(
        tdb_count(t.sql, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'a'"),
        1);
    wdb_close(db);
    tdb_destroy(&t);
    rm_dir(dir);
}

static void test_failed_file_leaves_nothing_and_can_be_fixed(void **state) {
    (void)state;
    char dir[] = "/tmp/wdb_mig_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "001_a.sql", "CREATE TABLE a (x int);\n");
    write_file(dir, "002_b.sql", "CREATE TABLE b (x int);\nCREATE TABLE broken (;\n");
    tdb t;
    tdb_create(&t, 0);
    wdb *db = tdb_open(&t);
    char err[512];
    assert_int_equal(wdb_migrate(db, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "002_b.sql"));
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM schema_migrations"), 1);
    assert_int_equal(
        tdb_count(t.sql, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'b'"),
        0);
    assert_true(wdb_ok(db));

    write_file(dir, "002_b.sql", "CREATE TABLE b (x int);\n");
    write_file(dir, "010_c.sql", "ALTER TABLE b ADD COLUMN y int;\n");
    assert_int_equal(wdb_migrate(db, dir, err, sizeof err), 0);
    tdb_assert_val(t.sql, "1,2,10",
                   "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations");
    assert_int_equal(
        tdb_count(t.sql, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'b'"),
        2);
    wdb_close(db);
    tdb_destroy(&t);
    rm_dir(dir);
}

static void test_bad_names_and_duplicates_are_refused(void **state) {
    (void)state;
    char dir[] = "/tmp/wdb_mig_XXXXXX";
    assert_non_null(mkdtemp(dir));
    tdb t;
    tdb_create(&t, 0);
    wdb *db = tdb_open(&t);
    char err[512];
    write_file(dir, "first.sql", "SELECT 1;\n");
    assert_int_equal(wdb_migrate(db, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "first.sql"));
    rm_dir(dir);
    assert_non_null(mkdtemp(strcpy(dir, "/tmp/wdb_mig_XXXXXX")));
    write_file(dir, "001_a.sql", "SELECT 1;\n");
    write_file(dir, "1_b.sql", "SELECT 1;\n");
    assert_int_equal(wdb_migrate(db, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "share version 1"));
    assert_int_equal(wdb_migrate(db, "/nonexistent/dir", err, sizeof err), -1);
    /* nothing was recorded by the refused attempts */
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM information_schema.tables WHERE "
                                      "table_name = 'schema_migrations'"),
                     0);
    wdb_close(db);
    tdb_destroy(&t);
    rm_dir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applies_every_file_in_order),
        cmocka_unit_test(test_second_run_is_a_no_op),
        cmocka_unit_test(test_child_lookups_have_only_the_primary_key),
        cmocka_unit_test(test_concurrent_writers_migrate_once),
        cmocka_unit_test(test_edited_file_is_refused),
        cmocka_unit_test(test_failed_file_leaves_nothing_and_can_be_fixed),
        cmocka_unit_test(test_bad_names_and_duplicates_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
