/* cli_lag.h - how far a consumer group of the pipeline is behind a topic: the group's
 * committed offsets against the topic's ends. `tsctl rebuild` follows its own normalizer
 * and writer with it; `tsctl status --until-done` follows the live ones, so that "done"
 * means stored in the database, not only fetched. */
#ifndef CLI_LAG_H
#define CLI_LAG_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_ctx.h"

#define CLI_LAG_TIMEOUT_MS 10000 /* metadata, watermark and committed-offset requests */
#define CLI_LAG_MAX_PARTITIONS 1024

/* topic's partition count, or -1 with err set (no such topic, broker unreachable). */
int cli_lag_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen);

/* A consumer in group that never subscribes: it only reads the group's committed offsets.
 * NULL with err set. */
rd_kafka_t *cli_lag_reference(cli_ctx *ctx, const char *group, char *err, size_t errlen);

/* Sum over topic's nparts partitions of max(0, end - committed) for ref's group; end is
 * ends[p] when ends is given, else the current high watermark. A partition the group never
 * committed counts from its low watermark. *total (when given) gains the messages the
 * topic holds. -1 with err set on error. */
long long cli_lag(rd_kafka_t *ref, rd_kafka_t *admin, const char *topic, int nparts,
                  const int64_t *ends, long long *total, char *err, size_t errlen);

/* The high watermarks of topic's nparts partitions into ends. 0, or -1 with err set. */
int cli_lag_ends(rd_kafka_t *admin, const char *topic, int nparts, int64_t *ends, char *err,
                 size_t errlen);

#endif
