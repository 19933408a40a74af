/* bench_normalizer.c - the in-process half of the normalizer benchmark
 * (tests/bench/normalizer.sh runs the broker half around it).
 *
 *   bench_normalizer load BROKERS TOPIC N CONN
 *       produce N raw order webhooks (tests/bench/bench_order.h) to TOPIC with the
 *       headers webhook-gw sets, wait for every acknowledgement, and check that the
 *       broker still holds all of them (the dev broker drops old data past ~5 MiB per
 *       partition; a benchmark that silently lost input would never finish).
 *   bench_normalizer bare N CONN
 *       the same N documents in memory: a bare cJSON parse-and-print loop (the
 *       baseline), and canon_map alone (the normalizer's mapping without Kafka), both
 *       in documents per CPU-second of this process.
 *
 * Output: one line of key=value pairs on stdout; diagnostics on stderr. Exit 0 or 1.
 */
#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"
#include "log.h"
#include "normalizer/canon.h"
#include "tests/bench/bench_order.h"
#include "topics.h"
#include "util.h"
#include "values.h"

#define BN_MAX_DOCS 2000000 /* bound on N: 2 M x ~2.3 KB stays under 5 GB of memory */
#define BN_MIN_CPU_S 1.0    /* repeat a timed loop until it used at least this much CPU */
#define BN_MAX_ROUNDS 1000  /* ... or this many passes over the documents */
#define BN_FLUSH_TIMEOUT_MS 60000
#define BN_META_TIMEOUT_MS 5000

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Documents 0..n-1 of connection conn: order i at version 1 + i % 3, so that the
 * set mixes order.created and order.updated as real traffic does. */
typedef struct bn_docs {
    char **body;
    int *len;
    long n;
    size_t bytes;
} bn_docs;

static void bn_docs_free(bn_docs *d) {
    for (long i = 0; d->body && i < d->n; i++)
        free(d->body[i]);
    free(d->body);
    free(d->len);
    memset(d, 0, sizeof *d);
}

static int bn_docs_make(bn_docs *d, long n, const char *conn) {
    char buf[BENCH_ORDER_MAX];
    memset(d, 0, sizeof *d);
    d->body = calloc((size_t)n, sizeof *d->body);
    d->len = calloc((size_t)n, sizeof *d->len);
    if (!d->body || !d->len) goto fail;
    for (long i = 0; i < n; i++) {
        int len = bench_order_render(conn, i, 1 + (int)(i % 3), buf, sizeof buf);
        if (len < 0) goto fail;
        d->body[i] = malloc((size_t)len + 1);
        if (!d->body[i]) goto fail;
        memcpy(d->body[i], buf, (size_t)len + 1);
        d->len[i] = len;
        d->n = i + 1;
        d->bytes += (size_t)len;
    }
    return 0;
fail:
    bn_docs_free(d);
    return -1;
}

static void event_id(long i, char out[32]) {
    snprintf(out, 32, "msg_bench_%ld", i);
}

/* ---- load ----------------------------------------------------------------------- */

static long g_failed;
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) g_failed++;
}

/* 0 when every partition of topic still starts at offset 0 and the high watermarks add
 * up to at least n; -1 (with the reason on stderr) otherwise. */
static int check_retained(rd_kafka_t *rk, const char *topic, long n) {
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    int rc = -1;
    if (!t || rd_kafka_metadata(rk, 0, t, &md, BN_META_TIMEOUT_MS) || md->topic_cnt != 1) {
        fprintf(stderr, "bench_normalizer: no metadata for %s\n", topic);
        goto fail;
    }
    long total = 0;
    for (int p = 0; p < md->topics[0].partition_cnt; p++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, BN_META_TIMEOUT_MS)) {
            fprintf(stderr, "bench_normalizer: no watermarks for %s[%d]\n", topic, p);
            goto fail;
        }
        if (lo != 0) {
            fprintf(stderr,
                    "bench_normalizer: %s[%d] starts at %lld: the broker dropped input "
                    "(retention); lower N or raise the partition count\n",
                    topic, p, (long long)lo);
            goto fail;
        }
        total += (long)hi;
    }
    if (total < n) {
        fprintf(stderr, "bench_normalizer: %s holds %ld messages, expected %ld\n", topic, total, n);
        goto fail;
    }
    rc = 0;
fail:
    if (md) rd_kafka_metadata_destroy(md);
    if (t) rd_kafka_topic_destroy(t);
    return rc;
}

