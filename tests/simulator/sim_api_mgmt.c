/* sim_api_mgmt.c - the management API: link tokens and auth-code exchange (with
 * reinstall), connections (list, get, patch, delete, force sync), integrations (1 call
 * per minute), magic links, and the data_url / download_url of truncated webhooks. */
#include <cjson/cJSON.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_err.h"
#include "log.h"
#include "sim_catalog.h"
#include "sim_crawl.h"
#include "sim_events.h"
#include "sim_ingest.h"
#include "sim_http.h"
#include "sim_render.h"
#include "sim_webhook.h"
#include "values.h"

#define MAX_LINK_TOKENS 256
#define MAX_AUTH_CODES 256
#define MAX_MAGIC_LINKS 64
#define LINK_TOKEN_TTL_MS (30 * 60 * 1000)
#define AUTH_CODE_TTL_MS (10 * 60 * 1000)
#define CONN_PAGE_DEFAULT 100
#define CONN_PAGE_MAX 100
#define MAGIC_DAYS_DEFAULT 7
#define MAGIC_DAYS_MAX 90
#define INTEGRATIONS_WINDOW_S 60

typedef struct link_token {
    char token[48];
    int conn_idx; /* reinstall target, -1 = new connection */
    char customer_id[72];
    int has_customer;
    int64_t created_ms;
} link_token;

typedef struct auth_code {
    char code[48];
    char integration[40];
    int conn_idx; /* reinstall target, -1 = new connection */
    int used;
    int64_t created_ms;
} auth_code;

typedef struct magic_link {
    char id[33];
    int live;
    int64_t expires_ms;
    char type[16];
    char *allow, *block, *endpoints; /* JSON arrays, owned */
    char customer_id[72];
    int has_customer;
} magic_link;

static link_token g_links[MAX_LINK_TOKENS];
static int g_links_next;
static auth_code g_codes[MAX_AUTH_CODES];
static int g_codes_next;
static magic_link g_magic[MAX_MAGIC_LINKS];
static sim_rl g_integrations_rl;

/* Random hex for codes, tokens and ids: 0, or -1 when OpenSSL has no random bytes
 * (the caller refuses: a predictable token is worse than none). */
static int random_hex(char *out, int bytes) {
    unsigned char r[32];
    if (bytes > (int)sizeof r || RAND_bytes(r, bytes) != 1) {
        crypto_failed("sim_random");
        return -1;
    }
    for (int i = 0; i < bytes; i++)
        sprintf(out + 2 * i, "%02x", r[i]);
    return 0;
}

/* ---- link / exchange ---------------------------------------------------------------- */

static link_token *find_link(const char *token) {
    for (int i = 0; token && i < MAX_LINK_TOKENS; i++)
        if (g_links[i].token[0] && strcmp(g_links[i].token, token) == 0) return &g_links[i];
    return NULL;
}

int sim_mgmt_mint_auth_code(const char *integration, const char *link_tok,
                            const char *connection_id, char *code, size_t codelen, char *errstr,
                            size_t errlen) {
    int conn_idx = -1;
    if (link_tok) {
        link_token *l = find_link(link_tok);
        if (!l || util_now_ms() - l->created_ms > LINK_TOKEN_TTL_MS) {
            snprintf(errstr, errlen, "unknown or expired link_token");
            return -1;
        }
        conn_idx = l->conn_idx;
    }
    if (connection_id) {
        sim_conn *c = sim_conn_by_id(connection_id);
        if (!c) {
            snprintf(errstr, errlen, "unknown connection_id");
            return -1;
        }
        conn_idx = c->idx;
    }
    if (conn_idx >= 0)
        integration = sim_g.conns[conn_idx]->integration; /* a reinstall keeps its integration */
    if (!integration) integration = "sandbox";
    if (!sim_integration_find(integration)) {
        snprintf(errstr, errlen, "unknown integration_name");
        return -1;
    }
    auth_code *a = &g_codes[g_codes_next];
    g_codes_next = (g_codes_next + 1) % MAX_AUTH_CODES;
    memset(a, 0, sizeof *a);
    memcpy(a->code, "ac_", 3);
    if (random_hex(a->code + 3, 16) != 0) {
        snprintf(errstr, errlen, "no random bytes for the auth code");
        return -1;
    }
    snprintf(a->integration, sizeof a->integration, "%s", integration);
    a->conn_idx = conn_idx;
    a->created_ms = util_now_ms();
    snprintf(code, codelen, "%s", a->code);
    return 0;
}

