/* gw_server.c - the webhook endpoint on libmicrohttpd: routing and cheap checks on the
 * headers, body collection within the limit, signature verification, then the hand-off
 * to Kafka (gw_publish.c) with the connection suspended until the answer is decided.
 * Also start-up and the SIGTERM drain.
 */
#include "gw_internal.h"

#include "kafka.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GW_DISCARD_FACTOR 4    /* a chunked body over the limit is read and dropped up to
                                  this many times the limit (to send 413), then cut off */
#define GW_LOG_ID_MAX 64       /* bytes of an unverified event id put in a log line */
#define GW_DRAIN_MARGIN_MS 1000 /* on top of the longest request budget */
#define GW_DRAIN_UPLOAD_GRACE_MS 1000 /* for uploads still arriving at SIGTERM */
#define GW_DRAIN_SEND_MS 500    /* for answers just resumed to be sent */
#define GW_PURGE_FLUSH_MS 500   /* to serve the reports of purged messages */
#define GW_MHD_MEMORY_LIMIT (8 * 1024) /* per-connection pool (headers, read buffer).
                                          libmicrohttpd zeroes it on every request: at
                                          16 KB that memset was 3% of the machine in the
                                          benchmark. 8 KB holds nginx's default header
                                          limit; bodies stream through it in pieces. */

/* ---- answers ------------------------------------------------------------------ */

static unsigned reject_status(gw_reject r) {
    switch (r) {
    case GW_REJ_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
    case GW_REJ_METHOD: return MHD_HTTP_METHOD_NOT_ALLOWED;
    case GW_REJ_CONTENT_TYPE: return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
    case GW_REJ_TOO_LARGE: return MHD_HTTP_CONTENT_TOO_LARGE;
    case GW_REJ_MISSING_SIGNATURE:
    case GW_REJ_BAD_TIMESTAMP:
    case GW_REJ_STALE_TIMESTAMP:
    case GW_REJ_BAD_SIGNATURE: return MHD_HTTP_UNAUTHORIZED;
    default: return MHD_HTTP_BAD_REQUEST;
    }
}

static struct MHD_Response *make_response(const char *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return r;
}

static int build_responses(gw_server *srv) {
    char body[128], retry[16];
    snprintf(retry, sizeof retry, "%d", srv->cfg.retry_after_s);
    if (!(srv->r_accepted = make_response("{\"status\":\"accepted\"}"))) return -1;
    if (!(srv->r_duplicate = make_response("{\"status\":\"duplicate\"}"))) return -1;
    for (int i = 0; i < GW_REJ_COUNT; i++) {
        snprintf(body, sizeof body, "{\"error\":\"%s\"}", gw_reject_name((gw_reject)i));
        if (!(srv->r_reject[i] = make_response(body))) return -1;
        if (i == GW_REJ_METHOD) MHD_add_response_header(srv->r_reject[i], MHD_HTTP_HEADER_ALLOW, "POST");
    }
    for (int i = 0; i < GW_UNAV_COUNT; i++) {
        snprintf(body, sizeof body, "{\"error\":\"%s\"}", gw_unavail_name((gw_unavail)i));
        if (!(srv->r_unavail[i] = make_response(body))) return -1;
        MHD_add_response_header(srv->r_unavail[i], MHD_HTTP_HEADER_RETRY_AFTER, retry);
        if (i == GW_UNAV_SHUTTING_DOWN) /* send the client to another replica */
            MHD_add_response_header(srv->r_unavail[i], MHD_HTTP_HEADER_CONNECTION, "close");
    }
    return 0;
}

static void free_responses(gw_server *srv) {
    if (srv->r_accepted) MHD_destroy_response(srv->r_accepted);
    if (srv->r_duplicate) MHD_destroy_response(srv->r_duplicate);
    for (int i = 0; i < GW_REJ_COUNT; i++)
        if (srv->r_reject[i]) MHD_destroy_response(srv->r_reject[i]);
    for (int i = 0; i < GW_UNAV_COUNT; i++)
        if (srv->r_unavail[i]) MHD_destroy_response(srv->r_unavail[i]);
}

