/* dev-broker - a standalone Kafka broker for local runs and tests, built on
 * librdkafka's mock cluster (rdkafka_mock.h). Other processes reach it over TCP with
 * the real Kafka protocol. No Apache Kafka can be installed on our development
 * machines; deployments use real Kafka (deploy/docker-compose.yml, deploy/k8s).
 *
 * What it adds to the bare mock cluster:
 *  - fixed listener ports: the mock binds port 0; we interpose bind() (below) so the
 *    first broker listens on DEV_BROKER_PORT, the next on +1, and so on;
 *  - every pipeline topic pre-created with DEV_BROKER_PARTITIONS partitions (the mock
 *    would auto-create any name with its default partition count, and it has no admin API).
 *
 * Limits of the mock on librdkafka 2.0.2 (measured; design around them, do not hide
 * them): about 5 MiB retained per partition; transactions and read_committed are not
 * honoured; admin API calls time out; group rebalances wait session.timeout.ms; all
 * data is lost when this process restarts. Pause it with SIGSTOP/SIGCONT to simulate
 * an outage without losing data.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <pthread.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "topics.h"
#include "util.h"

static int next_fixed_port; /* 0 = leave the kernel's choice */

/* Interposes libc's bind() for this process: librdkafka's mock brokers bind to
 * 127.0.0.1:0, and a fixed port is what lets other processes find us.
 *
 * It also turns Nagle's algorithm off on the listener, which every accepted connection
 * inherits (Linux), as Kafka's brokers do on theirs; the mock leaves it on. With it on, a
 * response written while the previous one on the same connection is still unacknowledged
 * waits for the client's delayed ACK: a producer's batches for several partitions (one
 * request each, in flight together) took ~44 ms to be acknowledged instead of ~0.1 ms. */
int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    if (!real_bind)
        real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    if (next_fixed_port && addr && addr->sa_family == AF_INET &&
        len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in sin;
        memcpy(&sin, addr, sizeof sin);
        if (sin.sin_port == 0) {
            sin.sin_port = htons((uint16_t)next_fixed_port++);
            int one = 1;
            if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
                return -1; /* errno says why; the mock reports the failed listener */
            return real_bind(fd, (const struct sockaddr *)&sin, sizeof sin);
        }
    }
    return real_bind(fd, addr, len);
}

static long long cfg_port, cfg_brokers, cfg_partitions;
static char *cfg_prefix, *cfg_log_level, *cfg_ready_file;

#define MAX_TOPICS 256

/* One topic's creation, on a thread of its own. */
typedef struct {
    rd_kafka_mock_cluster_t *mc;
    pthread_t thread;
    int started;
    char name[256];
    rd_kafka_resp_err_t err;
} topic_job;

static void *create_one(void *arg) {
    topic_job *j = arg;
    j->err = rd_kafka_mock_topic_create(j->mc, j->name, (int)cfg_partitions, 1);
    return NULL;
}

/* Every pipeline topic, all at once. Each creation is a request to the mock cluster's
 * thread, which can miss its wake-up (it serves its queue before it drains the wake-up
 * pipe) and then sleeps out a 1 s poll: one after the other, the topics took up to 16 s
 * (longer than the scripts wait). Sent together, they are served together. 0, or -1 (logged). */
static int create_topics(rd_kafka_mock_cluster_t *mc) {
    static topic_job jobs[MAX_TOPICS];
    if (topic_all_count > MAX_TOPICS) {
        log_error("too many topics for the dev broker's table", NULL);
        return -1;
    }
    for (int i = 0; i < topic_all_count; i++) {
        topic_job *j = &jobs[i];
        j->mc = mc;
        topic_name(cfg_prefix, topic_all[i], j->name, sizeof j->name);
        j->started = pthread_create(&j->thread, NULL, create_one, j) == 0;
        if (!j->started) create_one(j); /* no thread: here, in turn */
    }
    int rc = 0;
    for (int i = 0; i < topic_all_count; i++) {
        topic_job *j = &jobs[i];
        if (j->started && pthread_join(j->thread, NULL) != 0) j->err = RD_KAFKA_RESP_ERR__FAIL;
        if (j->err) {
            log_error("cannot create topic", "topic", j->name, "error", rd_kafka_err2str(j->err),
                      NULL);
            rc = -1;
        }
    }
    return rc;
}

static const cfg_var vars[] = {
    {"DEV_BROKER_PORT", CFG_INT, "9092", 1, 65535, 0,
     "port of the first broker (the bootstrap address is 127.0.0.1:PORT)", &cfg_port},
    {"DEV_BROKER_BROKERS", CFG_INT, "1", 1, 3, 0, "number of brokers (ports PORT, PORT+1, ...)",
     &cfg_brokers},
    {"DEV_BROKER_PARTITIONS", CFG_INT, "4", 1, 64, 0, "partitions of every pre-created topic",
     &cfg_partitions},
    {"KAFKA_TOPIC_PREFIX", CFG_STR, "", 0, 0, 0, "prefix put in front of every topic name",
     &cfg_prefix},
    {"DEV_BROKER_READY_FILE", CFG_STR, "", 0, 0, 0,
     "file written with the bootstrap address once every topic exists (for scripts)",
     &cfg_ready_file},
    {"LOG_LEVEL", CFG_STR, "info", 0, 0, 0, "debug, info, warn or error", &cfg_log_level},
};

int main(int argc, char **argv) {
    if (cfg_main(argc, argv, "a local Kafka broker on librdkafka's mock cluster", vars,
                 sizeof vars / sizeof vars[0]) != 0)
        return 2;
    log_level lvl;
    if (log_level_parse(cfg_log_level, &lvl) != 0) {
        fprintf(stderr, "dev-broker: configuration error: LOG_LEVEL: '%s' is not valid\n",
                cfg_log_level);
        return 2;
    }
    log_init("dev-broker", lvl);
    util_install_signals();

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* This client only hosts the cluster: silence its "no bootstrap.servers" notice. */
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        log_error("cannot create the mock cluster's client", "error", err, NULL);
        return 1;
    }
    next_fixed_port = (int)cfg_port;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)cfg_brokers);
    next_fixed_port = 0;
    if (!mc) {
        log_error("cannot start the mock cluster (is the port free?)", NULL);
        rd_kafka_destroy(rk);
        return 1;
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    char expect[32];
    snprintf(expect, sizeof expect, "127.0.0.1:%lld", cfg_port);
    if (strncmp(bootstraps, expect, strlen(expect)) != 0 ||
        (bootstraps[strlen(expect)] != '\0' && bootstraps[strlen(expect)] != ',')) {
        log_error("mock brokers did not take the fixed port", "wanted", expect, "got", bootstraps,
                  NULL);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 1;
    }
    if (create_topics(mc) != 0) {
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 1;
    }
    char parts[16];
    snprintf(parts, sizeof parts, "%lld", cfg_partitions);
    log_info("dev broker ready", "bootstrap", bootstraps, "partitions", parts, NULL);
    if (*cfg_ready_file) {
        FILE *f = fopen(cfg_ready_file, "w");
        if (f) {
            fprintf(f, "%s\n", bootstraps);
            fclose(f);
        }
    }
    while (!util_stop)
        usleep(100 * 1000);
    log_info("dev broker stopping", NULL);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
