/* partitions.h - the writer's input partitions: which it owns (from the consumer's
 * rebalance hook), which it has claimed in PostgreSQL (wdb_claim: the epoch its batches
 * must hold), and up to which offset a record may have been committed by a previous owner
 * but not published (its stored row is then republished).
 *
 * A batch drops the messages of partitions this writer does not own when it is applied:
 * their next owner reads them again. A partition assigned again (a session that timed out
 * during a broker outage gets its partitions back) is usable at once, messages consumed
 * before the revocation included: it is claimed again first (a new epoch fences off any
 * writer that had it meanwhile), and what is applied twice changes nothing. Dropping them
 * instead lost data: the consumer's position had already moved past them.
 * Single-threaded: the hook runs inside the consumer's poll, on the writer's one thread.
 */
#ifndef WRITER_PARTITIONS_H
#define WRITER_PARTITIONS_H

#include <librdkafka/rdkafka.h>

typedef struct wpart {
    char topic[256];
    int partition;
    int owned;                 /* assigned to this writer now */
    int claimed;               /* epoch valid: claimed since it was (re)assigned */
    long long epoch;           /* from wdb_claim */
    long long recover_through; /* records at offsets <= this: republish their stored rows */
} wpart;

typedef struct wparts {
    wpart *p;
    int n, cap;
} wparts;

/* A kafka_rebalance_hook (common/kafka.h); arg is the wparts. */
void wparts_hook(rd_kafka_t *rk, int assigned, const rd_kafka_topic_partition_list_t *parts,
                 void *arg);

/* The entry of (topic, partition), or NULL when it was never assigned. */
wpart *wparts_find(wparts *w, const char *topic, int partition);

/* 1 when messages of (topic, partition) may be applied: owned now. */
int wparts_usable(wparts *w, const char *topic, int partition);

/* A fence was lost (another writer claimed the partition): stop using it until the
 * group assigns it again. */
void wparts_lost(wparts *w, const char *topic, int partition);

void wparts_free(wparts *w);

#endif
