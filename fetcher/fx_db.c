/* fx_db.c - PostgreSQL state of the fetcher: migration and queries (see fx_db.h). */
#include "fx_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_conn.h"
#include "strmap.h"
#include "util.h"

#define FX_DB_CONNECT_TIMEOUT_S "10"

static void pq_err(PGconn *db, const PGresult *res, const char *what, char *errstr, size_t errlen) {
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(db);
    char clean[200];
    snprintf(clean, sizeof clean, "%s", m && *m ? m : "unknown error");
    for (char *p = clean; *p; p++)
        if (*p == '\n') *p = ' ';
    snprintf(errstr, errlen, "%s: %s", what, clean);
}

/* Run a statement; returns the result (caller clears) or NULL with errstr. */
static PGresult *run(PGconn *db, const char *what, const char *sql, int n,
                     const char *const *params, char *errstr, size_t errlen) {
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pq_err(db, res, what, errstr, errlen);
        PQclear(res);
        return NULL;
    }
    return res;
}

static int run0(PGconn *db, const char *what, const char *sql, int n, const char *const *params,
                char *errstr, size_t errlen) {
    PGresult *res = run(db, what, sql, n, params, errstr, errlen);
    if (!res) return -1;
    PQclear(res);
    return 0;
}

/* An int64 as a text parameter. */
static const char *int_param(int64_t v, char buf[24]) {
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

/* ms -> text parameter for to_timestamp(); NULL for 0. */
static const char *ms_param(int64_t ms, char buf[24]) {
    return ms ? int_param(ms, buf) : NULL;
}

static int64_t ms_value(const PGresult *res, int row, int col) {
    if (PQgetisnull(res, row, col)) return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

#define TS(p) "to_timestamp(" p "::double precision / 1000)"
#define MS(c) "(extract(epoch from " c ") * 1000)::bigint"

/* Server notices must not reach stderr as non-JSON lines. */
static void quiet_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

PGconn *fx_db_open(const char *url, char *errstr, size_t errlen) {
    /* A connect timeout unless the URL sets one: a server that accepts and never
     * answers would otherwise hold the loop (or the admin worker) forever. */
    const char *const kw[] = {"connect_timeout", "dbname", NULL};
    const char *const val[] = {FX_DB_CONNECT_TIMEOUT_S, url ? url : "", NULL};
    PGconn *db = PQconnectdbParams(kw, val, 1);
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(errstr, errlen, "%s", pq_conn_failure(url, db));
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, quiet_notice, NULL);
    return db;
}

int fx_db_ensure(PGconn *db) {
    if (PQstatus(db) == CONNECTION_OK) return 0;
    PQreset(db);
    return PQstatus(db) == CONNECTION_OK ? 0 : -1;
}

int fx_db_begin(PGconn *db, char *errstr, size_t errlen) {
    return run0(db, "begin", "BEGIN", 0, NULL, errstr, errlen);
}

int fx_db_commit(PGconn *db, char *errstr, size_t errlen) {
    return run0(db, "commit", "COMMIT", 0, NULL, errstr, errlen);
}

void fx_db_rollback(PGconn *db) {
    PQclear(PQexec(db, "ROLLBACK")); /* on a broken connection: nothing left to undo */
}

int fx_db_ping(PGconn *db) {
    if (fx_db_ensure(db) != 0) return -1;
    PGresult *res = PQexec(db, "SELECT 1");
    int ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

int fx_db_schema_ready(PGconn *db, char *errstr, size_t errlen) {
    PGresult *res = run(db, "schema check",
                        "SELECT to_regclass('fetcher_connections') IS NOT NULL"
                        " AND to_regclass('fetcher_historical_syncs') IS NOT NULL"
                        " AND to_regclass('fetcher_streams') IS NOT NULL"
                        " AND to_regclass('fetcher_requests') IS NOT NULL"
                        " AND to_regclass('fetcher_change_seq') IS NOT NULL"
                        " AND to_regclass('fetcher_connection_checks') IS NOT NULL"
                        " AND to_regclass('fetcher_integrations') IS NOT NULL"
                        /* the newest columns it uses (migrations 008, 009 and 019) */
                        " AND (SELECT count(*) FROM information_schema.columns"
                        "      WHERE table_schema = current_schema() AND"
                        "       (table_name, column_name) IN (('fetcher_streams', 'cursor_rule'),"
                        "        ('fetcher_connections', 'deleted_version'),"
                        "        ('fetcher_streams', 'crawl_error'))) = 3",
                        0, NULL, errstr, errlen);
    if (!res) return -1;
    int ok = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!ok)
        snprintf(errstr, errlen,
                 "the fetcher's tables are not there yet: run the migrations (writer --migrate)");
    return ok ? 0 : -1;
}

/* When a creation changes the stored row t: newer than its last creation and than its
 * deletion (see fx_db_conn_put). The creation's time is excluded.created_version: the
 * incoming row of the upsert, or a one-row subquery of that name. */
#define CREATION_APPLIES                                                                           \
    " coalesce(t.created_version IS NULL OR excluded.created_version > t.created_version, false)"  \
    " AND coalesce(t.deleted_version IS NULL OR excluded.created_version > t.deleted_version,"     \
    " false)"

/* Rows a statement changed: 0 when its guard let nothing through. */
static int changed_rows(PGresult *res) {
    const char *n = PQcmdTuples(res);
    return n && *n && strcmp(n, "0") != 0;
}

/* The state rule, in the events' own time (created_version and deleted_version):
 *   a creation applies when it is newer than the last applied creation and than the
 *     deletion, if any: a replayed or late connection.created (the same created_date,
 *     older than deleted_date) never brings a deleted connection back;
 *   a deletion applies when it is not older than the last applied creation (equal
 *     times: the deletion wins), and wipes the token. A deletion that comes first
 *     leaves a row with no token, so that the creation arriving after it stays out.
 * A time of 0 (unknown) never wins against a known one: a creation without a date
 * cannot undo a deletion, and a deletion without one is dated when it was received,
 * which is after it happened. */
int fx_db_conn_put(PGconn *db, const char *id, const char *integration, const char *sealed,
                   const char *customer_id, int64_t event_ms, char *errstr, size_t errlen) {
    char cb[24];
    const char *const p[] = {id, integration ? integration : "", sealed,
                             customer_id && *customer_id ? customer_id : NULL,
                             ms_param(event_ms, cb)};
    // clang-format off
    PGresult *res = run(db, "store connection",
        "INSERT INTO fetcher_connections AS t (connection_id, integration_name, token_sealed,"
        " customer_id, created_at, created_version) VALUES ($1, $2, $3, $4, " TS("$5") ", " TS("$5") ")"
        " ON CONFLICT (connection_id) DO UPDATE SET"
        "  integration_name = CASE WHEN EXCLUDED.integration_name <> '' THEN EXCLUDED.integration_name"
        "                     ELSE t.integration_name END,"
        "  token_sealed = EXCLUDED.token_sealed, state = 'active', state_reason = NULL,"
        "  customer_id = coalesce(EXCLUDED.customer_id, t.customer_id),"
        "  created_at = coalesce(t.created_at, EXCLUDED.created_at),"
        "  created_version = EXCLUDED.created_version,"
        "  updated_at = now(), version = t.version + 1, seq = nextval('fetcher_change_seq')"
        " WHERE" CREATION_APPLIES,
        5, p, errstr, errlen);
    // clang-format on
    if (!res) return -1;
    int applied = changed_rows(res);
    PQclear(res);
    return applied;
}

int fx_db_conn_creation_stale(PGconn *db, const char *id, int64_t event_ms, char *errstr,
                              size_t errlen) {
    char cb[24];
    const char *const p[] = {id, ms_param(event_ms, cb)};
    // clang-format off
    PGresult *res = run(db, "find connection",
                        "SELECT NOT (" CREATION_APPLIES ") FROM fetcher_connections t,"
                        " (SELECT " TS("$2") " AS created_version) AS excluded"
                        " WHERE t.connection_id = $1",
                        2, p, errstr, errlen);
    // clang-format on
    if (!res) return -1;
    int stale = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return stale;
}

int fx_db_conn_delete(PGconn *db, const char *id, int64_t event_ms, const char *reason,
                      char *errstr, size_t errlen) {
    char cb[24];
    const char *const p[] = {id, ms_param(event_ms, cb), reason};
    // clang-format off
    PGresult *res = run(db, "delete connection",
        "INSERT INTO fetcher_connections AS t (connection_id, token_sealed, state, state_reason,"
        " deleted_version) VALUES ($1, NULL, 'deleted', $3, coalesce(" TS("$2") ", now()))"
        " ON CONFLICT (connection_id) DO UPDATE SET"
        "  token_sealed = NULL, state = 'deleted', state_reason = EXCLUDED.state_reason,"
        "  deleted_version = greatest(t.deleted_version, EXCLUDED.deleted_version),"
        "  updated_at = now(), version = t.version + 1, seq = nextval('fetcher_change_seq')"
        " WHERE (t.created_version IS NULL OR EXCLUDED.deleted_version >= t.created_version)"
        "   AND (t.state <> 'deleted' OR t.token_sealed IS NOT NULL"
        "        OR t.deleted_version IS NULL OR EXCLUDED.deleted_version > t.deleted_version)",
        3, p, errstr, errlen);
    // clang-format on
    if (!res) return -1;
    int applied = changed_rows(res);
    PQclear(res);
    return applied;
}

int fx_db_conn_block(PGconn *db, const char *id, const char *reason, char *errstr, size_t errlen) {
    const char *const p[] = {id, reason};
    return run0(db, "block connection",
                "UPDATE fetcher_connections SET state = 'blocked', state_reason = $2,"
                " updated_at = now(), version = version + 1, seq = nextval('fetcher_change_seq')"
                " WHERE connection_id = $1 AND state = 'active'",
                2, p, errstr, errlen);
}

int fx_db_conn_unblock(PGconn *db, const char *id, const char *reason, char *errstr,
                       size_t errlen) {
    const char *const p[] = {id, reason};
    return run0(
        db, "unblock connection",
        "UPDATE fetcher_connections SET state = 'active', state_reason = $2, updated_at = now(),"
        " version = version + 1, seq = nextval('fetcher_change_seq')"
        " WHERE connection_id = $1 AND state = 'blocked'",
        2, p, errstr, errlen);
}

int fx_db_conn_state(PGconn *db, const char *id, char state[16], char *errstr, size_t errlen) {
    const char *const p[] = {id};
    PGresult *res =
        run(db, "find connection", "SELECT state FROM fetcher_connections WHERE connection_id = $1",
            1, p, errstr, errlen);
    if (!res) return -1;
    int n = PQntuples(res);
    if (n > 0) snprintf(state, 16, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return n > 0;
}

int fx_db_conn_since(PGconn *db, int64_t since, fx_db_conn **out, int *n, int64_t *max_seq,
                     char *errstr, size_t errlen) {
    char sb[24];
    const char *const p[] = {int_param(since, sb)};
    *out = NULL;
    *n = 0;
    PGresult *res = run(db, "load connections",
                        "SELECT connection_id, integration_name, token_sealed, state, version, seq"
                        " FROM fetcher_connections WHERE seq > $1::bigint ORDER BY seq",
                        1, p, errstr, errlen);
    if (!res) return -1;
    int rows = PQntuples(res);
    fx_db_conn *c = rows ? calloc((size_t)rows, sizeof *c) : NULL;
    if (rows && !c) {
        PQclear(res);
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < rows; i++) {
        snprintf(c[i].id, sizeof c[i].id, "%s", PQgetvalue(res, i, 0));
        snprintf(c[i].integration, sizeof c[i].integration, "%s", PQgetvalue(res, i, 1));
        c[i].sealed = PQgetisnull(res, i, 2) ? NULL : strdup(PQgetvalue(res, i, 2));
        snprintf(c[i].state, sizeof c[i].state, "%s", PQgetvalue(res, i, 3));
        c[i].version = strtoll(PQgetvalue(res, i, 4), NULL, 10);
        int64_t sq = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        if (sq > *max_seq) *max_seq = sq;
    }
    PQclear(res);
    *out = c;
    *n = rows;
    return 0;
}

int fx_db_conn_get(PGconn *db, const char *id, fx_db_conn *out, char *errstr, size_t errlen) {
    const char *const p[] = {id};
    memset(out, 0, sizeof *out);
    PGresult *res = run(db, "load connection",
                        "SELECT connection_id, integration_name, token_sealed, state, version"
                        " FROM fetcher_connections WHERE connection_id = $1",
                        1, p, errstr, errlen);
    if (!res) return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(out->id, sizeof out->id, "%s", PQgetvalue(res, 0, 0));
        snprintf(out->integration, sizeof out->integration, "%s", PQgetvalue(res, 0, 1));
        snprintf(out->state, sizeof out->state, "%s", PQgetvalue(res, 0, 3));
        out->version = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        /* NULL: a deleted connection, whose token was wiped */
        if (!PQgetisnull(res, 0, 2) && !(out->sealed = strdup(PQgetvalue(res, 0, 2)))) {
            snprintf(errstr, errlen, "out of memory");
            found = -1;
        }
    }
    PQclear(res);
    return found;
}

int fx_db_token_replace(PGconn *db, const char *id, const char *old_sealed, const char *new_sealed,
                        char *errstr, size_t errlen) {
    const char *const p[] = {id, old_sealed, new_sealed};
    /* Compare and swap: a token stored meanwhile (a new connection.created) is kept. The
     * plaintext is the same, so running fetchers need not reload: no new version. */
    PGresult *res = run(db, "re-seal token",
                        "UPDATE fetcher_connections SET token_sealed = $3"
                        " WHERE connection_id = $1 AND token_sealed = $2",
                        3, p, errstr, errlen);
    if (!res) return -1;
    int applied = changed_rows(res);
    PQclear(res);
    return applied;
}

void fx_db_conns_free(fx_db_conn *c, int n) {
    for (int i = 0; i < n; i++)
        free(c[i].sealed);
    free(c);
}

int fx_db_hist_put(PGconn *db, const char *conn, const char *resource, int64_t oldest_ms,
                   int64_t newest_ms, const char *source, char *errstr, size_t errlen) {
    char ob[24], nb[24];
    const char *const p[] = {conn, resource, ms_param(oldest_ms, ob), ms_param(newest_ms, nb),
                             source};
    /* The webhook's dates are better than the API's "done" flag: keep them once known. */
    return run0(db, "store historical sync",
                "INSERT INTO fetcher_historical_syncs (connection_id, resource, oldest_data_date,"
                " newest_data_date, source) VALUES ($1, $2, " TS("$3") ", " TS(
                    "$4") ", $5)"
                          " ON CONFLICT (connection_id, resource) DO UPDATE SET"
                          "  oldest_data_date = coalesce(EXCLUDED.oldest_data_date, "
                          "fetcher_historical_syncs.oldest_data_date),"
                          "  newest_data_date = coalesce(EXCLUDED.newest_data_date, "
                          "fetcher_historical_syncs.newest_data_date),"
                          "  seq = nextval('fetcher_change_seq')",
                5, p, errstr, errlen);
}

/* The rows of a historical-sync query (connection, resource, oldest, seq) into *out. */
static int hist_rows(PGresult *res, fx_db_hist **out, int *n, int64_t *max_seq, char *errstr,
                     size_t errlen) {
    *out = NULL;
    *n = 0;
    if (!res) return -1;
    int rows = PQntuples(res), k = 0;
    fx_db_hist *h = rows ? calloc((size_t)rows, sizeof *h) : NULL;
    if (rows && !h) {
        PQclear(res);
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < rows; i++) {
        int64_t sq = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        if (max_seq && sq > *max_seq) *max_seq = sq;
        int r = ts_entity_lookup(PQgetvalue(res, i, 1));
        if (r < 0) continue;
        snprintf(h[k].conn, sizeof h[k].conn, "%s", PQgetvalue(res, i, 0));
        h[k].res = r;
        h[k].oldest_ms = ms_value(res, i, 2);
        k++;
    }
    PQclear(res);
    *out = h;
    *n = k;
    return 0;
}

#define HIST_COLS "connection_id, resource, " MS("oldest_data_date") ", seq"

int fx_db_hist_since(PGconn *db, int64_t since, fx_db_hist **out, int *n, int64_t *max_seq,
                     char *errstr, size_t errlen) {
    char sb[24];
    const char *const p[] = {int_param(since, sb)};
    PGresult *res = run(db, "load historical syncs",
                        "SELECT " HIST_COLS " FROM fetcher_historical_syncs"
                        " WHERE seq > $1::bigint ORDER BY seq",
                        1, p, errstr, errlen);
    return hist_rows(res, out, n, max_seq, errstr, errlen);
}

/* The columns a stream is read with (stream_row reads them in this order), after the
 * resource. The MS() pieces inside the SQL text confuse clang-format. */
// clang-format off
#define STREAM_READ_COLS                                                                           \
    "resource, state, cursor_field, " MS("cursor_at") ", backfill_done, " MS("run_started_at")    \
    ", " MS("last_started_at") ", " MS("last_success_at") ", records_seen,"                       \
    " coalesce(last_error, ''), " MS("next_due_at") ", " MS("unsupported_until") ","              \
    " coalesce(sync_frequency_s, 0), " MS("last_crawl_end_at") ", cursor_rule, "                  \
    MS("last_crawl_start_at") ", crawl_error"
#define STREAM_READ_NCOLS 17
// clang-format on

int fx_db_stream_error(fx_db_stream *s, const char *text) {
    free(s->last_error);
    s->last_error = NULL;
    if (!text || !*text) return 0;
    s->last_error = strndup(text, FX_ERR_TEXT_MAX - 1);
    return s->last_error ? 0 : -1;
}

void fx_db_stream_clear(fx_db_stream *s) {
    free(s->last_error);
    s->last_error = NULL;
}

static void stream_row(const PGresult *res, int i, fx_db_stream *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->state, sizeof s->state, "%s", PQgetvalue(res, i, 1));
    snprintf(s->cursor_field, sizeof s->cursor_field, "%s", PQgetvalue(res, i, 2));
    s->cursor_ms = ms_value(res, i, 3);
    s->backfill_done = strcmp(PQgetvalue(res, i, 4), "t") == 0;
    s->run_started_ms = ms_value(res, i, 5);
    s->last_started_ms = ms_value(res, i, 6);
    s->last_success_ms = ms_value(res, i, 7);
    s->records_seen = strtoll(PQgetvalue(res, i, 8), NULL, 10);
    fx_db_stream_error(s, PQgetvalue(res, i, 9)); /* out of memory: read without it */
    s->next_due_ms = ms_value(res, i, 10);
    s->unsupported_until_ms = ms_value(res, i, 11);
    s->sync_frequency_s = atoi(PQgetvalue(res, i, 12));
    s->crawl_end_ms = ms_value(res, i, 13);
    s->cursor_rule = atoi(PQgetvalue(res, i, 14));
    s->crawl_start_ms = ms_value(res, i, 15);
    s->crawl_error = strcmp(PQgetvalue(res, i, 16), "t") == 0;
}

