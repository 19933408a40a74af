/* kafka.c - Kafka client set-up shared by every stage (see kafka.h for the policy). */
#include "kafka.h"

#include "kafka_props.h"
#include "kafka_stats.h"
#include "log.h"
#include "topics.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* librdkafka's statistics feed kafka_stats.c's gauges; a properties file may change
 * the interval (0 turns them off). */
#define KAFKA_STATS_INTERVAL_MS "15000"
/* How long a consumer's close may take (kafka_consumer_destroy): a commit and a group leave
 * take well under a second; a stage stopped while Kafka is away still exits in time for an
 * orchestrator's grace period (Kubernetes: 30 s). */
#define KAFKA_CLOSE_TIMEOUT_MS 15000

static int set_all(rd_kafka_conf_t *conf, const char *const *kv, char *errstr, size_t errlen) {
    for (; kv[0]; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, errlen) != RD_KAFKA_CONF_OK) return -1;
    return 0;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    char code[16];
    snprintf(code, sizeof code, "%d", err);
    /* Broker transport errors are normal during an outage: librdkafka retries them. */
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512];
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        log_error("kafka fatal error", "client", rd_kafka_name(rk), "reason", fatal, NULL);
        util_stop = 1;
    } else {
        log_warn("kafka error", "client", rd_kafka_name(rk), "code", code, "reason", reason, NULL);
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (level <= 4) log_warn("librdkafka", "facility", fac, "detail", buf, NULL);
}

/* Every producer partitions with Java-compatible murmur2 (so other teams' Java or
 * Go producers and consumers agree with us), on the whole key, except on the
 * connection-events topic: its keys are "connection_id|connection|<kind>..." so that
 * compaction keeps the latest of each kind, but one connection's events must stay in
 * one partition, in order. There only the connection_id part is hashed. */
static int32_t partition_by_key(const rd_kafka_topic_t *rkt, const void *key, size_t keylen,
                                int32_t partition_cnt, void *rkt_opaque, void *msg_opaque) {
    const char *name = rd_kafka_topic_name(rkt);
    size_t nlen = strlen(name), clen = strlen(TOPIC_CONNECTION_EVENTS);
    if (key && nlen >= clen && strcmp(name + nlen - clen, TOPIC_CONNECTION_EVENTS) == 0) {
        const char *bar = memchr(key, '|', keylen);
        if (bar) keylen = (size_t)(bar - (const char *)key);
    }
    return rd_kafka_msg_partitioner_murmur2_random(rkt, key, keylen, partition_cnt, rkt_opaque,
                                                   msg_opaque);
}

rd_kafka_t *kafka_producer_new(const char *brokers, const char *client_id,
                               const char *const *defaults, const char *props, kafka_dr_fn dr,
                               void *opaque, char *errstr, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* clang-format off */
    const char *const kv[] = {
        "bootstrap.servers", brokers,
        "client.id", client_id,
        "enable.idempotence", "true",
        "acks", "all",
        "linger.ms", "2",
        "compression.type", "lz4",
        "message.timeout.ms", "30000",
        /* Trackstar's full events (data_url) can be several MiB: 17 MiB matches the
         * topics' max.message.bytes in deploy/ and the normalizer's 16 MiB body bound. */
        "message.max.bytes", "17825792",
        "statistics.interval.ms", KAFKA_STATS_INTERVAL_MS,
        NULL};
    /* clang-format on */
    if (set_all(conf, kv, errstr, errlen) ||
        (defaults && set_all(conf, defaults, errstr, errlen)) ||
        kafka_props_apply(conf, props, '\n', "KAFKA_CONFIG_FILE", errstr, errlen))
        goto fail;
    if (dr) rd_kafka_conf_set_dr_msg_cb(conf, dr);
    /* Setting acks above already created conf's default topic conf: extend it
     * rather than replace it (replacing would drop acks and message.timeout.ms). */
    rd_kafka_topic_conf_t *tconf = rd_kafka_conf_get_default_topic_conf(conf);
    if (!tconf) {
        tconf = rd_kafka_topic_conf_new();
        rd_kafka_conf_set_default_topic_conf(conf, tconf); /* conf owns tconf now */
    }
    rd_kafka_topic_conf_set_partitioner_cb(tconf, partition_by_key);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errlen);
    if (!rk) goto fail;
    return rk; /* conf is owned by rk now */
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Per-consumer state behind rd_kafka_opaque(). */
typedef struct kafka_consumer_state {
    int ever_assigned;
    kafka_rebalance_hook hook; /* optional: the caller's view of assignment changes */
    void *hook_arg;
} kafka_consumer_state;

