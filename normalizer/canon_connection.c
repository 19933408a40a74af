/* canon_connection.c - connection-level events as canonical connection_event records:
 * connection created/deleted, historical sync completed, connection errors (parsed
 * leniently: Trackstar documents two shapes), the fetcher's sync status, and the
 * connection object the fetcher polls (GET /connections/{id}: customer_id and friends).
 * The access token that connection.created carries (sealed by webhook-gw, or in clear
 * in a body from before that) is read only to say it was there.
 */
#include "normalizer/canon.h"
#include "normalizer/canon_mappers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A non-empty string member of src, or NULL. */
static const cJSON *nonempty(const cJSON *src, const char *name) {
    const cJSON *v = src ? cJSON_GetObjectItemCaseSensitive(src, name) : NULL;
    return cJSON_IsString(v) && v->valuestring[0] ? v : NULL;
}

/* connection.created: never copy the token, sealed or not; only say whether one came. */
static int token_present(canon_ctx *c, const cJSON *src, const char *key) {
    canon_w_key(c, key);
    if (nonempty(src, "access_token") || nonempty(src, "access_token_sealed"))
        canon_w_lit(c, "true");
    else
        canon_w_lit(c, "false");
    return c->failed ? -1 : 0;
}

/* connection.created's customer_id: Trackstar documents it on neither data nor the
 * envelope (the guide's Svix transformation reads it from the envelope): data first. */
static int created_customer(canon_ctx *c, const cJSON *src, const char *key) {
    const cJSON *v = src ? cJSON_GetObjectItemCaseSensitive(src, "customer_id") : NULL;
    if ((!v || cJSON_IsNull(v)) && c->envelope)
        v = cJSON_GetObjectItemCaseSensitive(c->envelope, "customer_id");
    canon_w_key(c, key);
    return canon_conv_str(c, v, "customer_id");
}

/* The OpenAPI shape says error_message, the guide's example says message. */
static int error_message(canon_ctx *c, const cJSON *src, const char *key) {
    const cJSON *m = src ? cJSON_GetObjectItemCaseSensitive(src, "error_message") : NULL;
    const char *name = "error_message";
    if (!m || cJSON_IsNull(m)) {
        m = src ? cJSON_GetObjectItemCaseSensitive(src, "message") : NULL;
        name = "message";
    }
    canon_w_key(c, key);
    return canon_conv_str(c, m, name);
}

static const char *const created_consumed[] = {"access_token", "access_token_sealed", "customer_id",
                                               NULL};
static const canon_field created_fields[] = {
    {"resource", "resource", CANON_F_STR},
    {"created_at", "created_date", CANON_F_TIME},
    {"access_token_present", NULL, CANON_F_CUSTOM, NULL, NULL, token_present},
    {"customer_id", NULL, CANON_F_CUSTOM, NULL, NULL, created_customer},
};
static const canon_table created_tbl = CANON_TABLE(created_fields, 0, created_consumed);

static const canon_field deleted_fields[] = {
    {"resource", "resource", CANON_F_STR},
    {"deleted_at", "deleted_date", CANON_F_TIME},
};
static const canon_table deleted_tbl = CANON_TABLE(deleted_fields, 0, NULL);

static const canon_field historical_fields[] = {
    {"resource", "resource", CANON_F_STR},
    {"oldest_data_date", "oldest_data_date", CANON_F_TIME},
    {"newest_data_date", "newest_data_date", CANON_F_TIME},
};
static const canon_table historical_tbl = CANON_TABLE(historical_fields, 0, NULL);

static const canon_field endpoint_fields[] = {
    {"endpoint", "endpoint", CANON_F_STR},
    {"preventing_sync", "preventing_sync", CANON_F_BOOL},
};
static const canon_table endpoint_tbl = CANON_TABLE(endpoint_fields, 0, NULL);

/* updated_date is the envelope's version; integration_name is in the envelope too. */
static const char *const error_consumed[] = {"error_message", "message", "updated_date",
                                             "integration_name", NULL};
static const canon_field error_fields[] = {
    {"resource", "resource", CANON_F_STR},
    {"failed_url", "failed_url", CANON_F_STR},
    {"error_message", NULL, CANON_F_CUSTOM, NULL, NULL, error_message},
    {"error_type", "error_type", CANON_F_STR},
    {"affected_endpoints", "affected_endpoints", CANON_F_ARR, NULL, &endpoint_tbl},
    {"created_at", "created_date", CANON_F_TIME},
    {"last_seen_at", "last_seen", CANON_F_TIME},
};
static const canon_table error_tbl = CANON_TABLE(error_fields, 0, error_consumed);

static const char *const sync_consumed[] = {"connection_id", "integration_name", "updated_at",
                                            NULL};
static const canon_field sync_fields[] = {
    {"resource", "resource", CANON_F_STR},
    {"state", "state", CANON_F_STR},
    {"last_started_at", "last_started_at", CANON_F_TIME},
    {"last_success_at", "last_success_at", CANON_F_TIME},
    {"records_seen", "records_seen", CANON_F_INT},
    {"last_error", "last_error", CANON_F_STR},
};
static const canon_table sync_tbl = CANON_TABLE(sync_fields, 0, sync_consumed);

/* GET /connections/{id}'s connection object, as the fetcher polled it. The version is
 * when it was polled (observed_at): the object has no update time of its own. */
/* A token never belongs here (the fetcher does not publish an object holding one); should
 * one come, it is not copied. */
