/* admin.c - the admin HTTP server (/healthz, /readyz, /metrics and routes a binary
 * adds), on libmicrohttpd's internal thread, separate from any data port. See admin.h.
 *
 * A route request is a job: authenticated on the MHD thread, queued for the worker, and
 * its connection suspended (MHD_suspend_connection) until the worker or the reaper
 * (the deadline) resumes it with an answer. The job is shared by the connection and the
 * worker; the last of them frees it. Every job state change happens under mu.
 */
#include "admin.h"

#include "log.h"
#include "metrics.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ADMIN_MAX_ROUTES 16
#define ADMIN_MAX_BODY (64 * 1024)
#define ADMIN_MAX_CONNECTIONS 64 /* the admin port is internal: a few scrapers and probes */
#define ADMIN_REAP_MS 100        /* deadline scan period */
#define ADMIN_STOP_JOIN_MS 2000  /* a handler still blocked at exit is left behind */

typedef struct admin_route_entry {
    const char *method, *path;
    admin_route_fn fn;
    void *arg;
} admin_route_entry;

enum { JOB_QUEUED = 0, JOB_RUNNING, JOB_ANSWERED };

typedef struct admin_job {
    const admin_route_entry *route;
    char *query, *body;
    size_t len;
    struct MHD_Connection *conn;
    int state;  /* under mu */
    int status; /* the answer, once ANSWERED */
    char *resp; /* owned until handed to MHD */
    int refs;   /* the connection's and (while queued or running) the worker's; under mu */
    int64_t deadline_ms;
    struct admin_job *qnext; /* in the worker's queue while QUEUED */
    struct admin_job *pnext; /* in pending (every job not yet answered) */
} admin_job;

typedef struct admin_req {
    char *body;
    size_t len;
    int too_big;
    admin_job *job; /* a suspended route request */
} admin_req;

static struct MHD_Daemon *admin_daemon;
static admin_ready_fn admin_ready;
static void *admin_ready_arg;
static admin_route_entry routes[ADMIN_MAX_ROUTES];
static int nroutes;
static char admin_token[ADMIN_TOKEN_MAX + 1];
static size_t admin_token_len;

static _Atomic int64_t beat_ms;
static int64_t stale_ms; /* HEALTHZ_STALE_S, set by admin_start */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static admin_job *queue_head, *queue_tail; /* waiting for the worker (qnext) */
static admin_job *pending;                 /* queued or running (pnext): the reaper's list */
static int queued;
static int stopping;
static pthread_t worker_thread, reaper_thread;
static int threads_started;

static metric *m_denied, *m_timeouts, *m_busy;
static log_limiter denied_log = LOG_LIMITER_INIT(10, 10000);

int admin_route(const char *method, const char *path, admin_route_fn fn, void *arg) {
    if (nroutes == ADMIN_MAX_ROUTES) return -1;
    routes[nroutes++] = (admin_route_entry){method, path, fn, arg};
    return 0;
}

int admin_set_token(const char *token, char *err, size_t errlen) {
    size_t n = token ? strlen(token) : 0;
    if (n > 0 && (n < ADMIN_TOKEN_MIN || n > ADMIN_TOKEN_MAX)) {
        snprintf(err, errlen, "ADMIN_TOKEN: must be %d to %d characters", ADMIN_TOKEN_MIN,
                 ADMIN_TOKEN_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (token[i] <= 0x20 || token[i] >= 0x7f) {
            snprintf(err, errlen, "ADMIN_TOKEN: only visible ASCII characters are allowed");
            return -1;
        }
    memcpy(admin_token, token ? token : "", n);
    admin_token[n] = '\0';
    admin_token_len = n;
    return 0;
}

/* ---- heartbeat ------------------------------------------------------------------- */

void admin_heartbeat(void) {
    atomic_store(&beat_ms, util_mono_ms());
}

int64_t admin_heartbeat_age_ms(void) {
    return util_mono_ms() - atomic_load(&beat_ms);
}

int admin_healthy(void) {
    return admin_heartbeat_age_ms() <= stale_ms;
}

/* ---- answers ----------------------------------------------------------------------- */

static enum MHD_Result reply_h(struct MHD_Connection *c, int status, const char *ctype, char *body,
                               int owned, const char *hname, const char *hval) {
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body ? body : (char *)"", owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!r) {
        if (owned) free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (hname) MHD_add_response_header(r, hname, hval);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *ctype, char *body,
                             int owned) {
    return reply_h(c, status, ctype, body, owned, NULL, NULL);
}

static enum MHD_Result reply_json(struct MHD_Connection *c, int status, const char *json) {
    return reply(c, status, "application/json", (char *)json, 0);
}

/* Rebuild "k=v&k=v" (decoded) from the query arguments for a route handler. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    sbuf *q = cls;
    if (q->len) sbuf_append(q, "&", 1);
    sbuf_printf(q, "%s=%s", key, value ? value : "");
    return MHD_YES;
}

/* "Bearer <token>" matching the configured token; compared in constant time. */
static int authorized(struct MHD_Connection *c) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return 0;
    const char *t = h + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n > 0 && t[n - 1] == ' ')
        n--;
    return n == admin_token_len && CRYPTO_memcmp(t, admin_token, n) == 0;
}

