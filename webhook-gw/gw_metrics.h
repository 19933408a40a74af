/* gw_metrics.h - the gateway's Prometheus metrics, registered once at start-up so the
 * request path only does atomic adds:
 *   webhook_requests_total                 every request on the webhook port
 *   webhook_accepted_total{event_type}     2xx, by canonical event type ("unknown" for the rest)
 *   webhook_unknown_event_type_total       accepted events of a type not in reference 7.4
 *   webhook_duplicate_total                2xx from the dedupe table, not published again
 *   webhook_tokens_sealed_total            access tokens sealed before publishing
 *   webhook_rejected_total{reason}         4xx, by reason (bad_signature, stale_timestamp, ...)
 *   webhook_unavailable_total{reason}      503, by reason (ack_timeout, kafka_error, ...)
 *   webhook_fetch_total{result}            oversized-event downloads, ok or failed
 *   webhook_connections_cut_total{reason}  connections cut or refused (stalled, memory, slots)
 *   webhook_inflight_requests              gauge: requests received and not yet answered
 *   webhook_publish_latency_seconds        histogram, produce call to delivery report
 *   webhook_publish_bursts_total{closed_by}          produce bursts of the publish hold,
 *   webhook_publish_burst_messages_total{closed_by}  and the messages in them, by what
 *                                          closed the hold (gw_hold_close)
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include "gw_http.h"

#include <stdint.h>

/* Why a request got a 4xx. */
typedef enum gw_reject {
    GW_REJ_NOT_FOUND = 0,
    GW_REJ_METHOD,
    GW_REJ_CONTENT_TYPE,
    GW_REJ_TOO_LARGE,
    GW_REJ_MISSING_SIGNATURE,
    GW_REJ_BAD_TIMESTAMP,
    GW_REJ_STALE_TIMESTAMP,
    GW_REJ_BAD_SIGNATURE,
    GW_REJ_BAD_EVENT_ID,
    GW_REJ_MALFORMED_JSON,
    GW_REJ_MISSING_FIELD,
    GW_REJ_BAD_FIELD,
    GW_REJ_BAD_HTTP, /* refused by the HTTP layer: framing, head size, version */
    GW_REJ_COUNT
} gw_reject;

/* Why a request got a 503 (Trackstar retries it). */
typedef enum gw_unavail {
    GW_UNAV_ACK_TIMEOUT = 0, /* no delivery report within WEBHOOK_GW_ACK_TIMEOUT_MS */
    GW_UNAV_KAFKA_ERROR,     /* delivery report with an error, or produce refused */
    GW_UNAV_OVERLOADED,      /* WEBHOOK_GW_MAX_INFLIGHT or the fetch queue is full */
    GW_UNAV_FETCH_FAILED,    /* the full version of a truncated event could not be fetched */
    GW_UNAV_SHUTTING_DOWN,   /* SIGTERM received */
    GW_UNAV_INTERNAL,        /* out of memory and the like */
    GW_UNAV_CRYPTO,          /* OpenSSL failed: the signature could not be checked */
    GW_UNAV_COUNT
} gw_unavail;

/* What sent a burst of held requests to librdkafka (gw_publish.c). */
typedef enum gw_hold_close {
    GW_HOLD_OFF = 0,     /* WEBHOOK_GW_PUBLISH_HOLD_MS=0: each request at once */
    GW_HOLD_FEW_SENDERS, /* no more connections could still send than are held */
    GW_HOLD_EXPIRED,     /* the oldest held request waited the whole hold */
    GW_HOLD_FULL,        /* the burst reached its size */
    GW_HOLD_STOPPED,     /* the server is stopping */
    GW_HOLD_COUNT
} gw_hold_close;

const char *gw_reject_name(gw_reject r);
const char *gw_unavail_name(gw_unavail u);

/* Register everything. Call once before the server starts. */
void gw_metrics_init(void);

void gw_metric_request(void);
/* known_index: a known event type (gw_event_type_name), or -1 for an unknown type. */
void gw_metric_accepted(int known_index);
void gw_metric_duplicate(void);
void gw_metric_rejected(gw_reject r);
void gw_metric_unavailable(gw_unavail u);
void gw_metric_fetch(int ok);
void gw_metric_cut(gw_http_cut why);
void gw_metric_inflight(int64_t delta);
void gw_metric_publish_latency(int64_t ms);
void gw_metric_tokens_sealed(int n);
void gw_metric_publish_burst(gw_hold_close why, int messages);

/* Read back, for tests and logs. */
int64_t gw_metric_rejected_get(gw_reject r);
int64_t gw_metric_unavailable_get(gw_unavail u);

#endif
