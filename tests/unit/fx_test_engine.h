/* fx_test_engine.h - the fetcher's engine as the unit tests build it: the tests' settings
 * (an hour between polls, small pages, one retry) and a producer that never reaches a
 * broker (what it is given queues; fx_test_engine_free purges it). */
#ifndef FX_TEST_ENGINE_H
#define FX_TEST_ENGINE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher/fx_engine_int.h"
#include "seal.h"

#define FX_TEST_HOUR_MS (3600 * 1000)
/* the tests' token key (base64 of 32 bytes) */
#define FX_TEST_TOKEN_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/* The engine on db (NULL: no database, for tests whose streams never store), and its
 * producer in *producer. NULL on failure, err saying why. */
static inline fx_engine *fx_test_engine_new(PGconn *db, rd_kafka_t **producer, char *err,
                                            size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", err, errlen) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "0", err, errlen) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (!(*producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen))) return NULL;
    fx_cfg cfg = {.base_url = "http://127.0.0.1:9", .api_key = "key"};
    snprintf(cfg.raw_topic, sizeof cfg.raw_topic, "test.raw");
    cfg.rate_per_token = 10;
    cfg.rate_window_ms = 1000;
    cfg.org_rate = 5;
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        cfg.interval_ms[r] = FX_TEST_HOUR_MS;
    cfg.due_jitter_pct = 10;
    cfg.page_limit = 100;
    cfg.max_inflight = 64;
    cfg.token_inflight = 4;
    cfg.stream_parallel = 1;
    cfg.window_initial_ms = cfg.window_min_ms = cfg.window_max_ms = 24 * FX_TEST_HOUR_MS;
    cfg.window_target_pages = 20;
    cfg.retry_max = 1;
    cfg.backoff_base_ms = cfg.backoff_cap_ms = 100;
    cfg.failed_retry_ms = cfg.unsupported_recheck_ms = cfg.blocked_recheck_ms = FX_TEST_HOUR_MS;
    cfg.hist_check_ms = cfg.conn_check_ms = 60000;
    cfg.integrations_ttl_ms = cfg.refresh_ms = FX_TEST_HOUR_MS;
    cfg.sync_wait_ms = cfg.job_check_ms = cfg.conn_refresh_ms = FX_TEST_HOUR_MS;
    cfg.max_unacked_bytes = 1 << 20;
    cfg.max_body = 1 << 20;
    cfg.http_timeout_ms = 1000;
    if (seal_ring_parse(FX_TEST_TOKEN_KEY, NULL, &cfg.ring, err, errlen) != 0) {
        rd_kafka_destroy(*producer);
        *producer = NULL;
        return NULL;
    }
    fx_engine *e = fx_engine_new(&cfg, db, *producer, err, errlen);
    if (!e) {
        rd_kafka_destroy(*producer);
        *producer = NULL;
    }
    return e;
}

/* c's token as the database holds it (sealed under the tests' key): what owning it opens.
 * 0, or -1. */
static inline int fx_test_conn_token(fx_engine *e, fx_conn *c, const char *plain) {
    char err[256];
    free(c->sealed);
    c->sealed = seal_seal(&e->cfg.ring, c->id, plain, err, sizeof err);
    return c->sealed ? 0 : -1;
}

/* Connection id owned, its token "token", every stream loaded and idle after its first
 * sync, as owning and loading leave it; NULL when out of memory. The caller sets each
 * stream's times and wakes it. */
static inline fx_conn *fx_test_conn_idle(fx_engine *e, const char *id) {
    fx_conn *c = fx_conn_get(e, id, 1);
    if (!c || !(c->token = strdup("token")) || fx_conn_streams_new(c) != 0) return NULL;
    c->owned = 1;
    e->owned_conns++;
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        st->loaded = 1;
        st->hist_done = 1;
        st->state = FX_ST_IDLE;
        snprintf(st->d.state, sizeof st->d.state, "%s", fx_state_names[FX_ST_IDLE]);
    }
    return c;
}

/* The engine, then its producer with whatever it still holds. */
static inline void fx_test_engine_free(fx_engine *e, rd_kafka_t *producer) {
    fx_engine_free(e);
    rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(producer);
}

#endif
