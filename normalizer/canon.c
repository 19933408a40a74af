/* canon.c - canon_map(): validate one raw message, find out what it is from its headers
 * (webhook event type, or poll resource: the registry in common/entities.h says which
 * entity), pull the record out of the webhook envelope, and hand it to the entity's
 * mapper or to the connection-event mapper (canon_mappers.h).
 */
#include "normalizer/canon.h"
#include "normalizer/canon_mappers.h"
#include "entities.h"
#include "json_arena.h"
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest event type or resource name we look up; anything longer is unknown. */
#define CANON_MAX_TYPE 128
/* Bytes beyond the body's length reserved up front for its record (see canon_map). */
#define CANON_OUT_SLACK 1024

/* The connection's own events (not entities), by their normalised type (underscores
 * turned into hyphens), also printed as the canonical event_type. */
static const struct {
    const char *type;
    canon_conn_kind kind;
} conn_routes[] = {
    {"connection.created", CANON_CONN_CREATED},
    {"connection.deleted", CANON_CONN_DELETED},
    {"connection.historical-sync-completed", CANON_CONN_HISTORICAL_SYNC},
    {"connection-error.created", CANON_CONN_ERROR_CREATED},
    {"connection-error.updated", CANON_CONN_ERROR_UPDATED},
    {"connection-error.deleted", CANON_CONN_ERROR_DELETED},
    {"pipeline.sync-status", CANON_CONN_SYNC_STATUS},
};

/* Events we deliberately do not model besides the registry's unmodelled families
 * (prefixes of the normalised type): whole integration types, whatever their families,
 * and the connection's sync-job events. The second string is the ignored_reason. */
static const struct {
    const char *prefix, *reason;
} ignored_types[] = {
    {"cart-", "cart events are not modelled"},
    {"carrier-", "carrier events are not modelled"},
    {"freight-", "freight events are not modelled"},
    {"install.", "install events are not modelled"},
    {"connection.force-sync-completed", "sync job events are not modelled"},
    {"connection.sync-job-", "sync job events are not modelled"},
    {"connection.schedule-stuck", "sync job events are not modelled"},
};

/* The mapper of every registry entity, by ts_entity_id. */
#define MAPPER(name, NAME, entity, ...) [TS_ENT_##NAME] = &canon_entity_##entity,
static const canon_entity *const mappers[TS_ENTITY_COUNT] = {TS_ENTITIES(MAPPER)};
#undef MAPPER

/* A header value, or NULL when absent or empty (the same thing for us). */
static const char *hdr(const char *s) {
    return s && *s ? s : NULL;
}

/* Copy s into out (CANON_MAX_TYPE) replacing `from` by `to`; -1 when too long. */
static int normalise_name(const char *s, char from, char to, char out[CANON_MAX_TYPE]) {
    size_t n = strlen(s);
    if (n >= CANON_MAX_TYPE) return -1;
    for (size_t i = 0; i <= n; i++)
        out[i] = s[i] == from ? to : s[i];
    return 0;
}

/* An id-like string: present, non-empty, bounded. */
static const char *id_string(canon_ctx *c, const cJSON *v, const char *what) {
    if (!v || cJSON_IsNull(v)) {
        canon_fail(c, "missing %s", what);
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        canon_fail(c, "wrong type for %s, want string", what);
        return NULL;
    }
    size_t n = strlen(v->valuestring);
    if (n == 0 || n > CANON_MAX_ID) {
        canon_fail(c, "%s is empty or longer than %d", what, CANON_MAX_ID);
        return NULL;
    }
    return v->valuestring;
}