int fx_db_stream_get(PGconn *db, const char *conn, const char *resource, fx_db_stream *s,
                     char *errstr, size_t errlen) {
    const char *const p[] = {conn, resource};
    PGresult *res = run(db, "load stream",
                        "SELECT " STREAM_READ_COLS
                        " FROM fetcher_streams WHERE connection_id = $1 AND resource = $2",
                        2, p, errstr, errlen);
    if (!res) return -1;
    int found = PQntuples(res) > 0;
    if (found) stream_row(res, 0, s);
    PQclear(res);
    return found;
}

/* One row of fx_db_streams_put: the 18 parameters of a stream, in the column order of
 * STREAM_COLS, and the buffers its numbers are printed into. */
#define STREAM_PARAMS 18
typedef struct stream_bufs {
    char ms[8][24], rs[24], fq[16], cr[16];
} stream_bufs;

#define STREAM_COLS                                                                                \
    "connection_id, resource, state, cursor_field, cursor_at, backfill_done, run_started_at,"      \
    " last_started_at, last_success_at, records_seen, last_error, next_due_at,"                    \
    " unsupported_until, sync_frequency_s, last_crawl_end_at, cursor_rule,"                        \
    " last_crawl_start_at, crawl_error"

static void stream_params(const fx_db_stream_row *r, stream_bufs *b, const char **p) {
    const fx_db_stream *s = r->s;
    snprintf(b->rs, sizeof b->rs, "%" PRId64, s->records_seen);
    snprintf(b->fq, sizeof b->fq, "%d", s->sync_frequency_s);
    snprintf(b->cr, sizeof b->cr, "%d", s->cursor_rule);
    p[0] = r->conn;
    p[1] = r->resource;
    p[2] = s->state;
    p[3] = s->cursor_field;
    p[4] = ms_param(s->cursor_ms, b->ms[0]);
    p[5] = s->backfill_done ? "t" : "f";
    p[6] = ms_param(s->run_started_ms, b->ms[1]);
    p[7] = ms_param(s->last_started_ms, b->ms[2]);
    p[8] = ms_param(s->last_success_ms, b->ms[3]);
    p[9] = b->rs;
    p[10] = s->last_error && s->last_error[0] ? s->last_error : NULL;
    p[11] = ms_param(s->next_due_ms, b->ms[4]);
    p[12] = ms_param(s->unsupported_until_ms, b->ms[5]);
    p[13] = s->sync_frequency_s > 0 ? b->fq : NULL;
    p[14] = ms_param(s->crawl_end_ms, b->ms[6]);
    p[15] = b->cr;
    p[16] = ms_param(s->crawl_start_ms, b->ms[7]);
    p[17] = s->crawl_error ? "t" : "f";
}

