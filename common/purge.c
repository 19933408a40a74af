/* purge.c - remove one connection's data from PostgreSQL and from the compacted topics
 * (see purge.h for the contract and the ordering with the writer).
 *
 *   1. refuse unless the connection is deleted (or forced);
 *   2. read every compacted topic to its end, noting the keys of the connection whose last
 *      message is a record (to be tombstoned), without holding anything;
 *   3. take the purge lock exclusively: every writer finishes the batch it is publishing,
 *      and starts no other;
 *   4. the purge marker on trackstar.purged-connections.v1 (acknowledged), then
 *      purge_connection_rows() (writer/migrations): every row, every table, and the marker;
 *   5. read what was published between 2 and 3, then produce a tombstone for every key
 *      still live, and wait until the broker has acknowledged them all;
 *   6. release the lock.
 */
#include "purge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "entities.h"
#include "kafka.h"
#include "kafka_props.h"
#include "strmap.h"
#include "topics.h"
#include "util.h"

#define PURGE_MAX_PARTITIONS 1024
#define PURGE_TIMEOUT_MS 10000 /* metadata and watermark requests */

/* The compacted topics a purge tombstones: every entity's public topic and the
 * connection events. */
#define PUBLIC_TOPIC(name, ...) TS_TOPIC(name),
static const char *const compacted[] = {TOPIC_CONNECTION_EVENTS, TS_ENTITIES(PUBLIC_TOPIC)};
#undef PUBLIC_TOPIC
enum { NCOMPACTED = sizeof compacted / sizeof compacted[0] };

/* A reader of whole topics, pass after pass, keeping per topic the keys starting with
 * prefix and whether their last message is a record (1) or a tombstone (0). */
typedef struct scan {
    rd_kafka_t *rk;
    int ntopics;
    char names[NCOMPACTED][256];
    int nparts[NCOMPACTED];
    int64_t *next[NCOMPACTED]; /* per partition: the first offset not read yet */
    strmap *live[NCOMPACTED];
    const char *prefix;
    size_t plen;
    /* optional: every message of a key with the prefix, in order (value NULL: tombstone) */
    int (*on_msg)(void *arg, const char *key, const void *value, size_t len);
    void *arg;
} scan;

static void say(purge_progress_fn fn, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(purge_progress_fn fn, void *arg, const char *fmt, ...) {
    if (!fn) return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fn(arg, buf);
}

static void scan_free(scan *s) {
    if (s->rk) {
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
    }
    for (int t = 0; t < s->ntopics; t++) {
        free(s->next[t]);
        strmap_free(s->live[t]);
    }
}

/* topics[0..n) (n <= NCOMPACTED) with the topic prefix. */
static int scan_open(scan *s, const char *bootstrap, const char *props, const char *prefix,
                     const char *const *topics, int n, char *errstr, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[64];
    snprintf(group, sizeof group, "trackstar-purge-%d", (int)getpid());
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errlen) ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, errlen) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errlen) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, errlen) ||
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr, errlen) ||
        kafka_props_apply(conf, props, '\n', "KAFKA_CONFIG_FILE", errstr, errlen)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    if (!(s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen))) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_poll_set_consumer(s->rk);
    s->ntopics = n;
    for (int t = 0; t < n; t++) {
        topic_name(prefix, topics[t], s->names[t], sizeof s->names[t]);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, s->names[t], NULL);
        rd_kafka_resp_err_t err =
            rkt ? rd_kafka_metadata(s->rk, 0, rkt, &md, PURGE_TIMEOUT_MS) : rd_kafka_last_error();
        if (rkt) rd_kafka_topic_destroy(rkt);
        if (err || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1 ||
            md->topics[0].partition_cnt > PURGE_MAX_PARTITIONS) {
            snprintf(errstr, errlen, "topic %s: %s", s->names[t],
                     err ? rd_kafka_err2str(err) : "not found or no partitions");
            if (md) rd_kafka_metadata_destroy(md);
            return -1;
        }
        s->nparts[t] = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        s->next[t] = calloc((size_t)s->nparts[t], sizeof *s->next[t]);
        s->live[t] = strmap_new();
        if (!s->next[t] || !s->live[t]) {
            snprintf(errstr, errlen, "out of memory");
            return -1;
        }
        for (int p = 0; p < s->nparts[t]; p++)
            s->next[t][p] = RD_KAFKA_OFFSET_BEGINNING;
    }
    return 0;
}