/* The whole record: envelope, the entity's fields, extra. Fills msg. */
static int map_entity(canon_ctx *c, ts_entity_id e, const cJSON *data, canon_env *env,
                      canon_msg *msg) {
    char upd[VAL_TIME_LEN], tsupd[VAL_TIME_LEN];

    env->entity = ts_entities[e].entity;
    env->id = id_string(c, cJSON_GetObjectItemCaseSensitive(data, "id"), "id");
    if (!env->id) goto fail;
    /* The writer orders versions by source_updated_at: without it a record cannot be
     * applied monotonically, so it is poison rather than a row with a null version. */
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(data, "updated_date");
    if (!u || cJSON_IsNull(u)) {
        canon_fail(c, "missing updated_date");
        goto fail;
    }
    if (!cJSON_IsString(u) || val_time_norm(u->valuestring, upd) < 0) {
        canon_fail(c, "bad timestamp at updated_date");
        goto fail;
    }
    env->source_updated_at = upd;
    const cJSON *tu = cJSON_GetObjectItemCaseSensitive(data, "trackstar_updated_date");
    env->trackstar_updated_at = NULL;
    if (tu && !cJSON_IsNull(tu)) {
        if (!cJSON_IsString(tu) || val_time_norm(tu->valuestring, tsupd) < 0) {
            canon_fail(c, "bad timestamp at trackstar_updated_date");
            goto fail;
        }
        env->trackstar_updated_at = tsupd;
    }

    canon_envelope(c, env);
    if (canon_map_table(c, mappers[e]->table, data, -1) < 0 ||
        canon_finish(c, &msg->value, &msg->value_len) < 0)
        goto fail;
    msg->key = canon_key(c, env->connection_id, env->id);
    if (!msg->key) goto fail;
    msg->topic = ts_entities[e].topic_internal; /* the writer publishes the public one */
    return 0;
fail:
    free(msg->key);
    free(msg->value);
    msg->key = msg->value = NULL;
    return -1;
}

static int map_connection(canon_ctx *c, canon_conn_kind kind, const cJSON *data, canon_env *env,
                          canon_msg *msg) {
    if (canon_connection_map(c, kind, data, env, &msg->key, &msg->value, &msg->value_len) < 0)
        return -1;
    msg->topic = TOPIC_CONNECTION_EVENTS;
    return 0;
}

/* Webhook: the envelope {connection_id, event_type, integration_name, integration_type,
 * data, previous_attributes?, data_truncated?, data_url?}. */
static const cJSON *webhook_unwrap(canon_ctx *c, const cJSON *root, canon_env *env) {
    env->connection_id =
        id_string(c, cJSON_GetObjectItemCaseSensitive(root, "connection_id"), "connection_id");
    if (!env->connection_id) return NULL;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "integration_name");
    if (in && !cJSON_IsNull(in) && !cJSON_IsString(in)) {
        canon_fail(c, "wrong type for integration_name, want string");
        return NULL;
    }
    env->integration_name = cJSON_IsString(in) ? in->valuestring : NULL;
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "data_truncated");
    if (cJSON_IsTrue(tr)) {
        canon_fail(c, "data_truncated");
        return NULL;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsObject(data)) {
        canon_fail(c, data ? "wrong type for data, want object" : "missing data");
        return NULL;
    }
    return data;
}

/* Route a webhook (or the fetcher's sync status) by its normalised event type. Returns 1
 * when ignored, 0 mapped, -1 poison. */
