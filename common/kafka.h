/* kafka.h - the one place where Kafka clients are configured.
 *
 * Producers are idempotent with acks=all and report every delivery; consumers use
 * cooperative-sticky assignment, never store offsets on their own (the stage stores
 * an offset only after its downstream write is durable) and auto-commit what has been
 * stored. Any other librdkafka property (security settings for a real cluster, with
 * secrets from mounted files) comes from the KAFKA_CONFIG_FILE properties file, whose
 * text the stage passes as props (kafka_props.h). Every client reports librdkafka's
 * statistics as metrics (kafka_stats.h).
 */
#ifndef TS_KAFKA_H
#define TS_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef void (*kafka_dr_fn)(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* Create a producer. defaults (key, value, ..., NULL; may be NULL) are the caller's own
 * settings, applied before props (the KAFKA_CONFIG_FILE text) so that the file can
 * still override them. dr may be NULL (then failed deliveries are only logged).
 * opaque is passed to dr as the rd_kafka opaque. Returns NULL with errstr on error. */
rd_kafka_t *kafka_producer_new(const char *brokers, const char *client_id,
                               const char *const *defaults, const char *props, kafka_dr_fn dr,
                               void *opaque, char *errstr, size_t errlen);

/* Create a consumer in group and subscribe it to topics[0..n). props (the
 * KAFKA_CONFIG_FILE text) applies to every client, consumer_extra (KAFKA_CONSUMER_EXTRA,
 * "key=value,key=value", e.g. session.timeout.ms) only here, after it. */
rd_kafka_t *kafka_consumer_new(const char *brokers, const char *group, const char *client_id,
                               const char *props, const char *consumer_extra,
                               const char *const *topics, int n, char *errstr, size_t errlen);

/* Told of every assignment change of a consumer from kafka_consumer_new, from inside
 * its poll: after partitions are assigned (assigned = 1), and before revoked or lost
 * ones are handed back (assigned = 0), so the caller can stop using them first. */
typedef void (*kafka_rebalance_hook)(rd_kafka_t *rk, int assigned,
                                     const rd_kafka_topic_partition_list_t *parts, void *arg);

/* Set the hook; call before the consumer's first poll. */
void kafka_consumer_set_rebalance_hook(rd_kafka_t *rk, kafka_rebalance_hook hook, void *arg);

/* Close a consumer from kafka_consumer_new (committing stored offsets) and free it.
 * Use this, never rd_kafka_consumer_close + rd_kafka_destroy: see kafka.c on why a
 * consumer that never had an assignment is not destroyed. NULL is allowed. */
void kafka_consumer_destroy(rd_kafka_t *rk);

/* Make a handle for each topic prefix + names[0..n) (prefix NULL: the names are full)
 * and ask the brokers for their partitions now, waiting at most KAFKA_WARM_UP_MS. A first
 * message to a topic the producer does not know yet waits for librdkafka's once-a-second
 * topic scan: the gateway's first deliveries after
 * a start took ~1 s and the writer's first publication ~0.5 s (measured). Best effort:
 * a broker that is down is waited for when the first message goes. The handles keep
 * the topics known: release them with kafka_topics_release before rk is destroyed.
 * Returns the n handles, or NULL with errstr. */
#define KAFKA_WARM_UP_MS 2000
rd_kafka_topic_t **kafka_topics_warm(rd_kafka_t *rk, const char *prefix, const char *const *names,
                                     int n, char *errstr, size_t errlen);

/* Destroy the n handles of kafka_topics_warm and free the array. NULL is allowed. */
void kafka_topics_release(rd_kafka_topic_t **rkts, int n);

/* Find a header's value; returns 0 and sets val and len, or -1 when absent. */
int kafka_header(const rd_kafka_message_t *m, const char *name, const char **val, size_t *len);

/* Copy a header as a NUL-terminated string into buf ("" when absent). Returns buf. */
const char *kafka_header_str(const rd_kafka_message_t *m, const char *name, char *buf, size_t len);

/* orig's headers plus the dead-letter headers (stage, reason, origin topic/partition/
 * offset). The caller owns the result (a successful produce takes it over). */
rd_kafka_headers_t *kafka_dlq_headers(const rd_kafka_message_t *orig, const char *stage,
                                      const char *reason);

/* 1 when err means this message can never be produced as it is (too large for the
 * producer or the broker, refused as invalid): retrying cannot help, the stage moves it
 * aside (dead letter, or a stub) and goes on. Anything else is worth retrying. */
int kafka_err_permanent(rd_kafka_resp_err_t err);

/* The dead letter that stands in for orig when orig itself cannot be produced (it is too
 * large for Kafka): no value, the key cut to KAFKA_DLQ_STUB_KEY_MAX bytes, and as headers
 * only the original's event_id and event_type, the dead-letter headers and dlq_stub=true.
 * dlq_topic/partition/offset say where the original is. */
#define KAFKA_DLQ_STUB_KEY_MAX 512
rd_kafka_headers_t *kafka_dlq_stub_headers(const rd_kafka_message_t *orig, const char *stage,
                                           const char *reason);

/* Send orig (key, value, headers) to the dead-letter topic with the stage, reason and
 * origin (topic/partition/offset) in headers, or its stub (stub = 1). Asynchronous: the
 * caller must see the delivery (flush or poll) before storing orig's offset. Returns 0,
 * or the error of a produce refused at once (kafka_err_permanent says whether a stub
 * will do). */
rd_kafka_resp_err_t kafka_dlq_send(rd_kafka_t *producer, const char *dlq_topic,
                                   const rd_kafka_message_t *orig, const char *stage,
                                   const char *reason, int stub, void *msg_opaque);

/* Flush for up to timeout_ms; logs what is left. Returns 0 when nothing is left. */
int kafka_flush(rd_kafka_t *rk, int timeout_ms);

/* 1 when the client currently has at least one broker up (used by /readyz). */
int kafka_brokers_up(rd_kafka_t *rk);

/* ---- consume-transform-produce helpers (normalizer, writer) ---- */

/* The state of one produced message, passed as its msg_opaque to a producer created
 * with kafka_delivery_cb as its dr callback. */
typedef enum kafka_delivery_state {
    KAFKA_PENDING = 0,
    KAFKA_DELIVERED,
    KAFKA_FAILED
} kafka_delivery_state;
typedef struct kafka_delivery {
    kafka_delivery_state state;
    rd_kafka_resp_err_t err;
} kafka_delivery;

/* A dr callback that fills the kafka_delivery given as each message's opaque. */
void kafka_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* Consume up to max messages: waits up to first_wait_ms for the first one, then takes
 * what arrives within linger_ms more. Errors other than partition EOF are logged and
 * not returned. Returns the count; the caller destroys every message. */
int kafka_consume_batch(rd_kafka_t *consumer, rd_kafka_message_t **msgs, int max, int first_wait_ms,
                        int linger_ms);

/* Store offset+1 for every message in msgs[0..n) (the highest per partition wins),
 * so that auto-commit commits them. Call only after their downstream effect is durable. */
void kafka_store_offsets(rd_kafka_t *consumer, rd_kafka_message_t **msgs, int n);

#endif
