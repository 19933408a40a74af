/* stage.h - what every pipeline binary shares at start-up: the standard
 * configuration keys (Kafka, admin port, log level), signal handling, logging and
 * the admin server, so each main() only adds its own keys and its loop. */
#ifndef TS_STAGE_H
#define TS_STAGE_H

#include "admin.h"
#include "cfg.h"

typedef struct stage_cfg {
    char *kafka_bootstrap;
    char *topic_prefix;
    char *kafka_props; /* the KAFKA_CONFIG_FILE text (may hold secrets: never logged) */
    char *kafka_consumer_extra;
    char *admin_bind;
    long long admin_port;
    char *log_level;
    long long healthz_stale_s;
} stage_cfg;

/* The standard keys, to put first in a binary's cfg_var table:
 *   cfg_var vars[] = { STAGE_CFG_VARS(&g_stage, 9101), {...own keys...} }; */
#define STAGE_CFG_VARS(s, admin_port_default)                                                      \
    {"KAFKA_BOOTSTRAP",                                                                            \
     CFG_STR,                                                                                      \
     "127.0.0.1:9092",                                                                             \
     0,                                                                                            \
     0,                                                                                            \
     CFG_REQUIRED,                                                                                 \
     "Kafka bootstrap servers (host:port,...)",                                                    \
     &(s)->kafka_bootstrap},                                                                       \
        {"KAFKA_TOPIC_PREFIX", CFG_STR, "", 0, 0, 0, "prefix put in front of every topic name",    \
         &(s)->topic_prefix},                                                                      \
        {"KAFKA_CONFIG_FILE",                                                                      \
         CFG_FILE,                                                                                 \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         0,                                                                                        \
         "librdkafka properties file, key=value a line (SASL, TLS); a value ${file:/path} is "     \
         "read from that file",                                                                    \
         &(s)->kafka_props},                                                                       \
        {"KAFKA_CONSUMER_EXTRA",                                                                   \
         CFG_STR,                                                                                  \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         0,                                                                                        \
         "extra librdkafka properties for consumers only (e.g. session.timeout.ms=6000)",          \
         &(s)->kafka_consumer_extra},                                                              \
        {"ADMIN_BIND",                                                                             \
         CFG_STR,                                                                                  \
         "127.0.0.1",                                                                              \
         0,                                                                                        \
         0,                                                                                        \
         0,                                                                                        \
         "address of the admin port (/healthz /readyz /metrics)",                                  \
         &(s)->admin_bind},                                                                        \
        {"ADMIN_PORT", CFG_INT, #admin_port_default, 1, 65535, 0, "admin port", &(s)->admin_port}, \
        {"HEALTHZ_STALE_S",                                                                        \
         CFG_INT,                                                                                  \
         "60",                                                                                     \
         1,                                                                                        \
         3600,                                                                                     \
         0,                                                                                        \
         "/healthz answers 503 when the main loop has not completed a turn for this long",         \
         &(s)->healthz_stale_s},                                                                   \
    {                                                                                              \
        "LOG_LEVEL", CFG_STR, "info", 0, 0, 0, "debug, info, warn or error", &(s)->log_level       \
    }

/* After cfg_main(): set up logging, signals and the admin server.
 * Returns 0, or -1 after printing why (main then exits 1). */
int stage_start(const char *stage, const stage_cfg *s, admin_ready_fn ready, void *arg);

/* Full topic name (prefix + name) in a static per-call buffer owned by the caller. */
#define STAGE_TOPIC(s, name, buf) topic_name((s)->topic_prefix, (name), (buf), sizeof(buf))

#endif
