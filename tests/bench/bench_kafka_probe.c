/* bench_kafka_probe.c - the broker's own floor for one pipeline hop: a bare librdkafka
 * producer and consumer, with the pipeline's client settings (common/kafka.c's defaults
 * and the same KAFKA_CONFIG_FILE), sending order-sized messages at a steady rate through
 * a topic of their own on the same broker, and timing each from produce() to the
 * consumer's poll returning it. No batching, no mapping, no database: what is left is the
 * broker's and the client's waiting, so that tests/bench/e2e.sh can tell the dev broker's
 * share of the request-to-row latency from ours.
 *
 *   bench_kafka_probe BOOTSTRAP TOPIC SECONDS RATE
 *
 * Env: KAFKA_CONFIG_FILE and KAFKA_CONSUMER_EXTRA (optional), as the stages read them.
 * Prints one line of figures and BENCH lines (docs/benchmarks.md); exit 0 when every
 * message came back, 1 when some did not, 2 when it could not measure.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "kafka.h"
#include "tests/bench/bench_pct.h"
#include "util.h"

#define PROBE_BYTES 2700 /* about one order webhook (tests/bench/bench_order.h) */
#define PROBE_MAX 200000
#define PROBE_BURSTS 50
#define PROBE_BURST_MSGS 16 /* keyed apart: spread over the topic's partitions */

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The Kafka client settings, read as the stages read them (common/stage.h). */
static char *cfg_props, *cfg_consumer_extra;
static const cfg_var vars[] = {
    {"KAFKA_CONFIG_FILE", CFG_FILE, "", 0, 0, 0, "librdkafka properties file", &cfg_props},
    {"KAFKA_CONSUMER_EXTRA", CFG_STR, "", 0, 0, 0, "consumer settings, key=value,...",
     &cfg_consumer_extra},
};

/* Poll the consumer until a message of this run arrives; returns its latency in µs,
 * 0 when the wait ran out, -1 for a message of another run (a warm-up). */