/* Apply assignments for either rebalance protocol, and remember that one happened
 * (see kafka_consumer_destroy). Offsets are stored only after downstream writes, so a
 * revoke needs no commit here: auto-commit commits what was stored before it. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    kafka_consumer_state *st = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
        if (st) st->ever_assigned = 1;
        if (st && st->hook && !e && !aerr) st->hook(rk, 1, parts, st->hook_arg);
    } else {
        /* The hook stops using the partitions before they are handed back: until this
         * callback returns, no other member can be given them. */
        if (st && st->hook) st->hook(rk, 0, parts, st->hook_arg);
        if (coop)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, NULL);
    }
    if (e) {
        log_error("rebalance failed", "error", rd_kafka_error_string(e), NULL);
        rd_kafka_error_destroy(e);
    } else if (aerr) {
        log_error("rebalance failed", "error", rd_kafka_err2str(aerr), NULL);
    }
    char n[16];
    snprintf(n, sizeof n, "%d", parts ? parts->cnt : 0);
    log_info(err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "partitions assigned"
                                                         : "partitions revoked",
             "count", n, NULL);
}

void kafka_consumer_set_rebalance_hook(rd_kafka_t *rk, kafka_rebalance_hook hook, void *arg) {
    kafka_consumer_state *st = rd_kafka_opaque(rk);
    st->hook = hook;
    st->hook_arg = arg;
}

/* Close the consumer (leave the group, commit what was stored), serving its rebalance on a
 * queue of ours for at most timeout_ms: 0 when closed, -1 when not. rd_kafka_consumer_close()
 * has no bound of its own: a writer whose dev broker was stopped just before it waited in it
 * for good (librdkafka 2.0.2, seen in test_hardening, 13 minutes).
 * The queue is served as a consumer's (rd_kafka_consume_queue, as librdkafka's own tests
 * do): fetched messages still queued are forwarded to it and are dropped here unread, their
 * offsets unstored. rd_kafka_queue_poll_callback cannot hand a message back and 2.0.2
 * aborts on one (test_kafka_close). */
static int close_bounded(rd_kafka_t *rk, int timeout_ms) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (!q) return -1;
    rd_kafka_error_t *err = rd_kafka_consumer_close_queue(rk, q);
    if (err) {
        log_warn("consumer close failed", "error", rd_kafka_error_string(err), NULL);
        rd_kafka_error_destroy(err);
        rd_kafka_queue_destroy(q);
        return -1;
    }
    int64_t deadline = util_mono_ms() + timeout_ms;
    while (!rd_kafka_consumer_closed(rk) && util_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 100);
        if (m) rd_kafka_message_destroy(m);
    }
    int closed = rd_kafka_consumer_closed(rk);
    rd_kafka_queue_destroy(q);
    return closed ? 0 : -1;
}

void kafka_consumer_destroy(rd_kafka_t *rk) {
    if (!rk) return;
    kafka_consumer_state *st = rd_kafka_opaque(rk);
    if (st && !st->ever_assigned) {
        /* librdkafka < 2.3 asserts when a cooperative-sticky consumer is destroyed
         * before its first assignment (librdkafka #4312; Debian 12 ships 2.0.2). Such a
         * consumer has consumed and stored nothing, so there is nothing to commit: leave
         * it to the process exit. The group notices after session.timeout.ms. */
        log_info("consumer closed before its first assignment: left to process exit", NULL);
        return;
    }
    if (close_bounded(rk, KAFKA_CLOSE_TIMEOUT_MS) != 0) {
        /* Destroying it would close it again, with no bound: leave it to the process exit.
         * What was stored since the last commit is read again by the next owner, and
         * every stage applies a repeated record idempotently. */
        log_warn("consumer close did not finish: left to process exit", NULL);
        return;
    }
    rd_kafka_destroy(rk);
    free(st);
}