/* ---- jobs -------------------------------------------------------------------------- */

static void job_unref_locked(admin_job *j) {
    if (--j->refs > 0) return;
    free(j->query);
    free(j->body);
    free(j->resp);
    free(j);
}

static void pending_remove_locked(admin_job *j) {
    for (admin_job **p = &pending; *p; p = &(*p)->pnext)
        if (*p == j) {
            *p = j->pnext;
            j->pnext = NULL;
            return;
        }
}

/* Take a QUEUED job off the worker's queue: the worker will never see it. */
static void unqueue_locked(admin_job *j) {
    admin_job *prev = NULL;
    for (admin_job *q = queue_head; q; prev = q, q = q->qnext)
        if (q == j) {
            if (prev)
                prev->qnext = j->qnext;
            else
                queue_head = j->qnext;
            if (queue_tail == j) queue_tail = prev;
            j->qnext = NULL;
            queued--;
            j->refs--; /* the worker's */
            return;
        }
}

/* Decide j's answer and wake its connection; under mu, only once. */
static void answer_locked(admin_job *j, int status, char *resp) {
    j->state = JOB_ANSWERED;
    j->status = status;
    free(j->resp);
    j->resp = resp;
    MHD_resume_connection(j->conn);
}

static void *worker_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!queue_head && !stopping)
            pthread_cond_wait(&cv, &mu);
        if (stopping) break;
        admin_job *j = queue_head;
        queue_head = j->qnext;
        if (!queue_head) queue_tail = NULL;
        j->qnext = NULL;
        queued--;
        j->state = JOB_RUNNING;
        pthread_mutex_unlock(&mu);
        char *resp = NULL;
        int status = j->route->fn(j->route->arg, j->query, j->body ? j->body : "", j->len, &resp);
        pthread_mutex_lock(&mu);
        if (j->state == JOB_RUNNING) {
            pending_remove_locked(j);
            answer_locked(j, status, resp);
        } else {
            free(resp); /* answered 503 at the deadline or at shutdown already */
        }
        job_unref_locked(j);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Answers 503 to every job past its deadline, queued or running. */
static void *reaper_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += ADMIN_REAP_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cv, &mu, &ts);
        int64_t now = util_mono_ms();
        for (admin_job *j = pending, *next; j; j = next) {
            next = j->pnext;
            if (j->deadline_ms > now) continue;
            pending_remove_locked(j);
            if (j->state == JOB_QUEUED) unqueue_locked(j);
            metric_inc(m_timeouts);
            log_warn("admin request timed out", "path", j->route->path, NULL);
            answer_locked(j, 503, strdup("{\"error\":\"timed out: try again later\"}"));
        }
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Queue a route request and suspend its connection. Returns 0, or -1 when the queue is
 * full (the caller answers 503). */
static int job_start(struct MHD_Connection *c, admin_req *req, const admin_route_entry *r) {
    admin_job *j = calloc(1, sizeof *j);
    sbuf query = {0};
    if (!j) return -1;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &query);
    j->route = r;
    j->query = query.p ? query.p : strdup("");
    j->body = req->body;
    j->len = req->len;
    j->conn = c;
    j->refs = 2;
    j->deadline_ms = util_mono_ms() + ADMIN_JOB_TIMEOUT_MS;
    pthread_mutex_lock(&mu);
    if (stopping || queued >= ADMIN_JOB_QUEUE || !j->query) {
        pthread_mutex_unlock(&mu);
        free(j->query);
        free(j);
        return -1;
    }
    req->body = NULL; /* the job's now */
    req->job = j;
    /* Suspended before the worker or the reaper can resume it: all under mu. */
    MHD_suspend_connection(c);
    if (queue_tail)
        queue_tail->qnext = j;
    else
        queue_head = j;
    queue_tail = j;
    queued++;
    j->pnext = pending;
    pending = j;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return 0;
}

