/* gw_internal.h - the request record and server state shared by the gateway's own
 * files (gw_server.c, gw_publish.c). Not a public interface.
 *
 * Life of a request: created when its head arrives (RECEIVING), it becomes WAITING when
 * it is handed to Kafka or to a fetch worker, and DONE once its answer is decided by the
 * delivery report, the deadline, or a failure. Every transition out of WAITING happens
 * under srv->mu, in gw_req_finish_locked(), so a request is answered exactly once.
 *
 * gw_req_finish_locked() only queues the request on srv->resume; gw_unlock_and_resume()
 * hands the answers to the HTTP threads (gw_http_answer, which may write an eventfd)
 * after releasing the lock. A waiting connection is never closed by the HTTP server, so
 * req->conn is valid until the answer is handed over.
 *
 * References: the connection holds one (dropped when the HTTP server reports the request
 * over); each message in librdkafka and each queued fetch job holds one. The last one
 * frees the record, so a delivery report arriving after a 503 is harmless.
 */
#ifndef GW_INTERNAL_H
#define GW_INTERNAL_H

#include "gw_dedupe.h"
#include "gw_envelope.h"
#include "gw_headers.h"
#include "gw_metrics.h"
#include "gw_secrets.h"
#include "gw_http.h"
#include "gw_server.h"
#include "gw_workers.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

typedef enum gw_req_state { GW_REQ_RECEIVING = 0, GW_REQ_WAITING, GW_REQ_DONE } gw_req_state;

/* A FIFO of WAITING requests. All of them got the same time budget, so the head always
 * has the earliest deadline and the poll thread only looks at heads. */
typedef struct gw_queue {
    struct gw_req *head, *tail;
    int count;
} gw_queue;

typedef struct gw_req {
    struct gw_server *srv;
    gw_http_conn *conn; /* valid while the connection holds its reference */
    atomic_int refs;
    atomic_int state;         /* gw_req_state; changed under srv->mu once past RECEIVING */
    int fetching;             /* waiting for a download rather than for Kafka */
    const gw_http_resp *resp; /* the answer, once DONE (one of srv's prebuilt ones) */

    gw_http_body mem; /* the body as received, charged to the HTTP server's budget (owned) */
    const char *body; /* mem's bytes (NULL when empty) */
    size_t len;

    char *full; /* the full event of a truncated one (owned), or NULL */
    size_t full_len;
    size_t full_charge; /* bytes of srv->fetch_held this request holds */

    char event_id[GW_EVENT_ID_MAX + 1];
    char received_at[32];
    gw_envelope env;

    int64_t t_start_ms;         /* monotonic, request received */
    int64_t t_produce_ms;       /* monotonic, handed to librdkafka */
    int64_t deadline_ms;        /* monotonic, answer 503 at this point */
    struct gw_req *prev, *next; /* in srv->acks or srv->fetches while WAITING */
    gw_queue *q;
    const char *pub; /* what gw_publish hands to librdkafka: body, full or sealed bytes */
    size_t pub_len;
    struct gw_req *held_next;   /* in srv's hold, between gw_publish and its produce call */
    struct gw_req *resume_next; /* in srv->resume, between finish and resume */
} gw_req;

struct gw_server {
    gw_config cfg;
    gw_http *http;
    int port;
    rd_kafka_t *rk;
    rd_kafka_topic_t **raw_topic; /* kafka_topics_warm: held for the server's life */
    gw_dedupe *dedupe;            /* NULL when off */
    gw_workers *fetchers;

    pthread_mutex_t mu; /* request states, the two queues */
    gw_queue acks;      /* waiting for a delivery report */
    gw_queue fetches;   /* waiting for a download (then a delivery report) */
    gw_req *resume;     /* answered, to be resumed once mu is released */

    /* The publish hold (gw_publish.c), under mu: requests gw_publish took, in arrival
     * order, not yet handed to librdkafka. */
    gw_req *held_head, *held_tail;
    int held;
    int64_t held_since_ms;  /* when the oldest of them arrived */
    pthread_cond_t hold_cv; /* wakes the hold thread: a first request held, or stop */
    pthread_t hold_thread;
    int hold_started;
    int hold_stop;

    pthread_t poll_thread;
    int poll_started;
    atomic_int poll_stop;
    atomic_int draining;
    atomic_int inflight;       /* requests with a record, not yet completed */
    int closing;               /* under mu: the drain answered everything, wait no more */
    _Atomic size_t fetch_held; /* bytes of downloaded events alive (downloads reserve) */
    size_t fetch_held_max;     /* 2 x fetch workers x WEBHOOK_GW_MAX_FETCH_BYTES */
    _Atomic int64_t poll_tick; /* the poll thread's last turn (heartbeat) */

    /* Prebuilt answers, shared by every connection, and the text they point to. */
    gw_http_resp r_accepted, r_duplicate, r_busy;
    gw_http_resp r_reject[GW_REJ_COUNT];
    gw_http_resp r_unavail[GW_UNAV_COUNT];
    char reject_body[GW_REJ_COUNT][64];
    char unavail_body[GW_UNAV_COUNT][64];
    char retry_after[32]; /* "Retry-After: N\r\n" */
};

/* Free when the last reference goes. */
void gw_req_unref(gw_req *req);

/* Decide req's answer: under srv->mu, only while WAITING (otherwise a no-op). Takes it
 * off its queue, marks it DONE and queues it on srv->resume: the caller must release
 * the lock with gw_unlock_and_resume(). */
void gw_req_finish_locked(gw_server *srv, gw_req *req, const gw_http_resp *resp);
void gw_req_finish_unavail_locked(gw_server *srv, gw_req *req, gw_unavail why);

/* Release srv->mu, then hand every answer gw_req_finish_locked() queued to the HTTP
 * threads. */
void gw_unlock_and_resume(gw_server *srv);

void gw_queue_push(gw_queue *q, gw_req *req);
void gw_queue_remove(gw_queue *q, gw_req *req);

/* Publish payload[0..len) (owned by req, alive until the delivery report) with req's
 * key and headers: now, or with the publish hold's next burst (gw_publish.c). Takes a
 * reference for the message. A produce call librdkafka refuses answers the request 503
 * (kafka_error). Never blocks. */
void gw_publish(gw_server *srv, gw_req *req, const char *payload, size_t len);

/* The hold thread: sends what the hold gathered once its oldest request has waited
 * WEBHOOK_GW_PUBLISH_HOLD_MS. gw_hold_stop() ends it and sends what is left. */
int gw_hold_start(gw_server *srv);
void gw_hold_stop(gw_server *srv);

/* The delivery-report callback and the poll thread (delivery reports + deadlines). */
void gw_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void *gw_poll_main(void *arg);

/* Seal the access tokens of body[0..len) (gw_secrets.h). On GW_SECRETS_SEALED body is
 * wiped (it held a token in clear; the caller still frees it) and *out / *out_len hold
 * the sealed one (malloc'd: the caller owns it). */
gw_secrets_result gw_seal_body(gw_server *srv, gw_req *req, char *body, size_t len, char **out,
                               size_t *out_len);

/* The fetch worker's job: download, rebuild, publish (or answer 503). */
void gw_truncated_job(void *job, void *arg);

#endif
