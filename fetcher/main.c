/* fetcher - polls the Trackstar REST API for every connection and resource and
 * publishes each record to the raw topic, byte for byte as served.
 *
 * One thread runs the loop: the assignment consumer decides which connections this
 * replica owns (fx_assign.h), the events consumer picks connection events off the raw
 * topic (fx_events.h), and the engine (fx_engine.h) runs each owned stream's polls
 * over libcurl multi, produces the records, and moves cursors as Kafka acknowledges
 * them. The admin port adds manual sync, backfill and link exchange (fx_ops.h); the
 * same actions exist as subcommands. docs/fetcher.md is the operator's guide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fx_api.h"
#include "fx_assign.h"
#include "seal.h"
#include "fx_db.h"
#include "fx_engine.h"
#include "fx_events.h"
#include "fx_ops.h"
#include "entities.h"
#include "kafka.h"
#include "log.h"
#include "stage.h"
#include "topics.h"
#include "util.h"

#define FX_LOOP_WAIT_MS 20 /* longest network wait per loop turn */
#define FX_SHUTDOWN_FLUSH_MS 10000
#define FX_START_RETRY_MS 1000
#define FX_EVENTS_CONSUMER_CONF "queued.max.messages.kbytes=8192,fetch.max.bytes=8388608"

static stage_cfg g_stage;
static char *cfg_base_url, *cfg_api_key, *cfg_db_url, *cfg_token_key, *cfg_token_keys_old,
    *cfg_group, *cfg_events_group, *cfg_admin_token;
static long long cfg_rate, cfg_org_rate, cfg_rate_margin, cfg_interval[TS_ENTITY_COUNT],
    cfg_overlap_s, cfg_limit, cfg_max_inflight, cfg_token_inflight, cfg_parallel, cfg_win_init,
    cfg_win_min, cfg_win_max, cfg_win_pages, cfg_horizon, cfg_retry_max, cfg_backoff_base,
    cfg_backoff_cap, cfg_due_jitter, cfg_failed_retry, cfg_unsupported_recheck, cfg_blocked_recheck,
    cfg_hist_check, cfg_conn_refresh, cfg_integ_ttl, cfg_refresh_ms, cfg_unacked_mb,
    cfg_revoke_flush, cfg_body_mb, cfg_http_timeout, cfg_conn_check, cfg_sync_wait, cfg_job_check;

