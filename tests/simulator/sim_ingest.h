/* sim_ingest.h - Trackstar's side of time: its crawls of each connection's WMS, which take
 * the WMS's changes into the stored copy the API serves and emit the webhooks.
 *
 * Per (connection, resource) a crawl starts every sync_frequency (the reference's value
 * times the world's sync_scale) and runs for a part of it. At its start it takes on every
 * change the WMS made before that moment and copies each one in at a random instant
 * until its end (reading the WMS's version of that instant, which may hold later changes
 * too). So a change made at T is visible between the start of the next crawl and that
 * crawl's end, up to sync_frequency plus a crawl's length later; and once a crawl has
 * ended, every change made before its start is in the copy: what GET /connections
 * reports as last_crawl_start / last_crawl_end. Errors stop crawls (and each failed
 * attempt updates the connection error); open on-demand sync jobs pause them.
 *
 * Also here: force syncs (POST /connections/sync: a crawl now, answered at once,
 * announced by connection.force-sync-completed when every crawl it started has ended)
 * and on-demand sync jobs (a window of history read into the copy, open -> completed or
 * stuck). Everything runs under the store lock.
 */
#ifndef SIM_INGEST_H
#define SIM_INGEST_H

#include <stdint.h>

#include "sim_store.h"

/* The resource's sync frequency as the world runs it (ms, at least 1000), and as
 * GET /connections reports it (whole seconds, at least 1). */
int64_t sim_sync_frequency_ms(sim_res r);
int sim_sync_frequency_s(sim_res r);

/* 1 when a crawl of r is running on c. */
int sim_crawl_running(const sim_conn *c, sim_res r);

/* Advance c's crawls, force syncs and jobs to now_ms (the main loop, every 100 ms). */
void sim_ingest_tick(sim_conn *c, int64_t now_ms);

/* Take record num of r into the copy now: the copy gets the WMS's current version, with
 * trackstar_updated_date = now, and the matching webhook goes out (emit 1; created for a
 * record new to the copy, else updated / shipment.created / receipt.created from the
 * difference). 0, or -1 on out of memory. */
int sim_ingest_take(sim_conn *c, sim_res r, uint32_t num, int64_t now_ms, int emit);

/* Take every pending change of the resources in mask now, as a crawl that starts and
 * ends at now_ms (the control API's "ingest", and the world without ingestion lag).
 * emit 0 takes them silently (a historical sync). Returns the number taken of resources
 * with webhooks (order channels and suppliers, which have none, are taken uncounted). */
int sim_ingest_all(sim_conn *c, uint32_t mask, int64_t now_ms, int emit);

/* POST /connections/sync: start a crawl now of each resource in mask that can be crawled
 * and is not crawling already; connection.force-sync-completed follows once they (and
 * the ones already running) have ended. 0, or -1 when too many force syncs are running. */
int sim_force_sync(sim_conn *c, uint32_t mask, int64_t now_ms);

/* On-demand sync jobs. The functions Trackstar allows (on-demand-syncs; inventory never). */
int sim_job_allowed(sim_res r);
/* Open a job over [start_ms, end_ms] for r. NULL (errstr) when c keeps SIM_MAX_JOBS open. */
sim_job *sim_job_open(sim_conn *c, sim_res r, int64_t start_ms, int64_t end_ms, int64_t now_ms,
                      char *errstr, size_t errlen);
sim_job *sim_job_find(sim_conn *c, const char *id);
/* Cancel an open job: 0, or -1 when it is not open. */
int sim_job_cancel(sim_conn *c, sim_job *j, int64_t now_ms);
/* 1 while any job of c is open (scheduled crawls pause). */
int sim_jobs_open(const sim_conn *c);

#endif