void sim_mgmt_emit_created(const sim_conn *c) {
    char data[256], when[32];
    val_time_format(c->created_ms, 0, when);
    snprintf(data, sizeof data, "{\"created_date\":\"%s\",\"access_token\":\"%s\"}", when,
             c->token);
    sim_event_send(c, "connection.created", 1, data, NULL);
}

static cJSON *parse_body(sim_req *rq, sim_resp *rs, int allow_empty) {
    if (rq->body_len == 0 && allow_empty) return cJSON_CreateObject();
    cJSON *j = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        sim_resp_422(rs, "body", "body", "Body must be a JSON object");
        return NULL;
    }
    return j;
}

/* Optional string-or-null member; -1 (and a 422) when it has another type. */
static int opt_str(cJSON *j, const char *key, const char **out, sim_resp *rs) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) {
        sim_resp_422(rs, "body", key, "Input should be a valid string");
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

static void link_token_new(sim_req *rq, sim_resp *rs) {
    cJSON *j = parse_body(rq, rs, 1);
    if (!j) return;
    const char *conn_id, *cust;
    if (opt_str(j, "connection_id", &conn_id, rs) || opt_str(j, "customer_id", &cust, rs))
        goto done;
    int idx = -1;
    if (conn_id) {
        sim_conn *c = sim_conn_by_id(conn_id);
        if (!c) {
            sim_resp_404(rs, "Connection not found", conn_id);
            goto done;
        }
        idx = c->idx;
    }
    char rnd[33];
    if (random_hex(rnd, 16) != 0) {
        sim_resp_error(rs, 500, "no random bytes for the link token", "trackstar");
        goto done;
    }
    link_token *l = &g_links[g_links_next];
    g_links_next = (g_links_next + 1) % MAX_LINK_TOKENS;
    memset(l, 0, sizeof *l);
    memcpy(l->token, "lt_", 3);
    memcpy(l->token + 3, rnd, sizeof rnd);
    l->conn_idx = idx;
    l->created_ms = rq->now_ms;
    if (cust) {
        snprintf(l->customer_id, sizeof l->customer_id, "%s", cust);
        l->has_customer = 1;
    }
    sbuf_printf(&rs->body, "{\"link_token\":\"%s\"}", l->token);
    rs->status = 200;
done:
    cJSON_Delete(j);
}

static void exchange_response(sim_resp *rs, const sim_conn *c) {
    sbuf *b = &rs->body;
    b->len = 0;
    sbuf_append(b, "{\"access_token\":", 16);
    sbuf_json_str(b, c->token, strlen(c->token));
    sbuf_printf(b, ",\"connection_id\":\"%s\",\"integration_name\":\"%s\",\"customer_id\":", c->id,
                c->integration);
    if (c->has_customer)
        sbuf_json_str(b, c->customer_id, strlen(c->customer_id));
    else
        sbuf_append(b, "null", 4);
    sbuf_append(b, ",\"available_actions\":", 21);
    sim_render_actions(b, c);
    sbuf_append(b, ",\"available_endpoints\":", 23);
    sim_render_actions(b, c);
    sbuf_append(b, "}", 1);
    rs->status = 200;
}

static void exchange(sim_req *rq, sim_resp *rs) {
    cJSON *j = parse_body(rq, rs, 0);
    if (!j) return;
    const char *code, *cust;
    if (opt_str(j, "auth_code", &code, rs) || opt_str(j, "customer_id", &cust, rs)) goto done;
    if (!code) {
        sim_resp_422(rs, "body", "auth_code", "Field required");
        goto done;
    }
    auth_code *a = NULL;
    for (int i = 0; i < MAX_AUTH_CODES; i++)
        if (g_codes[i].code[0] && strcmp(g_codes[i].code, code) == 0) a = &g_codes[i];
    if (!a || a->used || rq->now_ms - a->created_ms > AUTH_CODE_TTL_MS) {
        sim_resp_error(rs, 400,
                       a && a->used ? "Auth code has already been used"
                                    : "Invalid or expired auth code",
                       "trackstar");
        goto done;
    }
    a->used = 1;
    sim_conn *c;
    if (a->conn_idx >= 0 && sim_g.conns[a->conn_idx]->live) {
        /* reinstall: same id, same token, errors resolved, sync resumes */
        c = sim_g.conns[a->conn_idx];
        sim_health_clear(c, rq->now_ms);
        log_info("connection reinstalled", "connection_id", c->id, NULL);
    } else {
        char err[128];
        c = sim_conn_create(a->integration, &sim_http_cfg.default_sizes, 0, 0, rq->now_ms, err,
                            sizeof err);
        if (!c) {
            sim_resp_error(rs, 500, err, "trackstar");
            goto done;
        }
        c->hist_due_ms =
            sim_http_cfg.historical_sync_ms > 0 ? rq->now_ms + sim_http_cfg.historical_sync_ms : 0;
        sim_mgmt_emit_created(c);
        log_info("connection created by link exchange", "connection_id", c->id, "integration_name",
                 c->integration, NULL);
    }
    if (cust) {
        snprintf(c->customer_id, sizeof c->customer_id, "%s", cust);
        c->has_customer = 1;
    }
    exchange_response(rs, c);
done:
    cJSON_Delete(j);
}

/* ---- connections ------------------------------------------------------------------- */

static void connections_list(sim_req *rq, sim_resp *rs) {
    int limit = CONN_PAGE_DEFAULT;
    uint32_t after = 0;
    for (int i = 0; i < rq->nargs; i++) {
        const sim_kv *a = &rq->args[i];
        if (strcmp(a->key, "limit") == 0) {
            char *end;
            long v = strtol(a->value, &end, 10);
            if (*end || v < 1 || v > CONN_PAGE_MAX) {
                sim_resp_422(rs, "query", "limit", "Input should be between 1 and 100");
                return;
            }
            limit = (int)v;
        } else if (strcmp(a->key, "page_token") == 0) {
            sim_ptoken t;
            if (sim_ptoken_decode(a->value, &t) != 0 || t.res != 0xff) {
                sim_resp_422(rs, "query", "page_token", "Invalid page token");
                return;
            }
            after = t.last_num;
        } else {
            sim_resp_422(rs, "query", a->key, "Unknown query parameter");
            return;
        }
    }
    sbuf *b = &rs->body;
    sbuf_append(b, "{\"data\":[", 9);
    int count = 0, more = 0;
    uint32_t last = 0;
    for (int i = (int)after; i < sim_g.nconns; i++) {
        sim_conn *c = sim_g.conns[i];
        if (!c->live) continue;
        if (count == limit) {
            more = 1;
            break;
        }
        if (count) sbuf_append(b, ",", 1);
        sim_render_connection(b, c);
        count++;
        last = (uint32_t)i + 1;
    }
    sbuf_append(b, "],\"next_token\":", 15);
    if (more) {
        sim_ptoken t = {.res = 0xff, .last_num = last};
        char enc[SIM_TOKEN_MAX];
        sim_ptoken_encode(&t, enc);
        sbuf_printf(b, "\"%s\"", enc);
    } else {
        sbuf_append(b, "null", 4);
    }
    sbuf_printf(b, ",\"total_count\":%d}", count);
    rs->status = 200;
}

static void connection_get(sim_resp *rs, const char *id) {
    sim_conn *c = sim_conn_by_id(id);
    if (!c) {
        sim_resp_404(rs, "Connection not found", id);
        return;
    }
    sbuf *b = &rs->body;
    sbuf_append(b, "{\"data\":", 8);
    if (!sim_http_cfg.connection_object_shape) sbuf_append(b, "[", 1);
    sim_render_connection(b, c);
    if (!sim_http_cfg.connection_object_shape)
        sbuf_append(b, "],\"next_token\":null,\"total_count\":1", 35);
    sbuf_append(b, "}", 1);
    rs->status = 200;
}

static void connection_patch(sim_req *rq, sim_resp *rs) {
    cJSON *j = parse_body(rq, rs, 0);
    if (!j) return;
    sim_conn *c = rq->conn;
    cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (strcmp(it->string, "customer_id") != 0 &&
            strcmp(it->string, "webhooks_disabled") != 0) {
            sim_resp_422(rs, "body", it->string, "Extra inputs are not permitted");
            goto done;
        }
    }
    cJSON *wd = cJSON_GetObjectItemCaseSensitive(j, "webhooks_disabled");
    if (wd && !cJSON_IsBool(wd)) {
        sim_resp_422(rs, "body", "webhooks_disabled", "Input should be a valid boolean");
        goto done;
    }
    cJSON *cu = cJSON_GetObjectItemCaseSensitive(j, "customer_id");
    if (cu && !cJSON_IsString(cu) && !cJSON_IsNull(cu)) {
        sim_resp_422(rs, "body", "customer_id", "Input should be a valid string");
        goto done;
    }
    if (wd) c->webhooks_disabled = cJSON_IsTrue(wd);
    if (cu) {
        c->has_customer = cJSON_IsString(cu);
        snprintf(c->customer_id, sizeof c->customer_id, "%s",
                 c->has_customer ? cu->valuestring : "");
    }
    sbuf_printf(&rs->body, "{\"id\":\"%s\",\"object\":\"connection\",\"updated\":true}", c->id);
    rs->status = 200;
done:
    cJSON_Delete(j);
}

