/* test_kafka_config.c - Kafka client configuration and its metrics: the KAFKA_CONFIG_FILE
 * properties parser (values with commas, ${file:} secrets, errors that name the key but
 * never a value), the CFG_FILE configuration type, librdkafka statistics as gauges, and
 * the Prometheus rendering of histograms and label sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "kafka_props.h"
#include "kafka_stats.h"
#include "metrics.h"

static char tmpdir[] = "/tmp/test_kafka_config.XXXXXX";

static const char *write_file(const char *name, const char *content) {
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    return p;
}

static const char *get(rd_kafka_conf_t *conf, const char *key) {
    static char buf[512];
    size_t n = sizeof buf;
    assert_int_equal(rd_kafka_conf_get(conf, key, buf, &n), RD_KAFKA_CONF_OK);
    return buf;
}

static void file_values_with_commas_comments_and_crlf(void **state) {
    (void)state;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512] = "";
    const char *text = "# a comment\n"
                       "! another\n"
                       "\n"
                       "  bootstrap.servers = a:9093,b:9093,c:9093\r\n"
                       "security.protocol=SASL_SSL\n"
                       "sasl.mechanisms=SCRAM-SHA-512\n"
                       "client.rack=eu=west=1"; /* only the first '=' separates */
    assert_int_equal(kafka_props_apply(conf, text, '\n', "KAFKA_CONFIG_FILE", err, sizeof err), 0);
    assert_string_equal(get(conf, "bootstrap.servers"), "a:9093,b:9093,c:9093");
    assert_string_equal(get(conf, "security.protocol"), "sasl_ssl");
    assert_string_equal(get(conf, "sasl.mechanisms"), "SCRAM-SHA-512");
    assert_string_equal(get(conf, "client.rack"), "eu=west=1");
    rd_kafka_conf_destroy(conf);
}

static void secret_from_mounted_file(void **state) {
    (void)state;
    const char *path = write_file("username", "svc-trackstar\n");
    char text[512], err[512] = "";
    snprintf(text, sizeof text, "sasl.username=${file:%s}\n", path);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(kafka_props_apply(conf, text, '\n', "KAFKA_CONFIG_FILE", err, sizeof err), 0);
    assert_string_equal(get(conf, "sasl.username"), "svc-trackstar"); /* newline dropped */
    /* A missing secret file names the key and the path, and stops the client. */
    snprintf(text, sizeof text, "client.id=x\nsasl.password=${file:%s/nope}\n", tmpdir);
    assert_int_equal(kafka_props_apply(conf, text, '\n', "KAFKA_CONFIG_FILE", err, sizeof err), -1);
    assert_non_null(strstr(err, "KAFKA_CONFIG_FILE line 2: sasl.password"));
    assert_non_null(strstr(err, "/nope"));
    rd_kafka_conf_destroy(conf);
}

static void errors_name_the_key_never_the_value(void **state) {
    (void)state;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512] = "";
    /* An invalid value: librdkafka's own message would quote it. */
    assert_int_equal(kafka_props_apply(conf, "acks=hunter2-secret\n", '\n', "KAFKA_CONFIG_FILE",
                                       err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "line 1: acks"));
    assert_null(strstr(err, "hunter2"));
    assert_int_equal(kafka_props_apply(conf, "\nsasl.pasword=hunter2\n", '\n', "KAFKA_CONFIG_FILE",
                                       err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "line 2: sasl.pasword: not a librdkafka property"));
    assert_null(strstr(err, "hunter2"));
    /* A line without '=' is reported by number only: it may be a pasted secret. */
    assert_int_equal(kafka_props_apply(conf, "client.id=a\nhunter2\n", '\n', "KAFKA_CONFIG_FILE",
                                       err, sizeof err),
                     -1);
    assert_string_equal(err, "KAFKA_CONFIG_FILE line 2: not key=value");
    rd_kafka_conf_destroy(conf);
}

