/* sim_control.c - the test hooks under /_sim/ (API key required): mint auth codes (the
 * Link UI's part), create connections directly, finish historical syncs, run crawl
 * ticks, inject faults, read the truth (every current record, paginated) and the
 * webhook sender's counters. Access tokens are handed out here and nowhere else. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_catalog.h"
#include "sim_crawl.h"
#include "sim_http.h"
#include "sim_ingest.h"
#include "sim_reqstats.h"
#include "sim_webhook.h"
#include "values.h"

#define SIZE_MAX_PER_RES 200000 /* bounds on sizes a test may ask for */
#define BULK_MAX 100000         /* connections per bulk request (the lock is held meanwhile) */
#define LIST_PAGE_MAX 1000      /* entries per page of GET /_sim/connections and of a bulk answer */

static cJSON *body_obj(sim_req *rq, sim_resp *rs) {
    if (rq->body_len == 0) return cJSON_CreateObject();
    cJSON *j = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        sim_resp_422(rs, "body", "body", "Body must be a JSON object");
        return NULL;
    }
    return j;
}

/* Integer member with bounds; absent keeps *out. -1 + 422 when invalid. */
static int get_int(cJSON *j, const char *key, long lo, long hi, int *out, sim_resp *rs) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "Input should be an integer between %ld and %ld", lo, hi);
        sim_resp_422(rs, "body", key, msg);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

/* functions list -> resource mask (absent = all). -1 + 422 on unknown names. */
static int get_mask(cJSON *j, const char *key, uint32_t *mask, sim_resp *rs) {
    cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
    *mask = (1u << SIM_RES_COUNT) - 1;
    if (!a) return 0;
    if (!cJSON_IsArray(a)) {
        sim_resp_422(rs, "body", key, "Input should be a list of function names");
        return -1;
    }
    *mask = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, a) {
        int r = cJSON_IsString(it) ? sim_res_by_function(it->valuestring) : -1;
        if (r < 0) {
            sim_resp_422(rs, "body", key, "Unknown function name");
            return -1;
        }
        *mask |= 1u << r;
    }
    *mask = sim_res_derive(*mask); /* get_orders: order channels too */
    return 0;
}

/* One group of per-resource counts: which = 0 records in scope (held by the copy, or a
 * change pending), 1 out of the copy (older than the historical sync's window and never
 * changed since), 2 records with a change the copy lacks. */
static void counts(sbuf *b, const sim_conn *c, const char *key, int which) {
    sbuf_printf(b, ",\"%s\":{", key);
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        const sim_table *t = &c->t[r];
        uint32_t k = 0;
        if (which == 2) {
            k = t->ndirty;
        } else {
            for (uint32_t num = 1; num <= t->n; num++)
                k += (uint32_t)(sim_in_scope(t, num) == (which == 0));
        }
        sbuf_printf(b, "%s\"%s\":%u", r ? "," : "", sim_res_infos[r].plural, k);
    }
    sbuf_append(b, "}", 1);
}

static void conn_summary(sbuf *b, const sim_conn *c) {
    sbuf_printf(
        b,
        "{\"connection_id\":\"%s\",\"access_token\":\"%s\",\"integration_name\":\"%s\",\"live\":%s,"
        "\"historical_sync_pending\":[",
        c->id, c->token, c->integration, c->live ? "true" : "false");
    int n = 0;
    for (int r = 0; r < SIM_RES_COUNT; r++)
        if ((c->actions & (1u << r)) && !(c->hist_done & (1u << r)) &&
            sim_res_owner((sim_res)r) == (sim_res)r)
            sbuf_printf(b, "%s\"%s\"", n++ ? "," : "", sim_res_infos[r].function);
    sbuf_append(b, "]", 1);
    counts(b, c, "counts", 0);
    counts(b, c, "out_of_copy", 1);
    counts(b, c, "pending", 2);
    /* What the unkind world did to this connection: evidence that each case happened. */
    const sim_counters *w = &c->n;
    sbuf_printf(b,
                ",\"world\":{\"late\":%lld,\"equal_updated\":%lld,\"quantity_only\":%lld,"
                "\"mid_paging\":%lld,\"short_pages\":%lld,\"crawls\":%lld,\"force_syncs\":%lld,"
                "\"jobs_completed\":%lld,\"jobs_stuck\":%lld,\"webhooks_withheld\":%lld}}",
                w->late, w->equal_updated, w->quantity_only, w->mid_paging, w->short_pages,
                w->crawls, w->force_syncs, w->jobs_completed, w->jobs_stuck, c->ndropped);
}

