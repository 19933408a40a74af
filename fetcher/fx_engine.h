/* fx_engine.h - the fetcher's scheduler: every owned (connection, resource) stream,
 * its runs, and the HTTP, Kafka and PostgreSQL traffic they make.
 *
 * Single-threaded: everything here runs on the main loop's thread (the Kafka delivery
 * callback included, from rd_kafka_poll inside fx_engine_step). Ownership of
 * connections comes from the assignment consumer (fx_assign.h) through
 * fx_engine_partition(); a connection belongs to partition fx_engine_partition_of().
 */
#ifndef FX_ENGINE_H
#define FX_ENGINE_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "seal.h"
#include "fx_db.h"
#include "entities.h"

typedef struct fx_cfg {
    const char *base_url, *api_key;
    char raw_topic[256];
    /* the assignment topic: a sweep hands each listed connection another replica owns to
     * it there (fx_assign.h); "" = never */
    char assign_topic[256];
    int rate_per_token, rate_window_ms;
    int org_rate; /* API-key-only requests a second: this replica's share of the organisation's */
    int64_t interval_ms[TS_ENTITY_COUNT];
    int due_jitter_pct; /* a stream's next due time is spread over up to this % of it */
    int64_t overlap_ms;
    int page_limit;
    int max_inflight;    /* HTTP requests in flight, whole process */
    int token_inflight;  /* ... per access token */
    int stream_parallel; /* windows fetched at once per stream */
    int64_t window_initial_ms, window_min_ms, window_max_ms;
    int window_target_pages;
    int64_t backfill_horizon_ms; /* first window's end when the oldest date is unknown */
    int retry_max, backoff_base_ms, backoff_cap_ms;
    int64_t failed_retry_ms, unsupported_recheck_ms, blocked_recheck_ms;
    int64_t hist_check_ms, integrations_ttl_ms, refresh_ms;
    int64_t conn_check_ms;   /* GET /connections/{id} for crawl times */
    int64_t sync_wait_ms;    /* a force sync's crawl is waited for at most this long */
    int64_t job_check_ms;    /* an on-demand sync job is looked at this often */
    int64_t conn_refresh_ms; /* GET /connections/{id} once the first syncs are done */
    int64_t max_unacked_bytes;
    int64_t revoke_flush_ms;
    size_t max_body;
    long http_timeout_ms;
    seal_ring ring;
} fx_cfg;

typedef struct fx_engine fx_engine;

/* cfg is copied; db and producer stay owned by the caller and must outlive the engine.
 * The producer must have been created with fx_engine_dr as its delivery callback and
 * the engine pointer as its opaque: create it first with opaque = a fx_engine ** that
 * is filled in here. Returns NULL with errstr. */
fx_engine *fx_engine_new(const fx_cfg *cfg, PGconn *db, rd_kafka_t *producer, char *errstr,
                         size_t errlen);
void fx_engine_free(fx_engine *e);

/* The delivery-report callback for the producer (rd_kafka opaque = fx_engine **). */
void fx_engine_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* Which partition of the assignment topic a connection belongs to (FNV-1a 32). */
int fx_engine_partition_of(const char *connection_id, int partitions);

/* Ownership: set the partition count once, then own / disown partitions. Disowning
 * stops that partition's streams before it returns (in-flight pages are abandoned
 * without advancing cursors; records already produced get up to revoke_flush_ms to be
 * acknowledged and counted). */
void fx_engine_set_partitions(fx_engine *e, int partitions);
void fx_engine_partition(fx_engine *e, int partition, int owned);

/* A connection object another replica's sweep listed (GET /connections) at wall time
 * listed_ms and handed over through the assignment topic: applied as this replica's own
 * sweep would apply it, when the connection is owned here and the listing is fresh. */
void fx_engine_listed(fx_engine *e, const char *connection_id, const char *obj, size_t len,
                      int64_t listed_ms);

/* Reload connections, historical syncs and requests from the database at the next step. */
void fx_engine_poke(fx_engine *e);

/* One turn of the loop: deliveries, refresh, scheduling, and up to wait_ms of HTTP. */
void fx_engine_step(fx_engine *e, int wait_ms);

/* Graceful stop: abandon pages in flight, flush the producer for up to flush_ms,
 * store every cursor the acknowledged records allow. */
void fx_engine_stop(fx_engine *e, int flush_ms);

/* Readiness: 1 when the last database use succeeded (thread-safe read). */
int fx_engine_db_ok(const fx_engine *e);

#endif