static void connection_delete(sim_req *rq, sim_resp *rs) {
    sim_conn *c = rq->conn;
    char data[96], when[32];
    val_time_format(rq->now_ms, 0, when);
    snprintf(data, sizeof data, "{\"deleted_date\":\"%s\"}", when);
    sim_event_send(c, "connection.deleted", 1, data, NULL);
    c->live = 0; /* the token stops working; the slot stays so ids are never reused */
    log_info("connection deleted", "connection_id", c->id, NULL);
    sbuf_printf(&rs->body, "{\"id\":\"%s\",\"object\":\"connection\",\"deleted\":true}", c->id);
    rs->status = 200;
}

/* functions_to_sync names -> resource mask; every function name of the spec's enum is
 * accepted, those the simulator does not model select nothing. */
static const char *const sync_functions[] = {"get_inventory",
                                             "get_products",
                                             "get_inbound_shipments",
                                             "get_orders",
                                             "get_warehouses",
                                             "get_shipping_methods",
                                             "get_returns",
                                             "get_bills",
                                             "get_warehouse_customers",
                                             "get_warehouse_locations",
                                             "get_inventory_ledger",
                                             "get_labor_activities",
                                             "get_shipments",
                                             NULL};

static void connection_sync(sim_req *rq, sim_resp *rs) {
    cJSON *j = parse_body(rq, rs, 1);
    if (!j) return;
    sim_conn *c = rq->conn;
    uint32_t mask = 0;
    cJSON *fl = cJSON_GetObjectItemCaseSensitive(j, "functions_to_sync");
    if (fl && !cJSON_IsNull(fl)) {
        if (!cJSON_IsArray(fl)) {
            sim_resp_422(rs, "body", "functions_to_sync", "Input should be a valid list");
            goto done;
        }
        cJSON *it;
        cJSON_ArrayForEach(it, fl) {
            int ok = 0;
            for (int i = 0; cJSON_IsString(it) && sync_functions[i]; i++)
                ok |= strcmp(sync_functions[i], it->valuestring) == 0;
            if (!ok) {
                sim_resp_422(rs, "body", "functions_to_sync",
                             "Input should be a valid sync function name");
                goto done;
            }
            int r = sim_res_by_function(it->valuestring);
            if (r >= 0) mask |= 1u << r;
        }
    }
    if (!mask && (!fl || cJSON_GetArraySize(fl) == 0)) mask = (1u << SIM_RES_COUNT) - 1;
    mask = sim_res_derive(mask); /* get_orders crawls order channels too */
    /* The real one answers at once and crawls in the background for minutes (§6.4). */
    if (sim_force_sync(c, mask & c->actions, rq->now_ms) != 0) {
        sim_resp_error(rs, 429, "Too many force syncs in progress for this connection",
                       "trackstar");
        goto done;
    }
    sbuf *b = &rs->body;
    sbuf_printf(b, "{\"id\":\"%s\",\"syncing\":true,\"functions_to_sync\":", c->id);
    char *list = fl && cJSON_IsArray(fl) ? cJSON_PrintUnformatted(fl) : NULL;
    sbuf_append(b, list ? list : "[]", list ? strlen(list) : 2);
    free(list);
    sbuf_append(b, "}", 1);
    rs->status = 200;
done:
    cJSON_Delete(j);
}

