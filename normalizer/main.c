/* normalizer - maps raw Trackstar messages (webhooks and polled records) into the
 * canonical records of docs/canonical-model.md and publishes them on the internal
 * trackstar.canonical.<entity>.v1 topics, which only the writer reads (the writer
 * publishes what PostgreSQL applied on the public wms.<entity>.v1), and the connection
 * events on wms.connection_events.v1.
 *
 * Loop: consume a batch from the raw topic, map each message (canon_map), produce
 * every output (or the original to the dead-letter topic with the reason), wait until
 * the broker has acknowledged all of them, then store the input offsets. A failed
 * delivery is produced again until it succeeds: nothing is skipped. An output Kafka can
 * never take (too large: a canonical record can be far larger than its raw message)
 * sends its raw message to the dead-letter topic instead, and a dead letter too large
 * for Kafka is replaced by a stub saying where the original is; the partition moves on.
 * Every wait notices SIGTERM: the batch's offsets are then not stored. Kafka transactions
 * are not used (the dev broker silently ignores them); the writer makes the duplicates
 * of an at-least-once replay harmless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entities.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "normalizer/canon.h"
#include "stage.h"
#include "topics.h"
#include "util.h"

#define NZ_OUT_PER_MSG (CANON_MAX_OUT > 1 ? CANON_MAX_OUT : 1)

static stage_cfg g_stage;
static char *cfg_group, *cfg_raw_topic;
static long long cfg_batch_max, cfg_batch_linger_ms;

static const cfg_var vars[] = {
    STAGE_CFG_VARS(&g_stage, 9103),
    {"NORMALIZER_GROUP", CFG_STR, GROUP_NORMALIZER, 0, 0, 0, "Kafka consumer group", &cfg_group},
    {"NORMALIZER_RAW_TOPIC", CFG_STR, "", 0, 0, 0,
     "the raw topic to read, full name; empty: KAFKA_TOPIC_PREFIX + trackstar.raw.v1 (a rebuild "
     "reads the live raw topic into topics of its own prefix: tsctl rebuild)",
     &cfg_raw_topic},
    {"NORMALIZER_BATCH_MAX", CFG_INT, "2000", 1, 100000, 0,
     "raw messages mapped per batch (one broker acknowledgement wait per batch)", &cfg_batch_max},
    /* 10 ms, not 5: a batch's canonical messages go out as one producer batch a partition,
     * and bigger batches cost the brokers and the writer's fetches less. At 6,000 events/s
     * end to end this kept the step sustained in 5 runs of 5 (1 of 3 at 5 ms), at ~2 ms
     * more request -> row at 2,000/s (docs/benchmarks.md). */
    {"NORMALIZER_BATCH_LINGER_MS", CFG_INT, "10", 0, 10000, 0,
     "how long a batch waits for more messages after its first", &cfg_batch_linger_ms},
};

/* One message to produce, kept until the broker has acknowledged it. */
typedef struct nz_pending {
    char topic[256];
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    rd_kafka_headers_t *headers; /* copied on every attempt; owned here */
    kafka_delivery dr;
    int src;  /* the raw message it comes from (msgs[src]) */
    int kind; /* NZ_OUTPUT, NZ_DEAD_LETTER (the raw message) or NZ_STUB (its stand-in) */
    int done; /* delivered, or dropped for the raw message's dead letter */
} nz_pending;

enum { NZ_OUTPUT = 0, NZ_DEAD_LETTER, NZ_STUB };

/* One batch: its raw messages and everything to produce for them. */
typedef struct nz_batch {
    rd_kafka_message_t **msgs;
    int n;
    nz_pending *ps;
    int np;
    char *dead; /* per raw message: 1 once its dead letter is among ps */
} nz_batch;

static rd_kafka_t *producer, *consumer;
static metric *m_in, *m_out, *m_dlq, *m_ignored, *m_retry, *m_stubs;
static log_limiter retry_log = LOG_LIMITER_INIT(5, 10000);

static int ready(void *arg, char *why, size_t whylen) {
    (void)arg;
    if (!kafka_brokers_up(consumer)) {
        snprintf(why, whylen, "no Kafka broker reachable");
        return 0;
    }
    return 1;
}

/* Hand p to librdkafka. A full queue is waited out (serving delivery reports) unless we
 * are stopping; any other refusal is left in p->dr (FAILED, with the error) for
 * deliver_all to judge, as if the broker had refused it. */