static void auth_codes(sim_req *rq, sim_resp *rs) {
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "integration_name");
    cJSON *lt = cJSON_GetObjectItemCaseSensitive(j, "link_token");
    cJSON *ci = cJSON_GetObjectItemCaseSensitive(j, "connection_id");
    char code[64], err[128];
    if (sim_mgmt_mint_auth_code(cJSON_IsString(in) ? in->valuestring : NULL,
                                cJSON_IsString(lt) ? lt->valuestring : NULL,
                                cJSON_IsString(ci) ? ci->valuestring : NULL, code, sizeof code, err,
                                sizeof err) != 0) {
        sim_resp_422(rs, "body", "auth_code", err);
    } else {
        sbuf_printf(&rs->body, "{\"auth_code\":\"%s\"}", code);
        rs->status = 200;
    }
    cJSON_Delete(j);
}

/* What POST /_sim/connections and its bulk form ask for. */
typedef struct create_spec {
    const char *integration;
    sim_sizes sz;
    uint32_t actions;
    int pending, emit, webhooks_disabled;
    const char *customer_id; /* NULL = none */
} create_spec;

/* Read and validate the creation fields of body j into sp: 0, or -1 with a 422 in rs. */
static int parse_spec(cJSON *j, create_spec *sp, sim_resp *rs) {
    *sp = (create_spec){.sz = sim_http_cfg.default_sizes, .emit = 1, .integration = "sandbox"};
    cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "integration_name");
    cJSON *hs = cJSON_GetObjectItemCaseSensitive(j, "historical_sync");
    cJSON *aa = cJSON_GetObjectItemCaseSensitive(j, "available_actions");
    cJSON *wd = cJSON_GetObjectItemCaseSensitive(j, "webhooks_disabled");
    cJSON *cu = cJSON_GetObjectItemCaseSensitive(j, "customer_id");
    cJSON *led = cJSON_GetObjectItemCaseSensitive(j, "ledger");
    sim_sizes *sz = &sp->sz;
    if (get_int(j, "orders", 0, SIZE_MAX_PER_RES, &sz->orders, rs) ||
        get_int(j, "products", 1, SIZE_MAX_PER_RES, &sz->products, rs) ||
        get_int(j, "warehouses", 1, SIM_MAX_WAREHOUSES, &sz->warehouses, rs) ||
        get_int(j, "locations_per_warehouse", 0, 10000, &sz->locations_per_wh, rs) ||
        get_int(j, "returns", 0, SIZE_MAX_PER_RES, &sz->returns, rs) ||
        get_int(j, "inbound_shipments", 0, SIZE_MAX_PER_RES, &sz->inbound, rs) ||
        get_int(j, "bills", 0, SIZE_MAX_PER_RES, &sz->bills, rs) ||
        get_int(j, "shipping_methods", 1, 64, &sz->shipping_methods, rs) ||
        get_int(j, "warehouse_customers", 0, SIM_MAX_WC, &sz->warehouse_customers, rs) ||
        get_int(j, "labor_activities", 0, SIZE_MAX_PER_RES, &sz->labor, rs) ||
        get_int(j, "emit_created", 0, 1, &sp->emit, rs))
        return -1;
    if (hs && (!cJSON_IsString(hs) ||
               (strcmp(hs->valuestring, "pending") && strcmp(hs->valuestring, "completed")))) {
        sim_resp_422(rs, "body", "historical_sync", "Input should be 'pending' or 'completed'");
        return -1;
    }
    sp->pending = hs && strcmp(hs->valuestring, "pending") == 0;
    if (aa && get_mask(j, "available_actions", &sp->actions, rs)) return -1;
    if (aa && !sp->actions) {
        sim_resp_422(rs, "body", "available_actions", "At least one read function is needed");
        return -1;
    }
    if (led && !cJSON_IsBool(led)) {
        sim_resp_422(rs, "body", "ledger", "Input should be a valid boolean");
        return -1;
    }
    if (cJSON_IsString(in)) sp->integration = in->valuestring;
    if (!sim_integration_find(sp->integration)) {
        sim_resp_422(rs, "body", "integration_name", "unknown integration");
        return -1;
    }
    /* "ledger": true is the request that has Trackstar enable the inventory ledger: the
     * default actions (every read the integration has, which 0 stands for) plus the
     * ledger, or the listed ones plus the ledger. Listing get_inventory_ledger in
     * available_actions does the same. */
    if (cJSON_IsTrue(led))
        sp->actions = (aa ? sp->actions : (1u << SIM_RES_COUNT) - 1) | SIM_ON_REQUEST;
    sp->webhooks_disabled = cJSON_IsTrue(wd);
    if (cJSON_IsString(cu)) sp->customer_id = cu->valuestring;
    return 0;
}

