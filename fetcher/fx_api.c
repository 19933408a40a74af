/* fx_api.c - management API parsing and the link exchange (see fx_api.h). */
#include "fx_api.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx_http.h"
#include "fx_json.h"
#include "entities.h"
#include "util.h"
#include "values.h"

#define FX_API_TIMEOUT_MS 30000

static uint32_t actions_mask(const cJSON *arr) {
    uint32_t m = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, arr) {
        if (!cJSON_IsString(a) || strncmp(a->valuestring, "get_", 4) != 0) continue;
        m |= ts_function_reads(a->valuestring); /* get_orders: order channels too */
    }
    return m;
}

int fx_api_parse_integrations(const char *body, size_t len, fx_integ *out, int max, int *n) {
    *n = 0;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *data = root ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL;
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(root);
        return -1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, data) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "integration_name");
        if (!cJSON_IsString(name) || *n == max) continue;
        fx_integ *g = &out[(*n)++];
        snprintf(g->name, sizeof g->name, "%s", name->valuestring);
        g->reads = actions_mask(cJSON_GetObjectItemCaseSensitive(it, "available_actions"));
        /* list_operations names the same read actions; count them too. */
        const cJSON *op, *ops = cJSON_GetObjectItemCaseSensitive(it, "list_operations");
        cJSON_ArrayForEach(op, ops) {
            const cJSON *action = cJSON_GetObjectItemCaseSensitive(op, "action");
            if (cJSON_IsString(action) && strncmp(action->valuestring, "get_", 4) == 0)
                g->reads |= ts_function_reads(action->valuestring);
        }
    }
    cJSON_Delete(root);
    return 0;
}

static double num_or_zero(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e9 ? v->valuedouble : 0;
}

static int64_t time_or_zero(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    int64_t ms;
    return cJSON_IsString(v) && val_time_parse(v->valuestring, &ms, NULL) == 0 ? ms : 0;
}

/* One Connection object into out. */
static void parse_conn_item(const cJSON *data, fx_conn_info *out) {
    memset(out, 0, sizeof *out);
    const cJSON *integ = cJSON_GetObjectItemCaseSensitive(data, "integration_name");
    if (cJSON_IsString(integ))
        snprintf(out->integration, sizeof out->integration, "%s", integ->valuestring);
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(data, "available_actions");
    if (cJSON_IsArray(actions)) {
        out->actions = actions_mask(actions);
        out->actions_known = 1;
    }
    const cJSON *wd = cJSON_GetObjectItemCaseSensitive(data, "webhooks_disabled");
    out->webhooks_disabled = cJSON_IsBool(wd) ? cJSON_IsTrue(wd) : -1;
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(data, "historical_sync_completed");
    const cJSON *s, *scheds = cJSON_GetObjectItemCaseSensitive(data, "sync_schedules");
    cJSON_ArrayForEach(s, scheds) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(s, "function_name");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(s, "sync_status");
        /* get_orders' schedule is order channels' too: they are read with it */
        unsigned reads = cJSON_IsString(fn) ? ts_function_reads(fn->valuestring) : 0;
        const char *status = cJSON_IsString(st) ? st->valuestring : "";
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            if (!(reads & (1u << r))) continue;
            fx_schedule *sc = &out->sched[r];
            sc->known = 1;
            sc->frequency_ms = (int64_t)(num_or_zero(s, "sync_frequency") * 1000);
            sc->crawl_start_ms = time_or_zero(s, "last_crawl_start");
            sc->crawl_end_ms = time_or_zero(s, "last_crawl_end");
            sc->running = strcmp(status, "sync_in_progress") == 0 ||
                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "in_progress"));
            sc->error = strcmp(status, "error") == 0;
        }
        if (!cJSON_IsObject(hist) && cJSON_IsString(st) &&
            strcmp(status, "first_sync_in_progress") != 0)
            out->hist_done |= reads;
    }
    if (cJSON_IsObject(hist)) {
        const cJSON *h;
        cJSON_ArrayForEach(h, hist) {
            if (cJSON_IsTrue(h)) out->hist_done |= ts_function_reads(h->string);
        }
    }
}