static void consumer_list_is_comma_separated(void **state) {
    (void)state;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512] = "";
    assert_int_equal(kafka_props_apply(conf, "session.timeout.ms=6000, heartbeat.interval.ms=500",
                                       ',', "KAFKA_CONSUMER_EXTRA", err, sizeof err),
                     0);
    assert_string_equal(get(conf, "session.timeout.ms"), "6000");
    assert_string_equal(get(conf, "heartbeat.interval.ms"), "500");
    assert_int_equal(kafka_props_apply(conf, "a.b=1", ',', "KAFKA_CONSUMER_EXTRA", err, sizeof err),
                     -1);
    assert_string_equal(err, "KAFKA_CONSUMER_EXTRA item 1: a.b: not a librdkafka property");
    rd_kafka_conf_destroy(conf);
}

static char *file_text;
static const cfg_var file_table[] = {
    {"TEST_KAFKA_CONFIG_FILE", CFG_FILE, "", 0, 0, CFG_SECRET, "a file", &file_text},
};

static void cfg_file_reads_content_and_names_the_variable(void **state) {
    (void)state;
    char err[512] = "";
    unsetenv("TEST_KAFKA_CONFIG_FILE");
    assert_int_equal(cfg_load(file_table, 1, err, sizeof err), 0);
    assert_string_equal(file_text, "");
    setenv("TEST_KAFKA_CONFIG_FILE", write_file("client.properties", "linger.ms=5\n"), 1);
    assert_int_equal(cfg_load(file_table, 1, err, sizeof err), 0);
    assert_string_equal(file_text, "linger.ms=5\n");
    free(file_text);
    setenv("TEST_KAFKA_CONFIG_FILE", "/nonexistent/client.properties", 1);
    assert_int_equal(cfg_load(file_table, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "TEST_KAFKA_CONFIG_FILE: /nonexistent/client.properties: "));
    unsetenv("TEST_KAFKA_CONFIG_FILE");
}

/* A trimmed librdkafka 2.0.2 statistics document of a consumer. */
static const char consumer_stats[] =
    "{\"name\":\"writer#consumer-1\",\"client_id\":\"writer\",\"type\":\"consumer\","
    "\"replyq\":3,\"msg_cnt\":0,"
    "\"brokers\":{\"127.0.0.1:9092/bootstrap\":{\"nodeid\":-1,\"rtt\":{\"avg\":0}},"
    "\"127.0.0.1:9092/1\":{\"nodeid\":1,\"outbuf_cnt\":2,\"waitresp_cnt\":1,"
    "\"rtt\":{\"avg\":2500,\"p99\":9000}}},"
    "\"topics\":{\"wms.orders.v1\":{\"partitions\":{"
    "\"0\":{\"consumer_lag\":42},\"1\":{\"consumer_lag\":-1},\"-1\":{\"consumer_lag\":-1}}}}}";

/* ... and of a producer: batchcnt and batchsize are windows over the last interval. */
static const char producer_stats[] =
    "{\"name\":\"normalizer#producer-1\",\"client_id\":\"normalizer\",\"type\":\"producer\","
    "\"replyq\":0,\"msg_cnt\":7,\"brokers\":{},"
    "\"topics\":{\"trackstar.canonical.orders.v1\":{\"batchsize\":{\"avg\":2240,\"cnt\":12},"
    "\"batchcnt\":{\"avg\":6,\"cnt\":12},\"partitions\":{\"0\":{}}},"
    "\"trackstar.dlq.v1\":{\"batchsize\":{\"avg\":0,\"cnt\":0},"
    "\"batchcnt\":{\"avg\":0,\"cnt\":0}}}}";