/* One connection as sp asks, its connection.created sent when asked (as a link exchange
 * sends it). NULL with err when the store refused. */
static sim_conn *create_one(const create_spec *sp, int64_t now_ms, char *err, size_t errlen) {
    sim_conn *c = sim_conn_create(sp->integration, &sp->sz, sp->actions,
                                  sp->pending ? 0 : 0xffffffffu, now_ms, err, errlen);
    if (!c) return NULL;
    if (sp->pending)
        c->hist_due_ms =
            sim_http_cfg.historical_sync_ms > 0 ? now_ms + sim_http_cfg.historical_sync_ms : 0;
    c->webhooks_disabled = sp->webhooks_disabled;
    if (sp->customer_id) {
        c->has_customer = 1;
        snprintf(c->customer_id, sizeof c->customer_id, "%s", sp->customer_id);
    }
    if (sp->emit) sim_mgmt_emit_created(c);
    return c;
}

static void create_connection(sim_req *rq, sim_resp *rs) {
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    create_spec sp;
    char err[128];
    sim_conn *c = NULL;
    if (parse_spec(j, &sp, rs) != 0) goto done;
    if (!(c = create_one(&sp, rq->now_ms, err, sizeof err))) {
        sim_resp_422(rs, "body", "integration_name", err);
        goto done;
    }
    log_info("connection created by control API", "connection_id", c->id, "integration_name",
             c->integration, NULL);
    conn_summary(&rs->body, c);
    rs->status = 201;
done:
    cJSON_Delete(j);
}

/* Connections [from, to) as {"connection_id","access_token"} entries. */
static void id_entries(sbuf *b, int from, int to) {
    for (int i = from; i < to; i++)
        sbuf_printf(b, "%s{\"connection_id\":\"%s\",\"access_token\":\"%s\"}", i > from ? "," : "",
                    sim_g.conns[i]->id, sim_g.conns[i]->token);
}

/* POST /_sim/connections/bulk {count, ...the fields of POST /_sim/connections}: count
 * connections alike but for their ids, seeds and data, in creation order. The answer lists
 * the first LIST_PAGE_MAX (ids and tokens) and says where the rest are:
 * GET /_sim/connections?offset=&limit=&fields=ids. */
static void create_bulk(sim_req *rq, sim_resp *rs) {
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    create_spec sp;
    int count = -1;
    if (!cJSON_GetObjectItemCaseSensitive(j, "count")) {
        sim_resp_422(rs, "body", "count", "Field required");
        goto done;
    }
    if (get_int(j, "count", 1, BULK_MAX, &count, rs) || parse_spec(j, &sp, rs) != 0) goto done;
    if (cJSON_GetObjectItemCaseSensitive(j, "customer_id")) {
        sim_resp_422(rs, "body", "customer_id", "A customer_id names one connection: not in bulk");
        goto done;
    }
    int first = sim_g.nconns, made = 0;
    char err[128] = "";
    for (; made < count; made++)
        if (!create_one(&sp, rq->now_ms, err, sizeof err)) break;
    if (made < count) { /* what was made stays: the answer says how many and why */
        log_warn("bulk connection creation stopped", "error", err, NULL);
    }
    char nmade[16];
    snprintf(nmade, sizeof nmade, "%d", made);
    log_info("connections created in bulk by control API", "count", nmade, NULL);
    int shown = made < LIST_PAGE_MAX ? made : LIST_PAGE_MAX;
    sbuf *b = &rs->body;
    sbuf_printf(b, "{\"requested\":%d,\"created\":%d,\"first_offset\":%d,\"data\":[", count, made,
                first);
    id_entries(b, first, first + shown);
    sbuf_append(b, "],\"next_offset\":", 16);
    if (shown < made)
        sbuf_printf(b, "%d", first + shown);
    else
        sbuf_append(b, "null", 4);
    if (made < count) {
        sbuf_append(b, ",\"error\":", 9);
        sbuf_json_str(b, err, strlen(err));
    }
    sbuf_append(b, "}", 1);
    rs->status = made == count ? 201 : made ? 207 : 422;
done:
    cJSON_Delete(j);
}