static int route_event(canon_ctx *c, const canon_raw *in, const cJSON *root, canon_env *env,
                       canon_out *out, const char **ignored) {
    char type[CANON_MAX_TYPE], body_type[CANON_MAX_TYPE];
    const cJSON *bt = cJSON_GetObjectItemCaseSensitive(root, "event_type");
    const char *t = hdr(in->event_type);

    if (bt && !cJSON_IsString(bt)) return canon_fail(c, "wrong type for event_type, want string");
    if (!t && bt) t = bt->valuestring;
    if (!t) return canon_fail(c, "missing event_type");
    if (normalise_name(t, '_', '-', type) < 0) return canon_fail(c, "unknown event_type");
    /* The gateway copies the body's event_type into the header; a difference is a bug
     * upstream, and guessing which one is right could file a record under the wrong entity. */
    if (bt &&
        (normalise_name(bt->valuestring, '_', '-', body_type) < 0 || strcmp(type, body_type) != 0))
        return canon_fail(c, "event_type header and body disagree");

    for (size_t i = 0; i < sizeof ignored_types / sizeof ignored_types[0]; i++)
        if (strncmp(type, ignored_types[i].prefix, strlen(ignored_types[i].prefix)) == 0) {
            *ignored = ignored_types[i].reason;
            return 1;
        }
    /* An entity's event ("<prefix>.<event>", from the registry), or the connection's. */
    const char *dot = strchr(type, '.');
    const ts_family *f = dot ? ts_family_by_prefix(type, (size_t)(dot - type)) : NULL;
    int conn_kind = -1;
    if (f && f->entity < 0) {
        *ignored = f->ignored;
        return 1;
    }
    if (!f || ts_family_event(f, dot + 1, strlen(dot + 1)) < 0) {
        for (size_t i = 0; i < sizeof conn_routes / sizeof conn_routes[0] && conn_kind < 0; i++)
            if (strcmp(type, conn_routes[i].type) == 0) conn_kind = (int)conn_routes[i].kind;
        if (conn_kind < 0) return canon_fail(c, "unknown event_type");
    }
    env->event_type = type;

    if (conn_kind == CANON_CONN_SYNC_STATUS) {
        /* Made by our fetcher: the body is the status itself, with connection_id inside
         * (or in the header). Always "poll": it describes polling, whatever the header. */
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(root, "connection_id");
        env->connection_id = cid ? id_string(c, cid, "connection_id") : hdr(in->connection_id);
        if (!env->connection_id) return canon_fail(c, "missing connection_id");
        const cJSON *inm = cJSON_GetObjectItemCaseSensitive(root, "integration_name");
        env->integration_name = cJSON_IsString(inm) ? inm->valuestring : hdr(in->integration_name);
        env->source = "poll";
        if (map_connection(c, CANON_CONN_SYNC_STATUS, root, env, &out->msg[0]) < 0) return -1;
        out->n = 1;
        return 0;
    }
    if (!in->source || strcmp(in->source, "webhook") != 0)
        return canon_fail(c, "event_type %s needs source webhook", type);
    env->source = "webhook";
    const cJSON *data = webhook_unwrap(c, root, env);
    if (!data) return -1;
    c->envelope = root;
    if (conn_kind < 0 ? map_entity(c, (ts_entity_id)f->entity, data, env, &out->msg[0])
                      : map_connection(c, (canon_conn_kind)conn_kind, data, env, &out->msg[0]))
        return -1;
    out->n = 1;
    return 0;
}

/* The fetcher's poll of GET /connections/{id}: the body is the connection object, which
 * names its connection itself (the header says the same). */
static int route_connection_poll(canon_ctx *c, const canon_raw *in, const cJSON *root,
                                 canon_env *env, canon_out *out) {
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(root, "connection_id");
    env->connection_id = cid ? id_string(c, cid, "connection_id") : hdr(in->connection_id);
    if (!env->connection_id) return canon_fail(c, "missing connection_id");
    if (hdr(in->connection_id) && strcmp(in->connection_id, env->connection_id) != 0)
        return canon_fail(c, "connection_id header and body disagree");
    const cJSON *inm = cJSON_GetObjectItemCaseSensitive(root, "integration_name");
    env->integration_name = cJSON_IsString(inm) ? inm->valuestring : hdr(in->integration_name);
    env->source = "poll";
    env->event_type = "connections.polled";
    if (map_connection(c, CANON_CONN_POLLED, root, env, &out->msg[0]) < 0) return -1;
    out->n = 1;
    return 0;
}

/* A timestamp field of the fetcher's own message, normalised into out; NULL when absent or
 * null and allowed, or after failing c. */
static const char *own_time(canon_ctx *c, const cJSON *obj, const char *name, int required,
                            char out[VAL_TIME_LEN]) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) {
        if (required) canon_fail(c, "missing %s", name);
        return NULL;
    }
    if (!cJSON_IsString(v) || val_time_norm(v->valuestring, out) < 0) {
        canon_fail(c, "bad timestamp at %s", name);
        return NULL;
    }
    return out;
}