rd_kafka_t *kafka_consumer_new(const char *brokers, const char *group, const char *client_id,
                               const char *props, const char *consumer_extra,
                               const char *const *topics, int n, char *errstr, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = NULL;
    kafka_consumer_state *st = NULL;
    /* clang-format off */
    const char *const kv[] = {
        "bootstrap.servers", brokers,
        "group.id", group,
        "client.id", client_id,
        "partition.assignment.strategy", "cooperative-sticky",
        "enable.auto.offset.store", "false",
        "enable.auto.commit", "true",
        "auto.commit.interval.ms", "1000",
        "auto.offset.reset", "earliest",
        "enable.partition.eof", "false",
        /* A fetch with nothing to return waits this long on the broker. Kafka answers as
         * soon as data arrives; the dev broker (librdkafka's mock) waits it out, and two
         * consumer hops at the 500 ms default put ~1 s on every record's way to the
         * database. 100 ms costs only idle fetch requests; the local stack asks for 5 ms
         * (deploy/stack/stack.sh). */
        "fetch.wait.max.ms", "100",
        "statistics.interval.ms", KAFKA_STATS_INTERVAL_MS,
        NULL};
    /* clang-format on */
    if (set_all(conf, kv, errstr, errlen) ||
        kafka_props_apply(conf, props, '\n', "KAFKA_CONFIG_FILE", errstr, errlen) ||
        kafka_props_apply(conf, consumer_extra, ',', "KAFKA_CONSUMER_EXTRA", errstr, errlen))
        goto fail;
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    st = calloc(1, sizeof *st);
    if (!st) goto fail;
    rd_kafka_conf_set_opaque(conf, st);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen);
    if (!rk) goto fail;
    conf = NULL; /* owned by rk */
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        snprintf(errstr, errlen, "subscribe: %s", rd_kafka_err2str(err));
        goto fail;
    }
    return rk;
fail:
    if (conf) rd_kafka_conf_destroy(conf);
    if (rk) rd_kafka_destroy(rk); /* never assigned, but never subscribed either */
    free(st);
    return NULL;
}