/* Integer query parameter in [lo, hi]; absent keeps *out. -1 + 422 when invalid. */
static int query_int(sim_req *rq, const char *key, long lo, long hi, int *out, sim_resp *rs) {
    const char *v = sim_req_arg(rq, key);
    if (!v) return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "Input should be an integer between %ld and %ld", lo, hi);
        sim_resp_422(rs, "query", key, msg);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* GET /_sim/connections: every connection in creation order (deleted ones too). With
 * offset or limit, one page of at most LIST_PAGE_MAX and next_offset; fields=ids lists
 * only ids and tokens (no per-record counts: cheap at 100,000 connections). */
static void list_connections(sim_req *rq, sim_resp *rs) {
    int offset = 0, limit = -1;
    const char *fields = sim_req_arg(rq, "fields");
    if (query_int(rq, "offset", 0, SIM_MAX_CONNECTIONS, &offset, rs) ||
        query_int(rq, "limit", 1, LIST_PAGE_MAX, &limit, rs))
        return;
    if (fields && strcmp(fields, "ids") != 0 && strcmp(fields, "all") != 0) {
        sim_resp_422(rs, "query", "fields", "Input should be 'ids' or 'all'");
        return;
    }
    int paged = limit > 0 || sim_req_arg(rq, "offset");
    if (paged && limit < 0) limit = LIST_PAGE_MAX;
    int from = offset < sim_g.nconns ? offset : sim_g.nconns;
    int to = paged && sim_g.nconns - from > limit ? from + limit : sim_g.nconns;
    sbuf *b = &rs->body;
    sbuf_append(b, "{\"data\":[", 9);
    if (fields && strcmp(fields, "ids") == 0) {
        id_entries(b, from, to);
    } else {
        for (int i = from; i < to; i++) {
            if (i > from) sbuf_append(b, ",", 1);
            conn_summary(b, sim_g.conns[i]);
        }
    }
    sbuf_append(b, "]", 1);
    if (paged) {
        if (to < sim_g.nconns)
            sbuf_printf(b, ",\"next_offset\":%d", to);
        else
            sbuf_append(b, ",\"next_offset\":null", 19);
        sbuf_printf(b, ",\"total\":%d", sim_g.nconns);
    }
    sbuf_append(b, "}", 1);
    rs->status = 200;
}

static void scope_render(sbuf *b, const char *key, const sim_reqcount *c) {
    sbuf_printf(b,
                "\"%s\":{\"total\":%lld,\"ok\":%lld,\"http_429\":%lld,\"other_4xx\":%lld,"
                "\"http_5xx\":%lld,\"dropped\":%lld}",
                key, c->total, c->ok, c->http_429, c->other_4xx, c->http_5xx, c->dropped);
}

/* GET /_sim/requests/stats: the API requests answered since start or the last DELETE, by
 * rate-limit scope and outcome (sim_reqstats.h). DELETE resets them. */
static void request_stats(sim_req *rq, sim_resp *rs) {
    if (strcmp(rq->method, "DELETE") == 0) sim_reqstats_reset(rq->now_ms);
    sim_reqstats st;
    sim_reqstats_get(&st);
    sbuf *b = &rs->body;
    char since[VAL_TIME_LEN];
    val_time_format(st.since_ms, 1, since);
    sbuf_printf(b, "{\"since\":\"%s\",", since);
    scope_render(b, "access_token", &st.scope[SIM_SCOPE_TOKEN]);
    sbuf_append(b, ",", 1);
    scope_render(b, "api_key", &st.scope[SIM_SCOPE_API_KEY]);
    sbuf_append(b, "}", 1);
    rs->status = 200;
}

static void history(sim_req *rq, sim_resp *rs, sim_conn *c) {
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    uint32_t mask;
    if (get_mask(j, "functions", &mask, rs) == 0) {
        int n = sim_crawl_complete_history(c, mask, rq->now_ms);
        sbuf_printf(&rs->body, "{\"completed\":%d}", n);
        rs->status = 200;
    }
    cJSON_Delete(j);
}

