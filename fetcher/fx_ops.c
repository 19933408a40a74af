/* fx_ops.c - operator actions behind the admin routes and subcommands (fx_ops.h). */
#include "fx_ops.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "fx_api.h"
#include "fx_db.h"
#include "entities.h"
#include "fx_http.h"
#include "log.h"
#include "util.h"
#include "values.h"

static char *json_error(const char *msg) {
    sbuf b = {0};
    sbuf_append(&b, "{\"error\":", 9);
    sbuf_json_str(&b, msg, strlen(msg));
    sbuf_append(&b, "}", 1);
    return b.p;
}

static int fail_with(char **resp, int status, const char *msg) {
    *resp = json_error(msg);
    return status;
}

/* The value of key in "k=v&k=v" into buf; 0 or -1 when absent. */
static int query_arg(const char *q, const char *key, char *buf, size_t len) {
    size_t kl = strlen(key);
    for (const char *p = q; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = seg - kl - 1;
            if (vl >= len) return -1;
            memcpy(buf, p + kl + 1, vl);
            buf[vl] = '\0';
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return -1;
}

static int open_db(const fx_ops *o, PGconn **db, char **resp) {
    char err[256];
    *db = fx_db_open(o->db_url, err, sizeof err);
    if (!*db) return fail_with(resp, 503, err);
    if (fx_db_schema_ready(*db, err, sizeof err) != 0) {
        PQfinish(*db);
        *db = NULL;
        return fail_with(resp, 503, err);
    }
    return 0;
}

int fx_ops_request(const fx_ops *o, const char *kind, const char *body, size_t len, char **resp) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    PGconn *db = NULL;
    int status;
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(root, "connection_id");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resources");
    uint32_t mask = 0;
    int64_t start = 0, end = 0;
    if (!cJSON_IsString(conn) || !*conn->valuestring || strlen(conn->valuestring) >= FX_ID_MAX) {
        status = fail_with(resp, 400, "connection_id (string) is required");
        goto done;
    }
    if (res && !cJSON_IsArray(res)) {
        status = fail_with(resp, 400, "resources must be an array of resource names");
        goto done;
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, res) {
        int x = cJSON_IsString(r) ? ts_entity_lookup(r->valuestring) : -1;
        if (x < 0) {
            status = fail_with(resp, 400, "unknown resource in resources (see docs/fetcher.md)");
            goto done;
        }
        mask |= 1u << x;
    }
    if (strcmp(kind, "backfill") == 0) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "start");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "end");
        if (!cJSON_IsString(s) || val_time_parse(s->valuestring, &start, NULL) != 0) {
            status = fail_with(resp, 400, "start (RFC 3339 date) is required");
            goto done;
        }
        if (e && !cJSON_IsNull(e) &&
            (!cJSON_IsString(e) || val_time_parse(e->valuestring, &end, NULL) != 0 ||
             end <= start)) {
            status = fail_with(resp, 400, "end must be an RFC 3339 date after start");
            goto done;
        }
    }
    if ((status = open_db(o, &db, resp))) goto done;
    char err[256], cstate[16];
    int found = fx_db_conn_state(db, conn->valuestring, cstate, err, sizeof err);
    if (found <= 0) {
        status = fail_with(resp, found < 0 ? 503 : 404, found < 0 ? err : "unknown connection_id");
        goto done;
    }
    if (strcmp(cstate, FX_CONN_DELETED) == 0) {
        status = fail_with(resp, 409, "the connection is deleted: it is not polled any more");
        goto done;
    }
    int64_t id;
    if (fx_db_req_add(db, conn->valuestring, kind, mask, start, end, &id, err, sizeof err) != 0) {
        status = fail_with(resp, 503, err);
        goto done;
    }
    char *j = fx_db_req_json(db, id, err, sizeof err);
    if (!j) {
        status = fail_with(resp, 503, err);
        goto done;
    }
    *resp = j;
    status = 202;
    char ids[24];
    snprintf(ids, sizeof ids, "%" PRId64, id);
    log_info("request queued", "request_id", ids, "kind", kind, "connection_id", conn->valuestring,
             NULL);
done:
    cJSON_Delete(root);
    if (db) PQfinish(db);
    return status;
}