/* A text[] literal of n values, p[k], p[k + stride], ...: {"a",NULL,"b"}, a NULL value
 * NULL, every other one quoted, its " and \ escaped. A value of a parameter, never SQL
 * text. (stride 1, k 0: the n values of p.) */
static int text_array(sbuf *o, const char *const *p, int n, int stride, int k) {
    int rc = sbuf_append(o, "{", 1);
    for (int i = 0; i < n && rc == 0; i++) {
        const char *v = p[(size_t)i * (size_t)stride + (size_t)k];
        if (i) rc |= sbuf_append(o, ",", 1);
        if (!v) {
            rc |= sbuf_append(o, "NULL", 4);
            continue;
        }
        rc |= sbuf_append(o, "\"", 1);
        while (*v && rc == 0) {
            size_t run = strcspn(v, "\"\\");
            rc |= sbuf_append(o, v, run);
            v += run;
            if (*v) {
                rc |= sbuf_append(o, "\\", 1);
                rc |= sbuf_append(o, v++, 1);
            }
        }
        rc |= sbuf_append(o, "\"", 1);
    }
    return rc | sbuf_append(o, "}", 1);
}

/* One upsert of every row: a single statement is a single transaction, so every row is
 * stored or none is, in one round trip. The rows travel as one text array a column and
 * are cast as a single row's parameters always were, so a stream reads back identical.
 * A VALUES list of 500 rows instead (9,000 parameters) took 40-90 ms to plan, every
 * time, several times what it took to run: the fetcher's loop waited on it during a
 * first sync of 10,000 connections (docs/benchmarks.md). */
