/* gw_server.c - the webhook endpoint on the gateway's HTTP server (gw_http.c): routing
 * and cheap checks on the headers, body collection within the limit, signature
 * verification, then the hand-off to Kafka (gw_publish.c); the connection waits, unread,
 * until the answer is decided. Also start-up and the SIGTERM drain.
 */
#include "gw_internal.h"

#include "gw_limits.h"
#include "kafka.h"
#include "log.h"
#include "util.h"
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GW_LOG_ID_MAX 64              /* bytes of an unverified event id put in a log line */
#define GW_DRAIN_MARGIN_MS 1000       /* on top of the longest request budget */
#define GW_DRAIN_UPLOAD_GRACE_MS 1000 /* for uploads still arriving at SIGTERM */
#define GW_DRAIN_SEND_MS 500          /* for answers just handed over to be sent */
#define GW_PURGE_FLUSH_MS 500         /* to serve the reports of purged messages */
#define GW_ALIVE_MS 5000              /* a thread not turning for this long: no heartbeat */
#define GW_REFUSAL_LOG_BURST 20       /* refusal lines per window (each one is counted) */
#define GW_REFUSAL_LOG_WINDOW_MS 10000
/* The producer's queue: its batches are the only copies of bodies it makes; bounded so
 * that the memory bound holds (KAFKA_CONFIG_FILE may set another value, which the bound uses). */
#define GW_KAFKA_QUEUE_KBYTES 32768

/* ---- answers ------------------------------------------------------------------ */

static unsigned reject_status(gw_reject r) {
    switch (r) {
    case GW_REJ_NOT_FOUND: return 404;
    case GW_REJ_METHOD: return 405;
    case GW_REJ_CONTENT_TYPE: return 415;
    case GW_REJ_TOO_LARGE: return 413;
    case GW_REJ_MISSING_SIGNATURE:
    case GW_REJ_BAD_TIMESTAMP:
    case GW_REJ_STALE_TIMESTAMP:
    case GW_REJ_BAD_SIGNATURE: return 401;
    default: return 400;
    }
}

static void build_responses(gw_server *srv) {
    srv->r_accepted = (gw_http_resp){200, "", "{\"status\":\"accepted\"}", 0};
    srv->r_duplicate = (gw_http_resp){200, "", "{\"status\":\"duplicate\"}", 0};
    for (int i = 0; i < GW_REJ_COUNT; i++) {
        snprintf(srv->reject_body[i], sizeof srv->reject_body[i], "{\"error\":\"%s\"}",
                 gw_reject_name((gw_reject)i));
        srv->r_reject[i] =
            (gw_http_resp){reject_status((gw_reject)i), i == GW_REJ_METHOD ? "Allow: POST\r\n" : "",
                           srv->reject_body[i], 0};
    }
    snprintf(srv->retry_after, sizeof srv->retry_after, "Retry-After: %d\r\n",
             srv->cfg.retry_after_s);
    for (int i = 0; i < GW_UNAV_COUNT; i++) {
        snprintf(srv->unavail_body[i], sizeof srv->unavail_body[i], "{\"error\":\"%s\"}",
                 gw_unavail_name((gw_unavail)i));
        /* shutting down: close, to send the client to another replica */
        srv->r_unavail[i] =
            (gw_http_resp){503, srv->retry_after, srv->unavail_body[i], i == GW_UNAV_SHUTTING_DOWN};
    }
    /* An upload cut to make room: 503 (Trackstar retries), and the connection closes. */
    srv->r_busy = (gw_http_resp){503, srv->retry_after, srv->unavail_body[GW_UNAV_OVERLOADED], 1};
}

static const char *header(void *ctx, const char *name) {
    return gw_http_head_get(gw_http_conn_head((gw_http_conn *)ctx), name);
}

/* An unverified id, made safe and short for a log line. */
static void log_id(const char *id, char out[GW_LOG_ID_MAX + 1]) {
    size_t i = 0;
    for (; id && id[i] && i < GW_LOG_ID_MAX; i++)
        out[i] = (id[i] > 0x20 && id[i] < 0x7f && id[i] != '"' && id[i] != '\\') ? id[i] : '?';
    out[i] = '\0';
}

