/* gw_internal.h - the request record and server state shared by the gateway's own
 * files (gw_server.c, gw_publish.c). Not a public interface.
 *
 * Life of a request: created on the first access-handler call (RECEIVING), it becomes
 * WAITING when it is handed to Kafka or to a fetch worker (its connection suspended),
 * and DONE once its answer is decided by the delivery report, the deadline, or a
 * failure. Every transition out of WAITING happens under srv->mu, in
 * gw_req_finish_locked(), so a request is answered exactly once.
 *
 * Suspend and resume are system calls in libmicrohttpd (epoll_ctl, an eventfd write),
 * so neither is made while srv->mu is held: the handler suspends first and then, under
 * the lock, either marks the request suspended or (answer already decided) resumes it
 * itself; gw_req_finish_locked() only queues a suspended request on srv->resume, and
 * gw_unlock_and_resume() resumes the queue after releasing the lock. A suspended
 * connection cannot complete, so its request is alive until it is resumed.
 *
 * References: the connection holds one (dropped when libmicrohttpd reports the request
 * completed); each message in librdkafka and each queued fetch job holds one. The last
 * one frees the record, so a delivery report arriving after a 503 is harmless.
 */
#ifndef GW_INTERNAL_H
#define GW_INTERNAL_H

#include "gw_dedupe.h"
#include "gw_envelope.h"
#include "gw_headers.h"
#include "gw_metrics.h"
#include "gw_reaper.h"
#include "gw_server.h"
#include "gw_workers.h"

#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
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
    struct MHD_Connection *conn; /* valid while the connection holds its reference */
    atomic_int refs;
    atomic_int state;            /* gw_req_state; changed under srv->mu once past RECEIVING */
    int suspended;               /* under srv->mu */
    int fetching;                /* waiting for a download rather than for Kafka */
    unsigned status;             /* the answer, once DONE */
    struct MHD_Response *resp;   /* borrowed from srv's prebuilt responses */

    char *body;                  /* raw body as received (owned) */
    size_t len, cap;
    size_t discarded;            /* bytes dropped after the body went over the limit */
    int too_large;

    char *full;                  /* the full event of a truncated one (owned), or NULL */
    size_t full_len;

    char event_id[GW_EVENT_ID_MAX + 1];
    char received_at[32];
    gw_envelope env;

    int64_t t_start_ms;          /* monotonic, request received */
    int64_t t_produce_ms;        /* monotonic, handed to librdkafka */
    int64_t deadline_ms;         /* monotonic, answer 503 at this point */
    struct gw_req *prev, *next;  /* in srv->acks or srv->fetches while WAITING */
    gw_queue *q;
    struct gw_req *resume_next;  /* in srv->resume, between finish and resume */
} gw_req;

struct gw_server {
    gw_config cfg;
    struct MHD_Daemon *mhd;
    int port;
    rd_kafka_t *rk;
    gw_dedupe *dedupe;           /* NULL when off */
    gw_workers *fetchers;
    gw_reaper *reaper;

    pthread_mutex_t mu;          /* request states, the two queues */
    gw_queue acks;               /* waiting for a delivery report */
    gw_queue fetches;            /* waiting for a download (then a delivery report) */
    gw_req *resume;              /* answered, to be resumed once mu is released */

    pthread_t poll_thread;
    int poll_started;
    atomic_int poll_stop;
    atomic_int draining;
    atomic_int inflight;         /* requests with a record, not yet completed */
    int closing;                 /* under mu: the drain answered everything, suspend no more */

    /* Prebuilt answers, shared by every connection (libmicrohttpd counts references). */
    struct MHD_Response *r_accepted, *r_duplicate;
    struct MHD_Response *r_reject[GW_REJ_COUNT];
    struct MHD_Response *r_unavail[GW_UNAV_COUNT];
};

/* Free when the last reference goes. */
void gw_req_unref(gw_req *req);

/* Decide req's answer: under srv->mu, only while WAITING (otherwise a no-op). Takes it
 * off its queue, marks it DONE and, when its connection is suspended, queues it on
 * srv->resume: the caller must release the lock with gw_unlock_and_resume(). */
void gw_req_finish_locked(gw_server *srv, gw_req *req, unsigned status,
                          struct MHD_Response *resp);
void gw_req_finish_unavail_locked(gw_server *srv, gw_req *req, gw_unavail why);

/* Release srv->mu, then resume every connection gw_req_finish_locked() queued. */
void gw_unlock_and_resume(gw_server *srv);

void gw_queue_push(gw_queue *q, gw_req *req);
void gw_queue_remove(gw_queue *q, gw_req *req);

/* Hand payload[0..len) (owned by req, alive until the delivery report) to librdkafka
 * with req's key and headers. Takes a reference for the message. Returns 0, or -1
 * (nothing queued; the caller answers). Never blocks. */
int gw_publish(gw_server *srv, gw_req *req, const char *payload, size_t len);

/* The delivery-report callback and the poll thread (delivery reports + deadlines). */
void gw_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void *gw_poll_main(void *arg);

/* The fetch worker's job: download, rebuild, publish (or answer 503). */
void gw_fetch_job(void *job, void *arg);

#endif
