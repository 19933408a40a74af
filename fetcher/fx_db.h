/* fx_db.h - the fetcher's durable state in PostgreSQL (tables prefixed fetcher_; the
 * writer owns every other table).
 *
 *   fetcher_connections       id, integration, customer, sealed access token, state
 *                             (monotonic in the events' own time: fx_db_conn_put)
 *   fetcher_historical_syncs  per (connection, resource): first sync done, oldest date
 *   fetcher_streams           per (connection, resource): cursor, schedule, sync status,
 *                             and Trackstar's sync schedule of it (GET /connections/{id})
 *   fetcher_connection_checks per connection: when GET /connections/{id} last answered,
 *                             and what its available_actions read
 *   fetcher_integrations      the last answer of GET /integrations/wms, as served
 *   fetcher_requests          manual syncs and window backfills waiting for the owner
 *
 * writer/migrations/ creates them (`writer --migrate`, the one migration mechanism of
 * every table the project owns); the fetcher only waits for them (fx_db_schema_ready).
 * Its database role may read and write rows of these tables and nothing else (migration
 * 006_roles.sql). Dates cross this interface as ms since the epoch (0 = NULL). Calls
 * are blocking and short; each returns 0 or -1 with errstr and never logs secrets.
 */
#ifndef FX_DB_H
#define FX_DB_H

/* Debian installs libpq's header under postgresql/; elsewhere it is often top-level. */
#if defined(__has_include) && __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif
#include <stdint.h>

#include "entities.h"

/* Sets of resources travel as a bit per ts_entity_id in a uint32_t. */
_Static_assert(TS_ENTITY_COUNT <= 32, "a resource mask holds at most 32 entities");

#define FX_ID_MAX 128       /* connection ids and integration names */
#define FX_ERR_TEXT_MAX 256 /* last_error stored per stream */
#define FX_REQ_MAX_BATCH 64 /* pending requests read per refresh */

/* Connection states as stored. */
#define FX_CONN_ACTIVE "active"
#define FX_CONN_BLOCKED "blocked"
#define FX_CONN_DELETED "deleted"

/* Open a connection (NULL with errstr on failure). */
PGconn *fx_db_open(const char *url, char *errstr, size_t errlen);
/* Reconnect when the connection broke. 0 when usable afterwards. */
int fx_db_ensure(PGconn *db);
/* 0 when every fetcher_* table exists; -1 with errstr (which says to run the migrations). */
int fx_db_schema_ready(PGconn *db, char *errstr, size_t errlen);
int fx_db_ping(PGconn *db);
/* One transaction around several calls (a loop turn's connection events: one commit, not
 * one per event). 0 or -1 with errstr; a rollback on a broken connection is a no-op. */
int fx_db_begin(PGconn *db, char *errstr, size_t errlen);
int fx_db_commit(PGconn *db, char *errstr, size_t errlen);
void fx_db_rollback(PGconn *db);

typedef struct fx_db_conn {
    char id[FX_ID_MAX], integration[FX_ID_MAX], state[16];
    char *sealed; /* malloc'd sealed token (not a secret by itself); NULL once deleted */
    int64_t version;
} fx_db_conn;

/* A connection created at event_ms (connection.created's created_date; 0 = unknown, as
 * for a link exchange or connection-add, whose answers carry no date), with its sealed
 * token: stored, or its token replaced and
 * its state active again, only when event_ms is newer than its last creation and than
 * its deletion (fx_db.c states the rule). customer_id may be NULL (kept as it was).
 * 1 when applied, 0 when the event is older than what is stored, -1 on error. */
int fx_db_conn_put(PGconn *db, const char *id, const char *integration, const char *sealed,
                   const char *customer_id, int64_t event_ms, char *errstr, size_t errlen);
/* 1 when a creation at event_ms would change nothing stored (fx_db_conn_put would
 * return 0), 0 when it would or the connection is not stored, -1 on error. */
int fx_db_conn_creation_stale(PGconn *db, const char *id, int64_t event_ms, char *errstr,
                              size_t errlen);
/* A connection deleted at event_ms (0 = now): state deleted and token wiped, unless a
 * newer creation is stored; a connection not stored yet gets a row without a token.
 * 1 when applied, 0 when nothing changed (older, or already deleted), -1 on error. */
int fx_db_conn_delete(PGconn *db, const char *id, int64_t event_ms, const char *reason,
                      char *errstr, size_t errlen);