/* Anyone who reaches the port can make the gateway refuse requests and cut connections:
 * those lines are sampled (every one is counted in /metrics). */
static log_limiter refusals_log = LOG_LIMITER_INIT(GW_REFUSAL_LOG_BURST, GW_REFUSAL_LOG_WINDOW_MS);

/* Answer a 4xx: counted, logged with the reason and event id only (never the body). */
static const gw_http_resp *reject(gw_server *srv, gw_http_conn *conn, gw_reject why) {
    gw_metric_rejected(why);
    gw_sig_headers sig;
    gw_sig_headers_pick(header, conn, &sig);
    char id[GW_LOG_ID_MAX + 1];
    log_id(sig.id, id);
    if (why == GW_REJ_NOT_FOUND || why == GW_REJ_METHOD)
        log_debug("webhook rejected", "reason", gw_reject_name(why), "event_id", id, NULL);
    else
        log_limited(&refusals_log, LOG_INFO, "webhook rejected", "reason", gw_reject_name(why),
                    "event_id", id, NULL);
    return &srv->r_reject[why];
}

/* The signature headers as far as they can be judged without the body: refused now,
 * before a byte of the body is read or a byte of memory given to it. */
static const gw_http_resp *check_signature_headers(gw_server *srv, gw_http_conn *conn) {
    gw_sig_headers sig;
    gw_sig_headers_pick(header, conn, &sig);
    if (sig.id && strlen(sig.id) > GW_EVENT_ID_MAX) return reject(srv, conn, GW_REJ_BAD_EVENT_ID);
    switch (svix_check_headers(sig.id, sig.timestamp, sig.signature, (long long)time(NULL))) {
    case SVIX_OK: return NULL;
    case SVIX_MISSING_HEADER: return reject(srv, conn, GW_REJ_MISSING_SIGNATURE);
    case SVIX_BAD_TIMESTAMP: return reject(srv, conn, GW_REJ_BAD_TIMESTAMP);
    case SVIX_STALE: return reject(srv, conn, GW_REJ_STALE_TIMESTAMP);
    default: return reject(srv, conn, GW_REJ_BAD_SIGNATURE);
    }
}

static const gw_http_resp *unavailable(gw_server *srv, gw_unavail why) {
    gw_metric_unavailable(why);
    return &srv->r_unavail[why];
}

/* ---- request phases ----------------------------------------------------------- */

/* First call: only headers are known. Everything that can be refused without the body
 * is refused here, before a byte of it is read. */
static const gw_http_resp *on_head(void *cls, gw_http_conn *conn, const gw_http_head *h,
                                   void **ctx) {
    gw_server *srv = cls;
    gw_metric_request();
    if (strcmp(h->path, srv->cfg.path) != 0) return reject(srv, conn, GW_REJ_NOT_FOUND);
    if (strcmp(h->method, "POST") != 0) return reject(srv, conn, GW_REJ_METHOD);
    if (atomic_load(&srv->draining)) return unavailable(srv, GW_UNAV_SHUTTING_DOWN);
    if (!gw_content_type_ok(gw_http_head_get(h, "content-type")))
        return reject(srv, conn, GW_REJ_CONTENT_TYPE);
    uint64_t declared = h->has_length ? h->content_length : 0;
    if (declared > srv->cfg.max_body) return reject(srv, conn, GW_REJ_TOO_LARGE);
    const gw_http_resp *r = check_signature_headers(srv, conn);
    if (r) return r;
    if (atomic_load(&srv->inflight) >= srv->cfg.max_inflight)
        return unavailable(srv, GW_UNAV_OVERLOADED);

    gw_req *req = calloc(1, sizeof *req);
    if (!req) return unavailable(srv, GW_UNAV_INTERNAL);
    req->srv = srv;
    req->conn = conn;
    atomic_init(&req->refs, 1); /* the connection's */
    atomic_init(&req->state, GW_REQ_RECEIVING);
    req->t_start_ms = util_mono_ms();
    *ctx = req; /* the body is collected by the HTTP server, within its budget */
    atomic_fetch_add(&srv->inflight, 1);
    gw_metric_inflight(1);
    return NULL;
}

