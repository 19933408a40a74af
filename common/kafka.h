/* kafka.h - the one place where Kafka clients are configured.
 *
 * Producers are idempotent with acks=all and report every delivery; consumers use
 * cooperative-sticky assignment, never store offsets on their own (the stage stores
 * an offset only after its downstream write is durable) and auto-commit what has been
 * stored. KAFKA_EXTRA ("key=value,key=value") passes any other librdkafka property,
 * e.g. security settings for a real cluster.
 */
#ifndef TS_KAFKA_H
#define TS_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef void (*kafka_dr_fn)(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* Create a producer. dr may be NULL (then failed deliveries are only logged).
 * opaque is passed to dr as the rd_kafka opaque. Returns NULL with errstr on error. */
rd_kafka_t *kafka_producer_new(const char *brokers, const char *client_id,
                               const char *extra, kafka_dr_fn dr, void *opaque,
                               char *errstr, size_t errlen);

/* Create a consumer in group and subscribe it to topics[0..n). */
rd_kafka_t *kafka_consumer_new(const char *brokers, const char *group,
                               const char *client_id, const char *extra,
                               const char *const *topics, int n,
                               char *errstr, size_t errlen);

/* Find a header's value; returns 0 and sets val and len, or -1 when absent. */
int kafka_header(const rd_kafka_message_t *m, const char *name, const char **val,
                 size_t *len);

/* Copy a header as a NUL-terminated string into buf ("" when absent). Returns buf. */
const char *kafka_header_str(const rd_kafka_message_t *m, const char *name, char *buf,
                             size_t len);

/* Send orig (key, value, headers) to the dead-letter topic with the stage, reason and
 * origin (topic/partition/offset) in headers. Asynchronous: the caller must see the
 * delivery (flush or poll) before storing orig's offset. Returns 0 or -1. */
int kafka_dlq_send(rd_kafka_t *producer, const char *dlq_topic,
                   const rd_kafka_message_t *orig, const char *stage,
                   const char *reason, void *msg_opaque);

/* Flush for up to timeout_ms; logs what is left. Returns 0 when nothing is left. */
int kafka_flush(rd_kafka_t *rk, int timeout_ms);

/* 1 when the client currently has at least one broker up (used by /readyz). */
int kafka_brokers_up(rd_kafka_t *rk);

#endif
