/* cli_db.c - PostgreSQL reads for tsctl (see cli_db.h). tsctl never writes the
 * writer's tables: the writer is their only writer. */
#include "cli_db.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "pq_conn.h"

/* Type OIDs (pg_type.h is a server header; these values are fixed). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700
#define OID_TIMESTAMPTZ 1184
#define OID_TIMESTAMP 1114

static void pq_err(PGconn *db, const PGresult *res, const char *what, char *errstr, size_t errlen) {
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(db);
    char clean[300];
    snprintf(clean, sizeof clean, "%s", m && *m ? m : "unknown error");
    for (char *p = clean; *p; p++)
        if (*p == '\n') *p = ' ';
    snprintf(errstr, errlen, "%s: %s", what, clean);
}

PGconn *cli_db_get(cli_ctx *ctx, char *errstr, size_t errlen) {
    if (ctx->db && PQstatus(ctx->db) == CONNECTION_OK) return ctx->db;
    if (ctx->db) {
        PQfinish(ctx->db);
        ctx->db = NULL;
    }
    if (!ctx->database_url || !*ctx->database_url) {
        snprintf(errstr, errlen, "DATABASE_URL is not set");
        return NULL;
    }
    /* The URL may carry a password: it is passed through, never printed. */
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *const vals[] = {ctx->database_url, CLI_DB_CONNECT_TIMEOUT_S, "tsctl",
                                "-c TimeZone=UTC -c statement_timeout=" CLI_DB_STATEMENT_TIMEOUT_MS
                                " -c default_transaction_read_only=on",
                                NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    if (!db || PQstatus(db) != CONNECTION_OK) {
        snprintf(errstr, errlen, "%s", pq_conn_failure(ctx->database_url, db));
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, NULL, NULL);
    ctx->db = db;
    return db;
}

PGresult *cli_db_query(cli_ctx *ctx, const char *sql, int n, const char *const *params,
                       char *errstr, size_t errlen) {
    PGconn *db = cli_db_get(ctx, errstr, errlen);
    if (!db) return NULL;
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        pq_err(db, res, "query", errstr, errlen);
        PQclear(res);
        return NULL;
    }
    return res;
}

cJSON *cli_db_json(cli_ctx *ctx, const char *sql, int n, const char *const *params, char *errstr,
                   size_t errlen) {
    static const char pre[] = "SELECT coalesce(json_agg(q), '[]'::json)::text FROM (";
    static const char post[] = ") q";
    size_t len = sizeof pre + strlen(sql) + sizeof post;
    char *wrapped = malloc(len);
    if (!wrapped) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    snprintf(wrapped, len, "%s%s%s", pre, sql, post);
    PGresult *res = cli_db_query(ctx, wrapped, n, params, errstr, errlen);
    free(wrapped);
    if (!res) return NULL;
    cJSON *j = PQntuples(res) == 1 ? cJSON_Parse(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    if (!j) snprintf(errstr, errlen, "query: cannot read the JSON result");
    return j;
}

char *cli_db_time(const char *pg, char *out, size_t outlen) {
    size_t l = strlen(pg);
    if (l >= 19 && pg[4] == '-' && pg[7] == '-' && (pg[10] == ' ' || pg[10] == 'T') &&
        pg[13] == ':' && pg[16] == ':' &&
        (l == 19 || pg[19] == '.' || pg[19] == '+' || pg[19] == '-' || pg[19] == 'Z'))
        snprintf(out, outlen, "%.10s %.8sZ", pg, pg + 11);
    else
        snprintf(out, outlen, "%s", pg);
    return out;
}

static int numeric_type(Oid t) {
    return t == OID_INT8 || t == OID_INT2 || t == OID_INT4 || t == OID_FLOAT4 || t == OID_FLOAT8 ||
           t == OID_NUMERIC;
}

int cli_db_print(cli_ctx *ctx, const char *sql, int n, const char *const *params, int *rows,
                 char *errstr, size_t errlen) {
    if (ctx->json) {
        cJSON *j = cli_db_json(ctx, sql, n, params, errstr, errlen);
        if (!j) return -1;
        if (rows) *rows = cJSON_GetArraySize(j);
        char *s = cJSON_Print(j);
        cJSON_Delete(j);
        if (!s) {
            snprintf(errstr, errlen, "out of memory");
            return -1;
        }
        fprintf(ctx->out, "%s\n", s);
        free(s);
        return 0;
    }
    PGresult *res = cli_db_query(ctx, sql, n, params, errstr, errlen);
    if (!res) return -1;
    int nf = PQnfields(res), rc = -1;
    cli_table t;
    const char *heads[CLI_TABLE_MAX_COLS];
    char names[CLI_TABLE_MAX_COLS][64];
    if (nf > CLI_TABLE_MAX_COLS) {
        snprintf(errstr, errlen, "query has more than %d columns", CLI_TABLE_MAX_COLS);
        PQclear(res);
        return -1;
    }
    for (int c = 0; c < nf; c++) {
        snprintf(names[c], sizeof names[c], "%s", PQfname(res, c));
        for (char *p = names[c]; *p; p++)
            *p = *p == '_' ? ' ' : (char)toupper((unsigned char)*p);
        heads[c] = names[c];
    }
    if (cli_table_init(&t, nf, heads) != 0) {
        snprintf(errstr, errlen, "out of memory");
        PQclear(res);
        return -1;
    }
    for (int c = 0; c < nf; c++)
        if (numeric_type(PQftype(res, c))) cli_table_align_right(&t, c);
    for (int r = 0; r < PQntuples(res); r++) {
        if (cli_table_row(&t) != 0) goto oom;
        for (int c = 0; c < nf; c++) {
            if (PQgetisnull(res, r, c)) continue;
            char tbuf[64];
            const char *v = PQgetvalue(res, r, c);
            Oid ty = PQftype(res, c);
            if (ty == OID_TIMESTAMPTZ || ty == OID_TIMESTAMP) v = cli_db_time(v, tbuf, sizeof tbuf);
            if (ty == OID_BOOL) v = strcmp(v, "t") == 0 ? "yes" : "no";
            if (cli_table_cell(&t, c, v) != 0) goto oom;
        }
    }
    cli_table_render(&t, ctx->out);
    if (rows) *rows = PQntuples(res);
    rc = 0;
    goto done;
oom:
    snprintf(errstr, errlen, "out of memory");
done:
    cli_table_free(&t);
    PQclear(res);
    return rc;
}

int cli_db_has_relation(cli_ctx *ctx, const char *name, char *errstr, size_t errlen) {
    const char *const p[] = {name};
    PGresult *res = cli_db_query(ctx, "SELECT to_regclass($1) IS NOT NULL", 1, p, errstr, errlen);
    if (!res) return -1;
    int yes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}