/* WAITING with a deadline; or, once the drain has answered everything (srv->closing),
 * DONE with 503 at once, so nothing waits after that point. Returns 0 when the request
 * is waiting, -1 when it is already answered. Either way the answer comes through
 * gw_http_answer. */
static int start_waiting(gw_server *srv, gw_req *req, gw_queue *q, int64_t budget_ms) {
    pthread_mutex_lock(&srv->mu);
    /* Deadline taken under the lock so each queue stays ordered by deadline. */
    req->deadline_ms = util_mono_ms() + budget_ms;
    atomic_store(&req->state, GW_REQ_WAITING);
    gw_queue_push(q, req);
    int closing = srv->closing;
    if (closing) gw_req_finish_unavail_locked(srv, req, GW_UNAV_SHUTTING_DOWN);
    gw_unlock_and_resume(srv);
    return closing ? -1 : 0;
}

static void start_publish(gw_server *srv, gw_req *req) {
    if (start_waiting(srv, req, &srv->acks, srv->cfg.ack_timeout_ms) == 0)
        gw_publish(srv, req, req->body, req->len);
}

static void start_fetch(gw_server *srv, gw_req *req) {
    req->fetching = 1;
    if (start_waiting(srv, req, &srv->fetches,
                      (int64_t)srv->cfg.fetch_timeout_ms + srv->cfg.ack_timeout_ms) != 0)
        return;
    atomic_fetch_add(&req->refs, 1); /* the job's */
    if (gw_workers_push(srv->fetchers, req) != 0) {
        atomic_fetch_sub(&req->refs, 1);
        pthread_mutex_lock(&srv->mu);
        gw_req_finish_unavail_locked(srv, req, GW_UNAV_OVERLOADED);
        gw_unlock_and_resume(srv);
    }
}

/* The whole body is here: verify, parse, then publish (or fetch first), or answer now. */
static const gw_http_resp *on_complete(void *cls, gw_http_conn *conn, void *ctx, gw_http_body *b) {
    gw_server *srv = cls;
    gw_req *req = ctx;
    req->mem = *b; /* freed with the request: the message may still use it after the answer */
    req->body = b->p;
    req->len = b->len;
    if (b->too_large) return reject(srv, conn, GW_REJ_TOO_LARGE);

    gw_sig_headers sig;
    gw_sig_headers_pick(header, conn, &sig);
    const char *body = req->body ? req->body : "";
    switch (svix_verify(srv->cfg.keys, srv->cfg.nkeys, sig.id, sig.timestamp, sig.signature, body,
                        req->len, (long long)time(NULL))) {
    case SVIX_OK: break;
    case SVIX_MISSING_HEADER: return reject(srv, conn, GW_REJ_MISSING_SIGNATURE);
    case SVIX_BAD_TIMESTAMP: return reject(srv, conn, GW_REJ_BAD_TIMESTAMP);
    case SVIX_STALE: return reject(srv, conn, GW_REJ_STALE_TIMESTAMP);
    /* Our failure, not the sender's: refuse (never accept unchecked), and let it retry. */
    case SVIX_CRYPTO_ERROR: return unavailable(srv, GW_UNAV_CRYPTO);
    default: return reject(srv, conn, GW_REJ_BAD_SIGNATURE);
    }
    snprintf(req->event_id, sizeof req->event_id, "%s", sig.id);

    switch (gw_envelope_parse(body, req->len, &req->env)) {
    case GW_ENV_OK: break;
    case GW_ENV_MALFORMED: return reject(srv, conn, GW_REJ_MALFORMED_JSON);
    case GW_ENV_MISSING_FIELD: return reject(srv, conn, GW_REJ_MISSING_FIELD);
    default: return reject(srv, conn, GW_REJ_BAD_FIELD);
    }
    if (srv->dedupe && gw_dedupe_seen(srv->dedupe, req->event_id, util_mono_ms())) {
        gw_metric_duplicate();
        log_debug("duplicate webhook answered from the dedupe table", "event_id", req->event_id,
                  "connection_id", req->env.connection_id, NULL);
        return &srv->r_duplicate;
    }
    val_time_format(util_now_ms(), 1, req->received_at);
    if (!req->env.ev.known)
        log_info("unknown event type kept", "event_type", req->env.ev.canonical, "event_id",
                 req->event_id, "connection_id", req->env.connection_id, NULL);
    if (req->env.truncated) {
        start_fetch(srv, req); /* the full event is sealed once downloaded */
        return NULL;
    }
    char *sealed = NULL;
    size_t sealed_len = 0;
    switch (gw_seal_body(srv, req, req->mem.p, req->len, &sealed, &sealed_len)) {
    case GW_SECRETS_NONE: break;
    case GW_SECRETS_SEALED: /* published instead of the body, freed with the request */
        req->full = sealed;
        req->full_len = sealed_len;
        req->body = sealed;
        req->len = sealed_len;
        break;
    case GW_SECRETS_BAD: return reject(srv, conn, GW_REJ_BAD_FIELD);
    case GW_SECRETS_FAILED: return unavailable(srv, GW_UNAV_INTERNAL);
    }
    start_publish(srv, req);
    return NULL;
}

