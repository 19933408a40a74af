/* sim_webhook.h - delivers webhook events the way Trackstar does through Svix: signed
 * POSTs from one sender thread (libcurl multi), a bounded queue, retries on the Svix
 * schedule with the same svix-id, and injectable delivery faults. */
#ifndef SIM_WEBHOOK_H
#define SIM_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "svix.h"

#define SIM_WH_ATTEMPTS 8 /* Svix: 8 attempts, then the message is Failed */
#define SIM_WH_MAX_INFLIGHT 64
#define SIM_WH_STORED_EVENTS 256                /* full bodies kept for data_url downloads */
#define SIM_WH_DOWNLOAD_TTL_MS (20 * 60 * 1000) /* download_url validity: 20 minutes */

typedef struct sim_wh_config {
    const char *url; /* "" = do not send (events are counted as skipped) */
    svix_key keys[SVIX_MAX_SECRETS];
    int nkeys;
    double retry_scale;      /* multiplies the Svix schedule (tests: 0.001) */
    int timeout_ms;          /* a slower answer is a failure (Svix: 15 s) */
    int queue_max;           /* messages waiting or retrying */
    int concurrency;         /* deliveries in flight at once */
    const char *public_base; /* "http://127.0.0.1:8090": prefix of data_url */
} sim_wh_config;

/* Faults apply to the next N deliveries each (0 = off). */
typedef struct sim_wh_faults {
    int bad_signature;   /* sign with a wrong key */
    int stale_timestamp; /* svix-timestamp 10 minutes in the past */
    int mangled_body;    /* body bytes differ from what was signed */
    int duplicate;       /* the next N events are enqueued twice (same svix-id) */
    int out_of_order;    /* the next N picks take the newest due message first */
    long oversize_bytes; /* events larger than this are truncated (0 = never) */
} sim_wh_faults;

typedef struct sim_wh_stats {
    long long enqueued, delivered, failed, aborted, attempts, retries, dropped, skipped, duplicated,
        truncated;
    long long pending; /* waiting, retrying or in flight */
} sim_wh_stats;

/* Copies cfg (and the strings it points to). Starts the sender thread. 0 or -1. */
int sim_wh_start(const sim_wh_config *cfg, char *errstr, size_t errlen);
void sim_wh_stop(void);

/* Queue one event body (a complete JSON envelope). Takes ownership of body (malloc'd).
 * Returns 0, or -1 when the queue is full (the event is dropped and counted). */
int sim_wh_enqueue(char *body, size_t len);

void sim_wh_stats_get(sim_wh_stats *out);
void sim_wh_faults_set(const sim_wh_faults *f);
void sim_wh_faults_get(sim_wh_faults *out);

/* data_url support for truncated events. lookup copies the stored full event into a
 * malloc'd *body (caller frees) when msg_id is stored (and, for downloads, sig matches
 * and the link has not expired). 0 found, -1 not. */
int sim_wh_event_sig(const char *msg_id, char *sig, size_t siglen);
int sim_wh_event_download(const char *msg_id, const char *sig, int64_t now_ms, char **body,
                          size_t *len);

/* "msg_" + 24 random base62 characters. */
void sim_wh_new_msg_id(char out[32]);

#endif