static const char *header(void *ctx, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_HEADER_KIND, name);
}

/* An unverified id, made safe and short for a log line. */
static void log_id(const char *id, char out[GW_LOG_ID_MAX + 1]) {
    size_t i = 0;
    for (; id && id[i] && i < GW_LOG_ID_MAX; i++)
        out[i] = (id[i] > 0x20 && id[i] < 0x7f && id[i] != '"' && id[i] != '\\') ? id[i] : '?';
    out[i] = '\0';
}

/* Answer a 4xx: counted, logged with the reason and event id only (never the body). */
static enum MHD_Result reject(gw_server *srv, struct MHD_Connection *conn, gw_reject why) {
    gw_metric_rejected(why);
    gw_sig_headers sig;
    gw_sig_headers_pick(header, conn, &sig);
    char id[GW_LOG_ID_MAX + 1];
    log_id(sig.id, id);
    if (why == GW_REJ_NOT_FOUND || why == GW_REJ_METHOD)
        log_debug("webhook rejected", "reason", gw_reject_name(why), "event_id", id, NULL);
    else
        log_info("webhook rejected", "reason", gw_reject_name(why), "event_id", id, NULL);
    return MHD_queue_response(conn, reject_status(why), srv->r_reject[why]);
}

static enum MHD_Result unavailable(gw_server *srv, struct MHD_Connection *conn, gw_unavail why) {
    gw_metric_unavailable(why);
    return MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, srv->r_unavail[why]);
}

/* ---- request phases ----------------------------------------------------------- */

/* First call: only headers are known. Everything that can be refused without the body
 * is refused here, before a byte of it is read. */
