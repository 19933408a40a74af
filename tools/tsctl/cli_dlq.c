/* cli_dlq.c - reading and replaying the dead-letter topic (see cli_dlq.h). The reader
 * assigns partitions itself instead of subscribing, so that looking never moves a
 * consumer group's offsets and two operators can look at once. */
#include "cli_dlq.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_out.h"
#include "kafka.h"
#include "topics.h"
#include "kafka_props.h"
#include "util.h"
#include "values.h"

#define POLL_MS 200

static void dlq_topic_name(const cli_ctx *ctx, char *buf, size_t len) {
    topic_name(ctx->topic_prefix, TOPIC_DLQ, buf, len);
}

static rd_kafka_t *reader_new(const cli_ctx *ctx, char *errstr, size_t errlen) {
    char group[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* group.id is required by the consumer API; with assign() and no commits the
     * group is never joined, and the pid keeps concurrent runs apart anyway. */
    snprintf(group, sizeof group, "tsctl-dlq-reader-%d", (int)getpid());
    const char *const kv[] = {"bootstrap.servers",
                              ctx->kafka_bootstrap,
                              "group.id",
                              group,
                              "client.id",
                              "tsctl",
                              "enable.auto.commit",
                              "false",
                              "enable.auto.offset.store",
                              "false",
                              "enable.partition.eof",
                              "true",
                              "auto.offset.reset",
                              "earliest",
                              "log_level",
                              "3",
                              NULL};
    for (int i = 0; kv[i]; i += 2) {
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, errlen) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (kafka_props_apply(conf, ctx->kafka_props, '\n', "KAFKA_CONFIG_FILE", errstr, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen);
    if (!rk) rd_kafka_conf_destroy(conf); /* on failure conf stays ours */
    return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic, char *errstr, size_t errlen) {
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const rd_kafka_metadata_t *md = NULL;
    int n = -1;
    if (!t) {
        snprintf(errstr, errlen, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "metadata of %s: %s", topic, rd_kafka_err2str(err));
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "topic %s: %s", topic,
                 md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
    } else {
        n = md->topics[0].partition_cnt;
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

void cli_dlq_describe(const rd_kafka_message_t *m, cli_dlq_rec *r) {
    char buf[32];
    memset(r, 0, sizeof *r);
    r->partition = m->partition;
    r->offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    r->timestamp_ms = rd_kafka_message_timestamp(m, &tt);
    kafka_header_str(m, HDR_DLQ_STAGE, r->stage, sizeof r->stage);
    kafka_header_str(m, HDR_DLQ_TOPIC, r->topic, sizeof r->topic);
    kafka_header_str(m, HDR_DLQ_REASON, r->reason, sizeof r->reason);
    char *end;
    kafka_header_str(m, HDR_DLQ_PARTITION, buf, sizeof buf);
    long p = strtol(buf, &end, 10);
    r->orig_partition = *buf && !*end && p >= 0 ? (int32_t)p : -1;
    kafka_header_str(m, HDR_DLQ_OFFSET, buf, sizeof buf);
    long long o = strtoll(buf, &end, 10);
    r->orig_offset = *buf && !*end && o >= 0 ? (int64_t)o : -1;
    r->msg = m;
}

int cli_dlq_scan(const cli_ctx *ctx, int32_t only, int64_t from, cli_dlq_fn fn, void *arg,
                 char *errstr, size_t errlen) {
    char topic[256];
    rd_kafka_topic_partition_list_t *parts = NULL;
    int rc = -1, np, done = 0, stop = 0;
    unsigned char *eof = NULL;
    if (!ctx->kafka_bootstrap || !*ctx->kafka_bootstrap) {
        snprintf(errstr, errlen, "KAFKA_BOOTSTRAP is not set");
        return -1;
    }
    dlq_topic_name(ctx, topic, sizeof topic);
    rd_kafka_t *rk = reader_new(ctx, errstr, errlen);
    if (!rk) return -1;
    if ((np = partition_count(rk, topic, errstr, errlen)) < 0) goto fail;
    if (np > CLI_DLQ_MAX_PARTITIONS) {
        snprintf(errstr, errlen, "topic %s has more than %d partitions", topic,
                 CLI_DLQ_MAX_PARTITIONS);
        goto fail;
    }
    if (only >= np) {
        snprintf(errstr, errlen, "topic %s has no partition %d", topic, (int)only);
        goto fail;
    }
    eof = calloc((size_t)np, 1);
    parts = rd_kafka_topic_partition_list_new(np);
    if (!eof || !parts) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }
    int want = 0;
    for (int p = 0; p < np; p++) {
        if (only >= 0 && p != only) continue;
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errlen, "offsets of %s [%d]: %s", topic, p, rd_kafka_err2str(err));
            goto fail;
        }
        int64_t start = from >= 0 ? from : lo;
        if (start >= hi) continue; /* nothing to read there */
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = start < lo ? lo : start;
        want++;
    }
    if (want == 0) {
        rc = 0;
        goto fail;
    }
    rd_kafka_resp_err_t aerr = rd_kafka_assign(rk, parts);
    if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "assign %s: %s", topic, rd_kafka_err2str(aerr));
        goto fail;
    }
    int64_t deadline = util_mono_ms() + CLI_DLQ_SCAN_TIMEOUT_MS;
    while (done < want && !stop && !util_stop) {
        if (util_mono_ms() > deadline) {
            snprintf(errstr, errlen, "reading %s: not at its end after %d ms", topic,
                     CLI_DLQ_SCAN_TIMEOUT_MS);
            goto fail;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, POLL_MS);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < np && !eof[m->partition]) {
                eof[m->partition] = 1;
                done++;
            }
        } else if (m->err) {
            snprintf(errstr, errlen, "reading %s: %s", topic, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            goto fail;
        } else {
            cli_dlq_rec r;
            cli_dlq_describe(m, &r);
            stop = fn(&r, arg) != 0;
        }
        rd_kafka_message_destroy(m);
    }
    rc = 0;
