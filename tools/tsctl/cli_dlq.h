/* cli_dlq.h - the dead-letter topic (trackstar.dlq.v1) for operators: read what is
 * in it without joining any consumer group (nothing is committed, the pipeline's
 * offsets are untouched), and replay a record: its original key, value and headers
 * minus the dlq_* ones, produced back to the topic named by its dlq_topic header.
 */
#ifndef CLI_DLQ_H
#define CLI_DLQ_H

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "cli_ctx.h"

#define CLI_DLQ_SCAN_TIMEOUT_MS 20000 /* give up reading to the end after this */
#define CLI_DLQ_MAX_PARTITIONS 1024
#define CLI_DLQ_FLUSH_MS 15000  /* wait for a replay to be acknowledged */
#define CLI_DLQ_HEADER_MAX 1024 /* longest header value shown */

/* One dead-letter record as tsctl sees it. */
typedef struct cli_dlq_rec {
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1 when unknown */
    char stage[64], topic[256], reason[512];
    int32_t orig_partition;        /* -1 when the header is absent */
    int64_t orig_offset;           /* -1 when the header is absent */
    const rd_kafka_message_t *msg; /* valid during the callback only */
} cli_dlq_rec;

/* Called for every record read; return 0 to go on, 1 to stop. */
typedef int (*cli_dlq_fn)(const cli_dlq_rec *r, void *arg);

/* Read the dead-letter topic from the beginning to its current end, every
 * partition (only partition `only` when >= 0, from offset `from` when >= 0).
 * 0 or -1 with errstr. */
int cli_dlq_scan(const cli_ctx *ctx, int32_t only, int64_t from, cli_dlq_fn fn, void *arg,
                 char *errstr, size_t errlen);

/* Fill r's dlq fields from m's headers. */
void cli_dlq_describe(const rd_kafka_message_t *m, cli_dlq_rec *r);

/* The record as JSON: partition, offset, timestamp, stage, reason, topic,
 * original_partition, original_offset, key, headers (name -> value), value_bytes,
 * and with with_value the value (a JSON value when it parses, else a string). */
cJSON *cli_dlq_json(const cli_dlq_rec *r, int with_value);

/* Produce r's original key/value/headers (without dlq_*) to its dlq_topic (prefixed
 * as the pipeline's topics are) and wait for the acknowledgement. 0 or -1. */
int cli_dlq_replay(const cli_ctx *ctx, const rd_kafka_message_t *m, char *errstr, size_t errlen);

/* "3:1042" -> partition 3, offset 1042. 0 or -1. */
int cli_dlq_parse_ref(const char *s, int32_t *partition, int64_t *offset);

#endif
