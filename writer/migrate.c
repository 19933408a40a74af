/* migrate.c - versioned schema migrations of every table the project owns (the
 * writer's and the fetcher's), applied by `writer --migrate` as a step of its own.
 *
 * Files NNN_name.sql in one directory are applied in version order, each exactly once,
 * each in its own transaction together with its row in schema_migrations (version, name,
 * sha256). Each of those transactions first takes a transaction-level advisory lock, so
 * migrators started at once queue up instead of racing on CREATE TABLE (which would
 * surface as unique violations in the system catalogs), and nothing depends on session
 * state a connection pooler would drop. A file whose content changed after it was
 * applied is an error.
 */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_err.h"
#include "log.h"
#include "writer/db.h"
#include "writer/db_conn.h"

#define WDB_MIGRATE_LOCK_KEY "7418093255001" /* constant key of "writer migrations" */
#define WDB_MAX_MIGRATIONS 1000
#define WDB_MAX_MIGRATION_BYTES (1 << 20)
#define WDB_MAX_VERSION 999999999
#define WDB_MIGRATE_LOCK_WAIT "10min" /* another writer may be running a long migration */

typedef struct mig {
    int version;
    char file[256];
    char *sql;
    char sha[2 * EVP_MAX_MD_SIZE + 1];
} mig;

static int cmp_mig(const void *a, const void *b) {
    int x = ((const mig *)a)->version, y = ((const mig *)b)->version;
    return (x > y) - (x < y);
}

/* "NNN_name.sql" -> version; -1 when the name does not have that shape. */
static int parse_name(const char *name) {
    size_t n = strlen(name), i = 0;
    long v = 0;
    if (n < 6 || strcmp(name + n - 4, ".sql") != 0) return -1;
    for (; i < n && name[i] >= '0' && name[i] <= '9'; i++) {
        v = v * 10 + (name[i] - '0');
        if (v > WDB_MAX_VERSION) return -1;
    }
    if (i == 0 || name[i] != '_') return -1;
    for (i++; i < n - 4; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return -1;
    }
    return (int)v;
}

static int read_file(const char *dir, mig *m, char *errstr, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, m->file);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    m->sql = malloc(WDB_MAX_MIGRATION_BYTES + 1);
    size_t n = m->sql ? fread(m->sql, 1, WDB_MAX_MIGRATION_BYTES + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!m->sql || err || n > WDB_MAX_MIGRATION_BYTES || memchr(m->sql, 0, n)) {
        snprintf(errstr, errlen, "%s: unreadable, larger than %d bytes or binary", path,
                 WDB_MAX_MIGRATION_BYTES);
        return -1;
    }
    m->sql[n] = '\0';
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(m->sql, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        crypto_failed("migration_sha256");
        snprintf(errstr, errlen, "%s: sha256 failed", path);
        return -1;
    }
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(m->sha + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* List, sort and read the migration files. *out is malloc'd. */
static int load_dir(const char *dir, mig **out, int *nout, char *errstr, size_t errlen) {
    DIR *d = opendir(dir);
    mig *ms = NULL;
    int n = 0;
    if (!d) {
        snprintf(errstr, errlen, "migrations dir %s: %s", dir, strerror(errno));
        return -1;
    }
    ms = calloc(WDB_MAX_MIGRATIONS, sizeof *ms);
    if (!ms) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0) continue; /* READMEs etc. */
        int v = parse_name(e->d_name);
        if (v < 0 || len >= sizeof ms[0].file) {
            snprintf(errstr, errlen, "migration file name %s is not NNN_name.sql", e->d_name);
            goto fail;
        }
        if (n == WDB_MAX_MIGRATIONS) {
            snprintf(errstr, errlen, "more than %d migrations", WDB_MAX_MIGRATIONS);
            goto fail;
        }
        ms[n].version = v;
        memcpy(ms[n].file, e->d_name, len + 1);
        n++;
    }
    closedir(d);
    d = NULL;
    qsort(ms, (size_t)n, sizeof *ms, cmp_mig);
    for (int i = 0; i < n; i++) {
        if (i && ms[i].version == ms[i - 1].version) {
            snprintf(errstr, errlen, "migrations %s and %s share version %d", ms[i - 1].file,
                     ms[i].file, ms[i].version);
            goto fail;
        }
        if (read_file(dir, &ms[i], errstr, errlen)) goto fail;
    }
    *out = ms;
    *nout = n;
    return 0;