fail:
    if (parts) rd_kafka_topic_partition_list_destroy(parts);
    free(eof);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static cJSON *bytes_json(const void *p, size_t len, int parse) {
    if (!p) return cJSON_CreateNull();
    if (parse) {
        cJSON *j = cJSON_ParseWithLength(p, len);
        if (j) return j;
    }
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, p, len);
    s[len] = '\0';
    /* cJSON strings end at a NUL; binary values are shown up to it. */
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

cJSON *cli_dlq_json(const cli_dlq_rec *r, int with_value) {
    const rd_kafka_message_t *m = r->msg;
    cJSON *o = cJSON_CreateObject(), *h = cJSON_CreateObject();
    if (!o || !h) {
        cJSON_Delete(o);
        cJSON_Delete(h);
        return NULL;
    }
    char ts[32];
    cJSON_AddNumberToObject(o, "partition", r->partition);
    cJSON_AddNumberToObject(o, "offset", (double)r->offset);
    if (r->timestamp_ms >= 0) {
        val_time_format(r->timestamp_ms, 1, ts);
        cJSON_AddStringToObject(o, "timestamp", ts);
    } else {
        cJSON_AddNullToObject(o, "timestamp");
    }
    cJSON_AddStringToObject(o, "stage", r->stage);
    cJSON_AddStringToObject(o, "reason", r->reason);
    cJSON_AddStringToObject(o, "topic", r->topic);
    if (r->orig_partition >= 0)
        cJSON_AddNumberToObject(o, "original_partition", r->orig_partition);
    else
        cJSON_AddNullToObject(o, "original_partition");
    if (r->orig_offset >= 0)
        cJSON_AddNumberToObject(o, "original_offset", (double)r->orig_offset);
    else
        cJSON_AddNullToObject(o, "original_offset");
    cJSON_AddItemToObject(o, "key", bytes_json(m->key, m->key_len, 0));
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t vlen;
        for (size_t i = 0;
             rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR;
             i++) {
            size_t n = vlen > CLI_DLQ_HEADER_MAX ? CLI_DLQ_HEADER_MAX : vlen;
            cJSON_AddItemToObject(h, name, bytes_json(val, n, 0));
        }
    }
    cJSON_AddItemToObject(o, "headers", h);
    cJSON_AddNumberToObject(o, "value_bytes", (double)m->len);
    if (with_value) {
        cJSON *v = bytes_json(m->payload, m->len, 1);
        /* A dead letter is a raw or canonical record as it was: it may hold a token (a raw
         * record from before webhook-gw sealed them). Secrets are redacted wherever they
         * are; a value that is not JSON and mentions one is not shown at all. */
        if (cJSON_IsString(v) && strcasestr(v->valuestring, "access_token")) {
            cJSON_Delete(v);
            v = cJSON_CreateString(CLI_REDACTED " (not JSON, mentions an access token)");
        }
        cJSON_AddItemToObject(o, "value", v);
    }
    cli_redact(o);
    return o;
}

