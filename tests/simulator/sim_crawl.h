/* sim_crawl.h - change over time: a crawl tick mutates a connection's WMS the way real
 * warehouses move (orders ship, stock moves between buckets, ASNs get receipts...) and
 * emits the webhooks Trackstar would; historical-sync completion; connection health. */
#ifndef SIM_CRAWL_H
#define SIM_CRAWL_H

#include <stdint.h>

#include "sim_store.h"

#define SIM_CRAWL_MAX_MUTATIONS 10000 /* per tick */

typedef struct sim_crawl_result {
    int mutations; /* records changed or created */
    int events;    /* webhook events emitted (before webhooks_disabled suppression) */
} sim_crawl_result;

/* Apply up to `mutations` changes to resources in res_mask (bit per sim_res) of c.
 * Resources whose historical sync is pending, whose permission is missing, or every
 * resource under invalid credentials are not crawled. Caller holds the lock. */
void sim_crawl_tick(sim_conn *c, int mutations, uint32_t res_mask, int64_t now_ms,
                    sim_crawl_result *out);

/* Complete the historical sync of every pending resource in mask: records become
 * visible (trackstar dates = now) and one connection.historical-sync-completed per
 * resource is emitted; no resource webhooks. Returns the number completed. */
int sim_crawl_complete_history(sim_conn *c, uint32_t mask, int64_t now_ms);

/* Connection health. Each emits connection-error.created / .deleted as it changes. */
void sim_health_invalid_creds(sim_conn *c, int on, int64_t now_ms);
void sim_health_missing_perm(sim_conn *c, int res, int on, int64_t now_ms);
void sim_health_clear(sim_conn *c, int64_t now_ms);

#endif
