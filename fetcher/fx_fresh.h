/* fx_fresh.h - how fresh this replica's syncs are, as gauges with bounded labels
 * (resource, state; never a connection id: at 100k connections per-connection series
 * would overwhelm Prometheus, and the per-connection detail is in fetcher_streams, the
 * admin /streams route and `tsctl status`):
 *
 *   fetcher_sync_age_seconds_max{resource}        the oldest "seconds since the last
 *       successful sync" among the owned streams that should sync (not unsupported);
 *       a stream that never succeeded counts from when this replica took it over
 *   fetcher_sync_interval_seconds{resource}       the expected interval (FETCHER_*_INTERVAL_S)
 *   fetcher_streams{resource,state}               owned streams per state (blocked, failed, ...)
 *   fetcher_connections_blocked                   owned connections blocked by a 401/403
 *
 * The alert rules compare the first two (deploy/monitoring/alerts.yaml).
 */
#ifndef FX_FRESH_H
#define FX_FRESH_H

#include <stdint.h>

typedef struct fx_engine fx_engine;

void fx_fresh_init(fx_engine *e);
/* Recompute the gauges; cheap to call every step (it works at most every
 * FX_FRESH_PERIOD_MS). Each time it walks every owned stream: at 10,000 connections,
 * 150,000 of them, about a percent of a core when it was every second, for gauges that
 * the alert rules compare with intervals of minutes and Prometheus scrapes every 15 s or
 * more. */
#define FX_FRESH_PERIOD_MS 5000
void fx_fresh_update(fx_engine *e, int64_t now_mono, int64_t now_wall);

#endif
