/* fx_assign.h - which connections this replica polls, by Kafka group assignment.
 *
 * Every replica joins one consumer group on TOPIC_FETCH_ASSIGN and owns the connections whose
 * fx_engine_partition_of() is one of its assigned partitions. A revoke stops those streams inside
 * the rebalance callback, before the partitions move on, so two replicas never poll one stream,
 * also while replicas come and go.
 *
 * The topic's only messages are connections handed over by a sweep (fx_engine.c): key the
 * connection id, value its object as GET /connections listed it, on the partition that
 * owns it. They matter for seconds: the group commits what it read, so a partition that
 * changes hands is read on from where its last owner stopped (what was handed over while
 * it moved is not lost), a partition never read starts at its end, and the engine drops a
 * stale listing.
 */
#ifndef FX_ASSIGN_H
#define FX_ASSIGN_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "fx_engine.h"

/* The number of partitions of topic, read through any client (0 on timeout). */
int fx_assign_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms);

/* Create the group member and subscribe it. engine points at the engine pointer the
 * rebalance callback uses (it must be set before the first poll). props is the
 * KAFKA_CONFIG_FILE text, consumer_extra KAFKA_CONSUMER_EXTRA (applied after it). Returns NULL
 * with errstr. */
rd_kafka_t *fx_assign_new(const char *brokers, const char *group, const char *client_id,
                          const char *extra, const char *consumer_extra, const char *topic,
                          fx_engine **engine, char *errstr, size_t errlen);

/* Serve the group protocol (rebalance callbacks run from here) and hand the connections
 * listed by another replica to engine. Never blocks. */
void fx_assign_poll(rd_kafka_t *rk, fx_engine *engine);

/* Leave the group (revokes everything first). */
void fx_assign_close(rd_kafka_t *rk);

#endif