static void crawl(sim_req *rq, sim_resp *rs, sim_conn *only) {
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    int n = sim_http_cfg.crawl_mutations;
    uint32_t mask;
    if (get_int(j, "mutations", 0, SIM_CRAWL_MAX_MUTATIONS, &n, rs) ||
        get_mask(j, "functions", &mask, rs))
        goto done;
    int muts = 0, events = 0;
    for (int i = 0; i < sim_g.nconns; i++) {
        sim_conn *c = sim_g.conns[i];
        if (only && c != only) continue;
        sim_crawl_result cr;
        sim_crawl_tick(c, n, mask, rq->now_ms, &cr);
        muts += cr.mutations;
        events += cr.events;
    }
    sbuf_printf(&rs->body, "{\"mutations\":%d,\"events\":%d}", muts, events);
    rs->status = 200;
done:
    cJSON_Delete(j);
}

/* Take every pending change into the copy now (a crawl that starts and ends now), for
 * tests that need a settled world at a given moment. */
static void ingest(sim_req *rq, sim_resp *rs, sim_conn *only) {
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    uint32_t mask;
    if (get_mask(j, "functions", &mask, rs) == 0) {
        int n = 0;
        for (int i = 0; i < sim_g.nconns; i++) {
            sim_conn *c = sim_g.conns[i];
            if ((only && c != only) || !c->live || c->invalid_creds) continue;
            n += sim_ingest_all(c, mask & c->hist_done & ~c->missing_perm, rq->now_ms, 1);
        }
        sbuf_printf(&rs->body, "{\"taken\":%d}", n);
        rs->status = 200;
    }
    cJSON_Delete(j);
}

/* {"resource": plural name, "id", "removed": bool}: delete a record in the WMS (it leaves
 * every list, get and the truth) or bring it back unchanged (same updated_date). */
static void records(sim_req *rq, sim_resp *rs, sim_conn *c) {
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    const char *res = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "resource"));
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
    const cJSON *rm = cJSON_GetObjectItemCaseSensitive(j, "removed");
    int r = sim_res_by_plural(res);
    uint32_t num;
    sim_meta *m = NULL;
    if (r < 0) {
        sim_resp_422(rs, "body", "resource", "Unknown resource");
    } else if (!cJSON_IsBool(rm)) {
        sim_resp_422(rs, "body", "removed", "Input should be a valid boolean");
    } else if (!id || sim_parse_id(c, (sim_res)r, id, &num) != 0 ||
               !(m = sim_table_get(&c->t[r], num))) {
        sim_resp_404(rs, "Record not found", id ? id : "");
    } else {
        m->removed = (uint8_t)cJSON_IsTrue(rm);
        sim_meta *w = sim_wms_get(&c->t[r], num); /* a pending WMS version goes with it */
        if (w) w->removed = m->removed;
        sbuf_printf(&rs->body, "{\"resource\":\"%s\",\"id\":", sim_res_infos[r].plural);
        sbuf_json_str(&rs->body, id, strlen(id));
        sbuf_printf(&rs->body, ",\"removed\":%s}", m->removed ? "true" : "false");
        rs->status = 200;
    }
    cJSON_Delete(j);
}

static void faults_render(sbuf *b) {
    sim_wh_faults wf;
    sim_wh_faults_get(&wf);
    const sim_http_faults *f = &sim_g.faults;
    sbuf_printf(
        b,
        "{\"http_429\":%d,\"http_5xx\":%d,\"http_401\":%d,\"drop\":%d,\"slow_count\":%d,\"slow_"
        "ms\":%d,\"short_"
        "pages\":%d,"
        "\"webhook_bad_signature\":%d,\"webhook_stale_timestamp\":%d,\"webhook_mangled_body\":%d,"
        "\"webhook_duplicate\":%d,\"webhook_out_of_order\":%d,\"webhook_oversize_bytes\":%ld,"
        "\"webhook_drop_percent\":%d,\"sync_job_stuck\":%d}",
        f->force_429, f->force_5xx, f->force_401, f->drop, f->slow_count, f->slow_ms,
        f->short_pages, wf.bad_signature, wf.stale_timestamp, wf.mangled_body, wf.duplicate,
        wf.out_of_order, wf.oversize_bytes, sim_g.w.drop_pct, sim_g.w.stuck_jobs);
}