/* The raw value of the answer's top-level "data", its leading blanks skipped: 0, or -1
 * when it is absent, malformed or empty. */
static int data_value(const char *body, size_t len, const char **v, size_t *vl) {
    if (fx_json_obj_raw(body, len, "data", v, vl) != 1) return -1;
    while (*vl && (**v == ' ' || **v == '\t' || **v == '\n' || **v == '\r'))
        (*v)++, (*vl)--;
    return *vl ? 0 : -1;
}

int fx_api_parse_connection_object(const char *obj, size_t len, fx_conn_info *out) {
    memset(out, 0, sizeof *out);
    cJSON *item = len && *obj == '{' ? cJSON_ParseWithLength(obj, len) : NULL;
    int ok = cJSON_IsObject(item);
    if (ok) parse_conn_item(item, out);
    cJSON_Delete(item);
    return ok ? 0 : -1;
}

int fx_api_parse_connection(const char *body, size_t len, fx_conn_info *out, const char **obj,
                            size_t *objlen) {
    memset(out, 0, sizeof *out);
    const char *v, *o = NULL;
    size_t vl, ol = 0;
    if (data_value(body, len, &v, &vl) != 0) return -1;
    if (*v == '[') { /* the list shape: its first element */
        const char *it = v;
        if (fx_json_array_next(&it, body + len, &o, &ol) != 1) return -1;
    } else {
        o = v;
        ol = vl;
    }
    if (fx_api_parse_connection_object(o, ol, out) != 0) return -1;
    if (obj) {
        *obj = o;
        *objlen = ol;
    }
    return 0;
}

int fx_api_parse_connection_page(const char *body, size_t len, fx_conn_page_fn each, void *arg,
                                 char *next, size_t nextlen) {
    const char *v, *it, *end = body + len, *obj;
    size_t vl, ol;
    if (data_value(body, len, &v, &vl) != 0 || *v != '[') return -1;
    int rc = fx_json_obj_str(body, len, "next_token", next, nextlen);
    if (rc < 0) return -1;
    if (rc == 0) next[0] = '\0';
    it = v;
    while ((rc = fx_json_array_next(&it, end, &obj, &ol)) == 1) {
        cJSON *item = cJSON_ParseWithLength(obj, ol);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "connection_id");
        if (cJSON_IsObject(item) && cJSON_IsString(id) && strlen(id->valuestring) < FX_ID_MAX) {
            fx_conn_info info;
            parse_conn_item(item, &info);
            each(arg, id->valuestring, obj, ol, &info);
        }
        cJSON_Delete(item);
    }
    return rc < 0 ? -1 : 0;
}

void fx_schedule_promise(const fx_schedule *s, fx_promise *prev) {
    if (!s->known) return;
    if (s->frequency_ms > 0) prev->frequency_ms = s->frequency_ms;
    if (s->running || !s->crawl_start_ms || !s->crawl_end_ms || s->crawl_start_ms > s->crawl_end_ms)
        return; /* a crawl in progress: its start says nothing yet */
    if (s->crawl_end_ms >= prev->crawl_end_ms) {
        prev->crawl_start_ms = s->crawl_start_ms;
        prev->crawl_end_ms = s->crawl_end_ms;
    }
}

