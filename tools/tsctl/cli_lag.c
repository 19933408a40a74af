/* cli_lag.c - see cli_lag.h. */
#include "cli_lag.h"

#include <stdio.h>

#include "kafka_props.h"

int cli_lag_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt) {
        snprintf(err, errlen, "%s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, CLI_LAG_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    int n = -1;
    if (e)
        snprintf(err, errlen, "%s: %s", topic, rd_kafka_err2str(e));
    else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1)
        snprintf(err, errlen, "topic %s does not exist", topic);
    else if (md->topics[0].partition_cnt > CLI_LAG_MAX_PARTITIONS)
        snprintf(err, errlen, "%s: more than %d partitions", topic, CLI_LAG_MAX_PARTITIONS);
    else
        n = md->topics[0].partition_cnt;
    if (md) rd_kafka_metadata_destroy(md);
    return n;
}

rd_kafka_t *cli_lag_reference(cli_ctx *ctx, const char *group, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", ctx->kafka_bootstrap, err, errlen) ||
        rd_kafka_conf_set(conf, "group.id", group, err, errlen) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, errlen) ||
        kafka_props_apply(conf, ctx->kafka_props, '\n', "KAFKA_CONFIG_FILE", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (!rk) rd_kafka_conf_destroy(conf);
    return rk;
}

long long cli_lag(rd_kafka_t *ref, rd_kafka_t *admin, const char *topic, int nparts,
                  const int64_t *ends, long long *total, char *err, size_t errlen) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p);
    rd_kafka_resp_err_t e = rd_kafka_committed(ref, l, CLI_LAG_TIMEOUT_MS);
    long long behind = 0;
    for (int p = 0; !e && p < nparts; p++) {
        int64_t lo, hi, c = l->elems[p].offset;
        if ((e = l->elems[p].err)) break;
        if ((e = rd_kafka_query_watermark_offsets(admin, topic, p, &lo, &hi, CLI_LAG_TIMEOUT_MS)))
            break;
        if (ends) hi = ends[p];
        if (c < lo) c = lo; /* nothing committed yet */
        if (hi > c) behind += hi - c;
        if (total) *total += hi - lo;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "%s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    return behind;
}

int cli_lag_ends(rd_kafka_t *admin, const char *topic, int nparts, int64_t *ends, char *err,
                 size_t errlen) {
    for (int p = 0; p < nparts; p++) {
        int64_t lo;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(admin, topic, p, &lo, &ends[p], CLI_LAG_TIMEOUT_MS);
        if (e) {
            snprintf(err, errlen, "%s: %s", topic, rd_kafka_err2str(e));
            return -1;
        }
    }
    return 0;
}