/* ---- on-demand sync jobs (on-demand-syncs) ---------------------------------------------- */

static int job_time(cJSON *j, const char *key, int64_t *ms, sim_resp *rs) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsString(v)) {
        sim_resp_422(rs, "body", key, "Field required (an ISO 8601 date-time)");
        return -1;
    }
    if (val_time_parse(v->valuestring, ms, NULL) != 0) {
        sim_resp_422(rs, "body", key, "Input should be a valid datetime");
        return -1;
    }
    return 0;
}

static void job_answer(sim_resp *rs, const sim_conn *c, const sim_job *j) {
    if (sim_render_job(&rs->body, c, j) != 0) {
        sim_resp_error(rs, 500, "out of memory", "trackstar");
        return;
    }
    rs->status = 200;
}

static void job_create(sim_req *rq, sim_resp *rs) {
    cJSON *j = parse_body(rq, rs, 0);
    if (!j) return;
    sim_conn *c = rq->conn;
    int64_t start, end;
    const char *fn;
    if (opt_str(j, "function_name", &fn, rs)) goto done;
    if (!fn) {
        sim_resp_422(rs, "body", "function_name", "Field required");
        goto done;
    }
    if (job_time(j, "start_time", &start, rs) || job_time(j, "end_time", &end, rs)) goto done;
    if (end < start) {
        sim_resp_422(rs, "body", "end_time", "end_time must not be before start_time");
        goto done;
    }
    int r = sim_res_by_function(fn);
    if (r < 0 || !sim_job_allowed((sim_res)r) || !(c->actions & (1u << r))) {
        char msg[200];
        snprintf(msg, sizeof msg, "On-demand sync is not enabled for %s %s", c->integration, fn);
        sim_resp_error(rs, 400, msg, "trackstar");
        goto done;
    }
    char err[96];
    sim_job *job = sim_job_open(c, (sim_res)r, start, end, rq->now_ms, err, sizeof err);
    if (!job) {
        sim_resp_error(rs, 429, err, "trackstar");
        goto done;
    }
    log_info("on-demand sync job opened", "connection_id", c->id, "job_id", job->id, "function", fn,
             NULL);
    job_answer(rs, c, job);
done:
    cJSON_Delete(j);
}