static void faults(sim_req *rq, sim_resp *rs) {
    if (strcmp(rq->method, "GET") == 0) {
        faults_render(&rs->body);
        rs->status = 200;
        return;
    }
    if (strcmp(rq->method, "DELETE") == 0) {
        memset(&sim_g.faults, 0, sizeof sim_g.faults);
        for (int i = 0; i < sim_g.nconns; i++) {
            memset(&sim_g.conns[i]->faults, 0, sizeof sim_g.conns[i]->faults);
            sim_g.conns[i]->ledger_gap_pct = 0;
        }
        sim_wh_faults none = {0};
        sim_wh_faults_set(&none);
        sim_g.w.drop_pct = 0;
        sim_g.w.stuck_jobs = 0;
        faults_render(&rs->body);
        rs->status = 200;
        return;
    }
    cJSON *j = body_obj(rq, rs);
    if (!j) return;
    cJSON *ci = cJSON_GetObjectItemCaseSensitive(j, "connection_id");
    sim_conn *c = NULL;
    if (ci) {
        c = cJSON_IsString(ci) ? sim_conn_by_id(ci->valuestring) : NULL;
        if (!c) {
            sim_resp_404(rs, "Connection not found", cJSON_IsString(ci) ? ci->valuestring : "");
            goto done;
        }
    }
    sim_http_faults *hf = c ? &c->faults : &sim_g.faults;
    sim_http_faults h = *hf;
    sim_wh_faults wf;
    sim_wh_faults_get(&wf);
    int ob = (int)(wf.oversize_bytes > 1 << 30 ? 1 << 30 : wf.oversize_bytes);
    int drop_pct = sim_g.w.drop_pct, stuck = sim_g.w.stuck_jobs;
    int gap_pct = c ? c->ledger_gap_pct : 0;
    if (get_int(j, "http_429", 0, 1000000, &h.force_429, rs) ||
        get_int(j, "http_5xx", 0, 1000000, &h.force_5xx, rs) ||
        get_int(j, "http_401", 0, 1000000, &h.force_401, rs) ||
        get_int(j, "drop", 0, 1000000, &h.drop, rs) ||
        get_int(j, "slow_count", 0, 1000000, &h.slow_count, rs) ||
        get_int(j, "slow_ms", 0, 120000, &h.slow_ms, rs) ||
        get_int(j, "short_pages", 0, 1, &h.short_pages, rs) ||
        get_int(j, "webhook_bad_signature", 0, 1000000, &wf.bad_signature, rs) ||
        get_int(j, "webhook_stale_timestamp", 0, 1000000, &wf.stale_timestamp, rs) ||
        get_int(j, "webhook_mangled_body", 0, 1000000, &wf.mangled_body, rs) ||
        get_int(j, "webhook_duplicate", 0, 1000000, &wf.duplicate, rs) ||
        get_int(j, "webhook_out_of_order", 0, 1000000, &wf.out_of_order, rs) ||
        get_int(j, "webhook_oversize_bytes", 0, 1 << 30, &ob, rs) ||
        get_int(j, "webhook_drop_percent", 0, 100, &drop_pct, rs) ||
        get_int(j, "sync_job_stuck", 0, 1000000, &stuck, rs) ||
        get_int(j, "ledger_gap_percent", 0, 100, &gap_pct, rs))
        goto done;
    /* connection health: needs a connection */
    cJSON *ic = cJSON_GetObjectItemCaseSensitive(j, "invalid_credentials");
    cJSON *mp = cJSON_GetObjectItemCaseSensitive(j, "missing_permission");
    cJSON *ce = cJSON_GetObjectItemCaseSensitive(j, "clear_errors");
    int mp_res = -1;
    if ((ic || mp || ce || cJSON_GetObjectItemCaseSensitive(j, "ledger_gap_percent")) && !c) {
        sim_resp_422(rs, "body", "connection_id", "Connection faults need a connection_id");
        goto done;
    }
    if (ic && !cJSON_IsBool(ic)) {
        sim_resp_422(rs, "body", "invalid_credentials", "Input should be a valid boolean");
        goto done;
    }
    if (mp && (!cJSON_IsString(mp) || (mp_res = sim_res_by_function(mp->valuestring)) < 0)) {
        sim_resp_422(rs, "body", "missing_permission",
                     "Input should be a read function name, e.g. get_returns");
        goto done;
    }
    *hf = h;
    wf.oversize_bytes = ob;
    sim_g.w.drop_pct = drop_pct;
    sim_g.w.stuck_jobs = stuck;
    sim_wh_faults_set(&wf);
    if (c) c->ledger_gap_pct = gap_pct;
    if (c && cJSON_IsTrue(ce)) sim_health_clear(c, rq->now_ms);
    if (c && ic) sim_health_invalid_creds(c, cJSON_IsTrue(ic), rq->now_ms);
    if (c && mp_res >= 0) sim_health_missing_perm(c, mp_res, 1, rq->now_ms);
    faults_render(&rs->body);
    rs->status = 200;
done:
    cJSON_Delete(j);
}

