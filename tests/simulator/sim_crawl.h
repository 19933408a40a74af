/* sim_crawl.h - change over time in the WMS: a tick (the control API's "crawl", named
 * before Trackstar's own crawls were modelled) mutates a connection's WMS the way real
 * warehouses move (orders ship, stock moves between buckets, ASNs get receipts...).
 * Trackstar's copy and the webhooks follow when its crawls read the changes
 * (sim_ingest.h). Also historical-sync completion and connection health. */
#ifndef SIM_CRAWL_H
#define SIM_CRAWL_H

#include <stdint.h>

#include "sim_store.h"

#define SIM_CRAWL_MAX_MUTATIONS 10000 /* per tick */

typedef struct sim_crawl_result {
    int mutations; /* records changed or created in the WMS */
    int events;    /* records the copy took at once (a world without ingestion lag) */
} sim_crawl_result;

/* Apply up to `mutations` changes to the WMS's resources in res_mask (bit per sim_res)
 * of c, stamped now_ms. The WMS changes whatever Trackstar's state (errors, first syncs
 * pending): the copy catches up when it can. Caller holds the lock. */
void sim_crawl_tick(sim_conn *c, int mutations, uint32_t res_mask, int64_t now_ms,
                    sim_crawl_result *out);

/* Complete the historical sync of every pending resource in mask: the copy takes the WMS
 * as it is (records older than the window excepted; trackstar dates = now) and one
 * connection.historical-sync-completed per resource is emitted; no resource webhooks.
 * Returns the number completed. */
int sim_crawl_complete_history(sim_conn *c, uint32_t mask, int64_t now_ms);

/* Connection health. Each emits connection-error.created / .deleted as it changes. */
void sim_health_invalid_creds(sim_conn *c, int on, int64_t now_ms);
void sim_health_missing_perm(sim_conn *c, int res, int on, int64_t now_ms);
void sim_health_clear(sim_conn *c, int64_t now_ms);

#endif