/* /connections/on-demand-syncs[/{id}[/cancel]] */
static void jobs(sim_req *rq, sim_resp *rs, int n, char seg[][128]) {
    sim_conn *c = rq->conn;
    int post = strcmp(rq->method, "POST") == 0, get = strcmp(rq->method, "GET") == 0;
    if (n == 2 && post) {
        job_create(rq, rs);
        return;
    }
    sim_job *job = n >= 3 ? sim_job_find(c, seg[2]) : NULL;
    if (n >= 3 && !job) {
        sim_resp_404(rs, "Sync job not found", seg[2]);
        return;
    }
    if (n == 3 && get) {
        job_answer(rs, c, job);
    } else if (n == 4 && post && strcmp(seg[3], "cancel") == 0) {
        if (sim_job_cancel(c, job, rq->now_ms) != 0) {
            sim_resp_error(rs, 400, "Only open sync jobs can be cancelled", "trackstar");
            return;
        }
        job_answer(rs, c, job);
    } else {
        sim_resp_error(rs, 404, "Not found", "trackstar");
    }
}

/* ---- integrations ------------------------------------------------------------------- */

static void integration_info(sim_jw *w, const sim_integration *in) {
    char buf[256];
    sim_jw_obj(w);
    sim_jw_key(w, "integration_name");
    sim_jw_str(w, in->name);
    sim_jw_key(w, "display_name");
    sim_jw_str(w, in->display);
    sim_jw_key(w, "install_method");
    sim_jw_str(w, in->install);
    snprintf(buf, sizeof buf, "%s (simulated by trackstar-sim)", in->display);
    sim_jw_key(w, "description");
    sim_jw_str(w, buf);
    snprintf(buf, sizeof buf, "https://logos.example/%s.png", in->name);
    sim_jw_key(w, "logo_url");
    sim_jw_str(w, buf);
    sim_jw_key(w, "write_operations");
    sim_jw_arr(w);
    for (int i = 0; in->writes[i]; i++) {
        sim_jw_obj(w);
        sim_jw_key(w, "action");
        sim_jw_str(w, in->writes[i]);
        sim_jw_key(w, "url");
        sim_jw_str(w, strncmp(in->writes[i], "create", 6) == 0 ? "POST" : "PUT");
        sim_jw_key(w, "required_base_schema_fields");
        sim_jw_arr(w);
        sim_jw_end(w, ']');
        sim_jw_key(w, "optional_base_schema_fields");
        sim_jw_arr(w);
        sim_jw_end(w, ']');
        sim_jw_key(w, "integration_specific_fields");
        static const char spec[] = "{\"properties\":{},\"type\":\"object\",\"required_fields\":[]}";
        sim_jw_raw(w, spec, sizeof spec - 1);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    sim_jw_key(w, "list_operations");
    sim_jw_arr(w);
    for (int r = 0; r < SIM_RES_COUNT; r++) {
        if (!(in->reads & (1u << r)) || sim_res_owner((sim_res)r) != (sim_res)r) continue;
        sim_jw_obj(w);
        sim_jw_key(w, "action");
        sim_jw_str(w, sim_res_infos[r].function);
        sim_jw_key(w, "url");
        sim_jw_str(w, sim_res_infos[r].endpoint);
        sim_jw_key(w, "implemented_fields");
        static const char impl[] =
            "{\"id\":true,\"created_date\":true,\"updated_date\":true,"
            "\"trackstar_created_date\":true,\"trackstar_updated_date\":true}";
        sim_jw_raw(w, impl, sizeof impl - 1);
        sim_jw_end(w, '}');
    }
    sim_jw_end(w, ']');
    sim_jw_key(w, "available_actions");
    sim_jw_arr(w);
    for (int r = 0; r < SIM_RES_COUNT; r++)
        if ((in->reads & (1u << r)) && sim_res_owner((sim_res)r) == (sim_res)r)
            sim_jw_str(w, sim_res_infos[r].function);
    for (int i = 0; in->writes[i]; i++)
        sim_jw_str(w, in->writes[i]);
    sim_jw_end(w, ']');
    sim_jw_end(w, '}');
}

static void integrations(sim_req *rq, sim_resp *rs, const char *type, const char *name) {
    sim_rl_result rl;
    sim_rl_take(&g_integrations_rl, 0, 1, INTEGRATIONS_WINDOW_S, rq->now_ms, &rl);
    if (!rl.allowed) {
        sim_resp_error(rs, 429, "Rate limit exceeded: /integrations allows 1 request per minute",
                       "trackstar");
        return;
    }
    if (strcmp(type, "wms") != 0 && strcmp(type, "cart") != 0 && strcmp(type, "freight") != 0 &&
        strcmp(type, "carrier") != 0) {
        sim_resp_422(rs, "path", "integration_type",
                     "Input should be 'wms', 'freight', 'cart' or 'carrier'");
        return;
    }
    sim_jw w;
    sim_jw_init(&w, &rs->body);
    sim_jw_obj(&w);
    sim_jw_key(&w, "data");
    sim_jw_arr(&w);
    int found = 0;
    for (int i = 0; strcmp(type, "wms") == 0 && i < sim_integration_count; i++) {
        if (name && strcmp(name, sim_integrations[i].name) != 0) continue;
        integration_info(&w, &sim_integrations[i]);
        found++;
    }
    sim_jw_end(&w, ']');
    sim_jw_end(&w, '}');
    if (name && !found) {
        sim_resp_404(rs, "Integration not found", name);
        return;
    }
    rs->status = 200;
}

/* ---- magic links ------------------------------------------------------------------- */

static void magic_render(sbuf *b, const magic_link *m) {
    char exp[32];
    val_time_format(m->expires_ms, 0, exp);
    sbuf_printf(b,
                "{\"id\":\"%s\",\"expires_at\":\"%s\",\"integration_type\":\"%s\",\"integration_"
                "allow_list\":%s,"
                "\"integration_block_list\":%s,\"integrations_with_endpoints\":%s,\"customer_id\":",
                m->id, exp, m->type, m->allow, m->block, m->endpoints);
    if (m->has_customer)
        sbuf_json_str(b, m->customer_id, strlen(m->customer_id));
    else
        sbuf_append(b, "null", 4);
    sbuf_append(b, "}", 1);
}

/* A JSON array of strings from j[key] (default []), malloc'd; NULL + 422 when invalid. */
static char *str_array(cJSON *j, const char *key, sim_resp *rs, int *count) {
    cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
    *count = 0;
    if (!a || cJSON_IsNull(a)) return strdup("[]");
    cJSON *it;
    int ok = cJSON_IsArray(a);
    cJSON_ArrayForEach(it, a) ok = ok && cJSON_IsString(it);
    if (!ok) {
        sim_resp_422(rs, "body", key, "Input should be a valid list of strings");
        return NULL;
    }
    *count = cJSON_GetArraySize(a);
    return cJSON_PrintUnformatted(a);
}

static void magic_free(magic_link *m) {
    free(m->allow);
    free(m->block);
    free(m->endpoints);
    memset(m, 0, sizeof *m);
}

static void magic_create(sim_req *rq, sim_resp *rs) {
    cJSON *j = parse_body(rq, rs, 1);
    if (!j) return;
    magic_link m = {0};
    int na, nb, ne;
    const char *type, *cust, *conn_id;
    if (opt_str(j, "integration_type", &type, rs) || opt_str(j, "customer_id", &cust, rs) ||
        opt_str(j, "connection_id", &conn_id, rs))
        goto done;
    if (!(m.allow = str_array(j, "integration_allow_list", rs, &na)) ||
        !(m.block = str_array(j, "integration_block_list", rs, &nb)) ||
        !(m.endpoints = str_array(j, "integrations_with_endpoints", rs, &ne)))
        goto done;
    if (na && (nb || ne)) {
        sim_resp_422(rs, "body", "integration_allow_list",
                     "integration_allow_list cannot be combined with integration_block_list or "
                     "integrations_with_endpoints");
        goto done;
    }
    if (type && strcmp(type, "wms") && strcmp(type, "cart") && strcmp(type, "freight")) {
        sim_resp_422(rs, "body", "integration_type", "Input should be 'wms', 'freight' or 'cart'");
        goto done;
    }
    if (conn_id && !sim_conn_by_id(conn_id)) {
        sim_resp_404(rs, "Connection not found", conn_id);
        goto done;
    }
    cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "link_duration");
    int days = MAGIC_DAYS_DEFAULT;
    if (d && !cJSON_IsNull(d)) {
        if (!cJSON_IsNumber(d) || d->valueint < 1 || d->valueint > MAGIC_DAYS_MAX) {
            sim_resp_422(rs, "body", "link_duration",
                         "Input should be a number of days between 1 and 90");
            goto done;
        }
        days = d->valueint;
    }
    magic_link *slot = NULL;
    for (int i = 0; i < MAX_MAGIC_LINKS && !slot; i++)
        if (!g_magic[i].live) slot = &g_magic[i];
    if (!slot) {
        sim_resp_error(rs, 400, "Too many magic links: delete some first", "trackstar");
        goto done;
    }
    if (random_hex(m.id, 16) != 0) {
        sim_resp_error(rs, 500, "no random bytes for the magic link id", "trackstar");
        goto done;
    }
    m.live = 1;
    m.expires_ms = rq->now_ms + (int64_t)days * 86400 * 1000;
    snprintf(m.type, sizeof m.type, "%s", type ? type : "wms");
    if (cust) {
        m.has_customer = 1;
        snprintf(m.customer_id, sizeof m.customer_id, "%s", cust);
    }
    *slot = m;
    memset(&m, 0, sizeof m); /* ownership moved to the slot */
    sbuf_append(&rs->body, "{\"magic_link\":", 14);
    magic_render(&rs->body, slot);
    sbuf_append(&rs->body, "}", 1);
    rs->status = 200;
done:
    magic_free(&m);
    cJSON_Delete(j);
}