int fx_ops_exchange(const fx_ops *o, const char *body, size_t len, char **resp) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "auth_code");
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(root, "customer_id");
    PGconn *db = NULL;
    int status;
    if (!cJSON_IsString(code) || !*code->valuestring) {
        status = fail_with(resp, 400, "auth_code (string) is required");
        goto done;
    }
    if ((status = open_db(o, &db, resp))) goto done;
    char id[FX_ID_MAX], integ[FX_ID_MAX], err[512];
    if (fx_api_link_exchange(o->base_url, o->api_key, code->valuestring,
                             cJSON_IsString(cust) ? cust->valuestring : NULL, db, &o->ring, id,
                             integ, err, sizeof err) != 0) {
        status = fail_with(resp, 502, err);
        goto done;
    }
    /* Trackstar never hands out a deleted connection again; should it, the deletion
     * stands (fx_db_conn_put) and the caller is told. */
    char cstate[16];
    int found = fx_db_conn_state(db, id, cstate, err, sizeof err);
    if (found < 0 || (found && strcmp(cstate, FX_CONN_DELETED) == 0)) {
        status = fail_with(resp, found < 0 ? 503 : 409,
                           found < 0 ? err : "the exchange named a connection deleted here");
        goto done;
    }
    sbuf b = {0};
    sbuf_append(&b, "{\"connection_id\":", 17);
    sbuf_json_str(&b, id, strlen(id));
    sbuf_append(&b, ",\"integration_name\":", 20);
    sbuf_json_str(&b, integ, strlen(integ));
    sbuf_append(&b, "}", 1);
    *resp = b.p;
    status = 201;
    log_info("connection stored from link exchange", "connection_id", id, "integration_name", integ,
             NULL);
done:
    cJSON_Delete(root);
    if (db) PQfinish(db);
    return status;
}

int fx_ops_request_status(const fx_ops *o, const char *query, char **resp) {
    char idbuf[32], err[256], *end;
    if (query_arg(query, "id", idbuf, sizeof idbuf) != 0)
        return fail_with(resp, 400, "id is required");
    long long id = strtoll(idbuf, &end, 10);
    if (*end || end == idbuf) return fail_with(resp, 400, "id must be an integer");
    PGconn *db = NULL;
    int status = open_db(o, &db, resp);
    if (status) return status;
    char *j = fx_db_req_json(db, id, err, sizeof err);
    PQfinish(db);
    if (!j) return fail_with(resp, strcmp(err, "not found") == 0 ? 404 : 503, err);
    *resp = j;
    return 200;
}

int fx_ops_streams(const fx_ops *o, const char *query, char **resp) {
    char conn[FX_ID_MAX], err[256];
    int has = query_arg(query, "connection_id", conn, sizeof conn) == 0;
    PGconn *db = NULL;
    int status = open_db(o, &db, resp);
    if (status) return status;
    char *j = fx_db_streams_json(db, has ? conn : NULL, err, sizeof err);
    PQfinish(db);
    if (!j) return fail_with(resp, 503, err);
    *resp = j;
    return 200;
}

int fx_ops_patch(const fx_ops *o, const char *body, size_t len, char **resp) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(root, "connection_id");
    const cJSON *wd = cJSON_GetObjectItemCaseSensitive(root, "webhooks_disabled");
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(root, "customer_id");
    PGconn *db = NULL;
    fx_db_conn row = {0};
    char *token = NULL, *patch = NULL;
    fx_http_resp hr = {0};
    sbuf url = {0};
    int status;
    if (!cJSON_IsString(conn) || !*conn->valuestring || strlen(conn->valuestring) >= FX_ID_MAX) {
        status = fail_with(resp, 400, "connection_id (string) is required");
        goto done;
    }
    if ((wd && !cJSON_IsBool(wd)) || (cust && !cJSON_IsString(cust) && !cJSON_IsNull(cust)) ||
        (!wd && !cust)) {
        status = fail_with(
            resp, 400, "webhooks_disabled (boolean) and/or customer_id (string or null) needed");
        goto done;
    }
    if ((status = open_db(o, &db, resp))) goto done;
    char err[512];
    int found = fx_db_conn_get(db, conn->valuestring, &row, err, sizeof err);
    if (found <= 0) {
        status = fail_with(resp, found < 0 ? 503 : 404, found < 0 ? err : "unknown connection_id");
        goto done;
    }
    if (!row.sealed) {
        status = fail_with(resp, 409, "the connection is deleted: it has no access token");
        goto done;
    }
    if (!(token = seal_open(&o->ring, row.id, row.sealed, err, sizeof err))) {
        status = fail_with(resp, 500, "the stored access token cannot be opened");
        goto done;
    }
    cJSON *p = cJSON_CreateObject();
    if (wd) cJSON_AddBoolToObject(p, "webhooks_disabled", cJSON_IsTrue(wd));
    if (cust)
        cJSON_AddItemToObject(p, "customer_id",
                              cJSON_IsString(cust) ? cJSON_CreateString(cust->valuestring)
                                                   : cJSON_CreateNull());
    patch = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!patch || sbuf_printf(&url, "%s/connections", o->base_url) != 0) {
        status = fail_with(resp, 500, "out of memory");
        goto done;
    }
    if (fx_http_call("PATCH", url.p, o->api_key, token, patch, 30000, &hr) != 0 ||
        hr.status < 200 || hr.status > 299) {
        char what[320];
        snprintf(what, sizeof what, "PATCH /connections answered %d: %.200s", hr.status,
                 hr.body.p ? hr.body.p : hr.err);
        status = fail_with(resp, 502, what);
        goto done;
    }
    /* Trackstar's answer: {id, object, updated} (no secret) */
    *resp = strdup(hr.body.p ? hr.body.p : "{}");
    status = *resp ? 200 : fail_with(resp, 500, "out of memory");
    log_info("connection patched", "connection_id", row.id, NULL);