static enum MHD_Result on_headers(gw_server *srv, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **con_cls) {
    gw_metric_request();
    if (strcmp(url, srv->cfg.path) != 0) return reject(srv, conn, GW_REJ_NOT_FOUND);
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) return reject(srv, conn, GW_REJ_METHOD);
    if (atomic_load(&srv->draining)) return unavailable(srv, conn, GW_UNAV_SHUTTING_DOWN);
    if (!gw_content_type_ok(header(conn, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return reject(srv, conn, GW_REJ_CONTENT_TYPE);
    const char *cl = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = 0;
    if (cl) {
        char *end;
        errno = 0;
        declared = strtoull(cl, &end, 10);
        if (errno || *end || end == cl || declared > srv->cfg.max_body)
            return reject(srv, conn, GW_REJ_TOO_LARGE);
    }
    if (atomic_load(&srv->inflight) >= srv->cfg.max_inflight)
        return unavailable(srv, conn, GW_UNAV_OVERLOADED);

    gw_req *req = calloc(1, sizeof *req);
    if (!req) return unavailable(srv, conn, GW_UNAV_INTERNAL);
    req->srv = srv;
    req->conn = conn;
    atomic_init(&req->refs, 1); /* the connection's */
    atomic_init(&req->state, GW_REQ_RECEIVING);
    req->t_start_ms = util_mono_ms();
    if (declared > 0) {
        req->body = malloc((size_t)declared + 1);
        if (!req->body) {
            free(req);
            return unavailable(srv, conn, GW_UNAV_INTERNAL);
        }
        req->cap = (size_t)declared + 1;
    }
    *con_cls = req;
    atomic_fetch_add(&srv->inflight, 1);
    gw_metric_inflight(1);
    return MHD_YES;
}

/* Body bytes. Returns 0, -1 to cut the connection (a chunked body far over the limit),
 * or -2 when out of memory (also cut). */
static int on_body(gw_server *srv, gw_req *req, const char *data, size_t n) {
    if (req->too_large || req->len + n > srv->cfg.max_body) {
        req->too_large = 1;
        req->discarded += n;
        return req->discarded > GW_DISCARD_FACTOR * srv->cfg.max_body ? -1 : 0;
    }
    if (req->len + n + 1 > req->cap) {
        size_t cap = req->cap ? req->cap : 4096;
        while (cap < req->len + n + 1) cap *= 2;
        if (cap > srv->cfg.max_body + 1) cap = srv->cfg.max_body + 1;
        char *p = realloc(req->body, cap);
        if (!p) return -2;
        req->body = p;
        req->cap = cap;
    }
    memcpy(req->body + req->len, data, n);
    req->len += n;
    req->body[req->len] = '\0';
    return 0;
}

/* Queue the answer now if it is decided, else suspend until gw_req_finish_locked().
 * The suspend (a system call) happens outside srv->mu; see gw_internal.h. */
static enum MHD_Result answer_or_suspend(gw_server *srv, gw_req *req) {
    pthread_mutex_lock(&srv->mu);
    int done = atomic_load(&req->state) == GW_REQ_DONE;
    pthread_mutex_unlock(&srv->mu);
    if (done) return MHD_queue_response(req->conn, req->status, req->resp);
    MHD_suspend_connection(req->conn);
    pthread_mutex_lock(&srv->mu);
    done = atomic_load(&req->state) == GW_REQ_DONE;
    if (!done) req->suspended = 1;
    pthread_mutex_unlock(&srv->mu);
    /* Decided in between: nobody else will resume it. The handler runs again once
     * libmicrohttpd has processed the resume, and queues the answer then. */
    if (done) MHD_resume_connection(req->conn);
    return MHD_YES;
}

/* WAITING with a deadline; or, once the drain has answered everything (srv->closing),
 * DONE with 503 at once, so nothing can be suspended after that point. Returns 0 when
 * the request is waiting, -1 when it is already answered. */
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

static enum MHD_Result start_publish(gw_server *srv, gw_req *req) {
    if (start_waiting(srv, req, &srv->acks, srv->cfg.ack_timeout_ms) == 0 &&
        gw_publish(srv, req, req->body, req->len) != 0) {
        pthread_mutex_lock(&srv->mu);
        gw_req_finish_unavail_locked(srv, req, GW_UNAV_KAFKA_ERROR);
        gw_unlock_and_resume(srv);
    }
    return answer_or_suspend(srv, req);
}

static enum MHD_Result start_fetch(gw_server *srv, gw_req *req) {
    req->fetching = 1;
    if (start_waiting(srv, req, &srv->fetches,
                      (int64_t)srv->cfg.fetch_timeout_ms + srv->cfg.ack_timeout_ms) != 0)
        return answer_or_suspend(srv, req);
    atomic_fetch_add(&req->refs, 1); /* the job's */
    if (gw_workers_push(srv->fetchers, req) != 0) {
        atomic_fetch_sub(&req->refs, 1);
        pthread_mutex_lock(&srv->mu);
        gw_req_finish_unavail_locked(srv, req, GW_UNAV_OVERLOADED);
        gw_unlock_and_resume(srv);
    }
    return answer_or_suspend(srv, req);
}

/* The whole body is here: verify, parse, then publish (or fetch first). */
static enum MHD_Result on_complete(gw_server *srv, gw_req *req) {
    struct MHD_Connection *conn = req->conn;
    if (req->too_large) return reject(srv, conn, GW_REJ_TOO_LARGE);

    gw_sig_headers sig;
    gw_sig_headers_pick(header, conn, &sig);
    if (sig.id && strlen(sig.id) > GW_EVENT_ID_MAX) return reject(srv, conn, GW_REJ_BAD_EVENT_ID);
    const char *body = req->body ? req->body : "";
    switch (svix_verify(srv->cfg.keys, srv->cfg.nkeys, sig.id, sig.timestamp, sig.signature, body,
                        req->len, (long long)time(NULL))) {
    case SVIX_OK: break;
    case SVIX_MISSING_HEADER: return reject(srv, conn, GW_REJ_MISSING_SIGNATURE);
    case SVIX_BAD_TIMESTAMP: return reject(srv, conn, GW_REJ_BAD_TIMESTAMP);
    case SVIX_STALE: return reject(srv, conn, GW_REJ_STALE_TIMESTAMP);
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
        return MHD_queue_response(conn, MHD_HTTP_OK, srv->r_duplicate);
    }
    util_rfc3339(util_now_ms(), 1, req->received_at);
    if (!req->env.ev.known)
        log_info("unknown event type kept", "event_type", req->env.ev.canonical, "event_id",
                 req->event_id, "connection_id", req->env.connection_id, NULL);
    return req->env.truncated ? start_fetch(srv, req) : start_publish(srv, req);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
    (void)version;
    gw_server *srv = cls;
    gw_req *req = *con_cls;
    if (!req) return on_headers(srv, conn, url, method, con_cls);
    switch (atomic_load(&req->state)) {
    case GW_REQ_RECEIVING:
        if (*upload_data_size) {
            int rc = on_body(srv, req, upload_data, *upload_data_size);
            *upload_data_size = 0;
            if (rc == -1) gw_metric_rejected(GW_REJ_TOO_LARGE);
            if (rc == -2) gw_metric_unavailable(GW_UNAV_INTERNAL);
            return rc == 0 ? MHD_YES : MHD_NO;
        }
        return on_complete(srv, req);
    case GW_REQ_DONE: /* resumed: the answer is decided */
        return MHD_queue_response(conn, req->status, req->resp);
    default: /* WAITING is never resumed; refuse rather than spin */
        return MHD_NO;
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    gw_server *srv = cls;
    gw_reaper_request_done(srv->reaper, conn);
    gw_req *req = *con_cls;
    if (!req) return;
    *con_cls = NULL;
    /* Normally RECEIVING (answered or cut before publishing) or DONE (resumed and
     * answered). WAITING only if the daemon closes a suspended connection, which the
     * drain avoids; it is handled so that a late delivery report cannot touch conn. */
    if (atomic_load(&req->state) == GW_REQ_WAITING) {
        pthread_mutex_lock(&srv->mu);
        if (req->q) gw_queue_remove(req->q, req);
        req->suspended = 0;
        req->conn = NULL;
        atomic_store(&req->state, GW_REQ_DONE);
        pthread_mutex_unlock(&srv->mu);
    }
    atomic_fetch_sub(&srv->inflight, 1);
    gw_metric_inflight(-1);
    gw_req_unref(req);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    log_warn("libmicrohttpd", "detail", msg, NULL);
}

/* ---- life cycle --------------------------------------------------------------- */

gw_server *gw_server_start(const gw_config *cfg, char *errstr, size_t errlen) {
    gw_server *srv = calloc(1, sizeof *srv);
    char extra[1024];
    if (!srv) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    pthread_mutex_init(&srv->mu, NULL);
    gw_metrics_init();
    if (build_responses(srv) != 0) {
        snprintf(errstr, errlen, "cannot build responses");
        goto fail;
    }
    if (cfg->dedupe_window_ms > 0 &&
        !(srv->dedupe = gw_dedupe_new(cfg->dedupe_window_ms, cfg->dedupe_max))) {
        snprintf(errstr, errlen, "cannot allocate the dedupe table");
        goto fail;
    }
    /* librdkafka gives up on a message after our own answer deadline: after that the
     * request has its 503 and Trackstar retries, so keeping it only costs memory.
     * linger.ms: every HTTP answer waits for its batch, and a connection sends nothing
     * else meanwhile; measured (tests/bench/webhook_gw.sh, 64 connections) 2 ms gave
     * 3.4 ms median answers and 16k req/s, 0.5 ms gives 29k req/s with batches still
     * large (0 sends a request per few messages and costs more CPU than it saves).
     * Set first so that KAFKA_EXTRA can still override both. */
    int n = snprintf(extra, sizeof extra, "message.timeout.ms=%d,linger.ms=0.5%s%s", cfg->ack_timeout_ms,
                     cfg->kafka_extra && *cfg->kafka_extra ? "," : "",
                     cfg->kafka_extra ? cfg->kafka_extra : "");
    if (n < 0 || (size_t)n >= sizeof extra) {
        snprintf(errstr, errlen, "KAFKA_EXTRA: too long");
        goto fail;
    }
    srv->rk = kafka_producer_new(cfg->brokers, "webhook-gw", extra, gw_on_delivery, srv, errstr,
                                 errlen);
    explicit_bzero(extra, sizeof extra); /* may hold SASL credentials */
    if (!srv->rk) goto fail;
    atomic_init(&srv->poll_stop, 0);
    if (pthread_create(&srv->poll_thread, NULL, gw_poll_main, srv) != 0) {
        snprintf(errstr, errlen, "cannot start the poll thread");
        goto fail;
    }
    srv->poll_started = 1;
    srv->fetchers = gw_workers_new(cfg->fetch_workers, cfg->fetch_queue, gw_fetch_job, srv);
    if (!srv->fetchers) {
        snprintf(errstr, errlen, "cannot start the fetch workers");
        goto fail;
    }

    srv->reaper = gw_reaper_new(cfg->request_timeout_ms);
    if (!srv->reaper) {
        snprintf(errstr, errlen, "cannot start the request reaper");
        goto fail;
    }

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->bind_addr, &sin.sin_addr) != 1) {
        snprintf(errstr, errlen, "WEBHOOK_GW_BIND: '%s' is not an IPv4 address", cfg->bind_addr);
        goto fail;
    }
    srv->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        (uint16_t)cfg->port, NULL, NULL, on_access, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, /* first, so it takes every message */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->conn_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GW_MHD_MEMORY_LIMIT,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, gw_reaper_notify, srv->reaper,
        MHD_OPTION_END);
    if (!srv->mhd) {
        snprintf(errstr, errlen, "cannot listen on %s:%d", cfg->bind_addr, cfg->port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->port;
    return srv;
fail:
    gw_server_free(srv);
    return NULL;
}

int gw_server_port(const gw_server *srv) { return srv->port; }

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
    /* Stop accepting: close the listening socket, keep the open connections. */
    MHD_socket lfd = MHD_quiesce_daemon(srv->mhd);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);

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
    /* From here on nothing may be suspended: answer what is left, and make any request
     * that completes its upload now get its 503 without waiting (start_waiting). */
    pthread_mutex_lock(&srv->mu);
    srv->closing = 1;
    while (srv->acks.head) gw_req_finish_unavail_locked(srv, srv->acks.head, GW_UNAV_SHUTTING_DOWN);
    while (srv->fetches.head)
        gw_req_finish_unavail_locked(srv, srv->fetches.head, GW_UNAV_SHUTTING_DOWN);
    gw_unlock_and_resume(srv);
    gw_workers_stop(srv->fetchers); /* queued jobs find their request DONE and return */
    srv->fetchers = NULL;
    /* Give the HTTP threads a moment to send the answers just resumed. */
    for (int64_t end = util_mono_ms() + GW_DRAIN_SEND_MS;
         atomic_load(&srv->inflight) > 0 && util_mono_ms() < end;)
        sleep_ms(5);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    if (srv->poll_started) {
        atomic_store(&srv->poll_stop, 1);
        pthread_join(srv->poll_thread, NULL);
        srv->poll_started = 0;
    }
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
    if (srv->mhd) MHD_stop_daemon(srv->mhd);
    gw_reaper_free(srv->reaper); /* after the daemon: no more notifications */
    if (srv->poll_started) {
        atomic_store(&srv->poll_stop, 1);
        pthread_join(srv->poll_thread, NULL);
    }
    if (srv->fetchers) gw_workers_stop(srv->fetchers);
    if (srv->rk) rd_kafka_destroy(srv->rk);
    gw_dedupe_free(srv->dedupe);
    free_responses(srv);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}
