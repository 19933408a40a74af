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
/* Compacted: one message per purged connection, keyed by the SHA-256 of its id (common/
 * purge.h), so that a rebuild from the raw topic leaves purged connections out. */
#define TOPIC_PURGED "trackstar.purged-connections.v1"

/* The stages' consumer groups by default (NORMALIZER_GROUP, WRITER_GROUP): `tsctl status
 * --until-done` follows their committed offsets. */
#define GROUP_NORMALIZER "trackstar-normalizer"
#define GROUP_WRITER "trackstar-writer"

/* Each canonical entity of the registry (entities.h) has two topics, with equal
 * partition counts:
 *   TS_TOPIC_INTERNAL(name) "trackstar.canonical.<name>.v1": every candidate version the
 *       normalizer maps (and the deletes inferred from complete listings); read by the
 *       writer only; a retention-limited log, not compacted;
 *   TS_TOPIC(name)          "wms.<name>.v1": exactly the versions PostgreSQL applied, in
 *       the order it applied them, published by the writer (a delete record and a
 *       tombstone after a delete); compacted, so the last message per key is the row. */

/* What the writer reads, as array initialisers (the user includes entities.h): the
 * connection events and every internal canonical topic. The writer subscribes to them;
 * `tsctl status --until-done` waits for the writer's group on them. */
#define WRITER_INPUT_TOPIC(name, ...) TS_TOPIC_INTERNAL(name),
#define WRITER_INPUT_TOPICS TOPIC_CONNECTION_EVENTS, TS_ENTITIES(WRITER_INPUT_TOPIC)

/* Headers on raw messages. */
#define HDR_SOURCE "source"                /* "webhook" | "poll" */
#define HDR_EVENT_ID "event_id"            /* svix-id, or a fetcher-made id for polls */
#define HDR_EVENT_TYPE "event_type"        /* e.g. order.updated; for polls "<resource>.polled" */
#define HDR_RECEIVED_AT "received_at"      /* RFC 3339 UTC with milliseconds */
#define HDR_CONNECTION_ID "connection_id"  /* polls: the body is a bare record */
#define HDR_RESOURCE "resource"            /* polls: orders, inventory, ... */
#define HDR_INTEGRATION "integration_name" /* polls */

/* Timing headers, so that a record's way can be timed hop by hop (the writer's
 * writer_record_age_seconds, tests/bench/e2e_check.py): milliseconds since the epoch, in
 * decimal. The normalizer puts raw_ts (the raw message's Kafka timestamp) on each
 * canonical record; the writer carries it on to the public message of the version it
 * applied, with canonical_ts (the canonical message's timestamp). A stored row the writer
 * republishes has neither. */
#define HDR_RAW_TS "raw_ts"
#define HDR_CANONICAL_TS "canonical_ts"

/* Event type suffixes of the fetcher's raw messages: "<resource>.polled" (a record as
 * served) and "<resource>.gone" (a record a complete listing no longer holds; the body is
 * {"id", "source_updated_at", "trackstar_updated_at", "deleted_at"}: the version it
 * supersedes, and when the listing began). */
#define EVENT_POLLED_SUFFIX ".polled"
#define EVENT_GONE_SUFFIX ".gone"

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

/* The public topic ("wms.<e>.v1") of an internal canonical topic name without prefix
 * ("trackstar.canonical.<e>.v1"); NULL when name is not one. A static string. */
const char *topic_public_of(const char *internal);

/* prefix + name into buf. Returns buf. */
const char *topic_name(const char *prefix, const char *name, char *buf, size_t len);

#endif