static void on_done(void *cls, void *ctx) {
    gw_server *srv = cls;
    gw_req *req = ctx;
    /* Normally RECEIVING (answered or cut before publishing) or DONE (answered).
     * WAITING only if the server stops with the request still waiting, which the drain
     * avoids; it is handled so that a late delivery report cannot touch conn. */
    if (atomic_load(&req->state) == GW_REQ_WAITING) {
        pthread_mutex_lock(&srv->mu);
        if (req->q) gw_queue_remove(req->q, req);
        req->conn = NULL;
        atomic_store(&req->state, GW_REQ_DONE);
        pthread_mutex_unlock(&srv->mu);
    }
    atomic_fetch_sub(&srv->inflight, 1);
    gw_metric_inflight(-1);
    gw_req_unref(req);
}

/* Refused by the HTTP layer before any handler saw a request (bad framing, a head over
 * 8 KiB, an unknown transfer coding, ...). */
static void on_protocol_error(void *cls, unsigned status) {
    (void)cls;
    char st[8];
    snprintf(st, sizeof st, "%u", status);
    gw_metric_rejected(GW_REJ_BAD_HTTP);
    log_limited(&refusals_log, LOG_INFO, "webhook rejected", "reason",
                gw_reject_name(GW_REJ_BAD_HTTP), "status", st, NULL);
}

static void on_cut(void *cls, gw_http_cut why) {
    (void)cls;
    gw_metric_cut(why);
    if (why == GW_CUT_MEMORY) gw_metric_unavailable(GW_UNAV_OVERLOADED); /* answered 503 */
    log_limited(&refusals_log, LOG_INFO, "connection cut", "reason", gw_http_cut_name(why), NULL);
}

static const gw_http_handlers handlers = {on_head, on_complete, on_done, on_protocol_error, on_cut};

/* ---- life cycle --------------------------------------------------------------- */