static void produce_one(nz_pending *p) {
    for (;;) {
        p->dr.state = KAFKA_PENDING;
        rd_kafka_headers_t *h = p->headers ? rd_kafka_headers_copy(p->headers) : NULL;
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(p->topic), RD_KAFKA_V_KEY(p->key, p->key_len),
            RD_KAFKA_V_VALUE((void *)p->value, p->value_len), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE(&p->dr), RD_KAFKA_V_END);
        if (!err) return;
        if (h) rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || util_stop) {
            p->dr.state = KAFKA_FAILED;
            p->dr.err = err;
            return;
        }
        admin_heartbeat();
        rd_kafka_poll(producer, 50); /* make room */
    }
}

/* Put raw message i on the dead-letter topic instead of (the rest of) its outputs.
 * Returns its new pending entry, or NULL when it already has one. */
static nz_pending *dead_letter(nz_batch *b, int i, const char *reason) {
    if (b->dead[i]) return NULL;
    b->dead[i] = 1;
    rd_kafka_message_t *m = b->msgs[i];
    char dlq_topic[256], off[24], event_id[256];
    STAGE_TOPIC(&g_stage, TOPIC_DLQ, dlq_topic);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    metric_inc(m_dlq);
    log_warn("message sent to dead-letter topic", "reason", reason, "event_id",
             kafka_header_str(m, HDR_EVENT_ID, event_id, sizeof event_id), "offset", off, NULL);
    nz_pending *p = &b->ps[b->np++];
    memset(p, 0, sizeof *p);
    snprintf(p->topic, sizeof p->topic, "%s", dlq_topic);
    p->key = m->key;
    p->key_len = m->key_len;
    p->value = m->payload;
    p->value_len = m->len;
    p->headers = kafka_dlq_headers(m, "normalizer", reason);
    p->src = i;
    p->kind = NZ_DEAD_LETTER;
    return p;
}

/* A failed delivery that can never succeed: an output makes its raw message a dead
 * letter; a dead letter too large for Kafka becomes its stub (no value; the reason and
 * where the original is). */
static void give_up(nz_batch *b, nz_pending *p) {
    char reason[256];
    const char *why = rd_kafka_err2str(p->dr.err);
    if (p->kind == NZ_OUTPUT) {
        snprintf(reason, sizeof reason,
                 "canonical record of %zu bytes for %.100s cannot be produced: %.80s", p->value_len,
                 p->topic, why);
        p->done = 1;
        nz_pending *d = dead_letter(b, p->src, reason);
        if (d) produce_one(d);
    } else if (p->kind == NZ_DEAD_LETTER) {
        rd_kafka_message_t *m = b->msgs[p->src];
        const void *v = NULL; /* the reason it is a dead letter, kept in the stub's */
        size_t n = 0;
        if (rd_kafka_header_get_last(p->headers, HDR_DLQ_REASON, &v, &n) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            v = "";
            n = 0;
        }
        snprintf(reason, sizeof reason, "%.*s; the original (%zu bytes) is not copied: %s",
                 (int)(n < 150 ? n : 150), (const char *)v, m->len, why);
        rd_kafka_headers_destroy(p->headers);
        p->headers = kafka_dlq_stub_headers(m, "normalizer", reason);
        p->value = NULL;
        p->value_len = 0;
        if (p->key_len > KAFKA_DLQ_STUB_KEY_MAX) p->key_len = KAFKA_DLQ_STUB_KEY_MAX;
        p->kind = NZ_STUB;
        metric_inc(m_stubs);
        log_warn("dead letter too large for Kafka: sending a stub", "error", why, NULL);
        produce_one(p);
    }
}

/* Produce everything, then re-produce what failed until all are acknowledged; what can
 * never be produced goes aside (give_up). Every wait beats the heartbeat and notices a
 * stop. Returns 0, or -1 when asked to stop first (offsets are then not stored). */
static int deliver_all(nz_batch *b) {
    for (int i = 0; i < b->np; i++)
        produce_one(&b->ps[i]);
    for (int attempt = 0;; attempt++) {
        admin_heartbeat();
        rd_kafka_flush(producer, 1000);
        int failed = 0, pending = 0;
        for (int i = 0; i < b->np; i++) { /* give_up may append: np is read each turn */
            nz_pending *p = &b->ps[i];
            if (p->done) continue;
            if (p->dr.state == KAFKA_DELIVERED) {
                p->done = 1;
            } else if (p->dr.state == KAFKA_PENDING) {
                pending++;
            } else if (kafka_err_permanent(p->dr.err) && p->kind != NZ_STUB) {
                give_up(b, p);
                pending += !p->done;
            } else if (kafka_err_permanent(p->dr.err)) {
                /* Not even the stub fits: nothing is left to send instead. Never dropped:
                 * retried (a larger message.max.bytes fixes it) while SIGTERM still works. */
                log_limited(&retry_log, LOG_ERROR, "dead-letter stub refused; retrying", "error",
                            rd_kafka_err2str(p->dr.err), NULL);
                failed++;
            } else {
                failed++;
            }
        }
        if (!failed && !pending) return 0;
        if (util_stop) return -1;
        if (!failed) continue;
        metric_add(m_retry, failed);
        log_limited(&retry_log, LOG_WARN, "deliveries failed, producing again", NULL);
        for (int waited = 0, ms = attempt < 10 ? 100 * (attempt + 1) : 1000; waited < ms;
             waited += 100) {
            if (util_stop) return -1;
            admin_heartbeat();
            usleep(100000);
        }
        for (int i = 0; i < b->np; i++)
            if (!b->ps[i].done && b->ps[i].dr.state == KAFKA_FAILED) produce_one(&b->ps[i]);
    }
}