static void truth(sim_req *rq, sim_resp *rs, const char *resource) {
    if (strcmp(resource, "order_packs") == 0) {
        /* not a resource of the store: derived from the orders (sim_api_wms.c) */
        sim_conn *pc = sim_conn_at(sim_req_arg(rq, "connection_id"));
        if (!pc) {
            const char *cid = sim_req_arg(rq, "connection_id");
            sim_resp_404(rs, "Connection not found", cid ? cid : "");
            return;
        }
        sim_wms_order_packs_truth(rs, pc);
        return;
    }
    int r = sim_res_by_plural(resource);
    if (r < 0) {
        sim_resp_error(rs, 404, "Unknown resource", "trackstar");
        return;
    }
    const char *cid = sim_req_arg(rq, "connection_id");
    sim_conn *c = sim_conn_at(cid);
    if (!c) {
        sim_resp_404(rs, "Connection not found", cid ? cid : "");
        return;
    }
    uint32_t wh = 0;
    const char *w = sim_req_arg(rq, "warehouse_id");
    if (w && r == SIM_RES_LOCATIONS && sim_parse_id(c, SIM_RES_WAREHOUSES, w, &wh) != 0) {
        sim_resp_404(rs, "Warehouse not found", w);
        return;
    }
    sim_wms_list(rq, rs, c, (sim_res)r, wh, 1);
}

/* GET /_sim/webhooks/dropped?connection_id=[&resource=]: the record versions whose
 * webhooks the drop knob withheld, oldest first. */
static void webhooks_dropped(sim_req *rq, sim_resp *rs) {
    const char *cid = sim_req_arg(rq, "connection_id"), *res = sim_req_arg(rq, "resource");
    sim_conn *c = sim_conn_at(cid);
    if (!c) {
        sim_resp_404(rs, "Connection not found", cid ? cid : "");
        return;
    }
    int only = res ? sim_res_by_plural(res) : -1;
    if (res && only < 0) {
        sim_resp_422(rs, "query", "resource", "Unknown resource (plural name, e.g. orders)");
        return;
    }
    sbuf *b = &rs->body;
    sbuf_append(b, "{\"data\":[", 9);
    int n = 0;
    for (int i = 0; i < c->ndrops; i++) {
        const sim_drop *d = &c->drops[i];
        if (only >= 0 && d->res != only) continue;
        char id[64], upd[32], tsu[32];
        sim_format_id(c, (sim_res)d->res, d->num, id, sizeof id);
        val_time_format(d->updated_ms, 0, upd);
        val_time_format(d->ts_updated_ms, 0, tsu);
        sbuf_printf(b,
                    "%s{\"resource\":\"%s\",\"id\":\"%s\",\"event_type\":\"%s.%s\","
                    "\"updated_date\":\"%s\",\"trackstar_updated_date\":\"%s\"}",
                    n++ ? "," : "", sim_res_infos[d->res].plural, id, sim_res_infos[d->res].event,
                    d->suffix, upd, tsu);
    }
    sbuf_printf(b, "],\"listed\":%d,\"withheld\":%lld}", n, c->ndropped);
    rs->status = 200;
}

/* GET /_sim/ledger/gaps?connection_id=: the onhand movements the ledger-gap fault kept
 * out of the connection's ledger, oldest first. */
static void ledger_gaps(sim_req *rq, sim_resp *rs) {
    const char *cid = sim_req_arg(rq, "connection_id");
    sim_conn *c = sim_conn_by_id(cid);
    if (!c) {
        sim_resp_404(rs, "Connection not found", cid ? cid : "");
        return;
    }
    sbuf *b = &rs->body;
    sbuf_append(b, "{\"data\":[", 9);
    for (int i = 0; i < c->ngaps; i++) {
        const sim_ledger_gap *g = &c->gaps[i];
        char inv[64], wh[64], at[32];
        sim_format_id(c, SIM_RES_INVENTORY, g->inv, inv, sizeof inv);
        sim_format_id(c, SIM_RES_WAREHOUSES, g->wh, wh, sizeof wh);
        val_time_format(g->at_ms, 0, at);
        sbuf_printf(b,
                    "%s{\"inventory_item_id\":\"%s\",\"warehouse_id\":\"%s\",\"quantity\":%d,"
                    "\"entry_date\":\"%s\"}",
                    i ? "," : "", inv, wh, (int)g->qty, at);
    }
    sbuf_printf(b, "],\"listed\":%d}", c->ngaps);
    rs->status = 200;
}

