/* db_test_util.h - shared helpers of the test_db_* tests: a fresh database per test
 * (from TEST_DATABASE_URL, which must be set: these tests fail, never skip, without it),
 * direct SQL for assertions, a whole-database dump to compare states, and a scan of the
 * server log (TEST_PG_LOG, when set) for unique violations.
 */
#ifndef DB_TEST_UTIL_H
#define DB_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "util.h"
#include "writer/db.h"
#include "writer/db_conn.h"

#define TDB_MIGRATIONS_DIR "writer/migrations"

typedef struct tdb {
    char name[64];
    char conninfo[2048];
    PGconn *sql;     /* a plain connection for assertions */
    long log_offset; /* TEST_PG_LOG size when the test started */
} tdb;

static inline const char *tdb_url(void) {
    const char *u = getenv("TEST_DATABASE_URL");
    if (!u || !*u) fail_msg("TEST_DATABASE_URL is not set: the test_db_* tests need PostgreSQL");
    return u;
}

static inline const char *tdb_migrations(void) {
    const char *d = getenv("WDB_MIGRATIONS_DIR");
    return d && *d ? d : TDB_MIGRATIONS_DIR;
}

/* conninfo of url with dbname replaced (works for key=value strings and URIs). */
static inline void tdb_conninfo_for(const char *url, const char *dbname, char *out, size_t len) {
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    if (!opts) fail_msg("TEST_DATABASE_URL does not parse: %s", err ? err : "?");
    size_t n = 0;
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
        if (!v) continue;
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s='", o->keyword);
        for (const char *p = v; *p && n + 3 < len; p++) {
            if (*p == '\'' || *p == '\\') out[n++] = '\\';
            out[n++] = *p;
        }
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "' ");
    }
    PQconninfoFree(opts);
    assert_true(n < len);
}

static inline long tdb_log_size(void) {
    const char *p = getenv("TEST_PG_LOG");
    if (!p || !*p) return -1;
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Fail when the server log grew a unique violation since the test started. */
static inline void tdb_assert_no_unique_violation(const tdb *t) {
    const char *p = getenv("TEST_PG_LOG");
    if (!p || !*p || t->log_offset < 0) return;
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, t->log_offset, SEEK_SET);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "duplicate key value violates unique constraint") ||
            strstr(line, "23505")) {
            fclose(f);
            fail_msg("server log has a unique violation: %s", line);
        }
    }
    fclose(f);
}

static inline PGresult *tdb_q(PGconn *c, const char *fmt, ...) {
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(c));
    return r;
}