int fx_db_streams_put(PGconn *db, const fx_db_stream_row *rows, int n, char *errstr,
                      size_t errlen) {
    if (n <= 0) return 0;
    if (n > FX_DB_STREAMS_MAX) {
        snprintf(errstr, errlen, "store streams: %d rows, at most %d a statement", n,
                 FX_DB_STREAMS_MAX);
        return -1;
    }
    stream_bufs *bufs = calloc((size_t)n, sizeof *bufs);
    const char **p = calloc((size_t)n * STREAM_PARAMS, sizeof *p);
    sbuf cols[STREAM_PARAMS] = {{0}};
    const char *arrays[STREAM_PARAMS];
    int rc = -1;
    if (!bufs || !p) goto oom;
    for (int i = 0; i < n; i++)
        stream_params(&rows[i], &bufs[i], p + (size_t)i * STREAM_PARAMS);
    for (int k = 0; k < STREAM_PARAMS; k++) {
        if (text_array(&cols[k], p, n, STREAM_PARAMS, k) != 0) goto oom;
        arrays[k] = cols[k].p;
    }
    rc = run0(
        db, "store streams",
        "INSERT INTO fetcher_streams (" STREAM_COLS ")"
        " SELECT c1, c2, c3, c4, to_timestamp(c5::double precision / 1000), c6::boolean,"
        " to_timestamp(c7::double precision / 1000), to_timestamp(c8::double precision / 1000),"
        " to_timestamp(c9::double precision / 1000), c10::bigint, c11,"
        " to_timestamp(c12::double precision / 1000), to_timestamp(c13::double precision / 1000),"
        " c14::integer, to_timestamp(c15::double precision / 1000), c16::integer,"
        " to_timestamp(c17::double precision / 1000), c18::boolean"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
        " $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
        " $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])"
        " AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18)"
        " ON CONFLICT (connection_id, resource) DO UPDATE SET state = EXCLUDED.state,"
        " cursor_field = EXCLUDED.cursor_field, cursor_at = EXCLUDED.cursor_at,"
        " backfill_done = EXCLUDED.backfill_done, run_started_at = EXCLUDED.run_started_at,"
        " last_started_at = EXCLUDED.last_started_at,"
        " last_success_at = EXCLUDED.last_success_at, records_seen = EXCLUDED.records_seen,"
        " last_error = EXCLUDED.last_error, next_due_at = EXCLUDED.next_due_at,"
        " unsupported_until = EXCLUDED.unsupported_until,"
        " sync_frequency_s = EXCLUDED.sync_frequency_s,"
        " last_crawl_end_at = EXCLUDED.last_crawl_end_at, cursor_rule = EXCLUDED.cursor_rule,"
        " last_crawl_start_at = EXCLUDED.last_crawl_start_at,"
        " crawl_error = EXCLUDED.crawl_error, updated_at = now()",
        STREAM_PARAMS, arrays, errstr, errlen);
    goto out;
oom:
    snprintf(errstr, errlen, "store streams: out of memory");
out:
    for (int k = 0; k < STREAM_PARAMS; k++)
        sbuf_free(&cols[k]);
    free(p);
    free(bufs);
    return rc;
}

