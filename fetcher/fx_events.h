/* fx_events.h - the connection events the fetcher takes from the raw topic:
 * connection.created (webhook-gw puts its access token there sealed, as
 * data.access_token_sealed; opened here with the key ring and sealed again for
 * PostgreSQL), connection.deleted (polling stops, the token is wiped),
 * connection.historical-sync-completed, connection-error.deleted (a blocked connection
 * may work again) and connection.force-sync-completed (poll everything once more).
 * Everything else, including the fetcher's own polled records, is skipped by its
 * headers.
 *
 * Creation and deletion are applied in the events' own time (data.created_date,
 * data.deleted_date), never in the order they arrive: a replayed or late
 * connection.created never brings a deleted connection back (fx_db_conn_put).
 */
#ifndef FX_EVENTS_H
#define FX_EVENTS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "seal.h"
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
    char conn[FX_ID_MAX], integration[FX_ID_MAX], customer[FX_ID_MAX];
    char *token;        /* connection.created: malloc'd secret, NULL when it did not open */
    int sealed;         /* connection.created: the token came sealed (access_token_sealed) */
    char seal_err[192]; /* why a sealed token did not open (names a key id, never a key) */
    int res;            /* hist done: ts_entity_id, -1 when unknown */
    int64_t oldest_ms, newest_ms;
    int64_t event_ms; /* created: data.created_date, deleted: data.deleted_date; 0 = absent */
} fx_event;

/* The kind an event_type names (FX_EV_NONE for every other type). */
fx_event_kind fx_event_kind_of(const char *event_type);

/* Parse a webhook body of a kind fx_event_kind_of() accepted; a sealed token is opened
 * with ring (when it does not open, token is NULL and seal_err says why). 0, or -1 when
 * it lacks what the kind needs. Free with fx_event_clear(). */
int fx_event_parse(fx_event_kind kind, const char *body, size_t len, const seal_ring *ring,
                   fx_event *out);
void fx_event_clear(fx_event *ev);

/* Handle one raw-topic message: 0 when done with it (its offset may be stored; *changed
 * is set when the database changed), -1 when it must be handled again: the database
 * failed, or a connection.created that would create or revive a connection carries a
 * token no key of the ring opens (a key not deployed here yet: errstr says which). */
int fx_events_handle(PGconn *db, const seal_ring *ring, const rd_kafka_message_t *m, int *changed,
                     char *errstr, size_t errlen);

#endif