gw_server *gw_server_start(const gw_config *cfg, char *errstr, size_t errlen) {
    gw_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    pthread_mutex_init(&srv->mu, NULL);
    gw_metrics_init();
    build_responses(srv);
    if (cfg->dedupe_window_ms > 0 &&
        !(srv->dedupe = gw_dedupe_new(cfg->dedupe_window_ms, cfg->dedupe_max))) {
        snprintf(errstr, errlen, "cannot allocate the dedupe table");
        goto fail;
    }
    /* librdkafka gives up on a message after our own answer deadline: after that the
     * request has its 503 and Trackstar retries, so keeping it only costs memory.
     * linger.ms: every HTTP answer waits for its batch, and a connection sends nothing
     * else meanwhile; measured (tests/bench/webhook_gw.sh, 64 connections) 2 ms gave
     * 3.4 ms median answers and 16k req/s, 0.5 ms gives 29k req/s. Requests are gathered
     * by the publish hold instead (gw_publish.c), which knows when no sender can add to a
     * batch; the linger only has to keep one burst in one batch.
     * One produce request in flight: what arrives while it is out waits and goes in the
     * next one, so batches grow with the load and not with a timer. At 4,000 req/s end
     * to end (tests/bench/e2e.sh) the gateway's CPU per event fell 152 -> 54-57 us in
     * two runs; under wrk it kept 32-38k req/s and p99 2.1 ms at 5,000/s
     * (docs/webhook-gw.md). KAFKA_CONFIG_FILE can still override them. */
    char timeout[16], queue_kb[16];
    snprintf(timeout, sizeof timeout, "%d", cfg->ack_timeout_ms);
    snprintf(queue_kb, sizeof queue_kb, "%d", GW_KAFKA_QUEUE_KBYTES);
    /* clang-format off */
    const char *const defaults[] = {
        "message.timeout.ms", timeout,
        "linger.ms", "0.5",
        "queue.buffering.max.kbytes", queue_kb,
        "max.in.flight.requests.per.connection", "1",
        NULL};
    /* clang-format on */
    srv->rk = kafka_producer_new(cfg->brokers, "webhook-gw", defaults, cfg->kafka_props,
                                 gw_on_delivery, srv, errstr, errlen);
    if (!srv->rk) goto fail;
    gw_memory mem;
    if (gw_limits_check(cfg, rd_kafka_conf(srv->rk), &mem, errstr, errlen) != 0) goto fail;
    char t[8][24];
    const size_t terms[8] = {mem.total,  cfg->memory_limit, mem.base,        mem.connections,
                             mem.bodies, mem.downloads,     mem.kafka_queue, mem.dedupe};
    for (int i = 0; i < 8; i++)
        snprintf(t[i], sizeof t[i], "%zu", terms[i]);
    log_info("memory bound", "worst_case_bytes", t[0], "limit_bytes", t[1], "base", t[2],
             "connections", t[3], "bodies", t[4], "downloads", t[5], "kafka_queue", t[6], "dedupe",
             t[7], NULL);
    srv->fetch_held_max = mem.downloads;
    /* Learn the raw topic's partitions now, not at the first delivery (kafka.h). */
    srv->raw_topic = kafka_topics_warm(srv->rk, NULL, &cfg->raw_topic, 1, errstr, errlen);
    if (!srv->raw_topic) goto fail;
    atomic_init(&srv->poll_stop, 0);
    atomic_store(&srv->poll_tick, util_mono_ms());
    if (pthread_create(&srv->poll_thread, NULL, gw_poll_main, srv) != 0) {
        snprintf(errstr, errlen, "cannot start the poll thread");
        goto fail;
    }
    srv->poll_started = 1;
    if (cfg->publish_hold_ms > 0 && gw_hold_start(srv) != 0) {
        snprintf(errstr, errlen, "cannot start the publish hold thread");
        goto fail;
    }
    srv->fetchers = gw_workers_new(cfg->fetch_workers, cfg->fetch_queue, gw_truncated_job, srv);
    if (!srv->fetchers) {
        snprintf(errstr, errlen, "cannot start the fetch workers");
        goto fail;
    }

    gw_http_config hc = {.bind_addr = cfg->bind_addr,
                         .port = cfg->port,
                         .threads = cfg->threads,
                         .max_connections = cfg->max_connections,
                         .max_conns_per_ip = cfg->max_conns_per_ip,
                         .max_requests_per_conn = cfg->max_requests_per_conn,
                         .idle_timeout_ms = cfg->conn_timeout_s * 1000,
                         .request_timeout_ms = cfg->request_timeout_ms,
                         .max_body = cfg->max_body,
                         .max_buffered = cfg->max_buffered,
                         .busy = &srv->r_busy};
    srv->http = gw_http_start(&hc, &handlers, srv, errstr, errlen);
    if (!srv->http) goto fail;
    srv->port = gw_http_port(srv->http);
    return srv;
fail:
    gw_server_free(srv);
    return NULL;
}

int gw_server_port(const gw_server *srv) {
    return srv->port;
}

