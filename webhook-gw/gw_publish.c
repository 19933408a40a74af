/* gw_publish.c - from a verified request to a decided answer: produce to the raw
 * topic (held briefly so that requests go out together), take delivery reports and
 * deadlines on the poll thread, download truncated events on the fetch workers. Each path ends in
 * gw_req_finish_locked() and gw_unlock_and_resume(), which hands the answer to the connection's
 * HTTP thread.
 *
 * Deadline: our own timer, not librdkafka's message.timeout.ms, because librdkafka scans
 * for timed-out messages about once a second; the poll thread checks the queue heads
 * every GW_POLL_MS, so a 503 leaves within a few ms of WEBHOOK_GW_ACK_TIMEOUT_MS. The
 * message itself stays with librdkafka (bounded by message.timeout.ms, set to the same
 * budget): if it is delivered after the 503, Trackstar's retry is a harmless duplicate.
 */
#include "gw_internal.h"

#include "gw_truncated.h"
#include "log.h"
#include "topics.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GW_POLL_MS 5 /* poll thread tick: delivery reports wake it sooner */
/* A held burst this large goes at once: it makes batches of 8 messages per partition of
 * the raw topic (4 on the local stack), past which the broker's cost per event hardly
 * falls, while each request in it waits longer (docs/benchmarks.md). */
#define GW_HOLD_BURST_MAX 32

void gw_req_unref(gw_req *req) {
    if (!req) return;
    if (atomic_fetch_sub(&req->refs, 1) != 1) return;
    gw_http_body_free(&req->mem);
    free(req->full);
    if (req->full_charge) atomic_fetch_sub(&req->srv->fetch_held, req->full_charge);
    free(req);
}

void gw_queue_push(gw_queue *q, gw_req *req) {
    req->q = q;
    req->next = NULL;
    req->prev = q->tail;
    if (q->tail)
        q->tail->next = req;
    else
        q->head = req;
    q->tail = req;
    q->count++;
}

void gw_queue_remove(gw_queue *q, gw_req *req) {
    if (req->q != q) return;
    if (req->prev)
        req->prev->next = req->next;
    else
        q->head = req->next;
    if (req->next)
        req->next->prev = req->prev;
    else
        q->tail = req->prev;
    req->prev = req->next = NULL;
    req->q = NULL;
    q->count--;
}

void gw_req_finish_locked(gw_server *srv, gw_req *req, const gw_http_resp *resp) {
    if (req->state != GW_REQ_WAITING) return;
    if (req->q) gw_queue_remove(req->q, req);
    req->state = GW_REQ_DONE;
    req->resp = resp;
    if (req->conn) {
        req->resume_next = srv->resume;
        srv->resume = req;
    }
}

void gw_unlock_and_resume(gw_server *srv) {
    gw_req *list = srv->resume;
    srv->resume = NULL;
    pthread_mutex_unlock(&srv->mu);
    while (list) {
        gw_req *next = list->resume_next; /* read first: once answered, req may be freed */
        gw_http_answer(list->conn, list->resp);
        list = next;
    }
}

void gw_req_finish_unavail_locked(gw_server *srv, gw_req *req, gw_unavail why) {
    if (req->state != GW_REQ_WAITING) return;
    gw_metric_unavailable(why);
    log_warn("webhook answered 503", "event_id", req->event_id, "reason", gw_unavail_name(why),
             "connection_id", req->env.connection_id, NULL);
    gw_req_finish_locked(srv, req, &srv->r_unavail[why]);
}

/* Hand one request's message to librdkafka. Returns 0, or -1 when refused (a full queue
 * or an unknown topic): the caller answers 503. */
static int produce(gw_server *srv, gw_req *req) {
    char key[GW_KEY_MAX + 1];
    size_t klen = gw_envelope_key(&req->env, key, sizeof key);
    req->t_produce_ms = util_mono_ms();
    /* No RD_KAFKA_MSG_F_COPY: the payload stays owned by req, which the message's
     * reference keeps alive until the delivery report. No F_BLOCK: a full queue is an
     * immediate 503, never a wait on an HTTP thread. */
    rd_kafka_resp_err_t err =
        rd_kafka_producev(srv->rk, RD_KAFKA_V_TOPIC(srv->cfg.raw_topic), RD_KAFKA_V_KEY(key, klen),
                          RD_KAFKA_V_VALUE((void *)req->pub, req->pub_len), RD_KAFKA_V_MSGFLAGS(0),
                          RD_KAFKA_V_HEADER(HDR_SOURCE, "webhook", -1),
                          RD_KAFKA_V_HEADER(HDR_EVENT_ID, req->event_id, -1),
                          RD_KAFKA_V_HEADER(HDR_EVENT_TYPE, req->env.ev.canonical, -1),
                          RD_KAFKA_V_HEADER(HDR_RECEIVED_AT, req->received_at, -1),
                          RD_KAFKA_V_OPAQUE(req), RD_KAFKA_V_END);
    if (err) {
        log_warn("produce refused", "event_id", req->event_id, "error", rd_kafka_err2str(err),
                 NULL);
        return -1;
    }
    return 0;
}