/* The first column of the first row as a malloc'd string ("<null>" for NULL). */
static inline char *tdb_val(PGconn *c, const char *fmt, ...) {
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s\n%s", sql, PQerrorMessage(c));
    char *v = strdup(PQntuples(r) == 0      ? "<none>"
                     : PQgetisnull(r, 0, 0) ? "<null>"
                                            : PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

#define tdb_assert_val(c, expected, ...)                                                           \
    do {                                                                                           \
        char *v_ = tdb_val((c), __VA_ARGS__);                                                      \
        assert_string_equal(v_, (expected));                                                       \
        free(v_);                                                                                  \
    } while (0)

static inline long tdb_count(PGconn *c, const char *fmt, ...) {
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *v = tdb_val(c, "%s", sql);
    long n = atol(v);
    free(v);
    return n;
}

/* Every domain table, every row, every column (minus db_updated_at when !with_db_time),
 * in a stable order: two databases are in the same state iff their dumps are equal.
 * sync_accuracy counts the versions that led to the state, and inventory_onhand_snapshots
 * holds one row per inventory version applied, so two paths to one state differ there:
 * they are left out without db time (two databases, or two paths), kept with it (one
 * database before and after: a replay must not count). */
static inline char *tdb_dump(PGconn *c, int with_db_time) {
    PGresult *tabs =
        tdb_q(c,
              "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
              "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' "
              "AND table_name NOT LIKE 'fetcher\\_%%' " /* the fetcher's, not domain tables */
              "AND (%d = 1 OR table_name NOT IN ('sync_accuracy', 'inventory_onhand_snapshots')) "
              "ORDER BY table_name",
              with_db_time);
    sbuf out = {0};
    for (int i = 0; i < PQntuples(tabs); i++) {
        const char *tn = PQgetvalue(tabs, i, 0);
        char *cols =
            tdb_val(c,
                    "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) "
                    "FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = '%s' AND (%d = 1 OR column_name <> 'db_updated_at')",
                    tn, with_db_time);
        char *rows = tdb_val(c,
                             "SELECT coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '') "
                             "FROM (SELECT %s FROM %s) r",
                             cols, tn);
        sbuf_printf(&out, "== %s\n%s\n", tn, rows);
        free(cols);
        free(rows);
    }
    PQclear(tabs);
    return out.p;
}

/* Create a fresh database, connect t->sql to it and optionally migrate it. */
static inline void tdb_create(tdb *t, int migrate) {
    static int counter;
    char ci[2048];
    memset(t, 0, sizeof *t);
    log_init("test", LOG_WARN); /* no "migration applied" lines between cmocka's */
    snprintf(t->name, sizeof t->name, "wdbt_%d_%d", (int)getpid(), ++counter);
    PGconn *admin = PQconnectdb(tdb_url());
    if (PQstatus(admin) != CONNECTION_OK) fail_msg("cannot connect: %s", PQerrorMessage(admin));
    PQclear(tdb_q(admin, "SET client_min_messages = warning"));
    PQclear(tdb_q(admin, "DROP DATABASE IF EXISTS %s", t->name));
    PQclear(tdb_q(admin, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'", t->name));
    PQfinish(admin);
    tdb_conninfo_for(tdb_url(), t->name, t->conninfo, sizeof t->conninfo);
    snprintf(ci, sizeof ci, "%s", t->conninfo);
    t->sql = PQconnectdb(ci);
    if (PQstatus(t->sql) != CONNECTION_OK) fail_msg("cannot connect: %s", PQerrorMessage(t->sql));
    PQclear(tdb_q(t->sql, "SET TIME ZONE 'UTC'; SET client_min_messages = warning"));
    t->log_offset = tdb_log_size();
    if (migrate) {
        char err[512];
        wdb *db = wdb_open(t->conninfo, err, sizeof err);
        if (!db) fail_msg("wdb_open: %s", err);
        if (wdb_migrate(db, tdb_migrations(), err, sizeof err) != 0)
            fail_msg("wdb_migrate: %s", err);
        wdb_close(db);
    }
}

static inline void tdb_destroy(tdb *t) {
    tdb_assert_no_unique_violation(t);
    if (t->sql) PQfinish(t->sql);
    t->sql = NULL;
    PGconn *admin = PQconnectdb(tdb_url());
    if (PQstatus(admin) == CONNECTION_OK)
        PQclear(PQexec(admin, "SET client_min_messages = warning"));
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
    PQclear(PQexec(admin, sql));
    PQfinish(admin);
}

static inline wdb *tdb_open(const tdb *t) {
    char err[512];
    wdb *db = wdb_open(t->conninfo, err, sizeof err);
    if (!db) fail_msg("wdb_open: %s", err);
    return db;
}

/* Apply values[0..n) on one topic; assert the result; return the number rejected. */
static inline int tdb_apply(wdb *db, const char *topic, char **values, int n, wdb_result expect) {
    wdb_item *items = calloc((size_t)(n ? n : 1), sizeof *items);
    char err[512] = "";
    for (int i = 0; i < n; i++)
        items[i] = (wdb_item){.topic = topic, .value = values[i], .value_len = strlen(values[i])};
    wdb_result r = wdb_apply(db, items, n, err, sizeof err);
    if (r != expect) fail_msg("wdb_apply returned %d (%s), expected %d", r, err, expect);
    int rej = 0;
    for (int i = 0; i < n; i++)
        rej += items[i].rejected;
    free(items);
    return rej;
}

/* Read a whole file into a malloc'd string. */
static inline char *tdb_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        p[--n] = '\0';
    fclose(f);
    return p;
}

#endif
