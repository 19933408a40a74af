/* fx_events.c - connection events from the raw topic into the fetcher's tables. */
#include "fx_events.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx_api.h"
#include "entities.h"
#include "kafka.h"
#include "log.h"
#include "topics.h"
#include "util.h"
#include "values.h"

fx_event_kind fx_event_kind_of(const char *t) {
    if (!t) return FX_EV_NONE;
    if (strcmp(t, "connection.created") == 0) return FX_EV_CREATED;
    if (strcmp(t, "connection.deleted") == 0) return FX_EV_DELETED;
    if (strcmp(t, "connection.historical-sync-completed") == 0 ||
        strcmp(t, "connection.historical_sync_completed") == 0)
        return FX_EV_HIST_DONE;
    if (strcmp(t, "connection-error.deleted") == 0) return FX_EV_ERROR_RESOLVED;
    if (strcmp(t, "connection.force-sync-completed") == 0) return FX_EV_FORCE_SYNC_DONE;
    return FX_EV_NONE;
}

static int64_t date_of(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    int64_t ms;
    return cJSON_IsString(v) && val_time_parse(v->valuestring, &ms, NULL) == 0 ? ms : 0;
}

/* A string member of o bounded for our id buffers, or NULL. */
static const char *short_str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && strlen(v->valuestring) < FX_ID_MAX ? v->valuestring : NULL;
}

/* Wipe a string member's text in the tree before the tree is freed (it held a secret). */
static void wipe(const cJSON *v) {
    if (cJSON_IsString(v)) memset(v->valuestring, 0, strlen(v->valuestring));
}

int fx_event_parse(fx_event_kind kind, const char *body, size_t len, const seal_ring *ring,
                   fx_event *out) {
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->res = -1;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(root, "connection_id");
    const cJSON *integ = cJSON_GetObjectItemCaseSensitive(root, "integration_name");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    int rc = -1;
    if (!cJSON_IsString(conn) || !*conn->valuestring || strlen(conn->valuestring) >= FX_ID_MAX)
        goto done;
    snprintf(out->conn, sizeof out->conn, "%s", conn->valuestring);
    if (cJSON_IsString(integ))
        snprintf(out->integration, sizeof out->integration, "%s", integ->valuestring);
    switch (kind) {
    case FX_EV_CREATED: {
        /* webhook-gw seals the token (access_token_sealed); a body from before it did,
         * or written by hand, may still carry it in clear. */
        const cJSON *sealed = cJSON_GetObjectItemCaseSensitive(data, "access_token_sealed");
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(data, "access_token");
        if (cJSON_IsString(sealed) && *sealed->valuestring) {
            out->sealed = 1;
            out->token = seal_open(ring, out->conn, sealed->valuestring, out->seal_err,
                                   sizeof out->seal_err);
        } else if (cJSON_IsString(tok) && *tok->valuestring) {
            out->token = strdup(tok->valuestring);
            if (!out->token) goto done;
        } else {
            goto done;
        }
        /* customer_id: Trackstar documents it on neither; take it from data, else from
         * the envelope (where the guide's transformation example reads it). */
        const char *cust = short_str(data, "customer_id");
        if (!cust) cust = short_str(root, "customer_id");
        if (cust) snprintf(out->customer, sizeof out->customer, "%s", cust);
        out->event_ms = date_of(data, "created_date");
        break;
    }
    case FX_EV_DELETED: out->event_ms = date_of(data, "deleted_date"); break;
    case FX_EV_HIST_DONE: {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "resource");
        if (!cJSON_IsString(res)) goto done;
        out->res = ts_entity_lookup(res->valuestring);
        out->oldest_ms = date_of(data, "oldest_data_date");
        out->newest_ms = date_of(data, "newest_data_date");
        break;
    }
    default: break;
    }
    rc = 0;
done:
    wipe(cJSON_GetObjectItemCaseSensitive(data, "access_token"));
    cJSON_Delete(root);
    return rc;
}

void fx_event_clear(fx_event *ev) {
    seal_free_secret(ev->token);
    ev->token = NULL;
}

/* connection.created: store (or revive) the connection, in the event's own time. */
static int on_created(PGconn *db, const seal_ring *ring, const fx_event *ev, int *changed,
                      char *errstr, size_t errlen) {
    if (!ev->token) {
        /* Sealed under a key this replica lacks. An event that could change nothing
         * (replayed, late, older than the deletion) is done with; one that would create
         * or revive the connection waits until the key is deployed, so the token is not
         * lost (docs/operations.md: a new key is accepted everywhere before it seals). */
        int stale = fx_db_conn_creation_stale(db, ev->conn, ev->event_ms, errstr, errlen);
        if (stale < 0) return -1;
        if (stale) {
            log_info("connection.created older than the stored connection, token not opened;"
                     " skipped",
                     "connection_id", ev->conn, "reason", ev->seal_err, NULL);
            return 0;
        }
        snprintf(errstr, errlen, "connection.created for %s: %s", ev->conn, ev->seal_err);
        return -1;
    }
    int rc = fx_api_store_connection(db, ring, ev->conn, ev->integration, ev->token, ev->customer,
                                     ev->event_ms, errstr, errlen);
    if (rc < 0) return -1;
    *changed = rc;
    if (rc)
        log_info("connection stored from connection.created", "connection_id", ev->conn,
                 "integration_name", ev->integration, "token", ev->sealed ? "sealed" : "clear",
                 NULL);
    else
        log_info("connection.created not newer than the stored connection (a replay, a late"
                 " retry, or older than its deletion): nothing changed",
                 "connection_id", ev->conn, NULL);
    return 0;
}