/* Produce a detached list of n held requests, in arrival order: one burst, which
 * librdkafka's linger puts into one batch per partition. */
static void produce_all(gw_server *srv, gw_req *list, int n, gw_hold_close why) {
    if (n) gw_metric_publish_burst(why, n);
    while (list) {
        gw_req *req = list;
        list = req->held_next;
        req->held_next = NULL;
        if (produce(srv, req) != 0) {
            pthread_mutex_lock(&srv->mu);
            gw_req_finish_unavail_locked(srv, req, GW_UNAV_KAFKA_ERROR);
            gw_unlock_and_resume(srv);
            gw_req_unref(req); /* the message's: there is none */
        }
    }
}

/* Under srv->mu: take the whole hold, and how many it held. */
static gw_req *detach_held(gw_server *srv, int *n) {
    gw_req *list = srv->held_head;
    *n = srv->held;
    srv->held_head = srv->held_tail = NULL;
    srv->held = 0;
    return list;
}

/* The publish hold. At a few thousand webhooks a second, producing each one as it comes
 * makes batches of one or two messages, and every batch costs the broker a request, a
 * log entry and a fetch (the dev broker walks its whole list of batches per fetch).
 * Holding the accepted requests for up to WEBHOOK_GW_PUBLISH_HOLD_MS and producing them
 * together makes fewer, larger batches. A hold only pays while enough requests can still
 * come: a connection with a request waiting for its answer sends nothing more, so once
 * the connections that could still send are no more than the requests held, waiting for
 * all of them would not even double the burst, and the hold ends at once. A lone sender,
 * or one whose connections are all busy, is never held; a sender that waits for each
 * answer on many connections settles into bursts of about half of them instead of moving
 * in lock step. The hold also ends at GW_HOLD_BURST_MAX requests. */
void gw_publish(gw_server *srv, gw_req *req, const char *payload, size_t len) {
    atomic_fetch_add(&req->refs, 1); /* the message's reference */
    req->pub = payload;
    req->pub_len = len;
    req->held_next = NULL;
    if (srv->cfg.publish_hold_ms <= 0) {
        produce_all(srv, req, 1, GW_HOLD_OFF);
        return;
    }
    int open = gw_http_open_connections(srv->http);
    pthread_mutex_lock(&srv->mu);
    int first = !srv->held_head;
    if (first) {
        srv->held_head = req;
        srv->held_since_ms = util_mono_ms();
    } else {
        srv->held_tail->held_next = req;
    }
    srv->held_tail = req;
    /* The connections that could still send: open ones without a request waiting for its
     * answer (the held ones are among those waiting, start_waiting). */
    int could_send = open - (srv->acks.count + srv->fetches.count);
    gw_hold_close why = GW_HOLD_COUNT; /* stays held */
    if (++srv->held >= GW_HOLD_BURST_MAX)
        why = GW_HOLD_FULL;
    else if (srv->held >= could_send)
        why = GW_HOLD_FEW_SENDERS;
    else if (srv->hold_stop)
        why = GW_HOLD_STOPPED;
    else if (first)
        pthread_cond_signal(&srv->hold_cv);
    int n = 0;
    gw_req *now = why != GW_HOLD_COUNT ? detach_held(srv, &n) : NULL;
    pthread_mutex_unlock(&srv->mu);
    produce_all(srv, now, n, why);
}

