/* fx_events.h - the connection events the fetcher takes from the raw topic (the
 * gateway publishes webhook bodies there byte for byte): connection.created (with the
 * access token, sealed at once), connection.deleted, connection.historical-sync-
 * completed, connection-error.deleted (a blocked connection may work again) and
 * connection.force-sync-completed (poll everything once more). Everything else,
 * including the fetcher's own polled records, is skipped by its headers.
 */
#ifndef FX_EVENTS_H
#define FX_EVENTS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "fx_crypto.h"
#include "fx_db.h"

typedef enum fx_event_kind {
    FX_EV_NONE = 0,
    FX_EV_CREATED,
    FX_EV_DELETED,
    FX_EV_HIST_DONE,
    FX_EV_ERROR_RESOLVED,
    FX_EV_FORCE_SYNC_DONE
} fx_event_kind;

typedef struct fx_event {
    fx_event_kind kind;
    char conn[FX_ID_MAX], integration[FX_ID_MAX];
    char *token; /* connection.created: malloc'd secret */
    int res;     /* hist done: ts_entity_id, -1 when unknown */
    int64_t oldest_ms, newest_ms, created_ms;
} fx_event;

/* The kind an event_type names (FX_EV_NONE for every other type). */
fx_event_kind fx_event_kind_of(const char *event_type);

/* Parse a webhook body of a kind fx_event_kind_of() accepted. 0, or -1 when it lacks
 * what the kind needs. Free with fx_event_clear(). */
int fx_event_parse(fx_event_kind kind, const char *body, size_t len, fx_event *out);
void fx_event_clear(fx_event *ev);

/* Handle one raw-topic message: 0 when done with it (its offset may be stored; *changed
 * is set when the database changed), -1 when the database failed (handle it again). */
int fx_events_handle(PGconn *db, const fx_key *key, const rd_kafka_message_t *m, int *changed,
                     char *errstr, size_t errlen);

#endif
