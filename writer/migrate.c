/* migrate.c - versioned schema migrations, applied at writer start-up.
 *
 * Files NNN_name.sql in one directory are applied in version order, each exactly once,
 * each in its own transaction together with its row in schema_migrations (version, name,
 * sha256). Everything happens under a session advisory lock, so writers starting at once
 * queue up instead of racing on CREATE TABLE (which would surface as unique violations in
 * the system catalogs). A file whose content changed after it was applied is an error.
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

/* Apply one file and record it, in one transaction. */
static int apply_one(PGconn *c, const mig *m, char *errstr, size_t errlen) {
    char ver[16];
    snprintf(ver, sizeof ver, "%d", m->version);
    if (exec_ok(c, "BEGIN", "begin", errstr, errlen)) return -1;
    /* Migrations may rewrite big tables: no session statement timeout for them. */
    if (exec_ok(c, "SET LOCAL statement_timeout = 0", "set", errstr, errlen)) goto fail;
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
    return 0;
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return -1;
}

int wdb_migrate(wdb *db, const char *dir, char *errstr, size_t errlen) {
    mig *ms = NULL;
    int n = 0, locked = 0, rc = -1, applied_now = 0;
    PGresult *r = NULL;
    if (!wdb_ok(db)) {
        snprintf(errstr, errlen, "not connected");
        return -1;
    }
    PGconn *c = wdb_conn(db);
    if (load_dir(dir, &ms, &n, errstr, errlen)) return -1;

    if (exec_ok(c, "SET statement_timeout = '" WDB_MIGRATE_LOCK_WAIT "'", "set", errstr, errlen) ||
        exec_ok(c, "SELECT pg_advisory_lock(" WDB_MIGRATE_LOCK_KEY ")", "advisory lock", errstr,
                errlen))
        goto done;
    locked = 1;
    if (exec_ok(c, "SET statement_timeout = '" WDB_STATEMENT_TIMEOUT "'", "set", errstr, errlen) ||
        exec_ok(c,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())",
                "schema_migrations", errstr, errlen))
        goto done;

    r = PQexec(c, "SELECT version, name, sha256 FROM schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(errstr, errlen, "read schema_migrations: %s", PQerrorMessage(c));
        goto done;
    }
    int rows = PQntuples(r), row = 0;
    for (int i = 0; i < n; i++) {
        /* both lists are sorted by version: walk them together */
        while (row < rows && atoi(PQgetvalue(r, row, 0)) < ms[i].version) {
            log_warn("schema_migrations has a version this writer does not know", "version",
                     PQgetvalue(r, row, 0), "name", PQgetvalue(r, row, 1), NULL);
            row++;
        }
        if (row < rows && atoi(PQgetvalue(r, row, 0)) == ms[i].version) {
            if (strcmp(PQgetvalue(r, row, 2), ms[i].sha) != 0) {
                snprintf(errstr, errlen, "migration %s changed after it was applied (as %s)",
                         ms[i].file, PQgetvalue(r, row, 1));
                goto done;
            }
            row++;
            continue;
        }
        if (apply_one(c, &ms[i], errstr, errlen)) goto done;
        applied_now++;
        log_info("migration applied", "file", ms[i].file, NULL);
    }
    for (; row < rows; row++)
        log_warn("schema_migrations has a version this writer does not know", "version",
                 PQgetvalue(r, row, 0), "name", PQgetvalue(r, row, 1), NULL);
    rc = 0;
    if (applied_now == 0) log_debug("schema up to date", "dir", dir, NULL);
done:
    PQclear(r);
    if (PQstatus(c) == CONNECTION_OK) {
        if (PQtransactionStatus(c) != PQTRANS_IDLE) PQclear(PQexec(c, "ROLLBACK"));
        if (locked) PQclear(PQexec(c, "SELECT pg_advisory_unlock(" WDB_MIGRATE_LOCK_KEY ")"));
        PQclear(PQexec(c, "SET statement_timeout = '" WDB_STATEMENT_TIMEOUT "'"));
    }
    for (int i = 0; i < n; i++)
        free(ms[i].sql);
    free(ms);
    return rc;
}