static void webhook_stats(sim_resp *rs) {
    sim_wh_stats s;
    sim_wh_stats_get(&s);
    long long withheld = 0;
    for (int i = 0; i < sim_g.nconns; i++)
        withheld += sim_g.conns[i]->ndropped;
    sbuf_printf(
        &rs->body,
        "{\"enqueued\":%lld,\"delivered\":%lld,\"failed\":%lld,\"aborted\":%lld,\"attempts\":%lld,"
        "\"retries\":%lld,\"dropped\":%lld,\"skipped\":%lld,\"duplicated\":%lld,\"truncated\":%lld,"
        "\"pending\":%lld,\"withheld\":%lld}",
        s.enqueued, s.delivered, s.failed, s.aborted, s.attempts, s.retries, s.dropped, s.skipped,
        s.duplicated, s.truncated, s.pending, withheld);
    rs->status = 200;
}

void sim_control_handle(sim_req *rq, sim_resp *rs) {
    char seg[4][128] = {{0}};
    int n = 0;
    for (const char *s = rq->path + 6; *s && n < 4;) { /* after "/_sim/" */
        while (*s == '/')
            s++;
        if (!*s) break;
        size_t l = strcspn(s, "/");
        snprintf(seg[n++], sizeof seg[0], "%.*s", (int)(l < 127 ? l : 127), s);
        s += l;
    }
    int post = strcmp(rq->method, "POST") == 0, get = strcmp(rq->method, "GET") == 0;
    if (n == 1 && strcmp(seg[0], "auth-codes") == 0 && post) {
        auth_codes(rq, rs);
    } else if (n == 1 && strcmp(seg[0], "connections") == 0 && post) {
        create_connection(rq, rs);
    } else if (n == 1 && strcmp(seg[0], "connections") == 0 && get) {
        list_connections(rq, rs);
    } else if (n == 2 && strcmp(seg[0], "connections") == 0 && strcmp(seg[1], "bulk") == 0 &&
               post) {
        create_bulk(rq, rs);
    } else if (n == 2 && strcmp(seg[0], "requests") == 0 && strcmp(seg[1], "stats") == 0 &&
               (get || strcmp(rq->method, "DELETE") == 0)) {
        request_stats(rq, rs);
    } else if (n == 3 && strcmp(seg[0], "connections") == 0 && post) {
        sim_conn *c = sim_conn_by_id(seg[1]);
        if (!c)
            sim_resp_404(rs, "Connection not found", seg[1]);
        else if (strcmp(seg[2], "historical-sync") == 0)
            history(rq, rs, c);
        else if (strcmp(seg[2], "crawl") == 0)
            crawl(rq, rs, c);
        else if (strcmp(seg[2], "ingest") == 0)
            ingest(rq, rs, c);
        else if (strcmp(seg[2], "records") == 0)
            records(rq, rs, c);
        else
            sim_resp_error(rs, 404, "Not found", "trackstar");
    } else if (n == 1 && strcmp(seg[0], "crawl") == 0 && post) {
        crawl(rq, rs, NULL);
    } else if (n == 1 && strcmp(seg[0], "ingest") == 0 && post) {
        ingest(rq, rs, NULL);
    } else if (n == 1 && strcmp(seg[0], "faults") == 0) {
        faults(rq, rs);
    } else if (n == 2 && strcmp(seg[0], "truth") == 0 && get) {
        truth(rq, rs, seg[1]);
    } else if (n == 2 && strcmp(seg[0], "webhooks") == 0 && strcmp(seg[1], "stats") == 0 && get) {
        webhook_stats(rs);
    } else if (n == 2 && strcmp(seg[0], "webhooks") == 0 && strcmp(seg[1], "dropped") == 0 && get) {
        webhooks_dropped(rq, rs);
    } else if (n == 2 && strcmp(seg[0], "ledger") == 0 && strcmp(seg[1], "gaps") == 0 && get) {
        ledger_gaps(rq, rs);
    } else {
        sim_resp_error(rs, 404, "Not found", "trackstar");
    }
}
