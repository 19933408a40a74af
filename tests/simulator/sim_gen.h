/* sim_gen.h - the seeded data generator: the same seed, sizes and base time always give
 * the same records. The crawl reuses the per-record builders to create new records. */
#ifndef SIM_GEN_H
#define SIM_GEN_H

#include <stdint.h>

#include "sim_store.h"

#define SIM_HISTORY_DAYS 30     /* Trackstar's historical sync reads this many days (§6.3) */
#define SIM_OLD_HISTORY_DAYS 75 /* older records (sim_world.old_history_pct) reach this far */

/* Fill every table of c (its seed and sizes must be set). Orders, returns, ASNs and bills
 * fall in [base_ms - SIM_HISTORY_DAYS, base_ms], apart from the share the world keeps
 * older (not in Trackstar's copy). Caller holds the lock. 0 or -1 with errstr. */
int sim_gen_connection(sim_conn *c, int64_t base_ms, char *errstr, size_t errlen);

/* Builders for one new record created at created_ms (malloc'd; the caller appends it to
 * the table, which takes ownership). They draw from *rng. NULL on out of memory or when
 * the connection lacks what they reference (e.g. no products). */
sim_order *sim_gen_order(sim_conn *c, uint64_t *rng, int64_t created_ms, int64_t base_ms);
sim_return *sim_gen_return(sim_conn *c, uint64_t *rng, int64_t created_ms, int64_t base_ms);
sim_inbound *sim_gen_inbound(sim_conn *c, uint64_t *rng, int64_t created_ms, int64_t base_ms);
sim_bill *sim_gen_bill(sim_conn *c, uint64_t *rng, int64_t created_ms);
/* A labor activity started at start_ms by one of the connection's users, for one of its
 * orders, inbound shipments, returns or inventory items (of a resource it has, else
 * null), in that record's warehouse. It ends after the activity type's duration, or is
 * left in progress (end null) when that is after now_ms or in_progress is set. The
 * caller sets the sim_meta dates (created = start, updated = end or start). */
sim_labor *sim_gen_labor(sim_conn *c, uint64_t *rng, int64_t start_ms, int64_t now_ms,
                         int in_progress);

/* Add a shipment to o carrying lines [from, to), shipped at shipped_ms. 0, or -1 when
 * o already has SIM_MAX_SHIPMENTS. */
int sim_gen_add_shipment(sim_conn *c, sim_order *o, uint64_t *rng, int from, int to,
                         int64_t shipped_ms);

/* Add a receipt to a of the given quantities per line (bumps received_quantity).
 * 0, or -1 when full. */
int sim_gen_add_receipt(sim_conn *c, sim_inbound *a, const int32_t *qty, int64_t arrived_ms);

#endif