static magic_link *magic_find(const char *id) {
    for (int i = 0; i < MAX_MAGIC_LINKS; i++)
        if (g_magic[i].live && strcmp(g_magic[i].id, id) == 0) return &g_magic[i];
    return NULL;
}

static void magic_links(sim_req *rq, sim_resp *rs, const char *id) {
    if (!id && strcmp(rq->method, "POST") == 0) {
        magic_create(rq, rs);
        return;
    }
    if (!id && strcmp(rq->method, "GET") == 0) {
        sbuf_append(&rs->body, "{\"magic_links\":[", 16);
        int n = 0;
        for (int i = 0; i < MAX_MAGIC_LINKS; i++) {
            if (!g_magic[i].live) continue;
            if (n++) sbuf_append(&rs->body, ",", 1);
            magic_render(&rs->body, &g_magic[i]);
        }
        sbuf_append(&rs->body, "]}", 2);
        rs->status = 200;
        return;
    }
    magic_link *m = id ? magic_find(id) : NULL;
    if (id && !m) {
        sim_resp_404(rs, "Magic link not found", id);
        return;
    }
    if (m && strcmp(rq->method, "GET") == 0) {
        sbuf_append(&rs->body, "{\"magic_link\":", 14);
        magic_render(&rs->body, m);
        sbuf_append(&rs->body, "}", 1);
        rs->status = 200;
        return;
    }
    if (m && strcmp(rq->method, "DELETE") == 0) {
        sbuf_printf(&rs->body, "{\"id\":\"%s\",\"object\":\"magic_link\",\"deleted\":true}", m->id);
        magic_free(m);
        rs->status = 200;
        return;
    }
    sim_resp_error(rs, 405, "Method not allowed", "trackstar");
}