static void statistics_become_gauges(void **state) {
    (void)state;
    assert_int_equal(kafka_stats_apply(consumer_stats, strlen(consumer_stats)), 0);
    assert_int_equal(kafka_stats_apply("[1]", 3), -1);
    char *out = metrics_render();
    assert_non_null(strstr(out,
                           "kafka_consumer_lag_messages{client=\"writer-consumer\",topic=\"wms."
                           "orders.v1\",partition=\"0\"} 42\n"));
    assert_non_null(strstr(out,
                           "kafka_consumer_lag_messages{client=\"writer-consumer\",topic=\"wms."
                           "orders.v1\",partition=\"1\"} 0\n"));
    assert_null(strstr(out, "partition=\"-1\""));
    assert_non_null(strstr(
        out, "kafka_broker_rtt_seconds{client=\"writer-consumer\",broker=\"127.0.0.1:9092/1\"} "
             "0.0025\n"));
    assert_null(strstr(out, "bootstrap"));
    assert_non_null(strstr(out, "kafka_broker_outbuf_requests{client=\"writer-consumer\","
                                "broker=\"127.0.0.1:9092/1\"} 2\n"));
    assert_non_null(strstr(out, "kafka_client_replyq{client=\"writer-consumer\"} 3\n"));
    /* Batches are a producer's: a consumer's topics give none. */
    assert_null(strstr(out, "kafka_producer_batch_messages{client=\"writer-consumer\""));
    free(out);

    assert_int_equal(kafka_stats_apply(producer_stats, strlen(producer_stats)), 0);
    out = metrics_render();
    assert_non_null(strstr(out, "kafka_client_queue_messages{client=\"normalizer-producer\"} 7\n"));
    assert_non_null(strstr(out, "kafka_producer_batch_messages{client=\"normalizer-producer\","
                                "topic=\"trackstar.canonical.orders.v1\"} 6\n"));
    assert_non_null(strstr(out, "kafka_producer_batch_bytes{client=\"normalizer-producer\","
                                "topic=\"trackstar.canonical.orders.v1\"} 2240\n"));
    assert_non_null(strstr(out, "kafka_producer_batch_messages{client=\"normalizer-producer\","
                                "topic=\"trackstar.dlq.v1\"} 0\n"));
    free(out);
}

static void histogram_and_escaped_labels_render(void **state) {
    (void)state;
    static const double le[] = {0.01, 0.1, 1};
    metric *h = metric_histogram("test_latency_seconds", "a histogram", le, 3);
    metric_observe(h, 0.005);
    metric_observe(h, 0.05);
    metric_observe(h, 0.05);
    metric_observe(h, 30);
    assert_int_equal(metric_histogram_count(h), 4);
    const char *const l[] = {"name", "a\"b\\c\nd", NULL};
    metric_set(metric_gauge_labels("test_escaped", "escaping", l, 1), 7);
    const char *const hl[] = {"resource", "orders", "source", "poll", NULL};
    metric_observe(metric_histogram_labels("test_lag_seconds", "labelled", hl, le, 3), 0.5);
    char *out = metrics_render();
    assert_non_null(strstr(out, "# TYPE test_latency_seconds histogram\n"
                                "test_latency_seconds_bucket{le=\"0.01\"} 1\n"
                                "test_latency_seconds_bucket{le=\"0.1\"} 3\n"
                                "test_latency_seconds_bucket{le=\"1\"} 3\n"
                                "test_latency_seconds_bucket{le=\"+Inf\"} 4\n"
                                "test_latency_seconds_sum 30.105"));
    assert_non_null(strstr(out, "test_latency_seconds_count 4\n"));
    assert_non_null(strstr(out, "test_escaped{name=\"a\\\"b\\\\c\\nd\"} 7\n"));
    assert_non_null(strstr(out, "test_lag_seconds_bucket{resource=\"orders\",source=\"poll\","
                                "le=\"0.1\"} 0\n"
                                "test_lag_seconds_bucket{resource=\"orders\",source=\"poll\","
                                "le=\"1\"} 1\n"));
    assert_non_null(strstr(out, "test_lag_seconds_sum{resource=\"orders\",source=\"poll\"} 0.5\n"
                                "test_lag_seconds_count{resource=\"orders\",source=\"poll\"} 1\n"));
    assert_non_null(strstr(out, "process_resident_memory_bytes "));
    assert_non_null(strstr(out, "process_open_fds "));
    assert_non_null(strstr(out, "trackstar_build_info{stage="));
    free(out);
}

int main(void) {
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_values_with_commas_comments_and_crlf),
        cmocka_unit_test(secret_from_mounted_file),
        cmocka_unit_test(errors_name_the_key_never_the_value),
        cmocka_unit_test(consumer_list_is_comma_separated),
        cmocka_unit_test(cfg_file_reads_content_and_names_the_variable),
        cmocka_unit_test(statistics_become_gauges),
        cmocka_unit_test(histogram_and_escaped_labels_render),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