done:
    cJSON_Delete(root);
    free(patch);
    sbuf_free(&url);
    sbuf_free(&hr.body);
    seal_free_secret(token);
    free(row.sealed);
    if (db) PQfinish(db);
    return status;
}

static int route_patch(void *arg, const char *q, const char *body, size_t len, char **resp) {
    (void)q;
    return fx_ops_patch(arg, body, len, resp);
}

int fx_ops_reseal(const fx_ops *o, char **resp) {
    PGconn *db = NULL;
    fx_db_conn *rows = NULL;
    int n = 0, status = open_db(o, &db, resp);
    if (status) return status;
    char err[256], kids[128];
    int64_t seq = 0;
    long resealed = 0, current = 0, no_token = 0, raced = 0, failed = 0;
    sbuf failed_ids = {0};
    if (fx_db_conn_since(db, 0, &rows, &n, &seq, err, sizeof err) != 0) {
        status = fail_with(resp, 503, err);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        fx_db_conn *c = &rows[i];
        if (!c->sealed) {
            no_token++; /* deleted: wiped */
            continue;
        }
        if (seal_is_current(&o->ring, c->sealed)) {
            current++;
            continue;
        }
        char *plain = seal_open(&o->ring, c->id, c->sealed, err, sizeof err);
        char *again = plain ? seal_seal(&o->ring, c->id, plain, err, sizeof err) : NULL;
        seal_free_secret(plain);
        int rc = again ? fx_db_token_replace(db, c->id, c->sealed, again, err, sizeof err) : -1;
        free(again);
        if (rc > 0) {
            resealed++;
        } else if (rc == 0) {
            raced++;
        } else {
            failed++;
            if (failed_ids.len) sbuf_append(&failed_ids, ",", 1);
            sbuf_json_str(&failed_ids, c->id, strlen(c->id));
            log_warn("token not re-sealed", "connection_id", c->id, "error", err, NULL);
        }
    }
    seal_ring_kids(&o->ring, kids, sizeof kids);
    sbuf b = {0};
    sbuf_printf(&b,
                "{\"sealing_key_id\":\"%s\",\"key_ids\":\"%s\",\"connections\":%d,"
                "\"resealed\":%ld,\"already_current\":%ld,\"without_token\":%ld,"
                "\"changed_meanwhile\":%ld,\"failed\":%ld,\"failed_connections\":[",
                o->ring.keys[0].kid, kids, n, resealed, current, no_token, raced, failed);
    if (failed_ids.len) sbuf_append(&b, failed_ids.p, failed_ids.len);
    sbuf_append(&b, "]}", 2);
    *resp = b.p;
    status = failed ? 500 : 200;
    char rs[24], fs[24];
    snprintf(rs, sizeof rs, "%ld", resealed);
    snprintf(fs, sizeof fs, "%ld", failed);
    log_info("tokens re-sealed", "sealing_key_id", o->ring.keys[0].kid, "resealed", rs, "failed",
             fs, NULL);
done:
    sbuf_free(&failed_ids);
    fx_db_conns_free(rows, n);
    PQfinish(db);
    return status;
}

static int route_sync(void *arg, const char *q, const char *body, size_t len, char **resp) {
    (void)q;
    return fx_ops_request(arg, "sync", body, len, resp);
}
static int route_backfill(void *arg, const char *q, const char *body, size_t len, char **resp) {
    (void)q;
    return fx_ops_request(arg, "backfill", body, len, resp);
}
static int route_exchange(void *arg, const char *q, const char *body, size_t len, char **resp) {
    (void)q;
    return fx_ops_exchange(arg, body, len, resp);
}
static int route_request(void *arg, const char *q, const char *body, size_t len, char **resp) {
    (void)body;
    (void)len;
    return fx_ops_request_status(arg, q, resp);
}
static int route_reseal(void *arg, const char *q, const char *body, size_t len, char **resp) {
    (void)q;
    (void)body;
    (void)len;
    return fx_ops_reseal(arg, resp);
}
static int route_streams(void *arg, const char *q, const char *body, size_t len, char **resp) {
    (void)body;
    (void)len;
    return fx_ops_streams(arg, q, resp);
}

int fx_ops_install(fx_ops *o) {
    if (admin_route("POST", "/sync", route_sync, o) ||
        admin_route("POST", "/backfill", route_backfill, o) ||
        admin_route("POST", "/connections/exchange", route_exchange, o) ||
        admin_route("POST", "/connections/patch", route_patch, o) ||
        admin_route("GET", "/requests", route_request, o) ||
        admin_route("GET", "/streams", route_streams, o) ||
        admin_route("POST", "/tokens/reseal", route_reseal, o))
        return -1;
    return 0;
}
