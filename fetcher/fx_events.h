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

/* 1 when m is a connection event fx_events_handle acts on (by its headers), else 0. */
int fx_events_wanted(const rd_kafka_message_t *m);

/* Handle one raw-topic message: 0 when done with it (its offset may be stored; *changed
 * is set when the database changed), -1 when it must be handled again: the database
 * failed, or a connection.created that would create or revive a connection carries a
 * token no key of the ring opens (a key not deployed here yet: errstr says which). */
int fx_events_handle(PGconn *db, const seal_ring *ring, const rd_kafka_message_t *m, int *changed,
                     char *errstr, size_t errlen);

/* Raw-topic messages a step looks at (one transaction). */
#define FX_EVENTS_PER_STEP 2000

/* The connection events consumer's state between steps: the messages held for a retry. */
typedef struct fx_events_in {
    rd_kafka_message_t *held[FX_EVENTS_PER_STEP];
    int nheld;
    int64_t retry_at; /* monotonic ms */
    int64_t retry_ms; /* the wait after a failed step */
} fx_events_in;

/* One loop turn's connection events: up to FX_EVENTS_PER_STEP messages from the consumer
 * (without waiting), applied in one transaction. A link exchange's burst (10,000
 * connections send ~120,000 events) was one autocommit each on the loop's thread, minutes
 * during which no HTTP answer was read. The offsets are stored only once the transaction
 * committed; when it did not (the database failed, or a token no key opens yet) the
 * step's messages are held and applied again after in->retry_ms (every handler is an
 * idempotent upsert). 1 when the database changed, 0 when not, -1 after a failure
 * (errstr). */
int fx_events_step(fx_events_in *in, rd_kafka_t *events, PGconn *db, const seal_ring *ring,
                   char *errstr, size_t errlen);
/* Destroy the held messages (at shutdown: their offsets stay unstored). */
void fx_events_in_clear(fx_events_in *in);

#endif