/* A record a complete listing no longer holds (EVENT_GONE_SUFFIX, topics.h): the canonical
 * delete record, envelope + deleted + deleted_at (docs/consuming.md). The envelope's
 * versions are the ones the delete supersedes. */
static int map_gone(canon_ctx *c, ts_entity_id e, const cJSON *body, canon_env *env,
                    canon_msg *msg) {
    char upd[VAL_TIME_LEN], tsupd[VAL_TIME_LEN], at[VAL_TIME_LEN];
    env->entity = ts_entities[e].entity;
    env->id = id_string(c, cJSON_GetObjectItemCaseSensitive(body, "id"), "id");
    if (!env->id) return -1;
    env->source_updated_at = own_time(c, body, "source_updated_at", 1, upd);
    if (!env->source_updated_at) return -1;
    env->trackstar_updated_at = own_time(c, body, "trackstar_updated_at", 0, tsupd);
    if (c->failed) return -1;
    const char *deleted_at = own_time(c, body, "deleted_at", 1, at);
    if (!deleted_at) return -1;
    canon_envelope(c, env);
    canon_w_key(c, "deleted");
    canon_w_lit(c, "true");
    canon_w_key(c, "deleted_at");
    canon_w_str(c, deleted_at);
    if (canon_finish(c, &msg->value, &msg->value_len) < 0) return -1;
    msg->key = canon_key(c, env->connection_id, env->id);
    if (!msg->key) {
        free(msg->value);
        msg->value = NULL;
        return -1;
    }
    msg->topic = ts_entities[e].topic_internal;
    return 0;
}

/* Poll: the body is one bare record (or, for "<resource>.gone", the fetcher's delete);
 * connection and resource come from headers. */
static int route_poll(canon_ctx *c, const canon_raw *in, const cJSON *root, canon_env *env,
                      canon_out *out, const char **ignored) {
    char res[CANON_MAX_TYPE], from_type[CANON_MAX_TYPE], type[CANON_MAX_TYPE + 8];
    const char *r = hdr(in->resource), *t = hdr(in->event_type);
    int gone = 0;

    from_type[0] = '\0';
    if (t) {
        size_t n = strlen(t), sl = strlen(EVENT_POLLED_SUFFIX), gl = strlen(EVENT_GONE_SUFFIX);
        if (n > gl && strcmp(t + n - gl, EVENT_GONE_SUFFIX) == 0) {
            gone = 1;
            sl = gl;
        } else if (n <= sl || strcmp(t + n - sl, EVENT_POLLED_SUFFIX) != 0) {
            return canon_fail(c, "poll with event_type other than <resource>.polled or .gone");
        }
        if (n - sl >= CANON_MAX_TYPE)
            return canon_fail(c, "poll with event_type other than <resource>.polled or .gone");
        memcpy(from_type, t, n - sl);
        from_type[n - sl] = '\0';
        for (char *p = from_type; *p; p++)
            if (*p == '-') *p = '_';
    }
    if (!r && !from_type[0]) return canon_fail(c, "poll without resource");
    if (r ? normalise_name(r, '-', '_', res) < 0 : normalise_name(from_type, '-', '_', res) < 0)
        return canon_fail(c, "unknown poll resource");
    if (from_type[0] && strcmp(res, from_type) != 0)
        return canon_fail(c, "resource header and event_type disagree");
    if (strcmp(res, "connections") == 0) return route_connection_poll(c, in, root, env, out);

    for (int i = 0; i < ts_family_count; i++) {
        const ts_family *f = &ts_families[i];
        if (strcmp(res, f->resource) != 0) continue;
        if (f->entity < 0) {
            *ignored = f->ignored;
            return 1;
        }
        env->source = "poll";
        env->connection_id = hdr(in->connection_id);
        if (!env->connection_id) return canon_fail(c, "missing connection_id");
        if (strlen(env->connection_id) > CANON_MAX_ID)
            return canon_fail(c, "connection_id is longer than %d", CANON_MAX_ID);
        env->integration_name = hdr(in->integration_name);
        snprintf(type, sizeof type, "%s%s", res, gone ? EVENT_GONE_SUFFIX : EVENT_POLLED_SUFFIX);
        env->event_type = type;
        if ((gone ? map_gone(c, (ts_entity_id)f->entity, root, env, &out->msg[0])
                  : map_entity(c, (ts_entity_id)f->entity, root, env, &out->msg[0])) < 0)
            return -1;
        out->n = 1;
        return 0;
    }
    return canon_fail(c, "unknown poll resource");
}