int kafka_header(const rd_kafka_message_t *m, const char *name, const char **val, size_t *len) {
    rd_kafka_headers_t *hdrs;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    const void *v;
    size_t n;
    if (rd_kafka_header_get_last(hdrs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    *val = v;
    *len = n;
    return 0;
}

const char *kafka_header_str(const rd_kafka_message_t *m, const char *name, char *buf, size_t len) {
    const char *v;
    size_t n;
    buf[0] = '\0';
    if (kafka_header(m, name, &v, &n) == 0 && v) {
        if (n >= len) n = len - 1;
        memcpy(buf, v, n);
        buf[n] = '\0';
    }
    return buf;
}

rd_kafka_headers_t *kafka_dlq_headers(const rd_kafka_message_t *orig, const char *stage,
                                      const char *reason) {
    rd_kafka_headers_t *src = NULL, *hdrs;
    if (rd_kafka_message_headers(orig, &src) == RD_KAFKA_RESP_ERR_NO_ERROR && src)
        hdrs = rd_kafka_headers_copy(src);
    else
        hdrs = rd_kafka_headers_new(6);
    char part[16], off[24];
    snprintf(part, sizeof part, "%d", (int)orig->partition);
    snprintf(off, sizeof off, "%lld", (long long)orig->offset);
    rd_kafka_header_add(hdrs, HDR_DLQ_STAGE, -1, stage, -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_REASON, -1, reason, -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_TOPIC, -1, rd_kafka_topic_name(orig->rkt), -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_PARTITION, -1, part, -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_OFFSET, -1, off, -1);
    return hdrs;
}

int kafka_err_permanent(rd_kafka_resp_err_t err) {
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:    /* over message.max.bytes, ours or the topic's */
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: /* a batch of one: the same */
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:      /* the broker's view of the same */
    case RD_KAFKA_RESP_ERR_INVALID_MSG:           /* the broker refused the record as invalid */
    case RD_KAFKA_RESP_ERR_INVALID_RECORD: return 1;
    default: return 0;
    }
}

rd_kafka_headers_t *kafka_dlq_stub_headers(const rd_kafka_message_t *orig, const char *stage,
                                           const char *reason) {
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
    const char *v;
    size_t n;
    if (kafka_header(orig, HDR_EVENT_ID, &v, &n) == 0)
        rd_kafka_header_add(hdrs, HDR_EVENT_ID, -1, v, (ssize_t)n);
    if (kafka_header(orig, HDR_EVENT_TYPE, &v, &n) == 0)
        rd_kafka_header_add(hdrs, HDR_EVENT_TYPE, -1, v, (ssize_t)n);
    char part[16], off[24];
    snprintf(part, sizeof part, "%d", (int)orig->partition);
    snprintf(off, sizeof off, "%lld", (long long)orig->offset);
    rd_kafka_header_add(hdrs, HDR_DLQ_STAGE, -1, stage, -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_REASON, -1, reason, -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_TOPIC, -1, rd_kafka_topic_name(orig->rkt), -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_PARTITION, -1, part, -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_OFFSET, -1, off, -1);
    rd_kafka_header_add(hdrs, HDR_DLQ_STUB, -1, "true", -1);
    return hdrs;
}

rd_kafka_resp_err_t kafka_dlq_send(rd_kafka_t *producer, const char *dlq_topic,
                                   const rd_kafka_message_t *orig, const char *stage,
                                   const char *reason, int stub, void *msg_opaque) {
    rd_kafka_headers_t *hdrs =
        stub ? kafka_dlq_stub_headers(orig, stage, reason) : kafka_dlq_headers(orig, stage, reason);
    size_t klen =
        stub && orig->key_len > KAFKA_DLQ_STUB_KEY_MAX ? KAFKA_DLQ_STUB_KEY_MAX : orig->key_len;
    /* Named first: RD_KAFKA_V_VALUE casts its argument unparenthesised. */
    void *value = stub ? NULL : orig->payload;
    size_t value_len = stub ? 0 : orig->len;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(dlq_topic), RD_KAFKA_V_KEY(orig->key, klen),
        RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
    if (err) rd_kafka_headers_destroy(hdrs); /* only owned by the producer on success */
    return err;
}

int kafka_flush(rd_kafka_t *rk, int timeout_ms) {
    rd_kafka_flush(rk, timeout_ms);
    int left = rd_kafka_outq_len(rk);
    if (left > 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", left);
        log_warn("messages left unflushed", "client", rd_kafka_name(rk), "count", n, NULL);
    }
    return left > 0 ? -1 : 0;
}

rd_kafka_topic_t **kafka_topics_warm(rd_kafka_t *rk, const char *prefix, const char *const *names,
                                     int n, char *errstr, size_t errlen) {
    rd_kafka_topic_t **rkts = calloc(n > 0 ? (size_t)n : 1, sizeof *rkts);
    if (!rkts) {
        snprintf(errstr, errlen, "out of memory for topic handles");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        char topic[256];
        rkts[i] = rd_kafka_topic_new(rk, topic_name(prefix, names[i], topic, sizeof topic), NULL);
        if (!rkts[i]) {
            snprintf(errstr, errlen, "cannot create a handle for topic %s: %s", topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
            kafka_topics_release(rkts, i);
            return NULL;
        }
    }
    /* One request: for a single topic that topic, else every topic this client knows
     * (all_topics 0), which these handles made it know. */
    const struct rd_kafka_metadata *md = NULL;
    if (n > 0 && rd_kafka_metadata(rk, 0, n == 1 ? rkts[0] : NULL, &md, KAFKA_WARM_UP_MS) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    return rkts;
}

void kafka_topics_release(rd_kafka_topic_t **rkts, int n) {
    if (!rkts) return;
    for (int i = 0; i < n; i++)
        rd_kafka_topic_destroy(rkts[i]);
    free(rkts);
}

int kafka_brokers_up(rd_kafka_t *rk) {
    /* A cheap metadata request: it succeeds only with a broker reachable. */
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(rk, 0, NULL, &md, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    int up = md->broker_cnt > 0;
    rd_kafka_metadata_destroy(md);
    return up;
}

void kafka_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    kafka_delivery *d = m->_private;
    if (!d) return;
    d->err = m->err;
    d->state = m->err ? KAFKA_FAILED : KAFKA_DELIVERED;
}

int kafka_consume_batch(rd_kafka_t *consumer, rd_kafka_message_t **msgs, int max, int first_wait_ms,
                        int linger_ms) {
    int n = 0;
    int64_t deadline = 0;
    while (n < max) {
        int wait = first_wait_ms;
        if (n > 0) {
            wait = (int)(deadline - util_mono_ms());
            if (wait < 0) wait = 0;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, wait);
        if (!m) break;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("consumer error", "error", rd_kafka_message_errstr(m), NULL);
            rd_kafka_message_destroy(m);
            continue;
        }
        if (n == 0) deadline = util_mono_ms() + linger_ms;
        msgs[n++] = m;
    }
    return n;
}

void kafka_store_offsets(rd_kafka_t *consumer, rd_kafka_message_t **msgs, int n) {
    if (n == 0) return;
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++) {
        const char *t = rd_kafka_topic_name(msgs[i]->rkt);
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(offs, t, msgs[i]->partition);
        if (!p) p = rd_kafka_topic_partition_list_add(offs, t, msgs[i]->partition);
        if (p->offset < msgs[i]->offset + 1) p->offset = msgs[i]->offset + 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(consumer, offs);
    /* A partition revoked by a rebalance cannot be stored: its new owner re-reads
     * those messages, which every stage tolerates (at-least-once, idempotent writes). */
    if (err && err != RD_KAFKA_RESP_ERR__STATE)
        log_warn("offset store failed", "error", rd_kafka_err2str(err), NULL);
    rd_kafka_topic_partition_list_destroy(offs);
}
