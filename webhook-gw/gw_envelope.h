/* gw_envelope.h - what the gateway reads from a Trackstar webhook body: the event type
 * and its resource, the connection id, the record id for the Kafka key, and whether
 * the event was truncated (data_truncated + data_url).
 *
 * The body itself is never changed: the gateway publishes it byte for byte. These
 * functions only look inside it to build the key and the headers.
 */
#ifndef GW_ENVELOPE_H
#define GW_ENVELOPE_H

#include <stddef.h>

#define GW_CONN_ID_MAX 128    /* longest connection_id accepted */
#define GW_EVENT_TYPE_MAX 128 /* longest event_type accepted */
#define GW_RESOURCE_MAX 64    /* longest resource name derived from an event type */
#define GW_RECORD_ID_MAX 512  /* record ids longer than this are cut (key only) */
#define GW_DATA_URL_MAX 2048  /* longest data_url followed */
#define GW_KEY_MAX (GW_CONN_ID_MAX + GW_RESOURCE_MAX + GW_RECORD_ID_MAX + 3)

/* How the record id of an event is found (see gw_envelope_parse). */
typedef enum gw_event_kind {
    GW_KIND_RECORD = 0,      /* data.id */
    GW_KIND_CONNECTION,      /* connection.created/deleted...: the connection id itself */
    GW_KIND_HISTORICAL_SYNC, /* connection.historical-sync-completed: data.resource */
    GW_KIND_CONNECTION_ERROR /* connection-error.*: data.failed_url (no error id exists) */
} gw_event_kind;

typedef struct gw_event_info {
    char canonical[GW_EVENT_TYPE_MAX + 1]; /* hyphenated spelling, e.g. shipping-method.created */
    const char *resource; /* static for known prefixes, else points into resource_buf */
    char resource_buf[GW_RESOURCE_MAX + 1];
    gw_event_kind kind;
    int known;       /* 1 when the full event type is a known one */
    int known_index; /* see gw_event_type_name() when known, else -1 */
} gw_event_info;

/* The event types the gateway knows (reference §7.4: the registry's families and the
 * connection's), numbered 0..gw_event_type_count()-1, for metrics labels. */
int gw_event_type_count(void);
/* The canonical spelling of known type index into buf. 0, or -1 when index is out of
 * range or buf too small. */
int gw_event_type_name(int index, char *buf, size_t len);

/* Map an event type (either spelling: '_' and '-' are treated alike, case ignored) to its
 * canonical name, resource and record-id rule. Unknown types still get a resource: the
 * part before the first '.', lower-cased with '-' turned into '_' ("unknown" when that is
 * not [a-z0-9_]+). Never fails. */
void gw_event_lookup(const char *event_type, gw_event_info *out);

typedef enum gw_env_result {
    GW_ENV_OK = 0,
    GW_ENV_MALFORMED,     /* not JSON, or not an object */
    GW_ENV_MISSING_FIELD, /* connection_id or event_type absent, empty or not a string */
    GW_ENV_BAD_FIELD      /* connection_id or event_type too long or with forbidden bytes */
} gw_env_result;

typedef struct gw_envelope {
    char connection_id[GW_CONN_ID_MAX + 1];
    char event_type[GW_EVENT_TYPE_MAX + 1]; /* as received */
    gw_event_info ev;
    char record_id[GW_RECORD_ID_MAX + 1]; /* "" when the event has none */
    int truncated;                        /* data_truncated: true */
    char data_url[GW_DATA_URL_MAX + 1];   /* "" unless truncated */
} gw_envelope;

/* Parse body[0..len) and fill *out. Record id by kind: data.id (string, or an integer
 * printed in decimal); for connection events the connection id; for a historical sync
 * data.resource; for a connection error data.failed_url, else data.error_message. Any
 * event whose rule finds nothing falls back to data.id, then "". */
gw_env_result gw_envelope_parse(const char *body, size_t len, gw_envelope *out);

/* A short stable name for a result, for metrics and logs. */
const char *gw_env_result_name(gw_env_result r);

/* "connection_id|resource|record_id" into buf (NUL-terminated). Returns its length. */
size_t gw_envelope_key(const gw_envelope *env, char *buf, size_t len);

/* The full event behind a truncated one. fetched[0..flen) is what download_url served.
 * When it is itself an envelope (an object with connection_id and data), it is used as
 * is: *out_body is set to NULL and the caller publishes fetched unchanged. When it is a
 * bare record (or {"data": record} without connection_id) the original envelope orig is
 * rebuilt around it: data replaced, data_truncated and data_url dropped, into a malloc'd
 * *out_body (caller frees) of *out_len bytes.
 * Returns 0, or -1 with a reason in errstr when fetched is not a JSON object or its
 * record id differs from the truncated one (a mix-up must not be published). */
int gw_envelope_full(const char *orig, size_t olen, const gw_envelope *orig_env,
                     const char *fetched, size_t flen, char **out_body, size_t *out_len,
                     char *errstr, size_t errlen);

#endif