static void *hold_main(void *arg) {
    gw_server *srv = arg;
    pthread_mutex_lock(&srv->mu);
    while (!srv->hold_stop) {
        if (!srv->held_head) {
            pthread_cond_wait(&srv->hold_cv, &srv->mu);
            continue;
        }
        int64_t due = srv->held_since_ms + srv->cfg.publish_hold_ms;
        if (util_mono_ms() < due) {
            struct timespec ts = {(time_t)(due / 1000), (long)(due % 1000) * 1000000L};
            int rc = pthread_cond_timedwait(&srv->hold_cv, &srv->mu, &ts);
            if (rc != 0 && rc != ETIMEDOUT) srv->held_since_ms = 0; /* cannot wait: send now */
            continue;
        }
        int n;
        gw_req *list = detach_held(srv, &n);
        pthread_mutex_unlock(&srv->mu);
        produce_all(srv, list, n, GW_HOLD_EXPIRED);
        pthread_mutex_lock(&srv->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

int gw_hold_start(gw_server *srv) {
    pthread_condattr_t ca;
    /* util_mono_ms() is CLOCK_MONOTONIC: the wait's deadline must be on the same clock. */
    if (pthread_condattr_init(&ca) != 0) return -1;
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                     pthread_cond_init(&srv->hold_cv, &ca) == 0
                 ? 0
                 : -1;
    pthread_condattr_destroy(&ca);
    if (rc != 0) return -1;
    if (pthread_create(&srv->hold_thread, NULL, hold_main, srv) != 0) {
        pthread_cond_destroy(&srv->hold_cv);
        return -1;
    }
    srv->hold_started = 1;
    return 0;
}

void gw_hold_stop(gw_server *srv) {
    if (!srv->hold_started) return;
    pthread_mutex_lock(&srv->mu);
    srv->hold_stop = 1;
    pthread_cond_signal(&srv->hold_cv);
    pthread_mutex_unlock(&srv->mu);
    pthread_join(srv->hold_thread, NULL);
    srv->hold_started = 0;
    pthread_cond_destroy(&srv->hold_cv);
    int n;
    pthread_mutex_lock(&srv->mu);
    gw_req *list = detach_held(srv, &n);
    pthread_mutex_unlock(&srv->mu);
    produce_all(srv, list, n, GW_HOLD_STOPPED);
}

gw_secrets_result gw_seal_body(gw_server *srv, gw_req *req, char *body, size_t len, char **out,
                               size_t *out_len) {
    char err[200] = "";
    int n = 0;
    gw_secrets_result r = gw_secrets_seal(&srv->cfg.ring, req->env.connection_id, body, len, out,
                                          out_len, &n, err, sizeof err);
    if (r == GW_SECRETS_SEALED) {
        explicit_bzero(body, len); /* it held the token in clear */
        gw_metric_tokens_sealed(n);
        log_info("access token sealed before publishing", "event_id", req->event_id,
                 "connection_id", req->env.connection_id, NULL);
    } else if (r != GW_SECRETS_NONE) {
        log_warn(r == GW_SECRETS_BAD ? "webhook refused: access token field" : "sealing failed",
                 "event_id", req->event_id, "connection_id", req->env.connection_id, "reason", err,
                 NULL);
    }
    return r;
}

void gw_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    gw_server *srv = opaque;
    gw_req *req = m->_private;
    if (!req) return;
    gw_metric_publish_latency(util_mono_ms() - req->t_produce_ms);
    if (!m->err && srv->dedupe) gw_dedupe_add(srv->dedupe, req->event_id, util_mono_ms());
    pthread_mutex_lock(&srv->mu);
    if (req->state == GW_REQ_WAITING) {
        if (m->err) {
            log_warn("delivery failed", "event_id", req->event_id, "error",
                     rd_kafka_err2str(m->err), NULL);
            gw_req_finish_unavail_locked(srv, req, GW_UNAV_KAFKA_ERROR);
        } else {
            gw_metric_accepted(req->env.ev.known_index);
            gw_req_finish_locked(srv, req, &srv->r_accepted);
        }
    }
    gw_unlock_and_resume(srv);
    gw_req_unref(req);
}

/* Answer 503 to every request whose deadline has passed: only queue heads need a look. */
static void expire(gw_server *srv, int64_t now) {
    pthread_mutex_lock(&srv->mu);
    while (srv->acks.head && srv->acks.head->deadline_ms <= now)
        gw_req_finish_unavail_locked(srv, srv->acks.head, GW_UNAV_ACK_TIMEOUT);
    while (srv->fetches.head && srv->fetches.head->deadline_ms <= now) {
        gw_req *r = srv->fetches.head;
        gw_req_finish_unavail_locked(srv, r,
                                     r->fetching ? GW_UNAV_FETCH_FAILED : GW_UNAV_ACK_TIMEOUT);
    }
    gw_unlock_and_resume(srv);
}

void *gw_poll_main(void *arg) {
    gw_server *srv = arg;
    while (!atomic_load(&srv->poll_stop)) {
        atomic_store(&srv->poll_tick, util_mono_ms());
        rd_kafka_poll(srv->rk, GW_POLL_MS);
        expire(srv, util_mono_ms());
    }
    return NULL;
}

void gw_truncated_job(void *job, void *arg) {
    gw_server *srv = arg;
    gw_req *req = job;
    pthread_mutex_lock(&srv->mu);
    int waiting = req->state == GW_REQ_WAITING;
    pthread_mutex_unlock(&srv->mu);
    if (!waiting) goto done; /* timed out while queued */

    /* Memory: a download and its rebuilt event may take 2 x WEBHOOK_GW_MAX_FETCH_BYTES;
     * reserved up front within fetch_held_max, then cut to what is kept until the
     * message is delivered. Downloads beyond the bound wait for Trackstar's retry. */
    size_t reserve = 2 * srv->cfg.fetch_max_bytes;
    if (atomic_fetch_add(&srv->fetch_held, reserve) + reserve > srv->fetch_held_max) {
        atomic_fetch_sub(&srv->fetch_held, reserve);
        pthread_mutex_lock(&srv->mu);
        gw_req_finish_unavail_locked(srv, req, GW_UNAV_OVERLOADED);
        gw_unlock_and_resume(srv);
        goto done;
    }
    req->full_charge = reserve;

    /* The download may use the request's budget minus what publishing needs. */
    long budget = (long)(req->deadline_ms - util_mono_ms()) - srv->cfg.ack_timeout_ms;
    if (budget > srv->cfg.fetch_timeout_ms) budget = srv->cfg.fetch_timeout_ms;
    sbuf got = {0};
    char err[256] = "";
    gw_truncated_cfg fc = {srv->cfg.base_url, srv->cfg.api_key, srv->cfg.fetch_max_bytes};
    char *rebuilt = NULL;
    size_t rebuilt_len = 0;
    int ok = budget > 0 &&
             gw_truncated_download(&fc, req->env.data_url, budget, &got, err, sizeof err) == 0;
    if (budget <= 0) snprintf(err, sizeof err, "no time left");
    if (ok && gw_envelope_full(req->body, req->len, &req->env, got.p, got.len, &rebuilt,
                               &rebuilt_len, err, sizeof err) != 0)
        ok = 0;
    gw_metric_fetch(ok);
    if (!ok) {
        log_warn("truncated event not fetched", "event_id", req->event_id, "connection_id",
                 req->env.connection_id, "reason", err, NULL);
        sbuf_free(&got);
        pthread_mutex_lock(&srv->mu);
        gw_req_finish_unavail_locked(srv, req, GW_UNAV_FETCH_FAILED);
        gw_unlock_and_resume(srv);
        goto done;
    }
    size_t kept;
    if (rebuilt) {
        req->full = rebuilt;
        req->full_len = kept = rebuilt_len;
        explicit_bzero(got.p, got.len); /* may hold a token */
        sbuf_free(&got);
    } else { /* the download is the full envelope: publish it as served */
        req->full = got.p;
        req->full_len = got.len;
        kept = got.cap;
    }
    if (kept < req->full_charge) {
        atomic_fetch_sub(&srv->fetch_held, req->full_charge - kept);
        req->full_charge = kept;
    }
    /* The full event may carry a token the truncated one did not: sealed like any. */
    char *sealed = NULL;
    size_t sealed_len = 0;
    gw_secrets_result sr = gw_seal_body(srv, req, req->full, req->full_len, &sealed, &sealed_len);
    if (sr == GW_SECRETS_SEALED) {
        free(req->full);
        req->full = sealed;
        req->full_len = sealed_len;
    }
    if (sr == GW_SECRETS_BAD || sr == GW_SECRETS_FAILED) {
        pthread_mutex_lock(&srv->mu);
        gw_req_finish_unavail_locked(
            srv, req, sr == GW_SECRETS_BAD ? GW_UNAV_FETCH_FAILED : GW_UNAV_INTERNAL);
        gw_unlock_and_resume(srv);
        goto done;
    }
    /* Key and headers come from the full event's own envelope when it has one for the
     * same connection (the record id is kept from the truncated event if it lacks one). */
    gw_envelope full_env;
    int use_full = gw_envelope_parse(req->full, req->full_len, &full_env) == GW_ENV_OK &&
                   strcmp(full_env.connection_id, req->env.connection_id) == 0;
    if (use_full) {
        if (!full_env.record_id[0])
            snprintf(full_env.record_id, sizeof full_env.record_id, "%s", req->env.record_id);
        full_env.truncated = 0;
        full_env.data_url[0] = '\0';
    }
    pthread_mutex_lock(&srv->mu); /* the poll thread reads req->env when it answers 503 */
    if (use_full) req->env = full_env;
    req->fetching = 0;
    waiting = req->state == GW_REQ_WAITING;
    pthread_mutex_unlock(&srv->mu);
    if (waiting) gw_publish(srv, req, req->full, req->full_len);
done:
    gw_req_unref(req); /* the job's reference */
}