int cli_dlq_replay(const cli_ctx *ctx, const rd_kafka_message_t *m, char *errstr, size_t errlen) {
    char target[256], full[300];
    rd_kafka_headers_t *in = NULL, *out = NULL;
    kafka_delivery d = {0};
    int rc = -1;
    kafka_header_str(m, HDR_DLQ_TOPIC, target, sizeof target);
    if (!*target) {
        snprintf(errstr, errlen, "record %d:%" PRId64 " has no %s header: nowhere to replay it",
                 (int)m->partition, m->offset, HDR_DLQ_TOPIC);
        return -1;
    }
    char stub[8], part[16];
    if (strcmp(kafka_header_str(m, HDR_DLQ_STUB, stub, sizeof stub), "true") == 0) {
        /* A stand-in for a record too large for Kafka: it has no value to send back. */
        snprintf(errstr, errlen,
                 "record %d:%" PRId64 " is a stub (the original was too large for Kafka): the "
                 "original is %s at %s:%s",
                 (int)m->partition, m->offset, target,
                 kafka_header_str(m, HDR_DLQ_PARTITION, part, sizeof part),
                 kafka_header_str(m, HDR_DLQ_OFFSET, full, sizeof full));
        return -1;
    }
    /* dlq_topic holds the full name the stage consumed from: prefix already in it. */
    snprintf(full, sizeof full, "%s", target);
    rd_kafka_t *p = kafka_producer_new(ctx->kafka_bootstrap, "tsctl", NULL, ctx->kafka_props,
                                       kafka_delivery_cb, NULL, errstr, errlen);
    if (!p) return -1;
    out = rd_kafka_headers_new(8);
    if (rd_kafka_message_headers(m, &in) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t vlen;
        for (size_t i = 0;
             rd_kafka_header_get_all(in, i, &name, &val, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
            if (strncmp(name, "dlq_", 4) != 0)
                rd_kafka_header_add(out, name, -1, val, (ssize_t)vlen);
    }
    /* RD_KAFKA_PARTITION_UA: the pipeline's partitioner (kafka.c) places the record by
     * its key exactly as the original producer did, so it lands where newer records of
     * the same key go and per-key order holds. */
    rd_kafka_resp_err_t err =
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC(full), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
                          RD_KAFKA_V_HEADERS(out), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "produce to %s: %s", full, rd_kafka_err2str(err));
        goto fail;
    }
    out = NULL; /* the producer owns the headers now */
    int64_t deadline = util_mono_ms() + CLI_DLQ_FLUSH_MS;
    while (d.state == KAFKA_PENDING && util_mono_ms() < deadline)
        rd_kafka_flush(p, POLL_MS);
    if (d.state != KAFKA_DELIVERED) {
        snprintf(errstr, errlen, "replay to %s: %s", full,
                 d.state == KAFKA_FAILED ? rd_kafka_err2str(d.err) : "not acknowledged in time");
        goto fail;
    }
    rc = 0;
fail:
    if (out) rd_kafka_headers_destroy(out);
    rd_kafka_destroy(p);
    return rc;
}

int cli_dlq_parse_ref(const char *s, int32_t *partition, int64_t *offset) {
    char *end;
    errno = 0;
    long p = strtol(s, &end, 10);
    if (end == s || *end != ':' || p < 0 || p >= CLI_DLQ_MAX_PARTITIONS || errno) return -1;
    const char *o = end + 1;
    long long off = strtoll(o, &end, 10);
    if (end == o || *end || off < 0 || errno) return -1;
    *partition = (int32_t)p;
    *offset = (int64_t)off;
    return 0;
}