/* raw_ts for a canonical record of raw message m (common/topics.h); NULL when the raw
 * message has no timestamp. */
static rd_kafka_headers_t *timing_headers(const rd_kafka_message_t *m) {
    char ts[24];
    int64_t raw_ts = rd_kafka_message_timestamp(m, NULL);
    if (raw_ts < 0) return NULL;
    snprintf(ts, sizeof ts, "%lld", (long long)raw_ts);
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, HDR_RAW_TS, -1, ts, -1);
    return h;
}

/* The value policy's changes, by resource and field (bounded: our own field names, with
 * positions and map keys left out). */
static void count_changes(const canon_out *out) {
    for (int k = 0; k < out->n; k++) {
        const canon_msg *msg = &out->msg[k];
        if (!msg->nchanges) continue;
        const char *resource = "connection_events";
        for (int e = 0; e < TS_ENTITY_COUNT; e++)
            if (strcmp(msg->topic, ts_entities[e].topic_internal) == 0)
                resource = ts_entities[e].name;
        unsigned named = msg->nchanges < CANON_MAX_CHANGES ? msg->nchanges : CANON_MAX_CHANGES;
        const char *field = msg->changed;
        for (unsigned j = 0; j <= named; j++) {
            unsigned n = j < named ? 1 : msg->nchanges - named; /* the last: those not named */
            if (!n) break;
            const char *const labels[] = {"resource", resource, "field",
                                          j < named ? field : "(not listed)", NULL};
            metric_add(metric_counter_labels("normalizer_value_changes_total",
                                             "values stored as null or left out because they "
                                             "could not be cast (the record lists them)",
                                             labels),
                       n);
            if (j < named) field += strlen(field) + 1;
        }
    }
}

static void process_batch(nz_batch *b, canon_out *outs) {
    char reason[256];
    b->np = 0;
    memset(b->dead, 0, (size_t)b->n);
    for (int i = 0; i < b->n; i++) {
        rd_kafka_message_t *m = b->msgs[i];
        char source[16], event_id[256], event_type[128], conn[256], resource[64], integ[128],
            recv[40];
        canon_raw in = {
            .body = m->payload,
            .body_len = m->len,
            .source = kafka_header_str(m, HDR_SOURCE, source, sizeof source),
            .event_id = kafka_header_str(m, HDR_EVENT_ID, event_id, sizeof event_id),
            .event_type = kafka_header_str(m, HDR_EVENT_TYPE, event_type, sizeof event_type),
            .connection_id = kafka_header_str(m, HDR_CONNECTION_ID, conn, sizeof conn),
            .resource = kafka_header_str(m, HDR_RESOURCE, resource, sizeof resource),
            .integration_name = kafka_header_str(m, HDR_INTEGRATION, integ, sizeof integ),
            .received_at = kafka_header_str(m, HDR_RECEIVED_AT, recv, sizeof recv),
        };
        const char *ignored = NULL;
        metric_inc(m_in);
        outs[i].n = 0;
        if (!m->payload) {
            snprintf(reason, sizeof reason, "empty message");
        } else if (canon_map(&in, &outs[i], &ignored, reason, sizeof reason) == 0) {
            if (ignored) {
                metric_inc(m_ignored);
                log_debug("event type not modelled", "event_type", event_type, "family", ignored,
                          NULL);
            }
            for (int k = 0; k < outs[i].n; k++) {
                nz_pending *p = &b->ps[b->np++];
                memset(p, 0, sizeof *p);
                STAGE_TOPIC(&g_stage, outs[i].msg[k].topic, p->topic);
                p->key = outs[i].msg[k].key;
                p->key_len = strlen(outs[i].msg[k].key);
                p->value = outs[i].msg[k].value;
                p->value_len = outs[i].msg[k].value_len;
                p->src = i;
                p->headers = timing_headers(m);
            }
            metric_add(m_out, outs[i].n);
            count_changes(&outs[i]);
            continue;
        }
        /* Poison: to the dead-letter topic with the reason and its origin. */
        dead_letter(b, i, reason);
    }
    if (deliver_all(b) == 0) kafka_store_offsets(consumer, b->msgs, b->n);
    for (int i = 0; i < b->np; i++)
        if (b->ps[i].headers) rd_kafka_headers_destroy(b->ps[i].headers);
    for (int i = 0; i < b->n; i++)
        canon_out_free(&outs[i]);
}