/* FETCHER_INTERVAL_<NAME>_S for every entity of the registry (common/entities.h). */
// clang-format off
#define INTERVAL_VAR(name, NAME, entity, table, path, prefix, events, aliases, poll, interval_s, ...) \
    {"FETCHER_INTERVAL_" #NAME "_S", CFG_INT, #interval_s, 1, 31622400, 0,                          \
     "seconds between two polls of " #name " when Trackstar reports no crawl times",            \
     &cfg_interval[TS_ENT_##NAME]},
// clang-format on

static const cfg_var vars[] = {
    STAGE_CFG_VARS(&g_stage, 9102),
    {"TRACKSTAR_BASE_URL", CFG_STR, "https://production.trackstarhq.com", 0, 0, 0,
     "Trackstar API base URL (the simulator's in the local stack)", &cfg_base_url},
    {"TRACKSTAR_API_KEY", CFG_STR, NULL, 0, 0, CFG_SECRET | CFG_REQUIRED, "organisation API key",
     &cfg_api_key},
    {"DATABASE_URL", CFG_STR, NULL, 0, 0, CFG_SECRET | CFG_REQUIRED,
     "PostgreSQL URL for the fetcher's own tables (fetcher_*)", &cfg_db_url},
    {SEAL_ENV_KEY, CFG_STR, NULL, 0, 0, CFG_SECRET | CFG_REQUIRED,
     "base64 of 32 bytes: the AES-256-GCM key sealing access tokens (the same as webhook-gw's)",
     &cfg_token_key},
    {SEAL_ENV_OLD, CFG_STR, "", 0, 0, CFG_SECRET,
     "older keys still accepted to open tokens while a key rotates, comma-separated base64",
     &cfg_token_keys_old},
    {"ADMIN_TOKEN", CFG_STR, "", 0, 0, CFG_SECRET,
     "bearer token the admin actions (POST /sync, /backfill, /connections/exchange, "
     "/connections/patch, /tokens/reseal, GET /requests, /streams) require; empty turns them off",
     &cfg_admin_token},
    {"FETCHER_GROUP", CFG_STR, "trackstar-fetcher", 0, 0, 0,
     "consumer group on the assignment topic: replicas share connections through it", &cfg_group},
    {"FETCHER_EVENTS_GROUP", CFG_STR, "trackstar-fetcher-connections", 0, 0, 0,
     "consumer group reading connection events from the raw topic", &cfg_events_group},
    {"FETCHER_RATE_PER_TOKEN", CFG_INT, "10", 1, 100, 0, "GET requests per second per access token",
     &cfg_rate},
    {"FETCHER_ORG_RATE", CFG_INT, "5", 1, 100, 0,
     "API-key-only requests per second (GET /connections/{id}), this replica's share of the "
     "organisation's budget",
     &cfg_org_rate},
    {"FETCHER_RATE_MARGIN_MS", CFG_INT, "25", 0, 1000, 0,
     "added to the 1 s rate window, against clock and network jitter", &cfg_rate_margin},
    // clang-format off
    TS_ENTITIES(INTERVAL_VAR)
    // clang-format on
    {"FETCHER_DUE_JITTER_PCT", CFG_INT, "10", 0, 50, 0,
     "a stream's next poll comes up to this % of its interval later, fixed per connection and "
     "resource, so that connections added together do not poll together (0 = none)",
     &cfg_due_jitter},
    {"FETCHER_CURSOR_OVERLAP_S", CFG_INT, "300", 0, 86400, 0,
     "margin behind what Trackstar promises is in its copy (clock skew; docs/fetcher.md)",
     &cfg_overlap_s},
    {"FETCHER_PAGE_LIMIT", CFG_INT, "1000", 1, 1000, 0, "records per page (limit)", &cfg_limit},
    {"FETCHER_MAX_INFLIGHT", CFG_INT, "64", 1, 1024, 0, "HTTP requests in flight, whole process",
     &cfg_max_inflight},
    {"FETCHER_TOKEN_INFLIGHT", CFG_INT, "4", 1, 64, 0, "HTTP requests in flight per access token",
     &cfg_token_inflight},
    {"FETCHER_STREAM_PARALLEL", CFG_INT, "2", 1, 4, 0, "date windows of one stream fetched at once",
     &cfg_parallel},
    {"FETCHER_WINDOW_INITIAL_S", CFG_INT, "86400", 60, 31622400, 0,
     "width of a run's first date window (later ones adapt)", &cfg_win_init},
    {"FETCHER_WINDOW_MIN_S", CFG_INT, "60", 1, 31622400, 0, "narrowest date window", &cfg_win_min},
    {"FETCHER_WINDOW_MAX_S", CFG_INT, "31622400", 60, 315360000, 0, "widest date window",
     &cfg_win_max},
    {"FETCHER_WINDOW_TARGET_PAGES", CFG_INT, "20", 1, 1000, 0,
     "pages a date window aims at: the cursor is stored after each window", &cfg_win_pages},
    {"FETCHER_BACKFILL_HORIZON_S", CFG_INT, "2592000", 0, 315360000, 0,
     "when the oldest date is unknown: first window ends this long ago (0 = one window)",
     &cfg_horizon},
    {"FETCHER_RETRY_MAX", CFG_INT, "8", 0, 100, 0, "retries of a page on 5xx or timeout",
     &cfg_retry_max},
    {"FETCHER_BACKOFF_BASE_MS", CFG_INT, "500", 1, 600000, 0, "first retry delay (doubles)",
     &cfg_backoff_base},
    {"FETCHER_BACKOFF_CAP_MS", CFG_INT, "60000", 1, 3600000, 0, "longest retry delay",
     &cfg_backoff_cap},
    {"FETCHER_FAILED_RETRY_S", CFG_INT, "300", 1, 86400, 0, "a failed run is retried after",
     &cfg_failed_retry},
    {"FETCHER_UNSUPPORTED_RECHECK_S", CFG_INT, "86400", 1, 31622400, 0,
     "a resource answered 501 is tried again after", &cfg_unsupported_recheck},
    {"FETCHER_BLOCKED_RECHECK_S", CFG_INT, "3600", 1, 31622400, 0,
     "a connection blocked by 401 is tried again after (or at once on reinstall)",
     &cfg_blocked_recheck},
    {"FETCHER_HIST_CHECK_S", CFG_INT, "300", 1, 86400, 0,
     "GET /connections/{id} this often while a first sync is pending", &cfg_hist_check},
    {"FETCHER_CONN_CHECK_S", CFG_INT, "60", 1, 86400, 0,
     "GET /connections/{id} this often for Trackstar's crawl times (a poll follows each crawl)",
     &cfg_conn_check},
    {"FETCHER_SYNC_WAIT_S", CFG_INT, "900", 1, 86400, 0,
     "after POST /connections/sync, poll when its crawl has ended, or after this long",
     &cfg_sync_wait},
    {"FETCHER_JOB_CHECK_S", CFG_INT, "15", 1, 3600, 0,
     "GET an on-demand sync job of a backfill this often until it ends", &cfg_job_check},
    {"FETCHER_CONNECTION_REFRESH_S", CFG_INT, "3600", 60, 604800, 0,
     "GET /connections/{id}'s answer goes to the raw topic this often (connections.polled: "
     "customer_id)",
     &cfg_conn_refresh},
    {"FETCHER_INTEGRATIONS_TTL_S", CFG_INT, "3600", 60, 604800, 0,
     "GET /integrations/wms cache lifetime (the API allows 1 call a minute)", &cfg_integ_ttl},
    {"FETCHER_REFRESH_MS", CFG_INT, "2000", 100, 600000, 0,
     "how often connections, first syncs and requests are re-read from PostgreSQL",
     &cfg_refresh_ms},
    {"FETCHER_MAX_UNACKED_MB", CFG_INT, "32", 1, 4096, 0,
     "record bytes produced but not yet acknowledged before fetching pauses", &cfg_unacked_mb},
    {"FETCHER_REVOKE_FLUSH_MS", CFG_INT, "3000", 0, 60000, 0,
     "on a rebalance, wait this long for acknowledgements before handing streams over",
     &cfg_revoke_flush},
    {"FETCHER_MAX_BODY_MB", CFG_INT, "64", 1, 1024, 0, "largest response body accepted",
     &cfg_body_mb},
    {"FETCHER_HTTP_TIMEOUT_S", CFG_INT, "60", 1, 600, 0, "timeout of one HTTP request",
     &cfg_http_timeout},
};
#define NVARS (sizeof vars / sizeof vars[0])

static const char usage[] =
    "Subcommands (same environment as the service; output is JSON on stdout):\n"
    "  fetcher link-exchange AUTH_CODE [CUSTOMER_ID]   exchange a Link auth code, store the "
    "connection\n"
    "  fetcher connection-add CONNECTION_ID INTEGRATION  store an existing connection; token on "
    "stdin\n"
    "  fetcher sync CONNECTION_ID [RESOURCE...]         Trackstar sync, then poll at once\n"
    "  fetcher backfill CONNECTION_ID START [END|-] [RESOURCE...]  re-read a date window\n"
    "  fetcher request ID                               progress of a sync/backfill request\n"
    "  fetcher status [CONNECTION_ID]                   sync status of every stream\n"
    "  fetcher reseal-tokens                            seal every stored token under\n"
    "                                                   TOKEN_ENCRYPTION_KEY (key rotation)\n"
    "Resources:";

/* The usage text, then every resource name of the registry. */
static void print_usage(FILE *f) {
    fputs(usage, f);
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        fprintf(f, " %s", ts_entities[r].name);
    fputs("\n\n", f);
}

static rd_kafka_t *g_producer;
static fx_engine *g_engine;

static int ready(void *arg, char *why, size_t whylen) {
    (void)arg;
    if (!g_engine) {
        snprintf(why, whylen, "starting");
        return 0;
    }
    if (!fx_engine_db_ok(g_engine)) {
        snprintf(why, whylen, "PostgreSQL unreachable");
        return 0;
    }
    if (!kafka_brokers_up(g_producer)) {
        snprintf(why, whylen, "no Kafka broker reachable");
        return 0;
    }
    return 1;
}

static void fill_cfg(fx_cfg *c) {
    memset(c, 0, sizeof *c);
    c->base_url = cfg_base_url;
    c->api_key = cfg_api_key;
    topic_name(g_stage.topic_prefix, TOPIC_RAW, c->raw_topic, sizeof c->raw_topic);
    c->rate_per_token = (int)cfg_rate;
    c->org_rate = (int)cfg_org_rate;
    c->rate_window_ms = 1000 + (int)cfg_rate_margin;
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        c->interval_ms[r] = cfg_interval[r] * 1000;
    c->due_jitter_pct = (int)cfg_due_jitter;
    c->overlap_ms = cfg_overlap_s * 1000;
    c->page_limit = (int)cfg_limit;
    c->max_inflight = (int)cfg_max_inflight;
    c->token_inflight = (int)cfg_token_inflight;
    c->stream_parallel = (int)cfg_parallel;
    c->window_initial_ms = cfg_win_init * 1000;
    c->window_min_ms = cfg_win_min * 1000;
    c->window_max_ms = cfg_win_max * 1000;
    c->window_target_pages = (int)cfg_win_pages;
    c->backfill_horizon_ms = cfg_horizon * 1000;
    c->retry_max = (int)cfg_retry_max;
    c->backoff_base_ms = (int)cfg_backoff_base;
    c->backoff_cap_ms = (int)cfg_backoff_cap;
    c->failed_retry_ms = cfg_failed_retry * 1000;
    c->unsupported_recheck_ms = cfg_unsupported_recheck * 1000;
    c->blocked_recheck_ms = cfg_blocked_recheck * 1000;
    c->hist_check_ms = cfg_hist_check * 1000;
    c->conn_check_ms = cfg_conn_check * 1000;
    c->sync_wait_ms = cfg_sync_wait * 1000;
    c->job_check_ms = cfg_job_check * 1000;
    c->conn_refresh_ms = cfg_conn_refresh * 1000;
    c->integrations_ttl_ms = cfg_integ_ttl * 1000;
    c->refresh_ms = cfg_refresh_ms;
    c->max_unacked_bytes = cfg_unacked_mb << 20;
    c->revoke_flush_ms = cfg_revoke_flush;
    c->max_body = (size_t)cfg_body_mb << 20;
    c->http_timeout_ms = cfg_http_timeout * 1000;
}

/* ---- subcommands ---- */

static int print_result(int status, char *resp) {
    printf("%s\n", resp ? resp : "{}");
    free(resp);
    return status < 300 ? 0 : 1;
}

static void json_resources(sbuf *b, int argc, char **argv, int from) {
    sbuf_append(b, "[", 1);
    for (int i = from; i < argc; i++) {
        if (i > from) sbuf_append(b, ",", 1);
        sbuf_json_str(b, argv[i], strlen(argv[i]));
    }
    sbuf_append(b, "]", 1);
}

static int run_command(int argc, char **argv) {
    char err[512];
    log_init("fetcher", LOG_WARN);
    if (cfg_load(vars, NVARS, err, sizeof err) != 0) {
        fprintf(stderr, "fetcher: configuration error: %s\n", err);
        return 2;
    }
    static fx_ops o; /* large (the key ring): not on the stack */
    o = (fx_ops){.db_url = cfg_db_url, .base_url = cfg_base_url, .api_key = cfg_api_key};
    if (seal_ring_parse(cfg_token_key, cfg_token_keys_old, &o.ring, err, sizeof err) != 0) {
        fprintf(stderr, "fetcher: configuration error: %s\n", err);
        return 2;
    }
    const char *cmd = argv[1];
    char *resp = NULL;
    sbuf b = {0};
    int rc = 2;
    if (strcmp(cmd, "link-exchange") == 0 && (argc == 3 || argc == 4)) {
        sbuf_append(&b, "{\"auth_code\":", 13);
        sbuf_json_str(&b, argv[2], strlen(argv[2]));
        if (argc == 4) {
            sbuf_append(&b, ",\"customer_id\":", 15);
            sbuf_json_str(&b, argv[3], strlen(argv[3]));
        }
        sbuf_append(&b, "}", 1);
        int st = fx_ops_exchange(&o, b.p, b.len, &resp);
        rc = print_result(st, resp);
    } else if (strcmp(cmd, "connection-add") == 0 && argc == 4) {
        char line[SEAL_SECRET_MAX + 2];
        if (!fgets(line, sizeof line, stdin)) {
            fprintf(stderr, "fetcher: connection-add reads the access token from stdin\n");
        } else {
            line[strcspn(line, "\r\n")] = '\0';
            PGconn *db = fx_db_open(cfg_db_url, err, sizeof err);
            if (db && fx_db_schema_ready(db, err, sizeof err) == 0 &&
                fx_api_store_connection(db, &o.ring, argv[2], argv[3], line, NULL, 0, err,
                                        sizeof err) >= 0) {
                printf("{\"connection_id\":\"%s\",\"stored\":true}\n", argv[2]);
                rc = 0;
            } else {
                fprintf(stderr, "fetcher: %s\n", err);
                rc = 1;
            }
            memset(line, 0, sizeof line);
            if (db) PQfinish(db);
        }
    } else if (strcmp(cmd, "sync") == 0 && argc >= 3) {
        sbuf_append(&b, "{\"connection_id\":", 17);
        sbuf_json_str(&b, argv[2], strlen(argv[2]));
        if (argc > 3) {
            sbuf_append(&b, ",\"resources\":", 13);
            json_resources(&b, argc, argv, 3);
        }
        sbuf_append(&b, "}", 1);
        int st = fx_ops_request(&o, "sync", b.p, b.len, &resp);
        rc = print_result(st, resp);
    } else if (strcmp(cmd, "backfill") == 0 && argc >= 4) {
        sbuf_append(&b, "{\"connection_id\":", 17);
        sbuf_json_str(&b, argv[2], strlen(argv[2]));
        sbuf_append(&b, ",\"start\":", 9);
        sbuf_json_str(&b, argv[3], strlen(argv[3]));
        if (argc > 4 && strcmp(argv[4], "-") != 0) {
            sbuf_append(&b, ",\"end\":", 7);
            sbuf_json_str(&b, argv[4], strlen(argv[4]));
        }
        if (argc > 5) {
            sbuf_append(&b, ",\"resources\":", 13);
            json_resources(&b, argc, argv, 5);
        }
        sbuf_append(&b, "}", 1);
        int st = fx_ops_request(&o, "backfill", b.p, b.len, &resp);
        rc = print_result(st, resp);
    } else if (strcmp(cmd, "request") == 0 && argc == 3) {
        sbuf_printf(&b, "id=%s", argv[2]);
        int st = fx_ops_request_status(&o, b.p, &resp);
        rc = print_result(st, resp);
    } else if (strcmp(cmd, "reseal-tokens") == 0 && argc == 2) {
        int st = fx_ops_reseal(&o, &resp);
        rc = print_result(st, resp);
    } else if (strcmp(cmd, "status") == 0 && argc <= 3) {
        if (argc == 3) sbuf_printf(&b, "connection_id=%s", argv[2]);
        int st = fx_ops_streams(&o, b.p ? b.p : "", &resp);
        rc = print_result(st, resp);
    } else {
        print_usage(stderr);
    }
    sbuf_free(&b);
    seal_ring_wipe(&o.ring);
    return rc;
}

/* ---- the service ---- */

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cfg_print_help("fetcher", "polls the Trackstar API into the raw topic", vars, NVARS);
            printf("\n");
            print_usage(stdout);
            return 0;
        }
    if (argc > 1) return run_command(argc, argv);
    if (cfg_main(argc, argv, "polls the Trackstar API into the raw topic", vars, NVARS) != 0)
        return 2;
    char err[512];
    static fx_ops ops;
    ops = (fx_ops){.db_url = cfg_db_url, .base_url = cfg_base_url, .api_key = cfg_api_key};
    if (seal_ring_parse(cfg_token_key, cfg_token_keys_old, &ops.ring, err, sizeof err) != 0) {
        fprintf(stderr, "fetcher: configuration error: %s\n", err);
        return 2;
    }
    if (!*cfg_base_url) {
        fprintf(stderr, "fetcher: configuration error: TRACKSTAR_BASE_URL: is empty\n");
        return 2;
    }
    if (admin_set_token(cfg_admin_token, err, sizeof err) != 0) {
        fprintf(stderr, "fetcher: configuration error: %s\n", err);
        return 2;
    }
    fx_cfg cfg;
    fill_cfg(&cfg);
    cfg.ring = ops.ring;
    g_producer = kafka_producer_new(g_stage.kafka_bootstrap, "fetcher", NULL, g_stage.kafka_props,
                                    fx_engine_dr, &g_engine, err, sizeof err);
    if (!g_producer) {
        fprintf(stderr, "fetcher: %s\n", err);
        return 2;
    }
    if (fx_ops_install(&ops) != 0 || stage_start("fetcher", &g_stage, ready, NULL) != 0) return 1;
    cfg_log(vars, NVARS);

    PGconn *db = NULL;
    while (!util_stop && !(db = fx_db_open(cfg_db_url, err, sizeof err))) {
        log_warn("PostgreSQL not reachable yet", "error", err, NULL);
        admin_heartbeat();
        usleep(FX_START_RETRY_MS * 1000);
    }
    while (!util_stop && fx_db_schema_ready(db, err, sizeof err) != 0) {
        log_warn("waiting for the database schema", "error", err, NULL);
        fx_db_ensure(db);
        admin_heartbeat();
        usleep(FX_START_RETRY_MS * 1000);
    }
    char assign_topic[256];
    topic_name(g_stage.topic_prefix, TOPIC_FETCH_ASSIGN, assign_topic, sizeof assign_topic);
    int parts = 0;
    while (!util_stop && (parts = fx_assign_partition_count(g_producer, assign_topic, 5000)) <= 0) {
        log_warn("assignment topic not found yet", "topic", assign_topic, NULL);
        admin_heartbeat();
    }
    rd_kafka_t *events = NULL, *assign = NULL;
    fx_engine *engine = NULL;
    /* What it produces to: the raw topic, and the assignment topic (listings handed over). */
    static const char *const out[] = {TOPIC_RAW, TOPIC_FETCH_ASSIGN};
    rd_kafka_topic_t **out_topics =
        kafka_topics_warm(g_producer, g_stage.topic_prefix, out, 2, err, sizeof err);
    if (!out_topics) {
        log_error("cannot prepare the producer", "error", err, NULL);
        goto out;
    }
    if (util_stop) goto out;
    snprintf(cfg.assign_topic, sizeof cfg.assign_topic, "%s", assign_topic);
    engine = fx_engine_new(&cfg, db, g_producer, err, sizeof err);
    if (!engine) {
        log_error("cannot start", "error", err, NULL);
        goto out;
    }
    fx_engine_set_partitions(engine, parts);
    g_engine = engine;

    char extra[1024];
    snprintf(extra, sizeof extra, "%s%s%s", FX_EVENTS_CONSUMER_CONF,
             *g_stage.kafka_consumer_extra ? "," : "", g_stage.kafka_consumer_extra);
    const char *raw[] = {cfg.raw_topic};
    events = kafka_consumer_new(g_stage.kafka_bootstrap, cfg_events_group, "fetcher-events",
                                g_stage.kafka_props, extra, raw, 1, err, sizeof err);
    if (events)
        assign =
            fx_assign_new(g_stage.kafka_bootstrap, cfg_group, "fetcher", g_stage.kafka_props,
                          g_stage.kafka_consumer_extra, assign_topic, &g_engine, err, sizeof err);
    if (!events || !assign) {
        log_error("cannot start the consumers", "error", err, NULL);
        goto out;
    }
    char ps[16];
    snprintf(ps, sizeof ps, "%d", parts);
    char kids[128];
    seal_ring_kids(&cfg.ring, kids, sizeof kids);
    log_info("fetcher started", "assignment_topic", assign_topic, "partitions", ps, "token_key_ids",
             kids, NULL);
    static fx_events_in events_in = {.retry_ms = FX_START_RETRY_MS};
    while (!util_stop) {
        admin_heartbeat();
        fx_assign_poll(assign, engine);
        int changed = fx_events_step(&events_in, events, db, &cfg.ring, err, sizeof err);
        if (changed < 0) {
            fx_db_ensure(db);
            log_error("connection events not stored; retrying", "error", err, NULL);
        } else if (changed) {
            fx_engine_poke(engine);
        }
        fx_engine_step(engine, FX_LOOP_WAIT_MS);
    }
    fx_events_in_clear(&events_in); /* held ones: their offsets stay unstored */
    log_info("fetcher stopping", NULL);
out:
    if (engine) fx_engine_stop(engine, FX_SHUTDOWN_FLUSH_MS);
    if (assign) fx_assign_close(assign);
    kafka_consumer_destroy(events); /* commits the stored offsets */
    kafka_flush(g_producer, FX_SHUTDOWN_FLUSH_MS);
    g_engine = NULL;
    admin_stop();
    fx_engine_free(engine);
    kafka_topics_release(out_topics, 2);
    rd_kafka_destroy(g_producer);
    if (db) PQfinish(db);
    seal_ring_wipe(&cfg.ring);
    seal_ring_wipe(&ops.ring);
    log_info("fetcher stopped", NULL);
    return 0;
}