/* active -> blocked (a 401; never a deleted connection). */
int fx_db_conn_block(PGconn *db, const char *id, const char *reason, char *errstr, size_t errlen);
/* blocked -> active (nothing happens in any other state). */
int fx_db_conn_unblock(PGconn *db, const char *id, const char *reason, char *errstr, size_t errlen);
/* 1 with the state copied when the connection is stored, 0 when not, -1 on error. */
int fx_db_conn_state(PGconn *db, const char *id, char state[16], char *errstr, size_t errlen);
/* Every connection changed after change number since (0 = all), oldest change first;
 * *max_seq is raised to the newest change number returned. *out is a malloc'd array
 * the caller frees with fx_db_conns_free. */
int fx_db_conn_since(PGconn *db, int64_t since, fx_db_conn **out, int *n, int64_t *max_seq,
                     char *errstr, size_t errlen);
void fx_db_conns_free(fx_db_conn *c, int n);
/* One connection by id: 1 found (out->sealed malloc'd, free it), 0 not stored, -1 error. */
int fx_db_conn_get(PGconn *db, const char *id, fx_db_conn *out, char *errstr, size_t errlen);
/* Replace a connection's sealed token when it still is old_sealed (the same token
 * sealed again, under another key). 1 replaced, 0 changed meanwhile, -1 on error. */
int fx_db_token_replace(PGconn *db, const char *id, const char *old_sealed, const char *new_sealed,
                        char *errstr, size_t errlen);

/* n first syncs done (conns[i]'s resources[i], dates unknown: what GET /connections says)
 * in one statement, as n fx_db_hist_put without dates; no (connection, resource) twice. */
int fx_db_hist_put_many(PGconn *db, const char *const *conns, const char *const *resources, int n,
                        char *errstr, size_t errlen);
/* Record that a resource's first sync is done (oldest/newest: 0 = unknown). */
int fx_db_hist_put(PGconn *db, const char *conn, const char *resource, int64_t oldest_ms,
                   int64_t newest_ms, const char *source, char *errstr, size_t errlen);
typedef struct fx_db_hist {
    char conn[FX_ID_MAX];
    int res;
    int64_t oldest_ms; /* 0 = unknown */
} fx_db_hist;

/* Historical-sync rows changed after since (as fx_db_conn_since); *out is malloc'd. */
int fx_db_hist_since(PGconn *db, int64_t since, fx_db_hist **out, int *n, int64_t *max_seq,
                     char *errstr, size_t errlen);

typedef struct fx_db_stream {
    char state[32];
    char cursor_field[32];
    int64_t cursor_ms; /* 0 = none */
    int backfill_done;
    int64_t run_started_ms, last_started_ms, last_success_ms;
    int64_t records_seen;
    /* malloc'd, NULL = none (fx_db_stream_error); a stream holds one only while in error:
     * 256 bytes inline were 3.8 KB of every owned connection (issue 24) */
    char *last_error;
    int64_t next_due_ms, unsupported_until_ms;
    /* Trackstar's sync schedule of it, as GET /connections/{id} last said (fx_promise):
     * read back at a restart instead of asking again */
    int sync_frequency_s;   /* sync_frequency; 0 = not reported */
    int64_t crawl_start_ms; /* the newest ended crawl's start; 0 = none known */
    int64_t crawl_end_ms;   /* ... and its end */
    int crawl_error;        /* sync_status error: Trackstar cannot crawl it */
    int cursor_rule;        /* 1: cursor_ms follows docs/fetcher.md's rule; 0: older */
} fx_db_stream;

/* Set its last_error to a copy of text (NULL or "" = none), at most FX_ERR_TEXT_MAX - 1
 * bytes of it: 0, or -1 out of memory (then it has none). */
int fx_db_stream_error(fx_db_stream *s, const char *text);
/* Free what it holds (its last_error); the rest is left as it is. */
void fx_db_stream_clear(fx_db_stream *s);

/* Returns 1 when found (s's last_error allocated: fx_db_stream_clear), 0 when there is no
 * row yet, -1 on error. s is overwritten, not cleared first. */
int fx_db_stream_get(PGconn *db, const char *conn, const char *resource, fx_db_stream *s,
                     char *errstr, size_t errlen);
/* One stream stored (as fx_db_streams_put with one row). */
int fx_db_stream_put(PGconn *db, const char *conn, const char *resource, const fx_db_stream *s,
                     char *errstr, size_t errlen);

/* Rows per fx_db_streams_put: one statement stays small (18 parameters a row; PostgreSQL
 * takes at most 65535 in one statement). */
#define FX_DB_STREAMS_MAX 500
typedef struct fx_db_stream_row {
    const char *conn, *resource;
    const fx_db_stream *s;
} fx_db_stream_row;

/* Store n streams (0..FX_DB_STREAMS_MAX, no two with the same connection and resource)
 * in one statement, one round trip and one transaction: 0 when every row is stored, -1
 * with errstr when none is. */
int fx_db_streams_put(PGconn *db, const fx_db_stream_row *rows, int n, char *errstr, size_t errlen);