/* connection.deleted: stop polling and wipe the token, in the event's own time. Without
 * deleted_date the gateway's receive time stands in: later than the deletion itself. */
static int on_deleted(PGconn *db, const fx_event *ev, const rd_kafka_message_t *m, int *changed,
                      char *errstr, size_t errlen) {
    int64_t at = ev->event_ms;
    char received[40];
    if (!at && val_time_parse(kafka_header_str(m, HDR_RECEIVED_AT, received, sizeof received), &at,
                              NULL) != 0)
        at = 0;
    int rc = fx_db_conn_delete(db, ev->conn, at, "connection.deleted", errstr, errlen);
    if (rc < 0) return -1;
    *changed = rc;
    if (rc)
        log_info("connection deleted: polling stops, token wiped", "connection_id", ev->conn, NULL);
    else
        log_info("connection.deleted repeated, or older than the stored creation: nothing"
                 " changed",
                 "connection_id", ev->conn, NULL);
    return 0;
}

/* The kind of connection event m is, by its headers; FX_EV_NONE for the fetcher's own
 * records and statuses and every other type. type gets the event type. */
static fx_event_kind kind_of_message(const rd_kafka_message_t *m, char type[96]) {
    char source[16];
    type[0] = '\0';
    kafka_header_str(m, HDR_SOURCE, source, sizeof source);
    if (strcmp(source, "poll") == 0) return FX_EV_NONE;
    kafka_header_str(m, HDR_EVENT_TYPE, type, 96);
    return fx_event_kind_of(type);
}

int fx_events_wanted(const rd_kafka_message_t *m) {
    char type[96];
    return kind_of_message(m, type) != FX_EV_NONE;
}

int fx_events_handle(PGconn *db, const seal_ring *ring, const rd_kafka_message_t *m, int *changed,
                     char *errstr, size_t errlen) {
    char type[96];
    *changed = 0;
    fx_event_kind kind = kind_of_message(m, type);
    if (kind == FX_EV_NONE) return 0;
    fx_event ev;
    if (fx_event_parse(kind, m->payload, m->len, ring, &ev) != 0) {
        /* Not ours to dead-letter (the normalizer does): note it and move on. */
        log_warn("connection event without what it needs; skipped", "event_type", type, NULL);
        fx_event_clear(&ev);
        return 0;
    }
    int rc = 0;
    switch (kind) {
    case FX_EV_CREATED: rc = on_created(db, ring, &ev, changed, errstr, errlen); break;
    case FX_EV_DELETED: rc = on_deleted(db, &ev, m, changed, errstr, errlen); break;
    case FX_EV_HIST_DONE:
        if (ev.res < 0) {
            log_warn("historical sync of an unknown resource; skipped", "connection_id", ev.conn,
                     NULL);
            break;
        }
        /* the function's first crawl read every entity enabled with it (get_orders:
         * order channels too) */
        for (int r = 0; r < TS_ENTITY_COUNT && rc == 0; r++) {
            if (!(ts_function_reads(ts_entities[ev.res].function) & (1u << r))) continue;
            rc = fx_db_hist_put(db, ev.conn, ts_entities[r].name, ev.oldest_ms, ev.newest_ms,
                                "webhook", errstr, errlen);
            if (rc == 0) {
                *changed = 1;
                log_info("historical sync completed", "connection_id", ev.conn, "resource",
                         ts_entities[r].name, NULL);
            }
        }
        break;
    case FX_EV_ERROR_RESOLVED:
        /* Only a blocked connection changes: its next request shows whether it works. */
        rc = fx_db_conn_unblock(db, ev.conn, "connection-error.deleted", errstr, errlen);
        if (rc == 0) *changed = 1;
        break;
    case FX_EV_FORCE_SYNC_DONE: {
        int64_t id;
        rc = fx_db_req_add(db, ev.conn, "poll", 0, 0, 0, &id, errstr, errlen);
        if (rc == 0) *changed = 1;
        break;
    }
    default: break;
    }
    fx_event_clear(&ev);
    return rc;
}

int fx_events_step(fx_events_in *in, rd_kafka_t *events, PGconn *db, const seal_ring *ring,
                   char *errstr, size_t errlen) {
    if (in->nheld > 0 && util_mono_ms() < in->retry_at) return 0;
    /* what is there now, without waiting (held ones first) */
    in->nheld +=
        kafka_consume_batch(events, in->held + in->nheld, FX_EVENTS_PER_STEP - in->nheld, 0, 0);
    if (in->nheld == 0) return 0;
    int wanted = 0, changed = 0, rc = 0;
    for (int i = 0; i < in->nheld && !wanted; i++)
        wanted = fx_events_wanted(in->held[i]);
    if (wanted) rc = fx_db_begin(db, errstr, errlen);
    for (int i = 0; i < in->nheld && wanted && rc == 0; i++) {
        int ch = 0;
        rc = fx_events_handle(db, ring, in->held[i], &ch, errstr, errlen);
        changed |= ch;
    }
    if (wanted && rc == 0) rc = fx_db_commit(db, errstr, errlen);
    if (rc != 0) {
        if (wanted) fx_db_rollback(db);
        in->retry_at = util_mono_ms() + in->retry_ms;
        return -1;
    }
    kafka_store_offsets(events, in->held, in->nheld);
    fx_events_in_clear(in);
    return changed;
}

void fx_events_in_clear(fx_events_in *in) {
    for (int i = 0; i < in->nheld; i++)
        rd_kafka_message_destroy(in->held[i]);
    in->nheld = 0;
}
