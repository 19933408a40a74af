/* publish.h - the writer's publications on the public wms.<entity>.v1 topics: what a
 * committed batch applied (wdb_published), in order, each with the applied_at header.
 *
 * Per key the order must never go backwards, and a delivery that failed is never
 * produced again on its own (that would put an older version after a newer one of the
 * same key): for every key with a failed delivery the batch's final state of that key
 * (its last record, and the tombstone after it when it was deleted) is produced again,
 * until the broker has acknowledged it. A repeated message of the same version is
 * allowed; a missing or regressing one is not.
 */
#ifndef WRITER_PUBLISH_H
#define WRITER_PUBLISH_H

#include <librdkafka/rdkafka.h>

#include "writer/db.h"

#define HDR_APPLIED_AT "applied_at" /* RFC 3339 UTC, ms: the commit that applied it */

/* Produce pubs[0..n) with producer (created with kafka_delivery_cb as its delivery
 * callback) to prefix + topic, and wait until all are acknowledged. msgs are the batch's
 * canonical messages by item (wdb_pub.item): a version applied from one carries its
 * timing headers on (HDR_RAW_TS, HDR_CANONICAL_TS). *redelivered counts the messages
 * produced again. 0, or -1 when asked to stop (util_stop) first: then the batch's
 * offsets must not be stored. */
int publish_batch(rd_kafka_t *producer, const char *prefix, const wdb_pub *pubs, int n,
                  rd_kafka_message_t *const *msgs, const char *applied_at, long long *redelivered);

#endif
