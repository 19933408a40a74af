/* gw_limits.h - what the gateway checks at start-up so that no client can push it past
 * its pod's memory or into messages Kafka must refuse (docs/webhook-gw.md, "Memory
 * bound"). The worst case is computed from the settings, term by term:
 *
 *   base                 GW_BASE_BYTES: code, libraries, thread stacks, fixed buffers
 * + connections          WEBHOOK_GW_MAX_CONNECTIONS x gw_http_conn_bytes()
 * + bodies               WEBHOOK_GW_MAX_BUFFERED_BYTES (bodies held at once, including
 *                        those librdkafka still holds after their answer)
 * + downloads            2 x WEBHOOK_GW_FETCH_WORKERS x WEBHOOK_GW_MAX_FETCH_BYTES
 * + Kafka queue          the producer's queue.buffering.max.kbytes x 1024 (its batches)
 * + dedupe table         gw_dedupe_bytes(WEBHOOK_GW_DEDUPE_MAX) when the window is on
 *
 * and must not exceed WEBHOOK_GW_MEMORY_LIMIT_BYTES. A body of WEBHOOK_GW_MAX_BODY_BYTES
 * and a download of WEBHOOK_GW_MAX_FETCH_BYTES, plus key and headers, must fit the
 * producer's message.max.bytes and the raw topic's max.message.bytes
 * (TOPIC_MAX_MESSAGE_BYTES). And the process needs a file descriptor per connection.
 */
#ifndef GW_LIMITS_H
#define GW_LIMITS_H

#include "gw_server.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#define GW_BASE_BYTES ((size_t)32 << 20)   /* measured idle RSS 9-12 MiB; the rest is margin */
#define GW_MESSAGE_OVERHEAD ((size_t)4096) /* key, headers and record framing of one event */
#define GW_FD_RESERVE 256 /* listeners, epoll, admin port, librdkafka, curl, logs */

typedef struct gw_memory {
    size_t base, connections, bodies, downloads, kafka_queue, dedupe;
    size_t total;
} gw_memory;

/* The worst case of cfg with the producer configuration kc (after KAFKA_CONFIG_FILE). */
void gw_limits_memory(const gw_config *cfg, const rd_kafka_conf_t *kc, gw_memory *m);

/* Every start-up limit; fills *m. Returns 0, or -1 with err naming the variables to
 * change. Raises the soft file descriptor limit to the hard one when that is needed. */
int gw_limits_check(const gw_config *cfg, const rd_kafka_conf_t *kc, gw_memory *m, char *err,
                    size_t errlen);

#endif
