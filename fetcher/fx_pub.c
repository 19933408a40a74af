/* fx_pub.c - raw-topic messages of the fetcher (see fx_pub.h). */
#include "fx_pub.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "topics.h"
#include "values.h"

#define FX_KEY_MAX 512

void fx_pub_event_id(char *buf, size_t len, const char *conn, const char *resource, const char *id,
                     const char *updated, const char *ts_updated) {
    int n = snprintf(buf, len, "poll:%s:%s:%s:%s", conn, resource, id, updated ? updated : "");
    if (ts_updated && *ts_updated && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ":%s", ts_updated);
}

static int produce(rd_kafka_t *p, const char *topic, const char *key, const void *val, size_t len,
                   rd_kafka_headers_t *h, void *opaque, char *errstr, size_t errlen) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(h); /* owned by the producer only on success */
        snprintf(errstr, errlen, "produce: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static void hdr(rd_kafka_headers_t *h, const char *k, const char *v) {
    rd_kafka_header_add(h, k, -1, v ? v : "", -1);
}

int fx_pub_record_send(rd_kafka_t *producer, const char *topic, const fx_pub_record *r,
                       void *msg_opaque, char *errstr, size_t errlen) {
    char key[FX_KEY_MAX], evid[FX_EVENT_ID_MAX], type[64];
    snprintf(key, sizeof key, "%s|%s|%s", r->connection_id, r->resource, r->id);
    fx_pub_event_id(evid, sizeof evid, r->connection_id, r->resource, r->id, r->updated_date,
                    r->trackstar_updated_date);
    snprintf(type, sizeof type, "%s%s", r->resource, EVENT_POLLED_SUFFIX);
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    hdr(h, HDR_SOURCE, "poll");
    hdr(h, HDR_EVENT_ID, evid);
    hdr(h, HDR_EVENT_TYPE, type);
    hdr(h, HDR_RECEIVED_AT, r->received_at);
    hdr(h, HDR_CONNECTION_ID, r->connection_id);
    hdr(h, HDR_RESOURCE, r->resource);
    hdr(h, HDR_INTEGRATION, r->integration);
    return produce(producer, topic, key, r->value, r->len, h, msg_opaque, errstr, errlen);
}

static int str_field(sbuf *b, const char *k, const char *v, int first);

int fx_pub_gone_send(rd_kafka_t *producer, const char *topic, const fx_pub_gone *g,
                     void *msg_opaque, char *errstr, size_t errlen) {
    char key[FX_KEY_MAX], evid[FX_EVENT_ID_MAX], type[64], at[VAL_TIME_LEN], now[VAL_TIME_LEN];
    sbuf body = {0};
    if (val_time_format(g->listed_ms, 1, at) != 0 || val_time_format(util_now_ms(), 1, now) != 0) {
        snprintf(errstr, errlen, "time out of range");
        return -1;
    }
    if (sbuf_append(&body, "{", 1) || str_field(&body, "id", g->id, 1) ||
        str_field(&body, "source_updated_at", g->source_updated_at, 0) ||
        str_field(&body, "trackstar_updated_at", g->trackstar_updated_at, 0) ||
        str_field(&body, "deleted_at", at, 0) || sbuf_append(&body, "}", 1)) {
        sbuf_free(&body);
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    snprintf(key, sizeof key, "%s|%s|%s", g->connection_id, g->resource, g->id);
    snprintf(evid, sizeof evid, "gone:%s:%s:%s:%s", g->connection_id, g->resource, g->id, at);
    snprintf(type, sizeof type, "%s%s", g->resource, EVENT_GONE_SUFFIX);
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    hdr(h, HDR_SOURCE, "poll");
    hdr(h, HDR_EVENT_ID, evid);
    hdr(h, HDR_EVENT_TYPE, type);
    hdr(h, HDR_RECEIVED_AT, now);
    hdr(h, HDR_CONNECTION_ID, g->connection_id);
    hdr(h, HDR_RESOURCE, g->resource);
    hdr(h, HDR_INTEGRATION, g->integration);
    int rc = produce(producer, topic, key, body.p, body.len, h, msg_opaque, errstr, errlen);
    sbuf_free(&body);
    return rc;
}

static int date_field(sbuf *b, const char *k, int64_t ms) {
    if (sbuf_printf(b, ",\"%s\":", k)) return -1;
    if (ms <= 0) return sbuf_append(b, "null", 4);
    char d[32];
    val_time_format(ms, 1, d);
    return sbuf_printf(b, "\"%s\"", d);
}

static int str_field(sbuf *b, const char *k, const char *v, int first) {
    if (sbuf_printf(b, "%s\"%s\":", first ? "" : ",", k)) return -1;
    if (!v || !*v) return sbuf_append(b, "null", 4);
    return sbuf_json_str(b, v, strlen(v));
}

int fx_status_json(sbuf *b, const fx_status *s) {
    if (sbuf_append(b, "{", 1) || str_field(b, "connection_id", s->connection_id, 1) ||
        str_field(b, "integration_name", s->integration, 0) ||
        str_field(b, "resource", s->resource, 0) || str_field(b, "state", s->state, 0) ||
        date_field(b, "last_started_at", s->last_started_ms) ||
        date_field(b, "last_success_at", s->last_success_ms) ||
        sbuf_printf(b, ",\"records_seen\":%" PRId64, s->records_seen) ||
        str_field(b, "last_error", s->last_error, 0) ||
        date_field(b, "updated_at", s->updated_ms) || sbuf_append(b, "}", 1))
        return -1;
    return 0;
}

int fx_pub_status_send(rd_kafka_t *producer, const char *topic, const fx_status *s,
                       void *msg_opaque, char *errstr, size_t errlen) {
    sbuf body = {0};
    char key[FX_KEY_MAX], evid[FX_EVENT_ID_MAX], at[32];
    if (fx_status_json(&body, s)) {
        sbuf_free(&body);
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    snprintf(key, sizeof key, "%s|sync_status|%s", s->connection_id, s->resource);
    val_time_format(s->updated_ms, 1, at);
    snprintf(evid, sizeof evid, "poll:%s:sync_status:%s:%s:%s", s->connection_id, s->resource,
             s->state, at);
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    hdr(h, HDR_SOURCE, "poll");
    hdr(h, HDR_EVENT_ID, evid);
    hdr(h, HDR_EVENT_TYPE, "pipeline.sync-status");
    hdr(h, HDR_RECEIVED_AT, at);
    hdr(h, HDR_CONNECTION_ID, s->connection_id);
    hdr(h, HDR_RESOURCE, s->resource);
    hdr(h, HDR_INTEGRATION, s->integration);
    int rc = produce(producer, topic, key, body.p, body.len, h, msg_opaque, errstr, errlen);
    sbuf_free(&body);
    return rc;
}
