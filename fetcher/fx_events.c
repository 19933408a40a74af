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

int fx_event_parse(fx_event_kind kind, const char *body, size_t len, fx_event *out) {
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
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(data, "access_token");
        if (!cJSON_IsString(tok) || !*tok->valuestring) goto done;
        out->token = strdup(tok->valuestring);
        memset(tok->valuestring, 0, strlen(tok->valuestring)); /* wipe the tree's copy */
        if (!out->token) goto done;
        out->created_ms = date_of(data, "created_date");
        break;
    }
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
    cJSON_Delete(root);
    return rc;
}

void fx_event_clear(fx_event *ev) {
    fx_crypto_free_secret(ev->token);
    ev->token = NULL;
}

int fx_events_handle(PGconn *db, const fx_key *key, const rd_kafka_message_t *m, int *changed,
                     char *errstr, size_t errlen) {
    char source[16], type[96];
    *changed = 0;
    kafka_header_str(m, HDR_SOURCE, source, sizeof source);
    if (strcmp(source, "poll") == 0) return 0; /* our own records and statuses */
    kafka_header_str(m, HDR_EVENT_TYPE, type, sizeof type);
    fx_event_kind kind = fx_event_kind_of(type);
    if (kind == FX_EV_NONE) return 0;
    fx_event ev;
    if (fx_event_parse(kind, m->payload, m->len, &ev) != 0) {
        /* Not ours to dead-letter (the normalizer does): note it and move on. */
        log_warn("connection event without what it needs; skipped", "event_type", type, NULL);
        fx_event_clear(&ev);
        return 0;
    }
    int rc = 0;
    switch (kind) {
    case FX_EV_CREATED:
        rc = fx_api_store_connection(db, key, ev.conn, ev.integration, ev.token, ev.created_ms,
                                     errstr, errlen);
        if (rc == 0)
            log_info("connection stored from connection.created", "connection_id", ev.conn,
                     "integration_name", ev.integration, NULL);
        break;
    case FX_EV_DELETED:
        rc = fx_db_conn_set_state(db, ev.conn, FX_CONN_DELETED, "connection.deleted", errstr,
                                  errlen);
        if (rc == 0) log_info("connection deleted", "connection_id", ev.conn, NULL);
        break;
    case FX_EV_HIST_DONE:
        if (ev.res < 0) {
            log_warn("historical sync of an unknown resource; skipped", "connection_id", ev.conn,
                     NULL);
            break;
        }
        rc = fx_db_hist_put(db, ev.conn, ts_entities[ev.res].name, ev.oldest_ms, ev.newest_ms,
                            "webhook", errstr, errlen);
        if (rc == 0)
            log_info("historical sync completed", "connection_id", ev.conn, "resource",
                     ts_entities[ev.res].name, NULL);
        break;
    case FX_EV_ERROR_RESOLVED:
        /* Only a blocked connection changes: its next request shows whether it works. */
        rc = fx_db_conn_unblock(db, ev.conn, "connection-error.deleted", errstr, errlen);
        break;
    case FX_EV_FORCE_SYNC_DONE: {
        int64_t id;
        rc = fx_db_req_add(db, ev.conn, "poll", 0, 0, 0, &id, errstr, errlen);
        break;
    }
    default: break;
    }
    fx_event_clear(&ev);
    if (rc == 0) *changed = 1;
    return rc;
}
