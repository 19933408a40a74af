/* fx_assign.c - connection ownership through consumer-group assignment (fx_assign.h). */
#include "fx_assign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

int fx_assign_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = 0;
    if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    if (rkt) rd_kafka_topic_destroy(rkt);
    return n;
}

/* The engine starts and stops the streams of a partition's connections. */
static void on_assignment(rd_kafka_t *rk, int assigned,
                          const rd_kafka_topic_partition_list_t *parts, void *arg) {
    fx_engine *e = *(fx_engine **)arg;
    char list[256] = "";
    size_t n = 0;
    for (int i = 0; i < parts->cnt && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%d", i ? "," : "",
                              parts->elems[i].partition);
    if (!assigned)
        log_info(rd_kafka_assignment_lost(rk) ? "streams stopping: partitions lost"
                                              : "streams stopping: partitions revoked",
                 "partitions", list, NULL);
    for (int i = 0; i < parts->cnt; i++)
        fx_engine_partition(e, parts->elems[i].partition, assigned);
}

rd_kafka_t *fx_assign_new(const char *brokers, const char *group, const char *client_id,
                          const char *extra, const char *consumer_extra, const char *topic,
                          fx_engine **engine, char *errstr, size_t errlen) {
    const char *topics[] = {topic};
    /* a group that never committed on a partition starts at its end: older listings are
     * stale */
    char conf[1024];
    int n = snprintf(conf, sizeof conf, "%s%sauto.offset.reset=latest", consumer_extra,
                     *consumer_extra ? "," : "");
    if (n < 0 || (size_t)n >= sizeof conf) {
        snprintf(errstr, errlen, "KAFKA_CONSUMER_EXTRA is too long");
        return NULL;
    }
    rd_kafka_t *rk =
        kafka_consumer_new(brokers, group, client_id, extra, conf, topics, 1, errstr, errlen);
    if (rk) kafka_consumer_set_rebalance_hook(rk, on_assignment, engine);
    return rk;
}

void fx_assign_poll(rd_kafka_t *rk, fx_engine *engine) {
    rd_kafka_message_t *m;
    while ((m = rd_kafka_consumer_poll(rk, 0))) {
        char id[FX_ID_MAX];
        rd_kafka_timestamp_type_t tt;
        int64_t at = rd_kafka_message_timestamp(m, &tt);
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("assignment consumer", "error", rd_kafka_message_errstr(m), NULL);
        } else if (m->key && m->key_len > 0 && m->key_len < sizeof id && m->payload && at >= 0) {
            memcpy(id, m->key, m->key_len);
            id[m->key_len] = '\0';
            fx_engine_listed(engine, id, m->payload, m->len, at);
        }
        /* read: committed (auto-commit, and at a revoke), so that the partition's next
         * owner goes on from here and gets what was handed over while it moved */
        if (!m->err) kafka_store_offsets(rk, &m, 1);
        rd_kafka_message_destroy(m);
    }
}

void fx_assign_close(rd_kafka_t *rk) {
    kafka_consumer_destroy(rk); /* revokes (stopping those streams) and leaves the group */
}