int gw_server_alive(gw_server *srv) {
    return srv->http && gw_http_alive(srv->http, GW_ALIVE_MS) &&
           util_mono_ms() - atomic_load(&srv->poll_tick) <= GW_ALIVE_MS;
}

int gw_server_ready(void *arg, char *why, size_t whylen) {
    gw_server *srv = arg;
    if (atomic_load(&srv->draining)) {
        snprintf(why, whylen, "shutting down");
        return 0;
    }
    if (!kafka_brokers_up(srv->rk)) {
        snprintf(why, whylen, "no Kafka broker reachable");
        return 0;
    }
    return 1;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int gw_server_drain(gw_server *srv, int flush_ms) {
    atomic_store(&srv->draining, 1);
    /* Stop accepting: close the listening sockets, keep the open connections. */
    gw_http_quiesce(srv->http);

    /* Every request handed to Kafka or to a fetch worker has a deadline: wait for
     * them (at most the longest budget). Uploads still arriving get a short grace. */
    int64_t t0 = util_mono_ms();
    int64_t until = t0 + srv->cfg.fetch_timeout_ms + srv->cfg.ack_timeout_ms + GW_DRAIN_MARGIN_MS;
    for (;;) {
        int64_t now = util_mono_ms();
        pthread_mutex_lock(&srv->mu);
        int waiting = srv->acks.count + srv->fetches.count;
        pthread_mutex_unlock(&srv->mu);
        if (atomic_load(&srv->inflight) == 0 || now >= until) break;
        if (waiting == 0 && gw_workers_pending(srv->fetchers) == 0 &&
            now >= t0 + GW_DRAIN_UPLOAD_GRACE_MS)
            break;
        sleep_ms(10);
    }
    /* From here on nothing may wait: answer what is left, and make any request that
     * completes its upload now get its 503 at once (start_waiting). */
    pthread_mutex_lock(&srv->mu);
    srv->closing = 1;
    while (srv->acks.head)
        gw_req_finish_unavail_locked(srv, srv->acks.head, GW_UNAV_SHUTTING_DOWN);
    while (srv->fetches.head)
        gw_req_finish_unavail_locked(srv, srv->fetches.head, GW_UNAV_SHUTTING_DOWN);
    gw_unlock_and_resume(srv);
    gw_workers_stop(srv->fetchers); /* queued jobs find their request DONE and return */
    srv->fetchers = NULL;
    /* No thread but the HTTP ones may hand over an answer once the server stops. */
    gw_hold_stop(srv); /* what it still holds goes to librdkafka, flushed below */
    if (srv->poll_started) {
        atomic_store(&srv->poll_stop, 1);
        pthread_join(srv->poll_thread, NULL);
        srv->poll_started = 0;
    }
    /* Give the HTTP threads a moment to send the answers just handed over. */
    for (int64_t end = util_mono_ms() + GW_DRAIN_SEND_MS;
         atomic_load(&srv->inflight) > 0 && util_mono_ms() < end;)
        sleep_ms(5);
    gw_http_stop(srv->http); /* freed with the server: bodies held by messages point into it */
    int rc = kafka_flush(srv->rk, flush_ms);
    if (rc != 0) {
        /* Broker still away: those requests were answered 503 already. Purge and serve
         * the purge reports so every message drops its request reference. */
        rd_kafka_purge(srv->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(srv->rk, GW_PURGE_FLUSH_MS);
    }
    return rc;
}

void gw_server_free(gw_server *srv) {
    if (!srv) return;
    /* The threads that hand answers to the HTTP server stop before it does. */
    gw_hold_stop(srv);
    if (srv->poll_started) {
        atomic_store(&srv->poll_stop, 1);
        pthread_join(srv->poll_thread, NULL);
    }
    if (srv->fetchers) gw_workers_stop(srv->fetchers);
    gw_http_stop(srv->http);
    kafka_topics_release(srv->raw_topic, 1);
    if (srv->rk) rd_kafka_destroy(srv->rk); /* the last delivery reports free their bodies */
    gw_http_free(srv->http);
    gw_dedupe_free(srv->dedupe);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}
