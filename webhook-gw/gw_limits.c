/* gw_limits.c - the gateway's start-up limits: memory bound, message size, file
 * descriptors (see gw_limits.h). */
#include "gw_limits.h"

#include "gw_dedupe.h"
#include "gw_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* An integer property of the producer configuration, or def when unreadable. */
static size_t conf_size(const rd_kafka_conf_t *kc, const char *name, size_t def) {
    char buf[64];
    size_t n = sizeof buf;
    if (!kc || rd_kafka_conf_get(kc, name, buf, &n) != RD_KAFKA_CONF_OK) return def;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    return errno || end == buf ? def : (size_t)v;
}

void gw_limits_memory(const gw_config *cfg, const rd_kafka_conf_t *kc, gw_memory *m) {
    memset(m, 0, sizeof *m);
    m->base = GW_BASE_BYTES;
    m->connections = (size_t)cfg->max_connections * gw_http_conn_bytes();
    m->bodies = cfg->max_buffered;
    m->downloads = 2 * (size_t)cfg->fetch_workers * cfg->fetch_max_bytes;
    /* librdkafka's default is 1 GiB: unreadable counts as that, never as nothing. */
    m->kafka_queue = conf_size(kc, "queue.buffering.max.kbytes", 1048576) * 1024;
    m->dedupe = cfg->dedupe_window_ms > 0 ? gw_dedupe_bytes(cfg->dedupe_max) : 0;
    m->total = m->base + m->connections + m->bodies + m->downloads + m->kafka_queue + m->dedupe;
}

#define MIB(x) ((double)(x) / 1048576.0)

int gw_limits_check(const gw_config *cfg, const rd_kafka_conf_t *kc, gw_memory *m, char *err,
                    size_t errlen) {
    gw_limits_memory(cfg, kc, m);
    if (m->total > cfg->memory_limit) {
        snprintf(
            err, errlen,
            "worst-case memory %.1f MiB exceeds WEBHOOK_GW_MEMORY_LIMIT_BYTES (%.1f MiB): "
            "%.1f base + %.1f WEBHOOK_GW_MAX_CONNECTIONS + %.1f WEBHOOK_GW_MAX_BUFFERED_BYTES + "
            "%.1f WEBHOOK_GW_FETCH_WORKERS x WEBHOOK_GW_MAX_FETCH_BYTES x 2 + %.1f "
            "queue.buffering.max.kbytes (KAFKA_CONFIG_FILE) + %.1f WEBHOOK_GW_DEDUPE_MAX; lower "
            "some",
            MIB(m->total), MIB(cfg->memory_limit), MIB(m->base), MIB(m->connections),
            MIB(m->bodies), MIB(m->downloads), MIB(m->kafka_queue), MIB(m->dedupe));
        return -1;
    }
    /* What Kafka takes: the producer refuses a larger message at once, the broker a
     * larger one for the topic; either way the event could never be acknowledged and
     * Trackstar would get 503 until it gives up. */
    size_t msg_max = conf_size(kc, "message.max.bytes", 1000000);
    const char *which = "message.max.bytes (KAFKA_CONFIG_FILE)";
    if (cfg->topic_max_message_bytes && cfg->topic_max_message_bytes < msg_max) {
        msg_max = cfg->topic_max_message_bytes;
        which = "TOPIC_MAX_MESSAGE_BYTES";
    }
    if (cfg->max_body + GW_MESSAGE_OVERHEAD > msg_max) {
        snprintf(err, errlen,
                 "WEBHOOK_GW_MAX_BODY_BYTES (%zu) plus %zu bytes of key and headers exceeds %s "
                 "(%zu): such events could never be published",
                 cfg->max_body, GW_MESSAGE_OVERHEAD, which, msg_max);
        return -1;
    }
    if (cfg->fetch_max_bytes + GW_MESSAGE_OVERHEAD > msg_max) {
        snprintf(err, errlen,
                 "WEBHOOK_GW_MAX_FETCH_BYTES (%zu) plus %zu bytes of key and headers exceeds %s "
                 "(%zu): such downloaded events could never be published",
                 cfg->fetch_max_bytes, GW_MESSAGE_OVERHEAD, which, msg_max);
        return -1;
    }
    if (cfg->max_buffered < cfg->max_body * (size_t)cfg->threads) {
        snprintf(err, errlen,
                 "WEBHOOK_GW_MAX_BUFFERED_BYTES (%zu) must hold one body of "
                 "WEBHOOK_GW_MAX_BODY_BYTES (%zu) per WEBHOOK_GW_THREADS (%d)",
                 cfg->max_buffered, cfg->max_body, cfg->threads);
        return -1;
    }
    struct rlimit rl;
    rlim_t need = (rlim_t)cfg->max_connections + GW_FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "cannot read the file descriptor limit: %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur < need) {
        struct rlimit up = {rl.rlim_max < need ? rl.rlim_max : need, rl.rlim_max};
        if (rl.rlim_max < need || setrlimit(RLIMIT_NOFILE, &up) != 0) {
            snprintf(err, errlen,
                     "WEBHOOK_GW_MAX_CONNECTIONS (%d) needs %llu file descriptors; the limit is "
                     "%llu (ulimit -n)",
                     cfg->max_connections, (unsigned long long)need,
                     (unsigned long long)rl.rlim_max);
            return -1;
        }
    }
    return 0;
}
