/* kafka_stats.h - librdkafka's statistics (statistics.interval.ms, 15 s by default in
 * kafka.c) as Prometheus gauges, so that consumer lag, broker round trips and queue
 * depths come from the stage itself:
 *
 *   kafka_consumer_lag_messages{client,topic,partition}   messages behind the high
 *       watermark, for the partitions this consumer holds (0 once it no longer does)
 *   kafka_broker_rtt_seconds{client,broker}               average request round trip
 *   kafka_broker_outbuf_requests{client,broker}           requests waiting to be sent
 *   kafka_broker_waitresp_requests{client,broker}         requests sent, not yet answered
 *   kafka_client_queue_messages{client}                   producer: messages not yet delivered
 *   kafka_client_replyq{client}                           events waiting for a poll
 *
 * client is the client.id plus its role ("writer-consumer"). Series are bounded by
 * topics x partitions and brokers.
 */
#ifndef TS_KAFKA_STATS_H
#define TS_KAFKA_STATS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* librdkafka's stats_cb: updates the gauges; returns 0 (librdkafka frees json). */
int kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque);

/* The same for a statistics document given directly (unit tests). 0, or -1 when the
 * document is not librdkafka's statistics JSON. */
int kafka_stats_apply(const char *json, size_t len);

#endif