/* What GET /connections/{id} last answered about a connection, besides its streams'
 * schedules (fx_db_stream) and first syncs (fx_db_hist_put). */
typedef struct fx_db_check {
    const char *conn;   /* fx_db_checks_put: the connection (not copied) */
    int64_t checked_ms; /* wall clock of the answer */
    int reads_known;    /* it listed available_actions ... */
    uint32_t reads;     /* ... reading these resources (bit per ts_entity_id) */
} fx_db_check;

/* Store n checks (0..FX_DB_STREAMS_MAX, no two of one connection) in one statement, as
 * fx_db_streams_put: 0 when all are stored, -1 with errstr when none is. */
int fx_db_checks_put(PGconn *db, const fx_db_check *rows, int n, char *errstr, size_t errlen);
/* A connection's stored check (out->conn is left as it is): 1 found, 0 never stored, -1
 * on error. */
int fx_db_check_get(PGconn *db, const char *conn, fx_db_check *out, char *errstr, size_t errlen);

/* GET /integrations/wms's last answer (the API allows one call a minute for the
 * organisation): stored by whichever replica asked, read by every start. _put keeps the
 * newer of what is stored and fetched_ms. _get: 1 with *body (malloc'd) and *fetched_ms,
 * 0 when none is stored, -1 on error. */
int fx_db_integrations_put(PGconn *db, const char *body, int64_t fetched_ms, char *errstr,
                           size_t errlen);
int fx_db_integrations_get(PGconn *db, char **body, int64_t *fetched_ms, char *errstr,
                           size_t errlen);

/* What is stored of one connection, as fx_db_conns_load reads it. */
#define FX_DB_LOAD_MAX 500 /* connections per fx_db_conns_load: three statements */
typedef struct fx_db_loaded {
    fx_db_stream streams[TS_ENTITY_COUNT];
    uint32_t found;  /* a bit per stream whose row is stored */
    int check_found; /* a check is stored (check.conn is left NULL) */
    fx_db_check check;
    uint32_t hist;                           /* a bit per resource whose first sync is done */
    int64_t hist_oldest_ms[TS_ENTITY_COUNT]; /* ... and its oldest_data_date (0 = unknown) */
} fx_db_loaded;

/* The stored streams, checks and historical-sync rows of n connections (0..FX_DB_LOAD_MAX,
 * distinct) in three queries, whatever n: out[i] (n of them, the caller's) for ids[i]. A
 * restart owning 10,000 connections reads them in 60 statements, not three per
 * connection. 0 or -1 with errstr (then out says nothing). */
int fx_db_conns_load(PGconn *db, const char *const *ids, int n, fx_db_loaded *out, char *errstr,
                     size_t errlen);

typedef struct fx_db_req {
    int64_t id;
    char conn[FX_ID_MAX];
    char kind[16];            /* sync | backfill | poll */
    uint32_t resources;       /* bit per ts_entity_id; 0 = all */
    int64_t start_ms, end_ms; /* backfill window */
} fx_db_req;

/* Insert a request; *id gets its id. */
int fx_db_req_add(PGconn *db, const char *conn, const char *kind, uint32_t resources,
                  int64_t start_ms, int64_t end_ms, int64_t *id, char *errstr, size_t errlen);
/* Up to max pending requests (oldest first). */
int fx_db_req_pending(PGconn *db, fx_db_req *out, int max, int *n, char *errstr, size_t errlen);
int fx_db_req_set(PGconn *db, int64_t id, const char *status, const char *detail, char *errstr,
                  size_t errlen);
/* A request as a malloc'd JSON object, or NULL (errstr "not found" when absent). */
char *fx_db_req_json(PGconn *db, int64_t id, char *errstr, size_t errlen);
/* Every stream (of one connection when conn is non-NULL) as a malloc'd JSON array. */
char *fx_db_streams_json(PGconn *db, const char *conn, char *errstr, size_t errlen);

/* One live row of a domain table: its id and the version it holds (canonical text of
 * source_updated_at; trackstar_updated_at may be NULL). */
typedef int (*fx_db_row_fn)(void *arg, const char *id, const char *source_updated_at,
                            const char *trackstar_updated_at);

/* The rows the pipeline holds for connection conn in the writer's table `table` (a
 * compile-time name from fx_res_infos): live (deleted_at IS NULL) and observed before
 * before_ms. Read-only: the writer owns the table. fn is called for each; a non-zero
 * return stops with -1. A database without the table (the writer never ran) holds
 * nothing: no call, 0. 0 or -1 with errstr. */
int fx_db_live_rows(PGconn *db, const char *table, const char *conn, int64_t before_ms,
                    fx_db_row_fn fn, void *arg, char *errstr, size_t errlen);

#endif