fail:
    if (d) closedir(d);
    if (ms)
        for (int i = 0; i < n; i++)
            free(ms[i].sql);
    free(ms);
    return -1;
}

static int exec_ok(PGconn *c, const char *sql, const char *what, char *errstr, size_t errlen) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return 0;
    }
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(errstr, errlen, "%s: %s (SQLSTATE %s)", what, msg ? msg : PQerrorMessage(c),
             code ? code : "none");
    size_t n = strlen(errstr);
    while (n && errstr[n - 1] == '\n')
        errstr[--n] = '\0';
    PQclear(r);
    return -1;
}

/* BEGIN, then wait for the migration lock. A transaction-level advisory lock: it is
 * released by COMMIT/ROLLBACK and needs no session state, so migrators are safe behind a
 * pooler in transaction mode (PgBouncer), where a session lock could be taken on one
 * server connection and "released" on another. */
static int begin_locked(PGconn *c, char *errstr, size_t errlen) {
    if (exec_ok(c, "BEGIN", "begin", errstr, errlen)) return -1;
    if (exec_ok(c, "SET LOCAL statement_timeout = '" WDB_MIGRATE_LOCK_WAIT "'", "set", errstr,
                errlen) ||
        exec_ok(c, "SELECT pg_advisory_xact_lock(" WDB_MIGRATE_LOCK_KEY ")", "advisory lock",
                errstr, errlen) ||
        /* Migrations may rewrite big tables: no statement timeout for them. */
        exec_ok(c, "SET LOCAL statement_timeout = 0", "set", errstr, errlen)) {
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    return 0;
}

/* The sha256 recorded for version (malloc'd), NULL when not applied; *err set on failure. */
static char *recorded_sha(PGconn *c, int version, int *err, char *errstr, size_t errlen) {
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    const char *vals[1] = {ver};
    PGresult *r = PQexecParams(c, "SELECT sha256 FROM schema_migrations WHERE version = $1", 1,
                               NULL, vals, NULL, NULL, 0);
    char *sha = NULL;
    *err = PQresultStatus(r) != PGRES_TUPLES_OK;
    if (*err)
        snprintf(errstr, errlen, "read schema_migrations: %s", PQerrorMessage(c));
    else if (PQntuples(r) == 1 && !(sha = strdup(PQgetvalue(r, 0, 0))))
        *err = 1;
    PQclear(r);
    return sha;
}

/* Apply one file and record it, in one transaction that holds the lock. Another migrator
 * may have applied it while we waited for the lock: then it is only checked. */
static int apply_one(PGconn *c, const mig *m, int *applied, char *errstr, size_t errlen) {
    char ver[16];
    int err = 0;
    *applied = 0;
    snprintf(ver, sizeof ver, "%d", m->version);
    if (begin_locked(c, errstr, errlen)) return -1;
    char *sha = recorded_sha(c, m->version, &err, errstr, errlen);
    if (err) goto fail;
    if (sha) {
        int same = strcmp(sha, m->sha) == 0;
        free(sha);
        if (!same) {
            snprintf(errstr, errlen, "migration %s changed after it was applied", m->file);
            goto fail;
        }
        return exec_ok(c, "COMMIT", "commit", errstr, errlen);
    }
    if (exec_ok(c, m->sql, m->file, errstr, errlen)) goto fail;
    const char *vals[3] = {ver, m->file, m->sha};
    PGresult *r =
        PQexecParams(c, "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                     3, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(errstr, errlen, "%s: recording failed: %s", m->file, PQerrorMessage(c));
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    if (exec_ok(c, "COMMIT", "commit", errstr, errlen)) goto fail;
    *applied = 1;
    return 0;
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return -1;
}

/* Compare the files with schema_migrations. *pending = files not applied yet. With
 * warn, versions the table has and the files do not are logged (a newer migrator ran:
 * expected while an older version runs beside a newer one). */
static int compare(PGconn *c, const mig *ms, int n, int *pending, int warn, char *errstr,
                   size_t errlen) {
    PGresult *r = PQexec(c, "SELECT version, name, sha256 FROM schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(errstr, errlen, "read schema_migrations: %s", PQerrorMessage(c));
        PQclear(r);
        return -1;
    }
    int rows = PQntuples(r), row = 0, rc = 0;
    *pending = 0;
    for (int i = 0; i < n; i++) {
        /* both lists are sorted by version: walk them together */
        for (; row < rows && atoi(PQgetvalue(r, row, 0)) < ms[i].version; row++)
            if (warn)
                log_warn("schema_migrations has a version this writer does not know", "version",
                         PQgetvalue(r, row, 0), "name", PQgetvalue(r, row, 1), NULL);
        if (row < rows && atoi(PQgetvalue(r, row, 0)) == ms[i].version) {
            if (strcmp(PQgetvalue(r, row, 2), ms[i].sha) != 0) {
                snprintf(errstr, errlen, "migration %s changed after it was applied (as %s)",
                         ms[i].file, PQgetvalue(r, row, 1));
                rc = -1;
                break;
            }
            row++;
            continue;
        }
        (*pending)++;
    }
    for (; rc == 0 && warn && row < rows; row++)
        log_warn("schema_migrations has a version this writer does not know", "version",
                 PQgetvalue(r, row, 0), "name", PQgetvalue(r, row, 1), NULL);
    PQclear(r);
    return rc;
}

static void free_migs(mig *ms, int n) {
    for (int i = 0; i < n; i++)
        free(ms[i].sql);
    free(ms);
}

int wdb_migrate(wdb *db, const char *dir, char *errstr, size_t errlen) {
    mig *ms = NULL;
    int n = 0, rc = -1, applied_now = 0, pending = 0;
    if (!wdb_ok(db)) {
        snprintf(errstr, errlen, "not connected");
        return -1;
    }
    PGconn *c = wdb_conn(db);
    if (load_dir(dir, &ms, &n, errstr, errlen)) return -1;
    /* The table itself under the lock: concurrent CREATE TABLE IF NOT EXISTS race. */
    if (begin_locked(c, errstr, errlen)) goto done;
    if (exec_ok(c,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())",
                "schema_migrations", errstr, errlen) ||
        exec_ok(c, "COMMIT", "commit", errstr, errlen)) {
        PQclear(PQexec(c, "ROLLBACK"));
        goto done;
    }
    if (compare(c, ms, n, &pending, 1, errstr, errlen)) goto done;
    for (int i = 0; i < n && pending > 0; i++) {
        int applied = 0;
        if (apply_one(c, &ms[i], &applied, errstr, errlen)) goto done;
        if (applied) {
            applied_now++;
            log_info("migration applied", "file", ms[i].file, NULL);
        }
    }
    rc = 0;
    if (applied_now == 0) log_debug("schema up to date", "dir", dir, NULL);
done:
    if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
    free_migs(ms, n);
    return rc;
}

int wdb_migrate_pending(wdb *db, const char *dir, int *pending, char *errstr, size_t errlen) {
    mig *ms = NULL;
    int n = 0;
    if (!wdb_ok(db)) {
        snprintf(errstr, errlen, "not connected");
        return -1;
    }
    PGconn *c = wdb_conn(db);
    if (load_dir(dir, &ms, &n, errstr, errlen)) return -1;
    PGresult *r = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    int exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
    int failed = PQresultStatus(r) != PGRES_TUPLES_OK;
    PQclear(r);
    int rc = 0;
    if (failed) {
        snprintf(errstr, errlen, "look for schema_migrations: %s", PQerrorMessage(c));
        rc = -1;
    } else if (!exists) {
        *pending = n;
    } else {
        rc = compare(c, ms, n, pending, 0, errstr, errlen);
    }
    free_migs(ms, n);
    return rc;
}