static const char *const polled_consumed[] = {"connection_id", "integration_name", "access_token",
                                              "access_token_sealed", NULL};
static const canon_field polled_fields[] = {
    {"resource", "resource", CANON_F_STR},
    {"customer_id", "customer_id", CANON_F_STR},
    {"integration_type", "integration_type", CANON_F_STR},
    {"created_at", "created_at", CANON_F_TIME},
    {"webhooks_disabled", "webhooks_disabled", CANON_F_BOOL},
    {"available_actions", "available_actions", CANON_F_STRARR},
};
static const canon_table polled_tbl = CANON_TABLE(polled_fields, 0, polled_consumed);

/* The version of an event without its own time: when it was seen, except for a creation,
 * which is then ordered before everything of its connection, so that it can create the
 * connection but never undo a deletion (a replay is seen later than the deletion was). */
#define CANON_OLDEST_TIME "1970-01-01T00:00:00Z"

static const struct {
    const char *kind;
    const canon_table *tbl;
    const char *version_field[2]; /* first present one is source_updated_at */
    int detail;                   /* 0 none, 1 resource (required), 2 error detail */
    int oldest_when_unknown;      /* no version field: CANON_OLDEST_TIME, not observed_at */
} kinds[] = {
    [CANON_CONN_CREATED] = {"connection_created", &created_tbl, {"created_date", NULL}, 0, 1},
    [CANON_CONN_DELETED] = {"connection_deleted", &deleted_tbl, {"deleted_date", NULL}, 0, 0},
    [CANON_CONN_HISTORICAL_SYNC] =
        {"historical_sync_completed", &historical_tbl, {NULL, NULL}, 1, 0},
    [CANON_CONN_ERROR_CREATED] =
        {"connection_error_created", &error_tbl, {"updated_date", "created_date"}, 2, 0},
    [CANON_CONN_ERROR_UPDATED] =
        {"connection_error_updated", &error_tbl, {"updated_date", "created_date"}, 2, 0},
    [CANON_CONN_ERROR_DELETED] =
        {"connection_error_deleted", &error_tbl, {"updated_date", "created_date"}, 2, 0},
    [CANON_CONN_SYNC_STATUS] = {"sync_status", &sync_tbl, {"updated_at", NULL}, 1, 0},
    [CANON_CONN_POLLED] = {"connection_polled", &polled_tbl, {NULL, NULL}, 0, 0},
};

/* A non-empty string field of data, or NULL (wrong types are reported by the tables). */
static const char *str_field(const cJSON *data, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int canon_connection_map(canon_ctx *c, canon_conn_kind kind, const cJSON *data,
                         const canon_env *env_in, char **key, char **value, size_t *value_len) {
    char version[VAL_TIME_LEN], *id = NULL;
    canon_env env = *env_in;

    *key = *value = NULL;
    *value_len = 0;
    if ((int)kind < 0 || (size_t)kind >= sizeof kinds / sizeof kinds[0] || !kinds[kind].kind)
        return canon_fail(c, "internal: unknown connection event kind");

    /* Key detail: the resource, or for errors the best correlation we have (errors carry
     * no id: failed_url, else the guide shape's resource or error_type). */
    const char *detail = NULL;
    if (kinds[kind].detail == 1) {
        detail = str_field(data, "resource");
        if (!detail) return canon_fail(c, "missing resource");
    } else if (kinds[kind].detail == 2) {
        detail = str_field(data, "failed_url");
        if (!detail) detail = str_field(data, "resource");
        if (!detail) detail = str_field(data, "error_type");
    }
    if (detail && strlen(detail) > CANON_MAX_ID)
        return canon_fail(c, "connection event detail longer than %d", CANON_MAX_ID);
    size_t idlen =
        strlen("connection|") + strlen(kinds[kind].kind) + (detail ? 1 + strlen(detail) : 0) + 1;
    id = malloc(idlen);
    if (!id) return canon_fail(c, "out of memory");
    snprintf(id, idlen, "connection|%s%s%s", kinds[kind].kind, detail ? "|" : "",
             detail ? detail : "");

    /* source_updated_at: the event's own time, else when we saw it (see kinds[]). */
    env.source_updated_at = kinds[kind].oldest_when_unknown ? CANON_OLDEST_TIME : env.observed_at;
    for (int i = 0; i < 2 && kinds[kind].version_field[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, kinds[kind].version_field[i]);
        if (!v || cJSON_IsNull(v)) continue;
        if (!cJSON_IsString(v) || val_time_norm(v->valuestring, version) < 0) {
            canon_fail(c, "bad timestamp at %s", kinds[kind].version_field[i]);
            goto fail;
        }
        env.source_updated_at = version;
        break;
    }
    if (!env.integration_name) env.integration_name = str_field(data, "integration_name");
    env.entity = "connection_event";
    env.id = id;
    env.trackstar_updated_at = NULL;

    canon_envelope(c, &env);
    canon_w_key(c, "kind");
    canon_w_str(c, kinds[kind].kind);
    if (canon_map_table(c, kinds[kind].tbl, data, -1) < 0 || canon_finish(c, value, value_len) < 0)
        goto fail;
    *key = canon_key(c, env.connection_id, id);
    if (!*key) goto fail;
    free(id);
    return 0;
fail:
    free(*key);
    free(*value);
    *key = *value = NULL;
    *value_len = 0;
    free(id);
    return -1;
}
