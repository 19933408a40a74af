/* db.h - the writer's PostgreSQL layer: one connection, versioned migrations, and
 * batched, idempotent, monotonic upserts of canonical records.
 *
 * A batch is applied in ONE transaction: every record is parsed and checked in C,
 * duplicates inside the batch are reduced to the newest version, the survivors are
 * COPYed into session-local staging tables and merged into the domain tables with one
 * INSERT ... ON CONFLICT DO UPDATE per table, guarded by source_updated_at. Child rows
 * (line items, packages, levels, ...) are replaced only for parents that changed.
 * A record PostgreSQL refuses is isolated by bisection under savepoints, so the rest
 * of the batch still commits.
 *
 * Not safe for concurrent use: one wdb per thread. Needs a session-level connection
 * (direct, or a pooler in session mode): it keeps temp tables and prepared statements.
 */
#ifndef WRITER_DB_H
#define WRITER_DB_H

#include <stddef.h>

#include "util.h"

typedef struct wdb wdb; /* one PostgreSQL connection + prepared state */

/* Connect with a libpq conninfo string or URI. The caller owns the result and frees
 * it with wdb_close(). NULL on failure with a reason in errstr (the password in the
 * conninfo is never copied there). */
wdb *wdb_open(const char *conninfo, char *errstr, size_t errlen);

/* Close the connection and free everything. NULL is allowed. */
void wdb_close(wdb *db);

/* 1 when the connection is usable; 0 after the server went away (the caller then
 * closes this handle and opens a new one). */
int wdb_ok(wdb *db);

/* Apply versioned migrations from dir (files NNN_*.sql in order) once each, recorded in a
 * schema_migrations table. Each file runs in its own transaction together with its
 * schema_migrations row, under a transaction-level advisory lock (pg_advisory_xact_lock), so
 * several migrators at once are safe, also through a pooler in transaction mode; a failed file
 * leaves nothing behind. A file already applied whose content changed is an error (migrations
 * are append-only). Files must not contain BEGIN/COMMIT. 0 or -1. */
int wdb_migrate(wdb *db, const char *dir, char *errstr, size_t errlen);

/* How many files of dir are not applied yet (*pending; all of them when there is no
 * schema_migrations table). Reads only. 0, or -1 with errstr (also when an applied file
 * changed). */
int wdb_migrate_pending(wdb *db, const char *dir, int *pending, char *errstr, size_t errlen);

typedef struct wdb_item {
    const char *topic; /* the entity's public topic without prefix, e.g. "wms.orders.v1"
                          (the writer reads its internal twin), or "wms.connection_events.v1" */
    const char *value; /* canonical JSON (see docs/canonical-model.md); borrowed, not copied */
    size_t value_len;
    int recover;      /* in: 1 = after the batch, also publish the stored row of this
                         record's key (the batch may have been applied before a crash) */
    int rejected;     /* out: 1 when this record was refused for its content */
    int skipped;      /* out: 1 when its connection was purged (neither applied nor refused) */
    char reason[256]; /* out: why (no secrets, no whole bodies) */
} wdb_item;

typedef enum wdb_result { WDB_OK = 0, WDB_RETRY = -1, WDB_FENCED = -2 } wdb_result;

/* One message the writer must publish after a commit: a version PostgreSQL applied (or
 * a stored row, for items with recover set), in the order it was applied. */
typedef struct wdb_pub {
    const char *topic; /* public topic without prefix (the spec's topic) */
    const char *key;   /* "connection_id|id" */
    size_t key_len;
    const char *value; /* the record; NULL = a tombstone (after a delete record) */
    size_t value_len;
    int item; /* the item whose version this is; -1 for a stored row */
} wdb_pub;

/* One input partition of the batch, for the fence: the batch commits only while this
 * writer still holds the partition's epoch (wdb_claim), and records offset as applied
 * in the same transaction. */
typedef struct wdb_fence {
    const char *topic; /* as consumed, prefix included */
    int partition;
    long long epoch;
    long long offset; /* the highest offset of this partition in the batch */
    int lost;         /* out: 1 when another writer has claimed the partition since */
} wdb_fence;

/* Bounds (see db.c for why each is what it is). */
#define WDB_MAX_BATCH 10000            /* items per wdb_apply call */
#define WDB_MAX_VALUE_BYTES (4u << 20) /* one canonical record */
#define WDB_MAX_CHILDREN 20000         /* child rows of one record, all tables together */

/* Apply a batch in ONE transaction. Records whose content is bad (unparsable JSON, missing id,
   a value PostgreSQL refuses: SQLSTATE classes 22/23, etc.) are marked rejected with a reason and
   skipped; the rest commit. WDB_OK = committed. WDB_RETRY = a transient failure (connection lost,
   server restarting, serialization failure, deadlock): nothing committed; the caller reconnects and
   retries the same batch later. A unique violation must never happen (and never reach the log).
   Every item's rejected/reason is reset on entry. Records superseded by a newer version of
   the same record in the same batch are not rejected: they are simply older. A batch with
   n > WDB_MAX_BATCH is refused as a whole (WDB_RETRY, nothing marked). */
wdb_result wdb_apply(wdb *db, wdb_item *items, int n, char *errstr, size_t errlen);

/* wdb_apply with the partition fence of the writer's consumer group `group`: WDB_FENCED
 * (nothing committed, the lost partitions marked) when another writer claimed one of them
 * since this one did. Records of purged connections (purged_connections) are skipped. */
wdb_result wdb_apply_fenced(wdb *db, const char *group, wdb_fence *fences, int nfences,
                            wdb_item *items, int n, char *errstr, size_t errlen);

/* After WDB_OK: what to publish, in order (valid until the next wdb_apply*), and the
 * commit's time (RFC 3339 UTC, ms) for the applied_at header. */
int wdb_published(wdb *db, const wdb_pub **out);
const char *wdb_applied_at(wdb *db);

/* A publish list taken out of the handle: valid while later batches are applied. */
typedef struct wdb_publist {
    wdb_pub *pubs;
    int n;
    sbuf text; /* the keys and stored rows pubs point into */
    char applied_at[40];
} wdb_publist;

/* After WDB_OK: move what to publish into *out (its previous buffers go back to db for
 * reuse). Values of applied records still point into the items' records. */
void wdb_take_published(wdb *db, wdb_publist *out);
void wdb_publist_free(wdb_publist *l);

/* Take over partition (topic, partition) for group: bump its epoch (fencing off any
 * writer that held it) and read the highest offset applied under an older epoch
 * (-1 when none): records up to it may be committed but not yet published. 0 or -1. */
int wdb_claim(wdb *db, const char *group, const char *topic, int partition, long long *epoch,
              long long *applied_offset, char *errstr, size_t errlen);

/* The purge lock (common/purge.h): held shared from before a batch's transaction until
 * its publications are acknowledged, so that a purge (exclusive) never interleaves
 * with them. Taking it when held, or releasing it when not, does nothing. 0 or -1. */
int wdb_purge_lock(wdb *db, int lock, char *errstr, size_t errlen);
int wdb_purge_locked(const wdb *db);

/* *waiting = 1 when a purge waits for the purge lock: a writer that holds it from batch
 * to batch (the next one applied while the last one is acknowledged) must let it go,
 * since a lock held without a gap would keep the purge out for good. 0 or -1. */
int wdb_purge_waiting(wdb *db, int *waiting, char *errstr, size_t errlen);

#endif