int fx_db_stream_put(PGconn *db, const char *conn, const char *resource, const fx_db_stream *s,
                     char *errstr, size_t errlen) {
    const fx_db_stream_row row = {.conn = conn, .resource = resource, .s = s};
    return fx_db_streams_put(db, &row, 1, errstr, errlen);
}

/* The reads of a check as an array literal of resource names ({orders,products}): names
 * from the registry, identifiers that need no quoting. NULL when not reported. */
static const char *reads_param(const fx_db_check *c, sbuf *b) {
    if (!c->reads_known) return NULL;
    int first = 1;
    if (sbuf_append(b, "{", 1) != 0) return NULL;
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        if (c->reads & (1u << r)) {
            if (sbuf_printf(b, "%s%s", first ? "" : ",", ts_entities[r].name) != 0) return NULL;
            first = 0;
        }
    return sbuf_append(b, "}", 1) == 0 ? b->p : NULL;
}

#define CHECK_PARAMS 3

/* One statement for n checks (as fx_db_streams_put: one transaction, one round trip). */
int fx_db_checks_put(PGconn *db, const fx_db_check *rows, int n, char *errstr, size_t errlen) {
    if (n <= 0) return 0;
    if (n > FX_DB_STREAMS_MAX) {
        snprintf(errstr, errlen, "store checks: %d rows, at most %d a statement", n,
                 FX_DB_STREAMS_MAX);
        return -1;
    }
    char(*ms)[24] = calloc((size_t)n, sizeof *ms);
    sbuf *reads = calloc((size_t)n, sizeof *reads);
    const char **p = calloc((size_t)n * CHECK_PARAMS, sizeof *p);
    sbuf q = {0};
    int rc = -1;
    if (!ms || !reads || !p ||
        sbuf_printf(&q, "INSERT INTO fetcher_connection_checks (connection_id, checked_at, reads)"
                        " VALUES ") != 0)
        goto oom;
    for (int i = 0; i < n; i++) {
        const char **pi = p + (size_t)i * CHECK_PARAMS;
        pi[0] = rows[i].conn;
        pi[1] = ms_param(rows[i].checked_ms, ms[i]);
        pi[2] = reads_param(&rows[i], &reads[i]);
        if ((rows[i].reads_known && !pi[2]) ||
            sbuf_printf(&q, "%s($%d, to_timestamp($%d::double precision / 1000), $%d::text[])",
                        i ? ", " : "", i * CHECK_PARAMS + 1, i * CHECK_PARAMS + 2,
                        i * CHECK_PARAMS + 3) != 0)
            goto oom;
    }
    if (sbuf_printf(&q, "%s",
                    " ON CONFLICT (connection_id) DO UPDATE SET checked_at = EXCLUDED.checked_at,"
                    " reads = EXCLUDED.reads") != 0)
        goto oom;
    rc = run0(db, "store checks", q.p, n * CHECK_PARAMS, p, errstr, errlen);
    goto out;
oom:
    snprintf(errstr, errlen, "store checks: out of memory");
out:
    sbuf_free(&q);
    for (int i = 0; reads && i < n; i++)
        sbuf_free(&reads[i]);
    free(reads);
    free(p);
    free(ms);
    return rc;
}

