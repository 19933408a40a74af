/* cli_db.h - tsctl's read access to the database the writer fills (DATABASE_URL):
 * one connection opened on first use, session time zone UTC, parameterised queries
 * only. A query result prints either as a table (column names as headers, numbers
 * right-aligned, times as "YYYY-MM-DD HH:MM:SSZ", booleans yes/no) or, with --json, as a JSON array
 * of objects built by PostgreSQL itself (json_agg), so types survive exactly.
 */
#ifndef CLI_DB_H
#define CLI_DB_H

#include <cjson/cJSON.h>

#include "cli_ctx.h"

#define CLI_DB_CONNECT_TIMEOUT_S "5"
#define CLI_DB_STATEMENT_TIMEOUT_MS "30000"

/* The open connection (opened now if needed), or NULL with errstr. */
PGconn *cli_db_get(cli_ctx *ctx, char *errstr, size_t errlen);

/* Run sql with n text parameters. Returns the result (caller PQclear()s) or NULL
 * with errstr. */
PGresult *cli_db_query(cli_ctx *ctx, const char *sql, int n, const char *const *params,
                       char *errstr, size_t errlen);

/* Run sql and return its rows as a JSON array (caller deletes), or NULL. */
cJSON *cli_db_json(cli_ctx *ctx, const char *sql, int n, const char *const *params, char *errstr,
                   size_t errlen);

/* Run sql and print its rows on ctx->out: JSON with ctx->json, else a table whose
 * headers are the column names upper-cased. *rows gets the row count when non-NULL.
 * 0 or -1. */
int cli_db_print(cli_ctx *ctx, const char *sql, int n, const char *const *params, int *rows,
                 char *errstr, size_t errlen);

/* "2026-01-05 10:00:00.123+00" (PostgreSQL's text for timestamptz in UTC) or
 * "2026-01-05T10:00:00.123+00:00" (its JSON) -> "2026-01-05 10:00:00Z"; other text
 * is copied. Returns out. */
char *cli_db_time(const char *pg, char *out, size_t outlen);

/* 1 when the relation (table or view) exists, 0 when not, -1 on error. */
int cli_db_has_relation(cli_ctx *ctx, const char *name, char *errstr, size_t errlen);

#endif
