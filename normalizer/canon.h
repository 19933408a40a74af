/* canon.h - map one raw Trackstar message (webhook envelope or polled record) to the
 * canonical records of docs/canonical-model.md. Pure: no I/O, no globals, no logging;
 * the normalizer's main loop does the Kafka side and the dead-lettering.
 */
#ifndef TS_CANON_H
#define TS_CANON_H

#include <stddef.h>

/* Bounds. A body above CANON_MAX_BODY is poison (Trackstar truncates large events
 * itself, so a real one never comes close); ids longer than CANON_MAX_ID are poison
 * because they end up in Kafka keys and database keys. */
#define CANON_MAX_BODY (16u * 1024u * 1024u)
#define CANON_MAX_ID 512
#define CANON_SCHEMA_VERSION 1
/* Changes one record lists (the value policy): a source that sends every field wrong
 * must not double the record. */
#define CANON_MAX_CHANGES 64

/* One raw-topic message; all strings NUL-terminated, may be NULL when absent.
 * Nothing is copied out of it that outlives canon_map(). */
typedef struct canon_raw {
    const char *body;
    size_t body_len;      /* webhook: the whole Svix envelope as received; poll: one bare record */
    const char *source;   /* "webhook" | "poll" */
    const char *event_id; /* header event_id */
    const char *event_type;       /* "order.updated", "shipping_method.created", "orders.polled",
                                     "pipeline.sync-status" */
    const char *connection_id;    /* polls only (webhooks carry it in the body) */
    const char *resource;         /* polls only: a registry name (common/entities.h) */
    const char *integration_name; /* polls only */
    const char *received_at;      /* RFC 3339 UTC with ms */
} canon_raw;

#define CANON_MAX_OUT 4
typedef struct canon_msg {
    const char *topic; /* static, without prefix: an entity's topic or TOPIC_CONNECTION_EVENTS */
    char *key;         /* malloc'd, NUL-terminated: "connection_id|id" */
    char *value;       /* canonical JSON, NUL-terminated; value_len excludes the NUL */
    size_t value_len;
    /* The value policy's changes (the record's value_changes): how many, and the field of
     * each without positions or map keys ("line_items.*.returned_date"), NUL-terminated
     * one after the other (malloc'd; NULL when none), for the metric. Only the first
     * CANON_MAX_CHANGES are listed (and named); the record says how many more there were. */
    unsigned nchanges;
    char *changed;
} canon_msg;
typedef struct canon_out {
    canon_msg msg[CANON_MAX_OUT];
    int n;
} canon_out;

/* Map one raw message.
 *
 * Returns 0 with out->n >= 0 messages. out->n == 0 means there is nothing to publish
 * because the event type is one we deliberately do not model (the registry's unmodelled
 * families, TS_UNMODELLED in common/entities.h, and the cart, carrier and freight
 * integrations): *ignored_reason is then set to a static string naming the family, so
 * the caller can count it. When out->n > 0, *ignored_reason is NULL.
 *
 * Returns -1 when the message is poison (malformed JSON, invalid UTF-8, missing id or
 * connection_id, a field of the wrong type, an unparseable timestamp, an unknown event
 * type, data_truncated): errstr holds a short reason for the dead-letter header (it
 * never contains field values, so no secrets) and out->n == 0.
 *
 * Oversized webhook events (data_truncated: true, data = {"id": ...}) are rejected with
 * the reason "data_truncated": the webhook gateway resolves data_url into the full event
 * before the raw topic, so one seen here is a gateway fault, not something to map.
 *
 * out is overwritten (not freed) on entry; the caller owns the messages and frees them
 * with canon_out_free(), after either outcome. ignored_reason may be NULL. Never crashes
 * on any input, and the same input always gives byte-identical output. */
int canon_map(const canon_raw *in, canon_out *out, const char **ignored_reason, char *errstr,
              size_t errlen);

/* Free every message in out and set out->n = 0. Safe on an already freed or zeroed out. */
void canon_out_free(canon_out *out);

#endif