int fx_api_parse_job(const char *body, size_t len, char id[FX_ID_MAX], char *status, size_t slen) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *data = root ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL;
    const cJSON *job = cJSON_IsObject(data) ? data : root; /* {data:{..}} or the job itself */
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(job, "id");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(job, "status");
    int rc = -1;
    if (cJSON_IsString(i) && *i->valuestring && strlen(i->valuestring) < FX_ID_MAX &&
        cJSON_IsString(s) && strlen(s->valuestring) < slen) {
        snprintf(id, FX_ID_MAX, "%s", i->valuestring);
        snprintf(status, slen, "%s", s->valuestring);
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

int fx_api_parse_exchange(const char *body, size_t len, char conn_id[FX_ID_MAX],
                          char integration[FX_ID_MAX], char customer_id[FX_ID_MAX], char **token) {
    *token = NULL;
    customer_id[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "connection_id");
    const cJSON *integ = cJSON_GetObjectItemCaseSensitive(root, "integration_name");
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(root, "customer_id");
    int rc = -1;
    if (cJSON_IsString(tok) && *tok->valuestring && cJSON_IsString(id) && *id->valuestring &&
        strlen(id->valuestring) < FX_ID_MAX) {
        snprintf(conn_id, FX_ID_MAX, "%s", id->valuestring);
        snprintf(integration, FX_ID_MAX, "%s", cJSON_IsString(integ) ? integ->valuestring : "");
        if (cJSON_IsString(cust) && strlen(cust->valuestring) < FX_ID_MAX)
            snprintf(customer_id, FX_ID_MAX, "%s", cust->valuestring);
        *token = strdup(tok->valuestring);
        rc = *token ? 0 : -1;
    }
    /* The tree held the token: wipe it before freeing. */
    if (cJSON_IsString(tok)) memset(tok->valuestring, 0, strlen(tok->valuestring));
    cJSON_Delete(root);
    return rc;
}

int fx_api_store_connection(PGconn *db, const seal_ring *ring, const char *conn_id,
                            const char *integration, const char *token, const char *customer_id,
                            int64_t event_ms, char *errstr, size_t errlen) {
    char *sealed = seal_seal(ring, conn_id, token, errstr, errlen);
    if (!sealed) return -1;
    int rc =
        fx_db_conn_put(db, conn_id, integration, sealed, customer_id, event_ms, errstr, errlen);
    free(sealed);
    return rc;
}

int fx_api_link_exchange(const char *base_url, const char *api_key, const char *auth_code,
                         const char *customer_id, PGconn *db, const seal_ring *ring,
                         char conn_id[FX_ID_MAX], char integration[FX_ID_MAX], char *errstr,
                         size_t errlen) {
    sbuf url = {0}, body = {0};
    fx_http_resp resp = {0};
    char *token = NULL, cust[FX_ID_MAX];
    int rc = -1;
    if (sbuf_printf(&url, "%s/link/exchange", base_url) ||
        sbuf_append(&body, "{\"auth_code\":", 13) ||
        sbuf_json_str(&body, auth_code, strlen(auth_code)))
        goto oom;
    if (customer_id && *customer_id &&
        (sbuf_append(&body, ",\"customer_id\":", 15) ||
         sbuf_json_str(&body, customer_id, strlen(customer_id))))
        goto oom;
    if (sbuf_append(&body, "}", 1)) goto oom;
    if (fx_http_call("POST", url.p, api_key, NULL, body.p, FX_API_TIMEOUT_MS, &resp) != 0) {
        snprintf(errstr, errlen, "link exchange: %s", resp.err);
        goto fail;
    }
    if (resp.status != 200 && resp.status != 201) {
        /* Trackstar's error bodies are {error, origin}: short and secret-free. */
        snprintf(errstr, errlen, "link exchange answered %d: %.200s", resp.status,
                 resp.body.p ? resp.body.p : "");
        goto fail;
    }
    if (fx_api_parse_exchange(resp.body.p, resp.body.len, conn_id, integration, cust, &token) !=
        0) {
        snprintf(errstr, errlen, "link exchange: the answer lacks access_token or connection_id");
        goto fail;
    }
    /* The answer carries no date: stored as created at an unknown time, which creates a
     * connection but never undoes a deletion (fx_db_conn_put). */
    rc = fx_api_store_connection(db, ring, conn_id, integration, token,
                                 cust[0] ? cust : customer_id, 0, errstr, errlen) < 0
             ? -1
             : 0;
    goto fail;
oom:
    snprintf(errstr, errlen, "out of memory");
fail:
    if (resp.body.p) memset(resp.body.p, 0, resp.body.len); /* it held the token */
    sbuf_free(&resp.body);
    seal_free_secret(token);
    sbuf_free(&url);
    sbuf_free(&body);
    return rc;
}
