/* publish.h - the writer's publications on the public wms.<entity>.v1 topics: what a
 * committed batch applied (wdb_take_published), in order, each with the applied_at header.
 *
 * Per key the order must never go backwards, and a delivery that failed is never
 * produced again on its own (that would put an older version after a newer one of the
 * same key): for every key with a failed delivery the batch's final state of that key
 * (its last record, and the tombstone after it when it was deleted) is produced again,
 * until the broker has acknowledged it. A repeated message of the same version is
 * allowed; a missing or regressing one is not.
 *
 * A publication is started (everything produced) and finished (acknowledged) in two
 * steps, so that the writer can apply its next batch while the broker acknowledges this
 * one. The next batch's publication must not start before this one finished: a key whose
 * delivery failed is produced again by publication_finish, and a newer version of it
 * must come after that.
 */
#ifndef WRITER_PUBLISH_H
#define WRITER_PUBLISH_H

#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "writer/db.h"

#define HDR_APPLIED_AT "applied_at" /* RFC 3339 UTC, ms: the commit that applied it */

typedef struct publication {
    const wdb_pub *pubs;
    int n;
    rd_kafka_message_t *const *msgs;
    const char *prefix, *applied_at;
    kafka_delivery *dr; /* each message's delivery report (its opaque) */
    int *need, *redo;
    int cap;
} publication;

/* Produce pubs[0..n) with producer (created with kafka_delivery_cb as its delivery
 * callback) to prefix + topic, without waiting. msgs are the batch's canonical messages
 * by item (wdb_pub.item): a version applied from one carries its timing headers on
 * (HDR_RAW_TS, HDR_CANONICAL_TS). pubs, msgs, prefix and applied_at must stay valid
 * until publication_finish returned. 0, or -1 when asked to stop (util_stop) first. */
int publication_start(publication *p, rd_kafka_t *producer, const char *prefix, const wdb_pub *pubs,
                      int n, rd_kafka_message_t *const *msgs, const char *applied_at);

/* Wait until every message of p is acknowledged, producing failed keys' final states
 * again; *redelivered counts those. 0, or -1 when asked to stop first: then the batch's
 * offsets must not be stored. */
int publication_finish(publication *p, rd_kafka_t *producer, long long *redelivered);

/* Free p's buffers; only once the producer served every delivery report (flushed). */
void publication_free(publication *p);

#endif
