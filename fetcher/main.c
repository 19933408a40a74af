/* fetcher - polls the Trackstar REST API per (connection, resource) and publishes
 * every record to the raw topic.
 *
 * This first version only joins the stack: configuration, admin port, a producer and
 * readiness. Polling arrives with the fetcher issue (#5); until then it idles.
 */
#include <stdio.h>
#include <unistd.h>

#include "kafka.h"
#include "log.h"
#include "stage.h"
#include "util.h"

static stage_cfg g_stage;
static char *cfg_base_url, *cfg_api_key;

static const cfg_var vars[] = {
    STAGE_CFG_VARS(&g_stage, 9102),
    {"TRACKSTAR_BASE_URL", CFG_STR, "https://production.trackstarhq.com", 0, 0, 0,
     "Trackstar API base URL (the simulator's in the local stack)", &cfg_base_url},
    {"TRACKSTAR_API_KEY", CFG_STR, "", 0, 0, CFG_SECRET, "organisation API key", &cfg_api_key},
};

static rd_kafka_t *producer;

static int ready(void *arg, char *why, size_t whylen) {
    (void)arg;
    if (!kafka_brokers_up(producer)) {
        snprintf(why, whylen, "no Kafka broker reachable");
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    if (cfg_main(argc, argv, "polls the Trackstar API into the raw topic", vars,
                 sizeof vars / sizeof vars[0]) != 0)
        return 2;
    char err[512];
    producer = kafka_producer_new(g_stage.kafka_bootstrap, "fetcher", g_stage.kafka_extra, NULL,
                                  NULL, err, sizeof err);
    if (!producer) {
        fprintf(stderr, "fetcher: %s\n", err);
        return 2;
    }
    if (stage_start("fetcher", &g_stage, ready, NULL) != 0) return 1;
    cfg_log(vars, sizeof vars / sizeof vars[0]);
    log_info("fetcher started: polling is not implemented yet, idle", NULL);
    while (!util_stop) {
        rd_kafka_poll(producer, 100);
    }
    log_info("fetcher stopping", NULL);
    kafka_flush(producer, 10000);
    rd_kafka_destroy(producer);
    admin_stop();
    return 0;
}