/* ---- requests ---------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **req_cls) {
    (void)cls;
    (void)version;
    admin_req *req = *req_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req) return MHD_NO;
        *req_cls = req;
        return MHD_YES;
    }
    if (req->job) { /* resumed: the answer is decided */
        pthread_mutex_lock(&mu);
        admin_job *j = req->job;
        int status = j->status;
        char *resp = j->resp;
        j->resp = NULL;
        pthread_mutex_unlock(&mu);
        return reply(c, status, "application/json", resp, resp != NULL);
    }
    if (*data_size) {
        if (req->len + *data_size > ADMIN_MAX_BODY) {
            req->too_big = 1;
        } else {
            char *p = realloc(req->body, req->len + *data_size + 1);
            if (!p) return MHD_NO;
            memcpy(p + req->len, data, *data_size);
            req->body = p;
            req->len += *data_size;
            req->body[req->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (req->too_big) return reply_json(c, 413, "{\"error\":\"body too large\"}");

    if (strcmp(url, "/healthz") == 0) {
        if (admin_healthy()) return reply(c, 200, "text/plain", "ok\n", 0);
        char body[96];
        snprintf(body, sizeof body, "main loop stalled: no heartbeat for %lld ms\n",
                 (long long)admin_heartbeat_age_ms());
        return reply(c, 503, "text/plain", body, 0);
    }
    if (strcmp(url, "/metrics") == 0) {
        char *text = metrics_render();
        if (!text) return reply(c, 500, "text/plain", "out of memory\n", 0);
        return reply(c, 200, "text/plain; version=0.0.4", text, 1);
    }
    if (strcmp(url, "/readyz") == 0) {
        char why[256] = "";
        int ok = admin_ready ? admin_ready(admin_ready_arg, why, sizeof why) : 1;
        char body[320];
        snprintf(body, sizeof body, "%s%s%s\n", ok ? "ready" : "not ready", *why ? ": " : "", why);
        return reply(c, ok ? 200 : 503, "text/plain", body, 0);
    }
    for (int i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].path, url) != 0) continue;
        if (strcmp(routes[i].method, method) != 0)
            return reply_json(c, 405, "{\"error\":\"method not allowed\"}");
        if (admin_token_len == 0) {
            metric_inc(m_denied);
            return reply_json(c, 403,
                              "{\"error\":\"admin actions are off: ADMIN_TOKEN is not set\"}");
        }
        if (!authorized(c)) {
            metric_inc(m_denied);
            log_limited(&denied_log, LOG_WARN, "admin request refused: no valid bearer token",
                        "path", url, NULL);
            return reply_h(c, 401, "application/json",
                           "{\"error\":\"a valid bearer token (ADMIN_TOKEN) is required\"}", 0,
                           MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"trackstar-admin\"");
        }
        if (job_start(c, req, &routes[i]) != 0) {
            metric_inc(m_busy);
            return reply_h(c, 503, "application/json",
                           "{\"error\":\"busy: too many admin requests waiting\"}", 0,
                           MHD_HTTP_HEADER_RETRY_AFTER, "5");
        }
        return MHD_YES;
    }
    return reply_json(c, 404, "{\"error\":\"not found\"}");
}

static void on_done(void *cls, struct MHD_Connection *c, void **req_cls,
                    enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    admin_req *req = *req_cls;
    if (req) {
        if (req->job) {
            pthread_mutex_lock(&mu);
            job_unref_locked(req->job);
            pthread_mutex_unlock(&mu);
        }
        free(req->body);
        free(req);
    }
    *req_cls = NULL;
}

int admin_start(const char *bind_addr, int port, int healthz_stale_s, admin_ready_fn ready,
                void *arg, char *errstr, size_t errlen) {
    admin_ready = ready;
    admin_ready_arg = arg;
    stale_ms = (int64_t)healthz_stale_s * 1000;
    admin_heartbeat(); /* start-up counts as a turn */
    m_denied = metric_counter("admin_requests_denied_total",
                              "admin route requests without a valid bearer token", NULL, NULL);
    m_timeouts = metric_counter("admin_requests_timed_out_total",
                                "admin route requests answered 503 at their deadline", NULL, NULL);
    m_busy = metric_counter("admin_requests_busy_total",
                            "admin route requests refused because the queue was full", NULL, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
        snprintf(errstr, errlen, "ADMIN_BIND: '%s' is not an IPv4 address", bind_addr);
        return -1;
    }
    if (nroutes > 0) {
        stopping = 0;
        if (pthread_create(&worker_thread, NULL, worker_main, NULL) != 0) {
            snprintf(errstr, errlen, "cannot start the admin worker");
            return -1;
        }
        if (pthread_create(&reaper_thread, NULL, reaper_main, NULL) != 0) {
            snprintf(errstr, errlen, "cannot start the admin reaper");
            pthread_mutex_lock(&mu);
            stopping = 1;
            pthread_cond_broadcast(&cv);
            pthread_mutex_unlock(&mu);
            pthread_join(worker_thread, NULL);
            return -1;
        }
        threads_started = 1;
    }
    admin_daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_MAX_CONNECTIONS,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!admin_daemon) {
        snprintf(errstr, errlen, "ADMIN_PORT: cannot listen on %s:%d", bind_addr, port);
        admin_stop();
        return -1;
    }
    return 0;
}

void admin_stop(void) {
    /* Answer every job still open (MHD cannot stop with suspended connections), then
     * stop the threads; a handler blocked in a call is left behind after a wait. */
    pthread_mutex_lock(&mu);
    stopping = 1;
    while (pending) {
        admin_job *j = pending;
        pending_remove_locked(j);
        if (j->state == JOB_QUEUED) unqueue_locked(j);
        answer_locked(j, 503, strdup("{\"error\":\"shutting down\"}"));
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (threads_started) {
        pthread_join(reaper_thread, NULL);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ADMIN_STOP_JOIN_MS / 1000;
        if (pthread_timedjoin_np(worker_thread, NULL, &until) != 0) pthread_detach(worker_thread);
        threads_started = 0;
    }
    if (admin_daemon) MHD_stop_daemon(admin_daemon);
    admin_daemon = NULL;
}
