/* fx_pub.h - what the fetcher puts on the raw topic: one message per polled record
 * (value = the record's bytes exactly as served) and one per sync-status change, with
 * the pipeline's raw headers (topics.h). Delivery reports reach the producer's dr
 * callback with msg_opaque as given; nothing here waits for them.
 */
#ifndef FX_PUB_H
#define FX_PUB_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define FX_EVENT_ID_MAX 512
/* The resource header of a polled connection object (GET /connections/{id}). */
#define FX_CONNECTIONS_RESOURCE "connections"

typedef struct fx_pub_record {
    const char *connection_id, *integration, *resource;
    const char *id, *updated_date, *trackstar_updated_date; /* the last two may be NULL */
    const char *received_at;                                /* RFC 3339 with ms */
    const void *value;
    size_t len;
} fx_pub_record;

/* "poll:<conn>:<resource>:<id>:<updated_date>[:<trackstar_updated_date>]": the same
 * record version always gets the same id, so consumers can drop re-polled copies. */
void fx_pub_event_id(char *buf, size_t len, const char *conn, const char *resource, const char *id,
                     const char *updated, const char *ts_updated);

/* Produce one polled record (value copied). 0, or -1 with errstr (nothing queued). */
int fx_pub_record_send(rd_kafka_t *producer, const char *topic, const fx_pub_record *r,
                       void *msg_opaque, char *errstr, size_t errlen);

/* A record a complete listing no longer holds ("<resource>.gone", topics.h). */
typedef struct fx_pub_gone {
    const char *connection_id, *integration, *resource, *id;
    const char *source_updated_at, *trackstar_updated_at; /* the version it supersedes; the
                                                              second may be NULL */
    int64_t listed_ms;                                    /* when the listing began */
} fx_pub_gone;

/* Produce a gone message (key connection_id|resource|id, like the record's polls; event id
 * "gone:<conn>:<resource>:<id>:<listing start>"). 0, or -1 with errstr. */
int fx_pub_gone_send(rd_kafka_t *producer, const char *topic, const fx_pub_gone *g,
                     void *msg_opaque, char *errstr, size_t errlen);

typedef struct fx_status {
    const char *connection_id, *integration, *resource, *state;
    int64_t last_started_ms, last_success_ms; /* 0 = null */
    int64_t records_seen;
    const char *last_error; /* NULL or "" = null */
    int64_t updated_ms;
} fx_status;

/* The pipeline.sync-status body:
 * {"connection_id","integration_name","resource","state","last_started_at",
 *  "last_success_at","records_seen","last_error","updated_at"}. 0 or -1. */
int fx_status_json(sbuf *b, const fx_status *s);

/* Produce a sync-status message (key connection_id|sync_status|resource). */
int fx_pub_status_send(rd_kafka_t *producer, const char *topic, const fx_status *s,
                       void *msg_opaque, char *errstr, size_t errlen);

#endif
