/* gw_dedupe.h - a bounded, time-windowed set of svix-ids already acknowledged by Kafka.
 *
 * Trackstar retries a delivery with the same svix-id. When a retry arrives after the
 * first attempt was durably published (e.g. our 2xx got lost), the gateway may answer
 * 2xx without publishing again. This is an optimisation only: the pipeline dedupes
 * downstream, so entries may be evicted early (when the table is full) without harm.
 * Thread-safe (one mutex).
 */
#ifndef GW_DEDUPE_H
#define GW_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#define GW_DEDUPE_ID_MAX 128 /* longer ids are never remembered */

typedef struct gw_dedupe gw_dedupe;

/* A table remembering up to max_entries ids for window_ms each. Returns NULL on ENOMEM
 * or bad arguments (window_ms <= 0, max_entries < 1). Free with gw_dedupe_free. */
gw_dedupe *gw_dedupe_new(int64_t window_ms, size_t max_entries);
void gw_dedupe_free(gw_dedupe *d);

/* Remember id as acknowledged at now_ms. When the table is full the oldest entry goes. */
void gw_dedupe_add(gw_dedupe *d, const char *id, int64_t now_ms);

/* 1 when id was added less than window_ms before now_ms (and not evicted), else 0. */
int gw_dedupe_seen(gw_dedupe *d, const char *id, int64_t now_ms);

/* The memory a table of max_entries takes (the gateway's start-up memory bound). */
size_t gw_dedupe_bytes(size_t max_entries);

/* Entries currently held (expired ones may still count until they are reclaimed). */
size_t gw_dedupe_size(gw_dedupe *d);

#endif