int main(int argc, char **argv) {
    if (cfg_main(argc, argv, "maps raw Trackstar messages to the canonical topics", vars,
                 sizeof vars / sizeof vars[0]) != 0)
        return 2;
    char err[512], raw_topic[256];
    if (*cfg_raw_topic)
        snprintf(raw_topic, sizeof raw_topic, "%s", cfg_raw_topic);
    else
        STAGE_TOPIC(&g_stage, TOPIC_RAW, raw_topic);
    const char *topics[] = {raw_topic};
    producer = kafka_producer_new(g_stage.kafka_bootstrap, "normalizer", NULL, g_stage.kafka_props,
                                  kafka_delivery_cb, NULL, err, sizeof err);
    if (!producer) {
        fprintf(stderr, "normalizer: %s\n", err);
        return 2;
    }
    /* What it produces to: every internal canonical topic, the connection events and the
     * dead-letter topic. */
#define INTERNAL_TOPIC(name, ...) TS_TOPIC_INTERNAL(name),
    static const char *const out[] = {TOPIC_DLQ, TOPIC_CONNECTION_EVENTS,
                                      TS_ENTITIES(INTERNAL_TOPIC)};
#undef INTERNAL_TOPIC
    enum { NOUT = sizeof out / sizeof out[0] };
    rd_kafka_topic_t **out_topics =
        kafka_topics_warm(producer, g_stage.topic_prefix, out, NOUT, err, sizeof err);
    if (!out_topics) {
        fprintf(stderr, "normalizer: %s\n", err);
        rd_kafka_destroy(producer);
        return 2;
    }
    consumer =
        kafka_consumer_new(g_stage.kafka_bootstrap, cfg_group, "normalizer", g_stage.kafka_props,
                           g_stage.kafka_consumer_extra, topics, 1, err, sizeof err);
    if (!consumer) {
        fprintf(stderr, "normalizer: %s\n", err);
        kafka_topics_release(out_topics, NOUT);
        rd_kafka_destroy(producer);
        return 2;
    }
    if (stage_start("normalizer", &g_stage, ready, NULL) != 0) return 1;
    cfg_log(vars, sizeof vars / sizeof vars[0]);
    m_in = metric_counter("normalizer_messages_in_total", "raw messages consumed", NULL, NULL);
    m_out =
        metric_counter("normalizer_records_out_total", "canonical records published", NULL, NULL);
    m_dlq = metric_counter("normalizer_dead_letters_total",
                           "raw messages sent to the dead-letter topic", NULL, NULL);
    m_ignored = metric_counter("normalizer_ignored_total",
                               "raw messages of event types not modelled", NULL, NULL);
    m_retry = metric_counter("normalizer_redeliveries_total",
                             "outputs produced again after a failed delivery", NULL, NULL);
    m_stubs = metric_counter("normalizer_dead_letter_stubs_total",
                             "dead letters sent as a stub: the raw message was too large for Kafka",
                             NULL, NULL);

    int max = (int)cfg_batch_max;
    rd_kafka_message_t **msgs = calloc((size_t)max, sizeof *msgs);
    canon_out *outs = calloc((size_t)max, sizeof *outs);
    /* Room for every output, and for a dead letter per raw message on top. */
    nz_batch batch = {.msgs = msgs,
                      .ps = calloc((size_t)max * (NZ_OUT_PER_MSG + 1), sizeof(nz_pending)),
                      .dead = calloc((size_t)max, 1)};
    if (!msgs || !outs || !batch.ps || !batch.dead) {
        log_error("out of memory for the batch buffers", NULL);
        return 1;
    }
    log_info("normalizer started", "topic", raw_topic, "group", cfg_group, NULL);
    while (!util_stop) {
        admin_heartbeat();
        int n = kafka_consume_batch(consumer, msgs, max, 100, (int)cfg_batch_linger_ms);
        batch.n = n;
        if (n > 0) process_batch(&batch, outs);
        for (int i = 0; i < n; i++)
            rd_kafka_message_destroy(msgs[i]);
        rd_kafka_poll(producer, 0);
    }
    log_info("normalizer stopping", NULL);
    kafka_consumer_destroy(consumer);
    kafka_flush(producer, 10000);
    kafka_topics_release(out_topics, NOUT);
    rd_kafka_destroy(producer);
    admin_stop();
    free(msgs);
    free(outs);
    free(batch.ps);
    free(batch.dead);
    return 0;
}
