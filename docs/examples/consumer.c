/* consumer.c - the smallest correct reader of a trackstar-pipeline canonical topic.
 *
 * It joins a consumer group on one wms.<entity>.v1 topic, and for every record keeps only
 * the version that wins per Kafka key (connection_id|id), by the rule the pipeline's own
 * writer applies (docs/consuming.md, "Which version wins"): a redelivered, older or
 * late-delivered record is skipped. Records with a schema_version it does not know are
 * reported and skipped, never misread.
 * Here "applying" a record just prints it; put your own upsert there.
 *
 *   cc docs/examples/consumer.c -lrdkafka -lcjson -o consumer
 *   ./consumer localhost:9092 my-team-orders wms.orders.v1
 *
 * Offsets are committed automatically only for messages already handed to the loop
 * (enable.auto.offset.store=false + rd_kafka_offset_store() after processing), so a crash
 * replays at most the last few records: harmless, because applying is idempotent.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_SCHEMA_VERSION 1
#define MAX_KEYS 100000 /* a demo: a real consumer keeps versions in its database */

static volatile sig_atomic_t run = 1;
static void stop(int sig) {
    (void)sig;
    run = 0;
}

/* key -> the version held: source_updated_at, trackstar_updated_at (NULL when null) and
 * the content (the record without how it was observed). RFC 3339 UTC strings compare as
 * text. */
typedef struct held {
    char *key, *updated, *ts_updated, *content;
} held;
static held seen[MAX_KEYS];
static int nseen;

static const char *str_of(const cJSON *rec, const char *name) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, name));
}

/* NULL (older than any date) < a date; dates compare as text. */
static int cmp_nullable(const char *a, const char *b) {
    if (!a || !b) return a ? 1 : b ? -1 : 0;
    return strcmp(a, b);
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

/* 1 when rec wins over what is held for key (and is now held); 0 to skip it. */
static int wins(const char *key, cJSON *rec) {
    const char *upd = str_of(rec, "source_updated_at"), *tsu = str_of(rec, "trackstar_updated_at");
    const char *src = str_of(rec, "source");
    int poll = src && strcmp(src, "poll") == 0;
    cJSON *c = cJSON_Duplicate(rec, 1);
    const char *observation[] = {"source", "event_id", "event_type", "observed_at"};
    for (size_t i = 0; i < sizeof observation / sizeof observation[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(c, observation[i]);
    char *content = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    held *h = NULL;
    for (int i = 0; i < nseen && !h; i++)
        if (strcmp(seen[i].key, key) == 0) h = &seen[i];
    if (h) {
        int v = strcmp(upd, h->updated);
        if (v == 0) v = cmp_nullable(tsu, h->ts_updated);
        /* older: never; the same version: only a poll with other content */
        if (v < 0 || (v == 0 && (!poll || strcmp(content, h->content) == 0))) {
            free(content);
            return 0;
        }
        free(h->updated), free(h->ts_updated), free(h->content);
    } else if (nseen < MAX_KEYS) {
        h = &seen[nseen++];
        h->key = strdup(key);
    } else {
        free(content);
        return 1; /* a demo's limit: not tracked */
    }
    h->updated = strdup(upd);
    h->ts_updated = dup_or_null(tsu);
    h->content = content;
    return 1;
}

static void handle(const rd_kafka_message_t *m) {
    char key[1024];
    if (!m->key || m->key_len >= sizeof key || !m->payload) {
        fprintf(stderr, "skipping message without key or value at offset %lld\n",
                (long long)m->offset);
        return;
    }
    memcpy(key, m->key, m->key_len);
    key[m->key_len] = '\0';
    cJSON *rec = cJSON_ParseWithLength(m->payload, m->len);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(rec, "schema_version");
    const cJSON *upd = cJSON_GetObjectItemCaseSensitive(rec, "source_updated_at");
    if (!cJSON_IsNumber(ver) || ver->valueint != KNOWN_SCHEMA_VERSION || !cJSON_IsString(upd)) {
        fprintf(stderr, "skipping %s: unknown schema_version or no source_updated_at\n", key);
    } else if (!wins(key, rec)) {
        printf("older or same version of %s skipped (%s)\n", key, upd->valuestring);
    } else {
        const cJSON *ent = cJSON_GetObjectItemCaseSensitive(rec, "entity");
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(rec, "source");
        printf("apply %s %s version %s via %s\n", cJSON_IsString(ent) ? ent->valuestring : "?", key,
               upd->valuestring, cJSON_IsString(src) ? src->valuestring : "?");
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
    for (int i = 0; i < nseen; i++) {
        free(seen[i].key);
        free(seen[i].updated);
        free(seen[i].ts_updated);
        free(seen[i].content);
    }
    return rc;
}