/* Read every partition from where the last pass stopped to its current end. */
static int scan_pass(scan *s, char *errstr, size_t errlen) {
    for (int t = 0; t < s->ntopics; t++) {
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(s->nparts[t]);
        int64_t *end = calloc((size_t)s->nparts[t], sizeof *end);
        int open = 0, rc = 0;
        if (!end) {
            rd_kafka_topic_partition_list_destroy(parts);
            snprintf(errstr, errlen, "out of memory");
            return -1;
        }
        for (int p = 0; p < s->nparts[t]; p++) {
            int64_t lo, hi;
            rd_kafka_resp_err_t err =
                rd_kafka_query_watermark_offsets(s->rk, s->names[t], p, &lo, &hi, PURGE_TIMEOUT_MS);
            if (err) {
                snprintf(errstr, errlen, "%s[%d]: %s", s->names[t], p, rd_kafka_err2str(err));
                rc = -1;
                break;
            }
            end[p] = hi;
            int64_t from = s->next[t][p] == RD_KAFKA_OFFSET_BEGINNING ? lo : s->next[t][p];
            if (from < lo) from = lo; /* dropped meanwhile (retention) */
            s->next[t][p] = from;
            if (from >= hi) continue;
            rd_kafka_topic_partition_list_add(parts, s->names[t], p)->offset = from;
            open++;
        }
        if (rc == 0 && open) {
            rd_kafka_resp_err_t err = rd_kafka_assign(s->rk, parts);
            if (err) {
                snprintf(errstr, errlen, "assign %s: %s", s->names[t], rd_kafka_err2str(err));
                rc = -1;
            }
        }
        while (rc == 0 && open > 0) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 1000);
            if (!m) {
                if (util_stop) {
                    snprintf(errstr, errlen, "interrupted");
                    rc = -1;
                }
                continue;
            }
            int p = (int)m->partition;
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                snprintf(errstr, errlen, "%s: %s", s->names[t], rd_kafka_message_errstr(m));
                rc = -1;
            } else if (p >= 0 && p < s->nparts[t] && s->next[t][p] < end[p]) {
                if (!m->err) {
                    s->next[t][p] = m->offset + 1;
                    if (m->key && m->key_len >= s->plen && m->key_len < 4096 &&
                        memcmp(m->key, s->prefix, s->plen) == 0) {
                        char key[4096];
                        memcpy(key, m->key, m->key_len);
                        key[m->key_len] = '\0';
                        if (strmap_put(s->live[t], key, m->payload != NULL) ||
                            (s->on_msg && s->on_msg(s->arg, key, m->payload, m->len))) {
                            snprintf(errstr, errlen, "out of memory");
                            rc = -1;
                        }
                    }
                } else {
                    s->next[t][p] = end[p]; /* at the end */
                }
                if (s->next[t][p] >= end[p]) open--;
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_assign(s->rk, NULL);
        rd_kafka_topic_partition_list_destroy(parts);
        free(end);
        if (rc) return -1;
    }
    return 0;
}