/* A check's three columns from col on: checked_at (ms), reads known, reads ({a,b}: the
 * names as fx_db_checks_put wrote them). */
static void check_row(const PGresult *res, int row, int col, fx_db_check *out) {
    out->checked_ms = ms_value(res, row, col);
    out->reads_known = strcmp(PQgetvalue(res, row, col + 1), "t") == 0;
    out->reads = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", PQgetvalue(res, row, col + 2));
    char *save = NULL;
    for (char *t = strtok_r(buf, "{},\"", &save); t; t = strtok_r(NULL, "{},\"", &save)) {
        int r = ts_entity_lookup(t);
        if (r >= 0) out->reads |= 1u << r;
    }
}

int fx_db_check_get(PGconn *db, const char *conn, fx_db_check *out, char *errstr, size_t errlen) {
    const char *const p[] = {conn};
    PGresult *res =
        run(db, "load check",
            "SELECT " MS("checked_at") ", reads IS NOT NULL, coalesce(reads, '{}')"
                                       " FROM fetcher_connection_checks WHERE connection_id = $1",
            1, p, errstr, errlen);
    if (!res) return -1;
    int found = PQntuples(res) > 0;
    if (found) check_row(res, 0, 0, out);
    PQclear(res);
    return found;
}

int fx_db_integrations_put(PGconn *db, const char *body, int64_t fetched_ms, char *errstr,
                           size_t errlen) {
    char fb[24];
    const char *const p[] = {body, int_param(fetched_ms, fb)};
    return run0(db, "store integrations",
                "INSERT INTO fetcher_integrations (api, body, fetched_at)"
                " VALUES ('wms', $1, " TS(
                    "$2") ") ON CONFLICT (api) DO UPDATE"
                          " SET body = EXCLUDED.body, fetched_at = EXCLUDED.fetched_at"
                          " WHERE fetcher_integrations.fetched_at < EXCLUDED.fetched_at",
                2, p, errstr, errlen);
}

