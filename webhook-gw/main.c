/* webhook-gw - receives Trackstar's signed webhooks and makes each one durable on the
 * raw Kafka topic before answering 2xx; 503 (with Retry-After) when Kafka cannot
 * acknowledge it in time, so Trackstar retries. See docs/webhook-gw.md.
 *
 * main() only reads the configuration, starts the server and waits for SIGTERM; the
 * work is in gw_server.c (HTTP), gw_publish.c (Kafka) and gw_truncated.c (oversized events).
 */
#include "cfg.h"
#include "gw_server.h"
#include "log.h"
#include "stage.h"
#include "seal.h"
#include "svix.h"
#include "topics.h"
#include "util.h"

#include <curl/curl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GW_TRACKSTAR_TIMEOUT_MS 15000   /* Trackstar counts a delivery failed after 15 s */
#define GW_FLUSH_MS 3000                /* producer flush on SIGTERM */
#define GW_MALLOC_MMAP_MIN (256 * 1024) /* larger blocks are mappings of their own */
#define GW_MALLOC_TRIM (1024 * 1024)    /* free top a heap keeps */

static stage_cfg g_stage;
static char *c_bind, *c_path, *c_secrets, *c_base_url, *c_api_key, *c_token_key;
static long long c_request_timeout;
static long long c_port, c_max_body, c_ack_ms, c_retry_after, c_conn_timeout, c_threads,
    c_max_conns, c_max_inflight, c_dedupe_s, c_dedupe_max, c_hold_ms, c_fetch_ms, c_fetch_workers,
    c_fetch_queue, c_fetch_max, c_max_buffered, c_per_ip, c_per_conn, c_mem_limit, c_topic_max;

static const cfg_var vars[] = {
    STAGE_CFG_VARS(&g_stage, 9101),
    {"WEBHOOK_GW_BIND", CFG_STR, "0.0.0.0", 0, 0, 0, "IPv4 address the webhook port listens on",
     &c_bind},
    {"WEBHOOK_GW_PORT", CFG_INT, "8080", 1, 65535, 0, "webhook port", &c_port},
    {"WEBHOOK_GW_PATH", CFG_STR, "/webhooks/trackstar", 0, 0, 0,
     "the path Trackstar posts to; every other path answers 404", &c_path},
    {"WEBHOOK_SECRETS", CFG_STR, NULL, 0, 0, CFG_SECRET | CFG_REQUIRED,
     "endpoint signing secrets, comma-separated whsec_... (several while a secret rotates)",
     &c_secrets},
    {SEAL_ENV_KEY, CFG_STR, NULL, 0, 0, CFG_SECRET | CFG_REQUIRED,
     "base64 of 32 bytes: the fetcher's token key; connection.created's access token is sealed "
     "with it before publishing, never in clear on Kafka",
     &c_token_key},
    {"WEBHOOK_GW_MAX_BODY_BYTES", CFG_INT, "1048576", 1024, 67108864, 0,
     "largest body accepted; larger ones get 413", &c_max_body},
    {"WEBHOOK_GW_ACK_TIMEOUT_MS", CFG_INT, "5000", 100, 14000, 0,
     "answer 503 if Kafka has not acknowledged the event by then (Trackstar waits 15 s)",
     &c_ack_ms},
    {"WEBHOOK_GW_RETRY_AFTER_S", CFG_INT, "5", 1, 3600, 0, "Retry-After sent with a 503",
     &c_retry_after},
    {"WEBHOOK_GW_CONN_TIMEOUT_S", CFG_INT, "10", 1, 600, 0,
     "close a connection idle or stalled for this long (slow clients)", &c_conn_timeout},
    {"WEBHOOK_GW_REQUEST_TIMEOUT_S", CFG_INT, "15", 2, 600, 0,
     "cut a request still being received after this, however slowly its client sends "
     "(Trackstar counts an answer after 15 s as failed)",
     &c_request_timeout},
    {"WEBHOOK_GW_THREADS", CFG_INT, "2", 1, 64, 0, "HTTP threads (they never wait for Kafka)",
     &c_threads},
    {"WEBHOOK_GW_MAX_CONNECTIONS", CFG_INT, "1024", 1, 65000, 0,
     "open connections at once; when all are taken a new one evicts the longest-held idle or "
     "still-sending one",
     &c_max_conns},
    {"WEBHOOK_GW_MAX_CONNECTIONS_PER_IP", CFG_INT, "0", 0, 65000, 0,
     "connections one client address may hold (its oldest makes room); 0 = no limit, as behind "
     "an ingress, where every client has the ingress's address",
     &c_per_ip},
    {"WEBHOOK_GW_MAX_REQUESTS_PER_CONNECTION", CFG_INT, "1000", 1, 1000000, 0,
     "requests on one keep-alive connection; the last answer closes it", &c_per_conn},
    {"WEBHOOK_GW_MAX_BUFFERED_BYTES", CFG_INT, "50331648", 1048576, 4294967296LL, 0,
     "request bodies held in memory at once, whole process; past it the uploads that started "
     "longest ago get 503 + Retry-After",
     &c_max_buffered},
    {"WEBHOOK_GW_MEMORY_LIMIT_BYTES", CFG_INT, "268435456", 16777216, 68719476736LL, 0,
     "memory the worst case of these settings must fit (the pod's limit); start-up refuses more",
     &c_mem_limit},
    {"TOPIC_MAX_MESSAGE_BYTES", CFG_INT, "17825792", 0, 1073741824, 0,
     "the raw topic's max.message.bytes (the value the topic job sets); bodies and downloads "
     "must fit it; 0 = unknown (only the producer's message.max.bytes is checked)",
     &c_topic_max},
    {"WEBHOOK_GW_MAX_INFLIGHT", CFG_INT, "4096", 1, 1000000, 0,
     "requests received and not yet answered; beyond this 503", &c_max_inflight},
    {"WEBHOOK_GW_DEDUPE_WINDOW_S", CFG_INT, "0", 0, 86400, 0,
     "answer a repeated svix-id 2xx without publishing again, if acknowledged within this window "
     "(0 = off)",
     &c_dedupe_s},
    {"WEBHOOK_GW_PUBLISH_HOLD_MS", CFG_INT, "10", 0, 100, 0,
     "gather accepted webhooks up to this long and publish them together (fewer, larger "
     "Kafka batches); the hold ends early at 32 webhooks, or when no more connections could "
     "still send than are held; 0 = publish each at once",
     &c_hold_ms},
    {"WEBHOOK_GW_DEDUPE_MAX", CFG_INT, "100000", 1, 10000000, 0, "entries in the dedupe table",
     &c_dedupe_max},
    {"TRACKSTAR_BASE_URL", CFG_STR, "https://production.trackstarhq.com", 0, 0, 0,
     "Trackstar API; data_url of an oversized event must be on this origin", &c_base_url},
    {"TRACKSTAR_API_KEY", CFG_STR, "", 0, 0, CFG_SECRET,
     "organisation API key, used only to fetch oversized events (empty: they get 503)", &c_api_key},
    {"WEBHOOK_GW_FETCH_TIMEOUT_MS", CFG_INT, "8000", 100, 14000, 0,
     "time to download the full version of an oversized event", &c_fetch_ms},
    {"WEBHOOK_GW_FETCH_WORKERS", CFG_INT, "2", 1, 64, 0, "parallel downloads of oversized events",
     &c_fetch_workers},
    {"WEBHOOK_GW_FETCH_QUEUE", CFG_INT, "64", 1, 100000, 0,
     "oversized events waiting for a download; beyond this 503", &c_fetch_queue},
    {"WEBHOOK_GW_MAX_FETCH_BYTES", CFG_INT, "16777216", 1024, 268435456, 0,
     "largest full event downloaded (the broker's max message size must allow it)", &c_fetch_max},
};
#define NVARS (sizeof vars / sizeof vars[0])

