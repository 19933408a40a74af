/* publish.c - produce a committed batch's applied versions (see publish.h). */
#include "writer/publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka.h"
#include "log.h"
#include "topics.h"
#include "util.h"

/* Produce one message (copied: a stop may return before its delivery report). 0, or -1
 * when asked to stop while the queue stays full or the produce keeps failing. */
static int produce_one(rd_kafka_t *p, const char *prefix, const wdb_pub *m,
                       const rd_kafka_message_t *from, const char *applied_at, kafka_delivery *dr) {
    char topic[256], canonical_ts[24] = "";
    const char *raw_ts = NULL;
    size_t raw_ts_len = 0;
    snprintf(topic, sizeof topic, "%s%s", prefix, m->topic);
    if (from) {
        int64_t ts = rd_kafka_message_timestamp(from, NULL);
        if (ts >= 0) snprintf(canonical_ts, sizeof canonical_ts, "%lld", (long long)ts);
        if (kafka_header(from, HDR_RAW_TS, &raw_ts, &raw_ts_len) != 0) raw_ts = NULL;
    }
    for (int attempt = 0;; attempt++) {
        dr->state = KAFKA_PENDING;
        rd_kafka_headers_t *h = rd_kafka_headers_new(3);
        rd_kafka_header_add(h, HDR_APPLIED_AT, -1, applied_at, -1);
        if (raw_ts) rd_kafka_header_add(h, HDR_RAW_TS, -1, raw_ts, (ssize_t)raw_ts_len);
        if (*canonical_ts) rd_kafka_header_add(h, HDR_CANONICAL_TS, -1, canonical_ts, -1);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(m->key, m->key_len),
                              RD_KAFKA_V_VALUE((void *)m->value, m->value ? m->value_len : 0),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                              RD_KAFKA_V_OPAQUE(dr), RD_KAFKA_V_END);
        if (!err) return 0;
        rd_kafka_headers_destroy(h); /* owned by the producer only on success */
        if (util_stop && attempt > 100) return -1;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            log_warn("produce failed, retrying", "topic", topic, "error", rd_kafka_err2str(err),
                     NULL);
        /* Queue full: serve delivery reports to make room, then try again. */
        rd_kafka_poll(p, 100);
    }
}

static int same_key(const wdb_pub *a, const wdb_pub *b) {
    return a->key_len == b->key_len && strcmp(a->topic, b->topic) == 0 &&
           memcmp(a->key, b->key, a->key_len) == 0;
}

/* Mark the final messages of pubs[i]'s key (its last record, and the tombstone after it)
 * as needed again, and every earlier message of that key as no longer needed. */
static void final_state(const wdb_pub *pubs, int n, int i, int *need, int *redo) {
    int last = i;
    for (int j = i + 1; j < n; j++)
        if (same_key(&pubs[j], &pubs[i])) last = j;
    int first_final = last;
    if (!pubs[last].value && last > 0) {
        for (int j = last - 1; j >= 0; j--)
            if (same_key(&pubs[j], &pubs[last])) {
                first_final = j;
                break;
            }
    }
    for (int j = 0; j < n; j++) {
        if (!same_key(&pubs[j], &pubs[i])) continue;
        if (j >= first_final) {
            redo[j] = 1;
            need[j] = 1;
        } else {
            need[j] = 0;
        }
    }
}

static const rd_kafka_message_t *origin(rd_kafka_message_t *const *msgs, const wdb_pub *m) {
    return msgs && m->item >= 0 ? msgs[m->item] : NULL;
}

/* Room for n messages' delivery state; the buffers are kept from batch to batch. */
static int reserve(publication *p, int n) {
    if (n <= p->cap) return 0;
    kafka_delivery *dr = realloc(p->dr, (size_t)n * sizeof *dr);
    if (dr) p->dr = dr;
    int *need = realloc(p->need, (size_t)n * sizeof *need);
    if (need) p->need = need;
    int *redo = realloc(p->redo, (size_t)n * sizeof *redo);
    if (redo) p->redo = redo;
    if (!dr || !need || !redo) return -1;
    p->cap = n;
    return 0;
}

int publication_start(publication *p, rd_kafka_t *producer, const char *prefix, const wdb_pub *pubs,
                      int n, rd_kafka_message_t *const *msgs, const char *applied_at) {
    p->pubs = pubs;
    p->n = 0;
    p->msgs = msgs;
    p->prefix = prefix;
    p->applied_at = applied_at;
    if (n == 0) return 0;
    if (reserve(p, n) != 0) {
        log_error("out of memory publishing a batch", NULL);
        return -1;
    }
    memset(p->dr, 0, (size_t)n * sizeof *p->dr);
    p->n = n;
    for (int i = 0; i < n; i++) {
        p->need[i] = 1;
        if (produce_one(producer, prefix, &pubs[i], origin(msgs, &pubs[i]), applied_at, &p->dr[i]))
            return -1;
    }
    return 0;
}

int publication_finish(publication *p, rd_kafka_t *producer, long long *redelivered) {
    const wdb_pub *pubs = p->pubs;
    int n = p->n, *need = p->need, *redo = p->redo;
    kafka_delivery *dr = p->dr;
    for (int attempt = 0; n > 0; attempt++) {
        rd_kafka_flush(producer, 1000);
        int failed = 0, pending = 0;
        for (int i = 0; i < n; i++) {
            if (!need[i]) continue;
            pending += dr[i].state == KAFKA_PENDING;
            failed += dr[i].state == KAFKA_FAILED;
        }
        if (!failed && !pending) break;
        if (util_stop && attempt > 10) return -1;
        if (!failed) continue;
        /* Deliveries stay in order per partition, but one that failed may sit between
         * acknowledged ones of the same key: produce that key's final state again. */
        memset(redo, 0, (size_t)n * sizeof *redo);
        for (int i = 0; i < n; i++)
            if (need[i] && dr[i].state == KAFKA_FAILED) final_state(pubs, n, i, need, redo);
        log_warn("publications failed, producing the final state of their keys again", NULL);
        usleep((useconds_t)(attempt < 10 ? 100000 * (attempt + 1) : 1000000));
        for (int i = 0; i < n; i++) {
            if (!redo[i]) continue;
            if (produce_one(producer, p->prefix, &pubs[i], origin(p->msgs, &pubs[i]), p->applied_at,
                            &dr[i]))
                return -1;
            if (redelivered) (*redelivered)++;
        }
    }
    p->n = 0;
    return 0;
}

void publication_free(publication *p) {
    free(p->dr);
    free(p->need);
    free(p->redo);
    memset(p, 0, sizeof *p);
}
