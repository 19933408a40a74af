/* purge.h - removing one connection's data everywhere: every row of every table with a
 * connection_id column (found from the schema, not from a list), and a tombstone for each
 * of its keys on every compacted topic, so that Kafka's compaction removes them too.
 *
 * Ordering with the writer, the only other producer of those keys: writers hold the purge
 * lock shared from before a batch's transaction until its publications are acknowledged
 * (writer/db_pub.c); purge_connection() holds it exclusively while it deletes the rows and
 * its tombstones are acknowledged, so no applied version of the connection can land after
 * a tombstone. A purged connection is remembered by the SHA-256 of its id only
 * (purge_marker() in SQL; no row holds the id itself): in purged_connections, where writers
 * look to skip its late records, and on the compacted topic trackstar.purged-connections.v1,
 * from which a rebuild from the raw topic takes them (the raw topic still holds the
 * connection's old records), so it stays purged.
 */
#ifndef TS_PURGE_H
#define TS_PURGE_H

#if defined(__has_include) && __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif
#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* pg_advisory_lock key of the purge lock (a literal, for SQL text). */
#define PURGE_LOCK_KEY "7431170"

typedef struct purge_report {
    long long rows;       /* rows deleted, all tables together */
    int tables;           /* tables that had rows of the connection */
    long long tombstones; /* tombstones published */
    int topics;           /* compacted topics read */
} purge_report;

/* Progress callback: a short line of what is being done now (may be NULL). */
typedef void (*purge_progress_fn)(void *arg, const char *what);

/* Purge connection_id. db is a connection to the pipeline's database; producer a producer
 * from kafka_producer_new; bootstrap/props (the KAFKA_CONFIG_FILE text) configure the consumer that
 * reads the compacted topics (every entity's public topic and wms.connection_events.v1, names with
 * prefix). Refuses (-1) unless the connection is deleted (connections.status) or force is set.
 * Idempotent: a second run finds nothing and succeeds. 0 or -1 with errstr. */
int purge_connection(PGconn *db, rd_kafka_t *producer, const char *bootstrap, const char *props,
                     const char *prefix, const char *connection_id, int force,
                     purge_progress_fn progress, void *arg, purge_report *rep, char *errstr,
                     size_t errlen);

/* One purge marker: the hash and when it was purged (RFC 3339; NULL when unknown). A
 * non-zero return stops the reading with an error. */
typedef int (*purge_marker_fn)(void *arg, const char *hash, const char *purged_at);

/* Call fn for every purge marker on the purged-connections topic (names with prefix).
 * 0 or -1 with errstr. */
int purge_markers(const char *bootstrap, const char *props, const char *prefix, purge_marker_fn fn,
                  void *arg, char *errstr, size_t errlen);

#endif
