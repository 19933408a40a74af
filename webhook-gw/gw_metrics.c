/* gw_metrics.c - registration and update of the gateway's metrics (see gw_metrics.h).
 * Handles are looked up once; metrics.h updates are lock-free atomics. */
#include "gw_metrics.h"

#include "gw_envelope.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const reject_names[GW_REJ_COUNT] = {
    [GW_REJ_NOT_FOUND] = "not_found",
    [GW_REJ_METHOD] = "method_not_allowed",
    [GW_REJ_CONTENT_TYPE] = "unsupported_media_type",
    [GW_REJ_TOO_LARGE] = "body_too_large",
    [GW_REJ_MISSING_SIGNATURE] = "missing_signature",
    [GW_REJ_BAD_TIMESTAMP] = "bad_timestamp",
    [GW_REJ_STALE_TIMESTAMP] = "stale_timestamp",
    [GW_REJ_BAD_SIGNATURE] = "bad_signature",
    [GW_REJ_BAD_EVENT_ID] = "bad_event_id",
    [GW_REJ_MALFORMED_JSON] = "malformed_json",
    [GW_REJ_MISSING_FIELD] = "missing_field",
    [GW_REJ_BAD_FIELD] = "bad_field",
    [GW_REJ_BAD_HTTP] = "bad_http",
};

static const char *const unavail_names[GW_UNAV_COUNT] = {
    [GW_UNAV_ACK_TIMEOUT] = "ack_timeout",     [GW_UNAV_KAFKA_ERROR] = "kafka_error",
    [GW_UNAV_OVERLOADED] = "overloaded",       [GW_UNAV_FETCH_FAILED] = "fetch_failed",
    [GW_UNAV_SHUTTING_DOWN] = "shutting_down", [GW_UNAV_INTERNAL] = "internal",
    [GW_UNAV_CRYPTO] = "crypto_error",
};

static const char *const hold_close_names[GW_HOLD_COUNT] = {
    [GW_HOLD_OFF] = "no_hold",          [GW_HOLD_FEW_SENDERS] = "few_senders",
    [GW_HOLD_EXPIRED] = "hold_expired", [GW_HOLD_FULL] = "burst_full",
    [GW_HOLD_STOPPED] = "stopping",
};

/* Upper bounds (seconds) of the latency buckets; the goal is p99 < 20 ms. */
static const double latency_le[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
                                    0.25,  0.5,   1,     2.5,  5,    10};

static metric *m_requests, *m_unknown, *m_duplicate, *m_inflight;
static metric *m_accepted_unknown;
static metric **m_accepted; /* one per known event type (gw_event_type_name) */
static int m_naccepted;
static metric *m_rejected[GW_REJ_COUNT], *m_unavail[GW_UNAV_COUNT];
static metric *m_fetch_ok, *m_fetch_failed, *m_tokens_sealed;
static metric *m_cut[GW_CUT_COUNT];
static metric *m_latency;
static metric *m_bursts[GW_HOLD_COUNT], *m_burst_messages[GW_HOLD_COUNT];

const char *gw_reject_name(gw_reject r) {
    return (unsigned)r < GW_REJ_COUNT ? reject_names[r] : "unknown";
}

const char *gw_unavail_name(gw_unavail u) {
    return (unsigned)u < GW_UNAV_COUNT ? unavail_names[u] : "unknown";
}