/* The admin port starts before the server exists (logging and signals come first), so
 * /readyz reads the server through this pointer. */
static gw_server *_Atomic g_srv;

static int ready(void *arg, char *why, size_t whylen) {
    (void)arg;
    gw_server *srv = atomic_load(&g_srv);
    if (!srv) {
        snprintf(why, whylen, "starting");
        return 0;
    }
    return gw_server_ready(srv, why, whylen);
}

int main(int argc, char **argv) {
    if (cfg_main(argc, argv,
                 "Trackstar webhooks in, verified and durable on Kafka (2xx only after acks=all)",
                 vars, NVARS) != 0)
        return 2;
    if (c_ack_ms + c_fetch_ms >= GW_TRACKSTAR_TIMEOUT_MS) {
        fprintf(stderr,
                "webhook-gw: configuration error: WEBHOOK_GW_ACK_TIMEOUT_MS + "
                "WEBHOOK_GW_FETCH_TIMEOUT_MS (%lld) must stay under Trackstar's %d ms\n",
                c_ack_ms + c_fetch_ms, GW_TRACKSTAR_TIMEOUT_MS);
        return 2;
    }
    if (c_path[0] != '/') {
        fprintf(stderr, "webhook-gw: configuration error: WEBHOOK_GW_PATH: must start with '/'\n");
        return 2;
    }
    static gw_config gc; /* large (keys): not on the stack */
    char err[512];
    if (svix_keys_parse(c_secrets, gc.keys, SVIX_MAX_SECRETS, &gc.nkeys, err, sizeof err) != 0) {
        fprintf(stderr, "webhook-gw: configuration error: WEBHOOK_SECRETS: %s\n", err);
        return 2;
    }
    if (seal_ring_parse(c_token_key, NULL, &gc.ring, err, sizeof err) != 0) {
        fprintf(stderr, "webhook-gw: configuration error: %s\n", err);
        return 2;
    }
    char raw_topic[256];
    STAGE_TOPIC(&g_stage, TOPIC_RAW, raw_topic);
    gc.bind_addr = c_bind;
    gc.port = (int)c_port;
    gc.path = c_path;
    gc.max_body = (size_t)c_max_body;
    gc.ack_timeout_ms = (int)c_ack_ms;
    gc.retry_after_s = (int)c_retry_after;
    gc.conn_timeout_s = (int)c_conn_timeout;
    gc.request_timeout_ms = (int)c_request_timeout * 1000;
    if (gc.request_timeout_ms <= gc.ack_timeout_ms) {
        fprintf(stderr, "webhook-gw: configuration error: WEBHOOK_GW_REQUEST_TIMEOUT_S must be "
                        "longer than WEBHOOK_GW_ACK_TIMEOUT_MS\n");
        return 2;
    }
    gc.threads = (int)c_threads;
    gc.max_connections = (int)c_max_conns;
    gc.max_conns_per_ip = (int)c_per_ip;
    gc.max_requests_per_conn = (int)c_per_conn;
    gc.max_buffered = (size_t)c_max_buffered;
    gc.memory_limit = (size_t)c_mem_limit;
    gc.topic_max_message_bytes = (size_t)c_topic_max;
    gc.max_inflight = (int)c_max_inflight;
    gc.dedupe_window_ms = c_dedupe_s * 1000;
    gc.dedupe_max = (size_t)c_dedupe_max;
    gc.publish_hold_ms = (int)c_hold_ms;
    gc.brokers = g_stage.kafka_bootstrap;
    gc.kafka_props = g_stage.kafka_props;
    gc.raw_topic = raw_topic;
    gc.base_url = c_base_url;
    gc.api_key = c_api_key;
    gc.fetch_timeout_ms = (int)c_fetch_ms;
    gc.fetch_workers = (int)c_fetch_workers;
    gc.fetch_queue = (int)c_fetch_queue;
    gc.fetch_max_bytes = (size_t)c_fetch_max;

    /* Bodies (up to WEBHOOK_GW_MAX_BODY_BYTES) come and go all the time: with a fixed mmap
     * threshold every large one is its own mapping and goes back to the system when freed,
     * so RSS follows the body budget. glibc's sliding threshold would otherwise move up
     * after the first large free and keep freed bodies in its heaps. The threshold sits
     * above the 132 KiB buffer librdkafka's broker thread takes for every produce request
     * (lz4), and a heap keeps up to GW_MALLOC_TRIM of free top: at 128 KiB each request was
     * an mmap, 33 page faults, a munmap and a madvise, each flushing the TLB of every core
     * (issue 20: that thread was 72% of the gateway's CPU at 2,000 requests/s). */
#ifndef __SANITIZE_ADDRESS__ /* ASan's allocator replaces glibc's: mallopt sets nothing */
    if (mallopt(M_MMAP_THRESHOLD, GW_MALLOC_MMAP_MIN) != 1 ||
        mallopt(M_TRIM_THRESHOLD, GW_MALLOC_TRIM) != 1) {
        fprintf(stderr, "webhook-gw: mallopt failed\n");
        return 1;
    }
#endif
    gw_server *srv = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "webhook-gw: curl_global_init failed\n");
        return 1;
    }
    int rc = 1;
    if (stage_start("webhook-gw", &g_stage, ready, NULL) != 0) goto fail;
    cfg_log(vars, NVARS);
    srv = gw_server_start(&gc, err, sizeof err);
    if (!srv) {
        log_error("cannot start", "error", err, NULL);
        goto fail;
    }
    atomic_store(&g_srv, srv);
    char port[16], nkeys[8];
    snprintf(port, sizeof port, "%d", gw_server_port(srv));
    snprintf(nkeys, sizeof nkeys, "%d", gc.nkeys);
    log_info("listening", "port", port, "path", gc.path, "topic", raw_topic, "secrets", nkeys,
             "token_key_id", gc.ring.keys[0].kid, NULL);

    while (!util_stop) {
        /* The work is on the server's threads: beat only while every one of them turns. */
        if (gw_server_alive(srv)) admin_heartbeat();
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    log_info("stopping: finishing requests in flight", NULL);
    /* Whatever stays unflushed belongs to requests already answered 503, which
     * Trackstar retries: a clean exit either way. */
    gw_server_drain(srv, GW_FLUSH_MS);
    rc = 0;
    log_info("stopped", NULL);
fail:
    admin_stop(); /* before the server goes: /readyz reads it */
    atomic_store(&g_srv, NULL);
    gw_server_free(srv);
    seal_ring_wipe(&gc.ring);
    curl_global_cleanup();
    return rc;
}