/* Tombstone every key still live, and wait for the acknowledgements. */
static long long tombstones(scan *s, rd_kafka_t *producer, char *errstr, size_t errlen) {
    long long n = 0;
    size_t cap = 0;
    kafka_delivery *dr = NULL;
    for (int t = 0; t < s->ntopics; t++)
        cap += strmap_count(s->live[t]);
    if (cap && !(dr = calloc(cap, sizeof *dr))) {
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    for (int t = 0; t < s->ntopics; t++) {
        size_t pos = 0;
        const char *key;
        int live;
        while (strmap_next(s->live[t], &pos, &key, &live)) {
            if (!live) continue;
            kafka_delivery *d = &dr[n];
            for (;;) {
                rd_kafka_resp_err_t err = rd_kafka_producev(
                    producer, RD_KAFKA_V_TOPIC(s->names[t]), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(NULL, 0), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
                if (!err) break;
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    snprintf(errstr, errlen, "tombstone on %s: %s", s->names[t],
                             rd_kafka_err2str(err));
                    free(dr);
                    return -1;
                }
                rd_kafka_poll(producer, 100);
            }
            d->state = KAFKA_PENDING;
            n++;
        }
    }
    rd_kafka_flush(producer, 60000);
    for (long long i = 0; i < n; i++)
        if (dr[i].state != KAFKA_DELIVERED) {
            snprintf(errstr, errlen, "a tombstone was not acknowledged: %s",
                     dr[i].state == KAFKA_PENDING ? "timed out" : rd_kafka_err2str(dr[i].err));
            free(dr);
            return -1;
        }
    free(dr);
    return n;
}

/* Produce the purge marker (key: the hash; value: when) and wait for its acknowledgement. */
static int marker_publish(rd_kafka_t *producer, const char *prefix, const char *hash,
                          const char *at, char *errstr, size_t errlen) {
    char topic[256], value[96];
    kafka_delivery d = {.state = KAFKA_PENDING};
    topic_name(prefix, TOPIC_PURGED, topic, sizeof topic);
    snprintf(value, sizeof value, "{\"purged_at\":\"%s\"}", at);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(hash, strlen(hash)),
        RD_KAFKA_V_VALUE(value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    if (err) {
        snprintf(errstr, errlen, "purge marker: %s", rd_kafka_err2str(err));
        return -1;
    }
    rd_kafka_flush(producer, 30000);
    if (d.state != KAFKA_DELIVERED) {
        snprintf(errstr, errlen, "purge marker not acknowledged: %s",
                 d.state == KAFKA_PENDING ? "timed out" : rd_kafka_err2str(d.err));
        return -1;
    }
    return 0;
}

typedef struct markers {
    purge_marker_fn fn;
    void *arg;
    strmap *at; /* hash -> index into times */
    char (*times)[40];
    int n, cap;
} markers;

/* The last purged_at per hash (a tombstone would clear it: none is ever written). */
static int marker_msg(void *arg, const char *key, const void *value, size_t len) {
    markers *m = arg;
    int i;
    if (!strmap_get(m->at, key, &i)) {
        if (m->n == m->cap) {
            int cap = m->cap ? m->cap * 2 : 64;
            char(*t)[40] = realloc(m->times, (size_t)cap * sizeof *t);
            if (!t) return -1;
            m->times = t;
            m->cap = cap;
        }
        i = m->n++;
        if (strmap_put(m->at, key, i)) return -1;
    }
    m->times[i][0] = '\0';
    cJSON *v = value ? cJSON_ParseWithLength(value, len) : NULL;
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "purged_at"));
    if (at) snprintf(m->times[i], sizeof m->times[i], "%s", at);
    cJSON_Delete(v);
    return 0;
}