void gw_metrics_init(void) {
    if (m_requests) return;
    m_requests =
        metric_counter("webhook_requests_total", "requests on the webhook port", NULL, NULL);
    static const char accepted_help[] =
        "events acknowledged by Kafka and answered 2xx, by canonical event type";
    m_naccepted = gw_event_type_count();
    m_accepted = calloc((size_t)m_naccepted, sizeof *m_accepted);
    char type[GW_EVENT_TYPE_MAX + 1];
    for (int i = 0; m_accepted && i < m_naccepted; i++)
        if (gw_event_type_name(i, type, sizeof type) == 0)
            m_accepted[i] =
                metric_counter("webhook_accepted_total", accepted_help, "event_type", type);
    m_accepted_unknown =
        metric_counter("webhook_accepted_total", accepted_help, "event_type", "unknown");
    m_unknown = metric_counter(
        "webhook_unknown_event_type_total",
        "accepted events whose type is not in the known table (kept on the raw topic)", NULL, NULL);
    m_duplicate = metric_counter(
        "webhook_duplicate_total",
        "repeated svix-ids answered 2xx from the dedupe table without publishing", NULL, NULL);
    for (int i = 0; i < GW_REJ_COUNT; i++)
        m_rejected[i] = metric_counter("webhook_rejected_total", "requests answered 4xx, by reason",
                                       "reason", reject_names[i]);
    for (int i = 0; i < GW_UNAV_COUNT; i++)
        m_unavail[i] = metric_counter("webhook_unavailable_total",
                                      "requests answered 503 (Trackstar retries), by reason",
                                      "reason", unavail_names[i]);
    m_fetch_ok =
        metric_counter("webhook_fetch_total", "downloads of truncated events", "result", "ok");
    m_fetch_failed =
        metric_counter("webhook_fetch_total", "downloads of truncated events", "result", "failed");
    for (int i = 0; i < GW_CUT_COUNT; i++)
        m_cut[i] =
            metric_counter("webhook_connections_cut_total",
                           "connections cut or refused without a handler's answer, by reason",
                           "reason", gw_http_cut_name((gw_http_cut)i));
    m_tokens_sealed = metric_counter(
        "webhook_tokens_sealed_total",
        "access tokens sealed in a body before it was published (never in clear on Kafka)", NULL,
        NULL);
    m_inflight = metric_gauge("webhook_inflight_requests", "requests received and not yet answered",
                              NULL, NULL);
    m_latency = metric_histogram("webhook_publish_latency_seconds",
                                 "publish latency, produce call to Kafka's delivery report",
                                 latency_le, (int)(sizeof latency_le / sizeof latency_le[0]));
    for (int i = 0; i < GW_HOLD_COUNT; i++) {
        m_bursts[i] = metric_counter("webhook_publish_bursts_total",
                                     "bursts of requests handed to Kafka together, by what ended "
                                     "their hold (WEBHOOK_GW_PUBLISH_HOLD_MS)",
                                     "closed_by", hold_close_names[i]);
        m_burst_messages[i] = metric_counter("webhook_publish_burst_messages_total",
                                             "messages in those bursts, by what ended their hold",
                                             "closed_by", hold_close_names[i]);
    }
}

void gw_metric_request(void) {
    metric_inc(m_requests);
}

void gw_metric_accepted(int known_index) {
    if (known_index >= 0 && known_index < m_naccepted && m_accepted && m_accepted[known_index]) {
        metric_inc(m_accepted[known_index]);
    } else {
        metric_inc(m_accepted_unknown);
        metric_inc(m_unknown);
    }
}

void gw_metric_duplicate(void) {
    metric_inc(m_duplicate);
}

void gw_metric_rejected(gw_reject r) {
    if ((unsigned)r < GW_REJ_COUNT) metric_inc(m_rejected[r]);
}

void gw_metric_unavailable(gw_unavail u) {
    if ((unsigned)u < GW_UNAV_COUNT) metric_inc(m_unavail[u]);
}

void gw_metric_cut(gw_http_cut why) {
    if ((unsigned)why < GW_CUT_COUNT) metric_inc(m_cut[why]);
}

void gw_metric_fetch(int ok) {
    metric_inc(ok ? m_fetch_ok : m_fetch_failed);
}

void gw_metric_tokens_sealed(int n) {
    metric_add(m_tokens_sealed, n);
}

void gw_metric_publish_burst(gw_hold_close why, int messages) {
    if ((unsigned)why >= GW_HOLD_COUNT) return;
    metric_inc(m_bursts[why]);
    metric_add(m_burst_messages[why], messages);
}

void gw_metric_inflight(int64_t delta) {
    metric_add(m_inflight, delta);
}

void gw_metric_publish_latency(int64_t ms) {
    metric_observe(m_latency, ms < 0 ? 0 : (double)ms / 1000.0);
}

int64_t gw_metric_rejected_get(gw_reject r) {
    return (unsigned)r < GW_REJ_COUNT && m_rejected[r] ? metric_get(m_rejected[r]) : 0;
}

int64_t gw_metric_unavailable_get(gw_unavail u) {
    return (unsigned)u < GW_UNAV_COUNT && m_unavail[u] ? metric_get(m_unavail[u]) : 0;
}