int canon_map(const canon_raw *in, canon_out *out, const char **ignored_reason, char *errstr,
              size_t errlen) {
    canon_ctx c = {.errstr = errstr, .errlen = errlen};
    c.w = &c.out;
    const char *ignored = NULL;
    char observed[VAL_TIME_LEN];
    canon_env env = {0};
    json_arena arena = {0};
    const cJSON *root = NULL;
    int rc;

    if (errstr && errlen) errstr[0] = '\0';
    if (ignored_reason) *ignored_reason = NULL;
    if (!out) {
        canon_fail(&c, "no output");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (!in || !in->body || in->body_len == 0) {
        canon_fail(&c, "empty body");
        goto fail;
    }
    if (in->body_len > CANON_MAX_BODY) {
        canon_fail(&c, "body larger than %u bytes", CANON_MAX_BODY);
        goto fail;
    }
    /* Checked on the raw bytes so that no invalid text can reach a canonical record:
     * cJSON passes string bytes through unchecked. */
    if (!val_text_valid(in->body, in->body_len)) {
        canon_fail(&c, VAL_TEXT_INVALID);
        goto fail;
    }
    const char *end = NULL;
    root = json_arena_parse(&arena, in->body, in->body_len, &end);
    if (!root) {
        canon_fail(&c, arena.oom   ? "out of memory"
                       : arena.nul ? "NUL character in a string (text columns cannot hold it)"
                                   : "malformed JSON");
        goto fail;
    }
    for (; end && end < in->body + in->body_len; end++)
        if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
            canon_fail(&c, "malformed JSON: trailing data");
            goto fail;
        }
    if (!cJSON_IsObject(root)) {
        canon_fail(&c, "body is not a JSON object");
        goto fail;
    }
    if (hdr(in->received_at)) {
        if (val_time_norm(in->received_at, observed) < 0) {
            canon_fail(&c, "bad received_at header");
            goto fail;
        }
        env.observed_at = observed;
    }
    env.event_id = hdr(in->event_id);
    /* One allocation for the whole record in the usual case: a canonical record is about
     * as long as its source (more nulls, fewer source-only keys). */
    if (canon_buf_reserve(&c, in->body_len + CANON_OUT_SLACK) < 0) goto fail;

    if (in->source && strcmp(in->source, "poll") == 0 &&
        !(hdr(in->event_type) && strcmp(in->event_type, "pipeline.sync-status") == 0))
        rc = route_poll(&c, in, root, &env, out, &ignored);
    else
        rc = route_event(&c, in, root, &env, out, &ignored);
    if (rc < 0) goto fail;
    if (rc == 1 && ignored_reason) *ignored_reason = ignored;
    if (out->n == 1 && c.nchanges) {
        out->msg[0].nchanges = c.nchanges;
        out->msg[0].changed = c.changed.p;
        memset(&c.changed, 0, sizeof c.changed);
    }
    canon_ctx_free(&c);
    json_arena_free(&arena);
    return 0;
fail:
    if (!c.failed) canon_fail(&c, "unmappable message");
    canon_out_free(out);
    canon_ctx_free(&c);
    json_arena_free(&arena);
    return -1;
}

void canon_out_free(canon_out *out) {
    if (!out) return;
    for (int i = 0; i < CANON_MAX_OUT; i++) {
        free(out->msg[i].key);
        free(out->msg[i].value);
        free(out->msg[i].changed);
        out->msg[i].key = out->msg[i].value = out->msg[i].changed = NULL;
        out->msg[i].nchanges = 0;
        out->msg[i].value_len = 0;
        out->msg[i].topic = NULL;
    }
    out->n = 0;
}