int fx_db_integrations_get(PGconn *db, char **body, int64_t *fetched_ms, char *errstr,
                           size_t errlen) {
    *body = NULL;
    PGresult *res = run(db, "load integrations",
                        "SELECT body, " MS("fetched_at") " FROM fetcher_integrations"
                                                         " WHERE api = 'wms'",
                        0, NULL, errstr, errlen);
    if (!res) return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        *fetched_ms = ms_value(res, 0, 1);
        if (!(*body = strdup(PQgetvalue(res, 0, 0)))) {
            snprintf(errstr, errlen, "load integrations: out of memory");
            found = -1;
        }
    }
    PQclear(res);
    return found;
}

int fx_db_hist_put_many(PGconn *db, const char *const *conns, const char *const *resources, int n,
                        char *errstr, size_t errlen) {
    if (n <= 0) return 0;
    sbuf a = {0}, b = {0};
    int rc = -1;
    if (text_array(&a, conns, n, 1, 0) != 0 || text_array(&b, resources, n, 1, 0) != 0) {
        snprintf(errstr, errlen, "store historical syncs: out of memory");
        goto out;
    }
    const char *const p[] = {a.p, b.p};
    /* as fx_db_hist_put with no dates: a row stored keeps its dates, its change number moves */
    rc = run0(db, "store historical syncs",
              "INSERT INTO fetcher_historical_syncs (connection_id, resource, source)"
              " SELECT c, r, 'api' FROM unnest($1::text[], $2::text[]) AS u(c, r)"
              " ON CONFLICT (connection_id, resource) DO UPDATE SET"
              "  seq = nextval('fetcher_change_seq')",
              2, p, errstr, errlen);
out:
    sbuf_free(&a);
    sbuf_free(&b);
    return rc;
}

int fx_db_conns_load(PGconn *db, const char *const *ids, int n, fx_db_loaded *out, char *errstr,
                     size_t errlen) {
    if (n <= 0) return 0;
    if (n > FX_DB_LOAD_MAX) {
        snprintf(errstr, errlen, "load connections: %d, at most %d at once", n, FX_DB_LOAD_MAX);
        return -1;
    }
    sbuf arr = {0};
    strmap *ix = strmap_new();
    PGresult *res = NULL;
    int rc = -1;
    if (!ix || text_array(&arr, ids, n, 1, 0) != 0) {
        snprintf(errstr, errlen, "load connections: out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        if (strmap_put(ix, ids[i], i) != 0) {
            snprintf(errstr, errlen, "load connections: out of memory");
            goto out;
        }
    }
    const char *const p[] = {arr.p};
    res = run(db, "load streams",
              "SELECT " STREAM_READ_COLS ", connection_id FROM fetcher_streams"
              " WHERE connection_id = ANY($1::text[])",
              1, p, errstr, errlen);
    if (!res) goto out;
    for (int k = 0; k < PQntuples(res); k++) {
        int i, r = ts_entity_lookup(PQgetvalue(res, k, 0));
        if (r < 0 || !strmap_get(ix, PQgetvalue(res, k, STREAM_READ_NCOLS), &i)) continue;
        stream_row(res, k, &out[i].streams[r]);
        out[i].found |= 1u << r;
    }
    PQclear(res);
    res = run(db, "load checks",
              "SELECT connection_id, " MS(
                  "checked_at") ", reads IS NOT NULL,"
                                " coalesce(reads, '{}') FROM fetcher_connection_checks"
                                " WHERE connection_id = ANY($1::text[])",
              1, p, errstr, errlen);
    if (!res) goto out;
    for (int k = 0; k < PQntuples(res); k++) {
        int i;
        if (!strmap_get(ix, PQgetvalue(res, k, 0), &i)) continue;
        check_row(res, k, 1, &out[i].check);
        out[i].check_found = 1;
    }
    PQclear(res);
    res = run(db, "load historical syncs",
              "SELECT " HIST_COLS " FROM fetcher_historical_syncs"
              " WHERE connection_id = ANY($1::text[])",
              1, p, errstr, errlen);
    if (!res) goto out;
    for (int k = 0; k < PQntuples(res); k++) {
        int i, r = ts_entity_lookup(PQgetvalue(res, k, 1));
        if (r < 0 || !strmap_get(ix, PQgetvalue(res, k, 0), &i)) continue;
        out[i].hist |= 1u << r;
        out[i].hist_oldest_ms[r] = ms_value(res, k, 2);
    }
    rc = 0;
out:
    PQclear(res);
    strmap_free(ix);
    sbuf_free(&arr);
    return rc;
}

/* "{orders,returns}" for a resource bit set (empty = all). */
static void res_array(uint32_t bits, char *buf, size_t len) {
    size_t n = (size_t)snprintf(buf, len, "{");
    for (int r = 0; r < TS_ENTITY_COUNT && n < len; r++)
        if (bits & (1u << r))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n > 1 ? "," : "", ts_entities[r].name);
    if (n < len) snprintf(buf + n, len - n, "}");
}