int purge_markers(const char *bootstrap, const char *props, const char *prefix, purge_marker_fn fn,
                  void *arg, char *errstr, size_t errlen) {
    static const char *const topics[] = {TOPIC_PURGED};
    markers m = {.fn = fn, .arg = arg, .at = strmap_new()};
    scan s = {.prefix = "", .plen = 0, .on_msg = marker_msg, .arg = &m};
    int rc = -1;
    if (!m.at) {
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    if (scan_open(&s, bootstrap, props, prefix ? prefix : "", topics, 1, errstr, errlen) == 0 &&
        scan_pass(&s, errstr, errlen) == 0) {
        rc = 0;
        size_t pos = 0;
        const char *hash;
        int live, i;
        while (rc == 0 && strmap_next(s.live[0], &pos, &hash, &live))
            if (live && strmap_get(m.at, hash, &i) &&
                fn(arg, hash, m.times[i][0] ? m.times[i] : NULL)) {
                snprintf(errstr, errlen, "purge marker %s not stored", hash);
                rc = -1;
            }
    }
    scan_free(&s);
    strmap_free(m.at);
    free(m.times);
    return rc;
}

static int exec_ok(PGconn *db, const char *sql, int n, const char *const *vals, PGresult **out,
                   char *errstr, size_t errlen) {
    PGresult *r = PQexecParams(db, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(errstr, errlen, "%s", m ? m : PQerrorMessage(db));
        PQclear(r);
        return -1;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

int purge_connection(PGconn *db, rd_kafka_t *producer, const char *bootstrap, const char *props,
                     const char *prefix, const char *connection_id, int force,
                     purge_progress_fn progress, void *arg, purge_report *rep, char *errstr,
                     size_t errlen) {
    scan s = {0};
    PGresult *r = NULL;
    int locked = 0, rc = -1;
    const char *vals[] = {connection_id};
    char keyprefix[1024];
    memset(rep, 0, sizeof *rep);
    if (!connection_id || !*connection_id || strlen(connection_id) > 512) {
        snprintf(errstr, errlen, "a connection id is required (at most 512 bytes)");
        return -1;
    }
    /* 1. */
    if (exec_ok(db, "SELECT status FROM connections WHERE connection_id = $1", 1, vals, &r, errstr,
                errlen))
        return -1;
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "deleted") != 0 && !force) {
        snprintf(errstr, errlen,
                 "connection is %s: delete it first (tsctl connections delete), or force",
                 PQgetvalue(r, 0, 0));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    /* 2. */
    snprintf(keyprefix, sizeof keyprefix, "%s|", connection_id);
    s.prefix = keyprefix;
    s.plen = strlen(keyprefix);
    say(progress, arg, "reading the compacted topics");
    if (scan_open(&s, bootstrap, props, prefix ? prefix : "", compacted, NCOMPACTED, errstr,
                  errlen) ||
        scan_pass(&s, errstr, errlen))
        goto done;
    rep->topics = NCOMPACTED;
    /* 3. */
    say(progress, arg, "waiting for the writers to finish their batches (purge lock)");
    if (exec_ok(db, "SELECT pg_advisory_lock(" PURGE_LOCK_KEY ")", 0, NULL, NULL, errstr, errlen))
        goto done;
    locked = 1;
    /* 4. The marker first, on the topic a rebuild reads (purge_markers), then the rows. */
    char at[40];
    if (exec_ok(db,
                "SELECT purge_marker($1), to_char(coalesce((SELECT purged_at FROM "
                "purged_connections WHERE connection_hash = purge_marker($1)), now()) "
                "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                1, vals, &r, errstr, errlen))
        goto done;
    snprintf(at, sizeof at, "%s", PQgetvalue(r, 0, 1));
    int mrc =
        marker_publish(producer, prefix ? prefix : "", PQgetvalue(r, 0, 0), at, errstr, errlen);
    PQclear(r);
    if (mrc) goto done;
    const char *vals2[] = {connection_id, at};
    say(progress, arg, "deleting every row of the connection");
    /* READ WRITE: tsctl's sessions are read-only by default, and this is its one write. */
    if (exec_ok(db, "BEGIN READ WRITE", 0, NULL, NULL, errstr, errlen)) goto done;
    if (exec_ok(db,
                "SELECT table_name, rows_deleted FROM purge_connection_rows($1, $2::timestamptz)",
                2, vals2, &r, errstr, errlen)) {
        PQclear(PQexec(db, "ROLLBACK"));
        goto done;
    }
    if (exec_ok(db, "COMMIT", 0, NULL, NULL, errstr, errlen)) {
        PQclear(r);
        goto done;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        long long n = atoll(PQgetvalue(r, i, 1));
        rep->rows += n;
        rep->tables += n > 0;
        if (n > 0) say(progress, arg, "  %s: %lld rows", PQgetvalue(r, i, 0), n);
    }
    PQclear(r);
    /* 5. */
    say(progress, arg, "tombstoning the connection's keys");
    if (scan_pass(&s, errstr, errlen)) goto done;
    long long n = tombstones(&s, producer, errstr, errlen);
    if (n < 0) goto done;
    rep->tombstones = n;
    rc = 0;
done:
    /* 6. */
    if (locked) {
        char e2[256];
        if (exec_ok(db, "SELECT pg_advisory_unlock(" PURGE_LOCK_KEY ")", 0, NULL, NULL, e2,
                    sizeof e2) &&
            rc == 0) {
            snprintf(errstr, errlen, "purge lock not released: %s", e2);
            rc = -1;
        }
    }
    scan_free(&s);
    return rc;
}