/* ---- truncated webhook payloads ------------------------------------------------------ */

static void event_data(sim_req *rq, sim_resp *rs, const char *msg_id, int download) {
    if (download) {
        char *body = NULL;
        size_t len = 0;
        if (sim_wh_event_download(msg_id, sim_req_arg(rq, "sig"), rq->now_ms, &body, &len) != 0) {
            sim_resp_error(rs, 404, "Unknown or expired download link", "trackstar");
            return;
        }
        rs->body.p = body; /* ownership moves to the response */
        rs->body.len = len;
        rs->body.cap = len + 1;
        rs->status = 200;
        return;
    }
    char sig[48];
    if (sim_wh_event_sig(msg_id, sig, sizeof sig) != 0) {
        sim_resp_404(rs, "Event not found", msg_id);
        return;
    }
    char exp[32];
    val_time_format(rq->now_ms + SIM_WH_DOWNLOAD_TTL_MS, 0, exp);
    sbuf_printf(
        &rs->body,
        "{\"download_url\":\"%s/webhooks/events/%s/download?sig=%s\",\"expires_at\":\"%s\"}",
        sim_http_cfg.public_base, msg_id, sig, exp);
    rs->status = 200;
}

/* ---- routing -------------------------------------------------------------------------- */

void sim_mgmt_handle(sim_req *rq, sim_resp *rs) {
    const char *m = rq->method, *p = rq->path;
    char seg[4][128] = {{0}};
    int n = 0;
    for (const char *s = p; *s && n < 4;) {
        while (*s == '/')
            s++;
        if (!*s) break;
        size_t l = strcspn(s, "/");
        snprintf(seg[n++], sizeof seg[0], "%.*s", (int)(l < 127 ? l : 127), s);
        s += l;
    }
    int post = strcmp(m, "POST") == 0, get = strcmp(m, "GET") == 0;
    if (n == 2 && strcmp(seg[0], "link") == 0 && post && strcmp(seg[1], "token") == 0)
        link_token_new(rq, rs);
    else if (n == 2 && strcmp(seg[0], "link") == 0 && post && strcmp(seg[1], "exchange") == 0)
        exchange(rq, rs);
    else if (n == 1 && strcmp(seg[0], "connections") == 0 && get)
        connections_list(rq, rs);
    else if (n == 1 && strcmp(seg[0], "connections") == 0 && strcmp(m, "PATCH") == 0)
        connection_patch(rq, rs);
    else if (n == 1 && strcmp(seg[0], "connections") == 0 && strcmp(m, "DELETE") == 0)
        connection_delete(rq, rs);
    else if (n == 2 && strcmp(seg[0], "connections") == 0 && strcmp(seg[1], "sync") == 0 && post)
        connection_sync(rq, rs);
    else if (n >= 2 && strcmp(seg[0], "connections") == 0 &&
             strcmp(seg[1], "on-demand-syncs") == 0 && rq->conn)
        jobs(rq, rs, n, seg);
    else if (n == 2 && strcmp(seg[0], "connections") == 0 && get)
        connection_get(rs, seg[1]);
    else if ((n == 2 || n == 3) && strcmp(seg[0], "integrations") == 0 && get)
        integrations(rq, rs, seg[1], n == 3 ? seg[2] : NULL);
    else if ((n == 1 || n == 2) && strcmp(seg[0], "magic-links") == 0)
        magic_links(rq, rs, n == 2 ? seg[1] : NULL);
    else if (n == 4 && strcmp(seg[0], "webhooks") == 0 && strcmp(seg[1], "events") == 0 && get &&
             (strcmp(seg[3], "data") == 0 || strcmp(seg[3], "download") == 0))
        event_data(rq, rs, seg[2], strcmp(seg[3], "download") == 0);
    else
        sim_resp_error(rs, 404, "Not found", "trackstar");
}
