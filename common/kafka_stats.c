/* kafka_stats.c - librdkafka statistics JSON to gauges (see kafka_stats.h). The field
 * names are librdkafka's STATISTICS.md. Runs on librdkafka's poll thread every
 * statistics.interval.ms; registration of a new series takes the metrics mutex. */
#include "kafka_stats.h"

#include "metrics.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static double num(const cJSON *o, const char *field, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void set(const char *name, const char *help, const char *const *labels, double v,
                double divisor) {
    metric_set(metric_gauge_labels(name, help, labels, divisor), (int64_t)(v * divisor));
}

static void brokers(const cJSON *root, const char *client) {
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(root, "brokers"), *b;
    cJSON_ArrayForEach(b, bs) {
        /* Bootstrap entries (nodeid -1) are replaced by the real brokers once known. */
        if (num(b, "nodeid", -1) < 0 || !b->string) continue;
        const char *const l[] = {"client", client, "broker", b->string, NULL};
        const cJSON *rtt = cJSON_GetObjectItemCaseSensitive(b, "rtt");
        double avg_us = num(rtt, "avg", 0);
        set("kafka_broker_rtt_seconds", "average request round trip to the broker", l, avg_us / 1e6,
            1e6);
        set("kafka_broker_outbuf_requests", "requests waiting to be sent to the broker", l,
            num(b, "outbuf_cnt", 0), 1);
        set("kafka_broker_waitresp_requests", "requests sent to the broker, not yet answered", l,
            num(b, "waitresp_cnt", 0), 1);
    }
}

static void lags(const cJSON *root, const char *client) {
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "topics"), *t;
    cJSON_ArrayForEach(t, ts) {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(t, "partitions"), *p;
        cJSON_ArrayForEach(p, ps) {
            if (!p->string || strcmp(p->string, "-1") == 0) continue; /* the UA partition */
            const char *const l[] = {"client",    client,    "topic", t->string,
                                     "partition", p->string, NULL};
            double lag = num(p, "consumer_lag", -1);
            /* -1: not fetched by this consumer (any more). A series it reported before
             * drops to 0, so that summing over replicas counts each partition once. */
            if (lag < 0) lag = 0;
            set("kafka_consumer_lag_messages",
                "messages between the committed offset and the high watermark", l, lag, 1);
        }
    }
}

/* What a producer's batches hold, per topic, over the last statistics interval (0 when it
 * sent none). Small batches cost every broker per batch: Kafka per request and index
 * entry, the dev broker a walk of its partition's batch list on every fetch
 * (docs/benchmarks.md). */
static void batches(const cJSON *root, const char *client) {
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "topics"), *t;
    cJSON_ArrayForEach(t, ts) {
        if (!t->string) continue;
        const char *const l[] = {"client", client, "topic", t->string, NULL};
        set("kafka_producer_batch_messages", "average messages a produced batch held", l,
            num(cJSON_GetObjectItemCaseSensitive(t, "batchcnt"), "avg", 0), 1);
        set("kafka_producer_batch_bytes", "average bytes of a produced batch", l,
            num(cJSON_GetObjectItemCaseSensitive(t, "batchsize"), "avg", 0), 1);
    }
}

int kafka_stats_apply(const char *json, size_t len) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -1;
    }
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(root, "client_id");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(cid) || !cJSON_IsString(type)) {
        cJSON_Delete(root);
        return -1;
    }
    char client[160];
    snprintf(client, sizeof client, "%s-%s", cid->valuestring, type->valuestring);
    const char *const l[] = {"client", client, NULL};
    set("kafka_client_replyq", "librdkafka events waiting for a poll", l, num(root, "replyq", 0),
        1);
    if (strcmp(type->valuestring, "producer") == 0) {
        set("kafka_client_queue_messages", "produced messages not yet delivered", l,
            num(root, "msg_cnt", 0), 1);
        batches(root, client);
    }
    brokers(root, client);
    if (strcmp(type->valuestring, "consumer") == 0) lags(root, client);
    cJSON_Delete(root);
    return 0;
}

int kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk;
    (void)opaque;
    kafka_stats_apply(json, len);
    return 0; /* librdkafka frees json */
}
