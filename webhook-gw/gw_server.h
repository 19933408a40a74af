/* gw_server.h - the webhook gateway: an HTTP endpoint (the gateway's own epoll server,
 * gw_http.h) that verifies Trackstar's signed deliveries and answers 2xx only once Kafka
 * acknowledged the raw message (acks=all), or 503 with Retry-After when that cannot
 * happen in time.
 *
 * Threads: the HTTP threads parse requests and verify them; a request waiting for Kafka
 * leaves its connection in the thread's epoll set, unread, so the HTTP threads never
 * wait. One poll thread serves delivery reports and deadlines and hands the answers
 * back to the HTTP threads; a small worker pool downloads the full version of truncated
 * events (gw_truncated.h).
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include "seal.h"
#include "svix.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gw_config {
    const char *bind_addr; /* webhook listener address, e.g. "0.0.0.0" */
    int port;              /* webhook listener port */
    const char *path;      /* the one path that takes webhooks */
    svix_key keys[SVIX_MAX_SECRETS];
    int nkeys;
    size_t max_body;                /* larger bodies get 413 */
    int ack_timeout_ms;             /* answer 503 when Kafka has not acknowledged by then */
    int retry_after_s;              /* Retry-After on 503 */
    int conn_timeout_s;             /* idle/stalled connections are closed after this */
    int request_timeout_ms;         /* a request still unanswered after this is cut (gw_reaper.h) */
    int threads;                    /* HTTP threads */
    int max_connections;            /* open connections at once */
    int max_conns_per_ip;           /* 0 = no limit per client address */
    int max_requests_per_conn;      /* keep-alive requests on one connection */
    size_t max_buffered;            /* request bodies held at once, whole process */
    size_t memory_limit;            /* the worst case must fit (gw_limits.h) */
    size_t topic_max_message_bytes; /* the raw topic's max.message.bytes; 0 = unknown */
    int max_inflight;               /* requests received and not answered; beyond: 503 */
    int64_t dedupe_window_ms;       /* 0 = no dedupe table */
    size_t dedupe_max;              /* entries in the dedupe table */
    int publish_hold_ms;            /* gather accepted requests this long (gw_publish.c); 0 = no */
    /* Kafka */
    const char *brokers;
    const char *kafka_props; /* KAFKA_CONFIG_FILE text: may hold secrets, never logged */
    const char *raw_topic;   /* full name, prefix applied */
    /* Oversized events */
    const char *base_url; /* TRACKSTAR_BASE_URL: data_url must be on this origin */
    const char *api_key;  /* secret; "" = truncated events cannot be fetched (503) */
    int fetch_timeout_ms; /* both downloads of one truncated event */
    int fetch_workers;
    int fetch_queue;        /* waiting downloads; beyond: 503 */
    size_t fetch_max_bytes; /* largest full event downloaded */
    /* Access tokens are sealed under ring.keys[0] before publishing (gw_secrets.h). */
    seal_ring ring;
} gw_config;

typedef struct gw_server gw_server;

/* Create the producer, the poll thread, the fetch workers and the HTTP listener.
 * cfg is copied (its strings must outlive the server). Returns NULL with errstr. */
gw_server *gw_server_start(const gw_config *cfg, char *errstr, size_t errlen);

/* /readyz: 1 when a broker is up and the server is not draining; else 0 and why. */
int gw_server_ready(void *srv, char *why, size_t whylen);

/* SIGTERM: stop accepting, answer every request in flight (each has a deadline),
 * stop the listener, flush the producer for up to flush_ms. Returns 0 when nothing was
 * left unflushed. Then free with gw_server_free. */
int gw_server_drain(gw_server *srv, int flush_ms);
void gw_server_free(gw_server *srv);

/* The heartbeat: 1 when the HTTP threads and the poll thread all turned recently. */
int gw_server_alive(gw_server *srv);

/* The port actually bound (useful when cfg->port was 0). */
int gw_server_port(const gw_server *srv);

#endif