static int cmd_load(const char *brokers, const char *topic, long n, const char *conn) {
    char err[512], key[256], id[32], now[32], buf[BENCH_ORDER_MAX];
    size_t bytes = 0;
    int rc = 1;
    rd_kafka_t *rk =
        kafka_producer_new(brokers, "bench-loader", NULL, "", on_delivery, NULL, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench_normalizer: %s\n", err);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int len = bench_order_render(conn, i, 1 + (int)(i % 3), buf, sizeof buf);
        if (len < 0) goto fail;
        int klen = snprintf(key, sizeof key, "%s|orders|ord_%ld", conn, i);
        event_id(i, id);
        val_time_format(util_now_ms(), 1, now);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)klen),
                RD_KAFKA_V_VALUE(buf, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADER(HDR_SOURCE, "webhook", -1),
                RD_KAFKA_V_HEADER(HDR_EVENT_ID, id, -1),
                RD_KAFKA_V_HEADER(HDR_EVENT_TYPE, (i % 3 ? "order.updated" : "order.created"), -1),
                RD_KAFKA_V_HEADER(HDR_RECEIVED_AT, now, -1), RD_KAFKA_V_END);
            if (!e) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "bench_normalizer: produce: %s\n", rd_kafka_err2str(e));
                goto fail;
            }
            rd_kafka_poll(rk, 10); /* queue full: let deliveries make room */
        }
        rd_kafka_poll(rk, 0);
        bytes += (size_t)len;
    }
    if (rd_kafka_flush(rk, BN_FLUSH_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "bench_normalizer: %d messages not delivered in time\n",
                rd_kafka_outq_len(rk));
        goto fail;
    }
    if (g_failed) {
        fprintf(stderr, "bench_normalizer: %ld deliveries failed\n", g_failed);
        goto fail;
    }
    if (check_retained(rk, topic, n)) goto fail;
    printf("loaded=%ld bytes=%zu avg_bytes=%zu\n", n, bytes, n ? bytes / (size_t)n : 0);
    rc = 0;
fail:
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- bare ----------------------------------------------------------------------- */

/* One pass of the baseline: parse each document and print it back, as a minimal
 * "JSON in, JSON out" transform would. Returns the bytes printed (kept live so the
 * compiler cannot drop the work), or -1 on a parse failure. */
static long bare_pass(const bn_docs *d) {
    long out = 0;
    for (long i = 0; i < d->n; i++) {
        cJSON *j = cJSON_ParseWithLength(d->body[i], (size_t)d->len[i]);
        if (!j) return -1;
        char *s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (!s) return -1;
        out += (long)strlen(s);
        free(s);
    }
    return out;
}

/* One pass of canon_map with the headers the loader sets. Returns the outputs made. */
static long canon_pass(const bn_docs *d, const char *received_at) {
    long outs = 0;
    char reason[256], id[32];
    for (long i = 0; i < d->n; i++) {
        event_id(i, id);
        canon_raw in = {.body = d->body[i],
                        .body_len = (size_t)d->len[i],
                        .source = "webhook",
                        .event_id = id,
                        .event_type = i % 3 ? "order.updated" : "order.created",
                        .received_at = received_at};
        canon_out o;
        const char *ignored = NULL;
        if (canon_map(&in, &o, &ignored, reason, sizeof reason) != 0) {
            fprintf(stderr, "bench_normalizer: canon_map refused document %ld: %s\n", i, reason);
            canon_out_free(&o);
            return -1;
        }
        outs += o.n;
        canon_out_free(&o);
    }
    return outs;
}

/* Run pass over d until BN_MIN_CPU_S of CPU is used; docs per CPU-second into *rate. */
static int timed(long (*pass)(const bn_docs *, const char *), const bn_docs *d, const char *arg,
                 double *rate, long *result) {
    if (pass(d, arg) < 0) return -1; /* warm-up: allocator, caches, page faults */
    double c0 = cpu_s(), c1 = c0;
    long done = 0;
    for (int r = 0; r < BN_MAX_ROUNDS && c1 - c0 < BN_MIN_CPU_S; r++) {
        *result = pass(d, arg);
        if (*result < 0) return -1;
        done += d->n;
        c1 = cpu_s();
    }
    *rate = (double)done / (c1 - c0);
    return 0;
}

static long bare_adapter(const bn_docs *d, const char *unused) {
    (void)unused;
    return bare_pass(d);
}

static int cmd_bare(long n, const char *conn) {
    bn_docs d;
    char now[32];
    double bare_rate = 0, canon_rate = 0;
    long printed = 0, outs = 0;
    if (bn_docs_make(&d, n, conn)) {
        fprintf(stderr, "bench_normalizer: out of memory for %ld documents\n", n);
        return 1;
    }
    val_time_format(util_now_ms(), 1, now);
    int rc = 1;
    if (timed(bare_adapter, &d, NULL, &bare_rate, &printed)) {
        fprintf(stderr, "bench_normalizer: cJSON failed on a document\n");
        goto fail;
    }
    if (timed(canon_pass, &d, now, &canon_rate, &outs)) goto fail;
    printf("docs=%ld avg_bytes=%zu bare_docs_per_cpu_s=%.0f canon_docs_per_cpu_s=%.0f "
           "outputs_per_doc=%.3f\n",
           d.n, d.bytes / (size_t)d.n, bare_rate, canon_rate, (double)outs / (double)d.n);
    rc = 0;
fail:
    bn_docs_free(&d);
    return rc;
}

static long parse_n(const char *s) {
    char *end;
    long n = strtol(s, &end, 10);
    return (*s && !*end && n > 0 && n <= BN_MAX_DOCS) ? n : -1;
}

int main(int argc, char **argv) {
    log_init("bench", LOG_WARN);
    if (argc == 6 && strcmp(argv[1], "load") == 0 && parse_n(argv[4]) > 0)
        return cmd_load(argv[2], argv[3], parse_n(argv[4]), argv[5]);
    if (argc == 4 && strcmp(argv[1], "bare") == 0 && parse_n(argv[2]) > 0)
        return cmd_bare(parse_n(argv[2]), argv[3]);
    fprintf(stderr,
            "usage: bench_normalizer load BROKERS TOPIC N CONN\n"
            "       bench_normalizer bare N CONN\n(N in 1..%d)\n",
            BN_MAX_DOCS);
    return 2;
}