static int64_t take(rd_kafka_t *c, int wait_ms, int64_t run_id) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, wait_ms);
    if (!m) return 0;
    int64_t lat = -1, sent[2];
    if (!m->err && m->len >= sizeof sent) {
        memcpy(sent, m->payload, sizeof sent);
        if (sent[0] == run_id) lat = now_us() - sent[1];
    }
    rd_kafka_message_destroy(m);
    return lat;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: bench_kafka_probe BOOTSTRAP TOPIC SECONDS RATE\n");
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    int seconds = atoi(argv[3]), rate = atoi(argv[4]);
    if (seconds <= 0 || rate <= 0 || (long)seconds * rate > PROBE_MAX) {
        fprintf(stderr, "probe: SECONDS and RATE must be positive, their product <= %d\n",
                PROBE_MAX);
        return 2;
    }
    char err[512], group[64];
    if (cfg_load(vars, sizeof vars / sizeof vars[0], err, sizeof err) != 0) {
        fprintf(stderr, "probe: %s\n", err);
        return 2;
    }
    snprintf(group, sizeof group, "bench-probe-%ld", (long)getpid());
    const char *topics[] = {topic};
    rd_kafka_t *p =
        kafka_producer_new(bootstrap, "bench-probe", NULL, cfg_props, kafka_delivery_cb, NULL, err,
                           sizeof err); /* with a delivery callback, as the stages: a flush
                                         * returns on the acknowledgement, not on a poll tick */
    rd_kafka_t *c = p ? kafka_consumer_new(bootstrap, group, "bench-probe", cfg_props,
                                           cfg_consumer_extra, topics, 1, err, sizeof err)
                      : NULL;
    if (!p || !c) {
        fprintf(stderr, "probe: %s\n", err);
        return 2;
    }
    static char payload[PROBE_BYTES];
    memset(payload, 'x', sizeof payload);

    /* Warm up: until a message produced now comes back, the group is not assigned or the
     * fetch position not known, and that is not the hop's latency. */
    int64_t run_id = now_us(), warm = 0, *lat = calloc((size_t)seconds * rate, sizeof *lat);
    if (!lat) return 2;
    for (int64_t t0 = util_mono_ms(); warm <= 0; warm = take(c, 100, run_id)) {
        if (util_mono_ms() - t0 > 30000) {
            fprintf(stderr, "probe: no message came back within 30 s\n");
            return 2;
        }
        int64_t hdr[2] = {run_id, now_us()};
        memcpy(payload, hdr, sizeof hdr);
        if (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, sizeof payload),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) {
            fprintf(stderr, "probe: produce failed\n");
            return 2;
        }
        rd_kafka_poll(p, 0);
        while (take(c, 0, run_id) > 0) {
        }
    }
    run_id++; /* the warm-up's stragglers do not count */

    int want = seconds * rate, sent = 0, got = 0;
    int64_t start = now_us(), interval = 1000000 / rate;
    while (got < want) {
        int64_t now = now_us();
        if (sent < want && now >= start + sent * interval) {
            int64_t hdr[2] = {run_id, now};
            memcpy(payload, hdr, sizeof hdr);
            if (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_VALUE(payload, sizeof payload),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) {
                fprintf(stderr, "probe: produce failed\n");
                return 2;
            }
            sent++;
            rd_kafka_poll(p, 0);
            continue;
        }
        if (sent == want && now > start + (int64_t)seconds * 1000000 + 10000000)
            break; /* 10 s grace */
        int64_t next = sent < want ? start + sent * interval : now + 1000;
        int wait_ms = (int)((next - now) / 1000);
        int64_t l = take(c, wait_ms > 0 ? wait_ms : 0, run_id);
        if (l > 0) lat[got++] = l;
        rd_kafka_poll(p, 0);
    }
    kafka_flush(p, 5000);

    /* The acknowledgement of a burst: what a stage waits for when it flushes a batch
     * whose records go to several partitions (one produce request each, in flight on one
     * connection together). A broker that leaves Nagle's algorithm on holds each
     * response after the first until the client's delayed ACK: ~44 ms a flush. */
    int64_t burst[PROBE_BURSTS];
    for (int b = 0; b < PROBE_BURSTS; b++) {
        int64_t t0 = now_us();
        for (int i = 0; i < PROBE_BURST_MSGS; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", i);
            if (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_VALUE(payload, sizeof payload),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) {
                fprintf(stderr, "probe: produce failed\n");
                return 2;
            }
        }
        if (kafka_flush(p, 5000) != 0) {
            fprintf(stderr, "probe: a burst was not acknowledged within 5 s\n");
            return 2;
        }
        burst[b] = now_us() - t0;
    }
    rd_kafka_destroy(p);
    kafka_consumer_destroy(c);
    if (got == 0) {
        fprintf(stderr, "probe: nothing came back\n");
        return 2;
    }
    qsort(lat, (size_t)got, sizeof *lat, bench_cmp_i64);
    double p50 = bench_pct(lat, got, 0.50) / 1000.0, p99 = bench_pct(lat, got, 0.99) / 1000.0,
           min = lat[0] / 1000.0;
    printf("probe: %d of %d messages at %d/s, one hop produce -> consume: min %.1f ms, p50 %.1f "
           "ms, p99 %.1f ms\n",
           got, want, rate, min, p50, p99);
    printf("BENCH name=e2e.probe.hop_p50 stage=e2e value=%.1f unit=ms\n", p50);
    printf("BENCH name=e2e.probe.hop_p99 stage=e2e value=%.1f unit=ms\n", p99);
    printf("BENCH name=e2e.probe.hop_min stage=e2e value=%.1f unit=ms\n", min);
    qsort(burst, PROBE_BURSTS, sizeof *burst, bench_cmp_i64);
    double b50 = bench_pct(burst, PROBE_BURSTS, 0.50) / 1000.0,
           b99 = bench_pct(burst, PROBE_BURSTS, 0.99) / 1000.0;
    printf("probe: %d bursts of %d messages over the topic's partitions, produce -> all "
           "acknowledged: p50 %.2f ms, p99 %.2f ms\n",
           PROBE_BURSTS, PROBE_BURST_MSGS, b50, b99);
    printf("BENCH name=e2e.probe.burst_ack_p50 stage=e2e value=%.2f unit=ms\n", b50);
    printf("BENCH name=e2e.probe.burst_ack_p99 stage=e2e value=%.2f unit=ms\n", b99);
    free(lat);
    return got == want ? 0 : 1;
}
