/* consumer.c - the smallest correct reader of a trackstar-pipeline public topic.
 *
 * It joins a consumer group on one wms.<entity>.v1 topic and keeps, for every Kafka key
 * (connection_id|id), the LAST message it read: the pipeline's writer publishes exactly the
 * versions PostgreSQL applied, in the order it applied them, so the last message per key is
 * the record as the database holds it, and no version comparison is needed. A tombstone
 * (null value, after a delete record) means the record is gone: forget the key. Records
 * with a schema_version it does not know are reported and skipped, never misread.
 * Here "applying" prints "upsert <key> <record>" or "delete <key>"; put your own upsert and
 * delete there.
 *
 *   cc docs/examples/consumer.c -lrdkafka -lcjson -o consumer
 *   ./consumer localhost:9092 my-team-orders wms.orders.v1
 *
 * Offsets are committed automatically only for messages already handed to the loop
 * (enable.auto.offset.store=false + rd_kafka_offset_store() after processing), so a crash
 * replays at most the last few records: harmless, because applying is idempotent.
 */
#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_SCHEMA_VERSION 1

static volatile sig_atomic_t run = 1;
static void stop(int sig) {
    (void)sig;
    run = 0;
}

static void handle(const rd_kafka_message_t *m) {
    if (!m->key) {
        fprintf(stderr, "skipping message without key at offset %lld\n", (long long)m->offset);
        return;
    }
    int klen = (int)m->key_len;
    const char *key = m->key;
    if (!m->payload) { /* a tombstone: the record was deleted (or its connection purged) */
        printf("delete %.*s\n", klen, key);
        return;
    }
    cJSON *rec = cJSON_ParseWithLength(m->payload, m->len);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(rec, "schema_version");
    if (!cJSON_IsNumber(ver) || ver->valueint != KNOWN_SCHEMA_VERSION) {
        fprintf(stderr, "skipping %.*s: unknown schema_version\n", klen, key);
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "deleted"))) {
        /* The delete record (deleted_at: when it was found gone); the tombstone follows. */
        printf("delete %.*s\n", klen, key);
    } else {
        printf("upsert %.*s %.*s\n", klen, key, (int)m->len, (const char *)m->payload);
    }
    cJSON_Delete(rec);
}

int main(int argc, char **argv) {
    char errstr[512];
    if (argc != 4) {
        fprintf(stderr, "usage: %s <brokers> <group.id> <topic>\n", argv[0]);
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "group.id", argv[2], errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", errstr,
                          sizeof errstr)) {
        fprintf(stderr, "config: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "consumer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    conf = NULL; /* now owned by rk */
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, argv[3], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        fprintf(stderr, "subscribe: %s\n", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return 1;
    }
    signal(SIGINT, stop);
    signal(SIGTERM, stop);
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line per record, even into a pipe or file */
    int rc = 0;
    while (run) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err) {
            fprintf(stderr, "consumer: %s\n", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                rc = 1;
                run = 0;
            }
        } else {
            handle(m);
            /* Only after it was handled; stores offset + 1, committed by auto-commit. */
            rd_kafka_offset_store(m->rkt, m->partition, m->offset);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk); /* commits the stored offsets */
    rd_kafka_destroy(rk);
    return rc;
}
