/* fx_fresh.c - sync freshness gauges (see fx_fresh.h). */
#include "fx_fresh.h"

#include "fx_engine_int.h"

void fx_fresh_init(fx_engine *e) {
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        const char *res = ts_entities[r].name;
        e->fresh.age[r] = metric_gauge_labels(
            "fetcher_sync_age_seconds_max",
            "oldest time since a last successful sync among the owned streams, seconds",
            (const char *const[]){"resource", res, NULL}, 1);
        e->fresh.interval[r] = metric_gauge_labels("fetcher_sync_interval_seconds",
                                                   "the expected interval between syncs, seconds",
                                                   (const char *const[]){"resource", res, NULL}, 1);
        metric_set(e->fresh.interval[r], e->cfg.interval_ms[r] / 1000);
        for (int s = 0; s < FX_ST_COUNT; s++)
            e->fresh.streams[r][s] = metric_gauge_labels(
                "fetcher_streams", "owned (connection, resource) streams by state",
                (const char *const[]){"resource", res, "state", fx_state_names[s], NULL}, 1);
    }
    e->fresh.blocked =
        metric_gauge("fetcher_connections_blocked",
                     "owned connections blocked by an authorization error", NULL, NULL);
}

void fx_fresh_update(fx_engine *e, int64_t now_mono, int64_t now_wall) {
    if (now_mono < e->fresh.next_ms) return;
    e->fresh.next_ms = now_mono + FX_FRESH_PERIOD_MS;
    int64_t age[TS_ENTITY_COUNT] = {0}, count[TS_ENTITY_COUNT][FX_ST_COUNT] = {{0}};
    int64_t blocked = 0;
    for (fx_conn *c = e->conns; c; c = c->next) {
        if (!c->owned || c->deleted) continue;
        blocked += c->blocked != 0;
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            const fx_stream *st = &c->streams[r];
            count[r][st->state]++;
            if (st->state == FX_ST_UNSUPPORTED) continue;
            int64_t since = st->d.last_success_ms ? st->d.last_success_ms : c->owned_at_ms;
            int64_t a = since && now_wall > since ? (now_wall - since) / 1000 : 0;
            if (a > age[r]) age[r] = a;
        }
    }
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        metric_set(e->fresh.age[r], age[r]);
        for (int s = 0; s < FX_ST_COUNT; s++)
            metric_set(e->fresh.streams[r][s], count[r][s]);
    }
    metric_set(e->fresh.blocked, blocked);
}