int fx_db_req_add(PGconn *db, const char *conn, const char *kind, uint32_t resources,
                  int64_t start_ms, int64_t end_ms, int64_t *id, char *errstr, size_t errlen) {
    char arr[512], b1[24], b2[24];
    res_array(resources, arr, sizeof arr);
    const char *const p[] = {conn, kind, arr, ms_param(start_ms, b1), ms_param(end_ms, b2)};
    PGresult *res =
        run(db, "store request",
            "INSERT INTO fetcher_requests (connection_id, kind, resources, window_start,"
            " window_end) VALUES ($1, $2, $3::text[], " TS("$4") ", " TS("$5") ") RETURNING id",
            5, p, errstr, errlen);
    if (!res) return -1;
    *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int fx_db_req_pending(PGconn *db, fx_db_req *out, int max, int *n, char *errstr, size_t errlen) {
    char lim[16];
    snprintf(lim, sizeof lim, "%d", max);
    const char *const p[] = {lim};
    *n = 0;
    PGresult *res =
        run(db, "load requests",
            "SELECT id, connection_id, kind, array_to_string(resources, ','), " MS(
                "window_start") ", " MS("window_end") " FROM fetcher_requests WHERE status = "
                                                      "'pending' ORDER BY id LIMIT $1::int",
            1, p, errstr, errlen);
    if (!res) return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        fx_db_req *q = &out[i];
        memset(q, 0, sizeof *q);
        q->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        snprintf(q->conn, sizeof q->conn, "%s", PQgetvalue(res, i, 1));
        snprintf(q->kind, sizeof q->kind, "%s", PQgetvalue(res, i, 2));
        char *list = strdup(PQgetvalue(res, i, 3)), *save = NULL;
        for (char *t = list ? strtok_r(list, ",", &save) : NULL; t;
             t = strtok_r(NULL, ",", &save)) {
            int r = ts_entity_lookup(t);
            if (r >= 0) q->resources |= 1u << r;
        }
        free(list);
        q->start_ms = ms_value(res, i, 4);
        q->end_ms = ms_value(res, i, 5);
    }
    *n = PQntuples(res);
    PQclear(res);
    return 0;
}

int fx_db_req_set(PGconn *db, int64_t id, const char *status, const char *detail, char *errstr,
                  size_t errlen) {
    char ib[24];
    snprintf(ib, sizeof ib, "%" PRId64, id);
    const char *const p[] = {ib, status, detail};
    return run0(db, "update request",
                "UPDATE fetcher_requests SET status = $2, detail = coalesce($3, detail),"
                " updated_at = now() WHERE id = $1::bigint",
                3, p, errstr, errlen);
}

static char *json_query(PGconn *db, const char *what, const char *sql, int n, const char *const *p,
                        char *errstr, size_t errlen) {
    PGresult *res = run(db, what, sql, n, p, errstr, errlen);
    if (!res) return NULL;
    char *out = NULL;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        out = strdup(PQgetvalue(res, 0, 0));
    else
        snprintf(errstr, errlen, "not found");
    PQclear(res);
    return out;
}

char *fx_db_req_json(PGconn *db, int64_t id, char *errstr, size_t errlen) {
    char ib[24];
    snprintf(ib, sizeof ib, "%" PRId64, id);
    const char *const p[] = {ib};
    return json_query(
        db, "load request",
        "SELECT json_build_object('id', id, 'connection_id', connection_id, 'kind', kind,"
        " 'resources', resources, 'window_start', window_start, 'window_end', window_end,"
        " 'status', status, 'detail', detail, 'created_at', created_at,"
        " 'updated_at', updated_at)::text FROM fetcher_requests WHERE id = $1::bigint",
        1, p, errstr, errlen);
}

char *fx_db_streams_json(PGconn *db, const char *conn, char *errstr, size_t errlen) {
    const char *const p[] = {conn};
    return json_query(db, "load streams",
                      "SELECT coalesce(json_agg(json_build_object('connection_id', connection_id,"
                      " 'resource', resource, 'state', state, 'cursor_field', cursor_field,"
                      " 'cursor', cursor_at, 'backfill_done', backfill_done,"
                      " 'last_started_at', last_started_at, 'last_success_at', last_success_at,"
                      " 'records_seen', records_seen, 'last_error', last_error,"
                      " 'next_due_at', next_due_at, 'sync_frequency_s', sync_frequency_s,"
                      " 'last_crawl_end_at', last_crawl_end_at)"
                      " ORDER BY connection_id, resource), '[]')::text"
                      " FROM fetcher_streams WHERE $1::text IS NULL OR connection_id = $1",
                      1, p, errstr, errlen);
}

int fx_db_live_rows(PGconn *db, const char *table, const char *conn, int64_t before_ms,
                    fx_db_row_fn fn, void *arg, char *errstr, size_t errlen) {
    char sql[512], ms[24];
    snprintf(sql, sizeof sql,
             "SELECT id, record->>'source_updated_at', record->>'trackstar_updated_at' FROM \"%s\""
             " WHERE connection_id = $1 AND deleted_at IS NULL AND observed_at < " TS("$2"),
             table);
    snprintf(ms, sizeof ms, "%" PRId64, before_ms);
    const char *const p[] = {conn, ms};
    PGresult *res = PQexecParams(db, sql, 2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int absent = st && strcmp(st, "42P01") == 0; /* undefined_table */
        if (!absent) pq_err(db, res, "read live rows", errstr, errlen);
        PQclear(res);
        return absent ? 0 : -1;
    }
    int rc = 0;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++)
        if (fn(arg, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
               PQgetisnull(res, r, 2) ? NULL : PQgetvalue(res, r, 2))) {
            snprintf(errstr, errlen, "out of memory");
            rc = -1;
        }
    PQclear(res);
    return rc;
}
