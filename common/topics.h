/* topics.h - Kafka topic names and the raw-message header names: the pipeline's
 * contracts (see docs/architecture.md). A prefix from KAFKA_TOPIC_PREFIX is put in
 * front of every name by topic_name(). */
#ifndef TS_TOPICS_H
#define TS_TOPICS_H

#include <stddef.h>

#define TOPIC_RAW "trackstar.raw.v1"
#define TOPIC_DLQ "trackstar.dlq.v1"
#define TOPIC_CONNECTION_EVENTS "wms.connection_events.v1"
/* Carries no data: fetcher replicas join one consumer group on it, and a replica polls
 * exactly the connections that hash to the partitions it is assigned (fetcher/). */
#define TOPIC_FETCH_ASSIGN "trackstar.fetcher-assignments.v1"

/* Each canonical entity has its public topic too, TS_TOPIC(name) = "wms.<name>.v1": the
 * list is the registry in entities.h. */

/* Headers on raw messages. */
#define HDR_SOURCE "source"                /* "webhook" | "poll" */
#define HDR_EVENT_ID "event_id"            /* svix-id, or a fetcher-made id for polls */
#define HDR_EVENT_TYPE "event_type"        /* e.g. order.updated; for polls "<resource>.polled" */
#define HDR_RECEIVED_AT "received_at"      /* RFC 3339 UTC with milliseconds */
#define HDR_CONNECTION_ID "connection_id"  /* polls: the body is a bare record */
#define HDR_RESOURCE "resource"            /* polls: orders, inventory, ... */
#define HDR_INTEGRATION "integration_name" /* polls */

/* Headers on dead-letter messages. */
#define HDR_DLQ_STAGE "dlq_stage"
#define HDR_DLQ_REASON "dlq_reason"
#define HDR_DLQ_TOPIC "dlq_topic"
#define HDR_DLQ_PARTITION "dlq_partition"
#define HDR_DLQ_OFFSET "dlq_offset"
#define HDR_DLQ_STUB "dlq_stub" /* "true": the original could not be copied; see dlq_topic etc. */

/* Every topic the pipeline uses, for the dev broker and the topic-creation job. */
extern const char *const topic_all[];
extern const int topic_all_count;

/* prefix + name into buf. Returns buf. */
const char *topic_name(const char *prefix, const char *name, char *buf, size_t len);

#endif
