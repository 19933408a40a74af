/* sim_http.c - the request pipeline: collect the body, authenticate, apply rate limits
 * and injected faults, route, then answer with X-Request-Id and x-ratelimit-* headers.
 * Every handler runs under the store lock; slow-response faults sleep outside it. */
#include "sim_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sim_reqstats.h"

sim_http_config sim_http_cfg;

static struct MHD_Daemon *g_daemon;
static sim_rl g_org_rl; /* API-key-only endpoints */
static atomic_ullong g_req_seq;

typedef struct req_ctx {
    sbuf body;
    int too_big;
} req_ctx;

void sim_resp_json(sim_resp *rs, int status, const char *json) {
    rs->status = status;
    rs->body.len = 0;
    sbuf_append(&rs->body, json, strlen(json));
}

void sim_resp_error(sim_resp *rs, int status, const char *msg, const char *origin) {
    rs->status = status;
    rs->body.len = 0;
    sbuf_append(&rs->body, "{\"error\":", 9);
    sbuf_json_str(&rs->body, msg, strlen(msg));
    if (origin) {
        sbuf_append(&rs->body, ",\"origin\":", 10);
        sbuf_json_str(&rs->body, origin, strlen(origin));
    }
    sbuf_append(&rs->body, "}", 1);
}

void sim_resp_404(sim_resp *rs, const char *msg, const char *id) {
    rs->status = 404;
    rs->body.len = 0;
    sbuf_append(&rs->body, "{\"error\":", 9);
    sbuf_json_str(&rs->body, msg, strlen(msg));
    sbuf_append(&rs->body, ",\"id\":", 6);
    sbuf_json_str(&rs->body, id, strlen(id));
    sbuf_append(&rs->body, "}", 1);
}

void sim_resp_422(sim_resp *rs, const char *location, const char *param, const char *msg) {
    rs->status = 422;
    rs->body.len = 0;
    sbuf_append(&rs->body, "{\"error\":\"Validation error\",\"detail\":{", 38);
    sbuf_json_str(&rs->body, location, strlen(location));
    sbuf_append(&rs->body, ":{", 2);
    sbuf_json_str(&rs->body, param, strlen(param));
    sbuf_append(&rs->body, ":[", 2);
    sbuf_json_str(&rs->body, msg, strlen(msg));
    sbuf_append(&rs->body, "]}}}", 4);
}

const char *sim_req_arg(const sim_req *rq, const char *key) {
    for (int i = 0; i < rq->nargs; i++)
        if (strcmp(rq->args[i].key, key) == 0) return rq->args[i].value;
    return NULL;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    sim_req *rq = cls;
    if (rq->nargs >= SIM_MAX_ARGS) {
        rq->too_many_args = 1;
        return MHD_NO;
    }
    rq->args[rq->nargs].key = key;
    rq->args[rq->nargs].value = value ? value : "";
    rq->nargs++;
    return MHD_YES;
}

static int is_write(const char *method) {
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Routes that select a connection by access token. */
static int needs_token(const char *method, const char *path) {
    if (strncmp(path, "/wms/", 5) == 0 || strcmp(path, "/wms") == 0) return 1;
    if (strcmp(path, "/connections/sync") == 0) return 1;
    if (strncmp(path, "/connections/on-demand-syncs", 28) == 0) return 1;
    if (strcmp(path, "/connections") == 0 &&
        (strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0))
        return 1;
    return 0;
}

/* Consume one count of a fault: global first, then the connection's. */
static int take(int *global, int *local) {
    if (*global > 0) {
        (*global)--;
        return 1;
    }
    if (local && *local > 0) {
        (*local)--;
        return 1;
    }
    return 0;
}

typedef struct pipeline_out {
    sim_rl_result rl;
    int has_rl;
    int slow_ms;
    sim_scope scope; /* what the request counts as (sim_reqstats.h) */
} pipeline_out;

/* Everything between the raw request and the handler. Runs under the store lock. */
static void pipeline(sim_req *rq, sim_resp *rs, const char *api_key, const char *token,
                     pipeline_out *po) {
    const char *path = rq->path;
    if (strcmp(path, "/_sim/health") == 0) {
        sim_resp_json(rs, 200, "{\"ok\":true}");
        return;
    }
    /* presigned download links (data_url -> download_url) carry their own secret */
    size_t pl = strlen(path);
    if (strncmp(path, "/webhooks/events/", 17) == 0 && pl > 26 &&
        strcmp(path + pl - 9, "/download") == 0) {
        sim_mgmt_handle(rq, rs);
        return;
    }
    if (!api_key || strcmp(api_key, sim_http_cfg.api_key) != 0) {
        sim_resp_error(rs, 401, "Invalid or missing x-trackstar-api-key", "trackstar");
        return;
    }
    if (strncmp(path, "/_sim/", 6) == 0) {
        sim_control_handle(rq, rs);
        return;
    }
    if (rq->too_many_args) {
        sim_resp_422(rs, "query", "query", "Too many query parameters");
        return;
    }
    sim_rl *rl = &g_org_rl;
    sim_http_faults *lf = NULL;
    po->scope = SIM_SCOPE_API_KEY;
    if (needs_token(rq->method, path)) {
        rq->conn = sim_conn_by_token(token);
        if (!rq->conn) {
            po->scope = SIM_SCOPE_NONE; /* failed authentication: no budget was spent */
            sim_resp_error(rs, 401, "Invalid or missing x-trackstar-access-token", "trackstar");
            return;
        }
        po->scope = SIM_SCOPE_TOKEN;
        rl = &rq->conn->rl;
        lf = &rq->conn->faults;
        rq->conn->times_used++;
        rq->conn->last_used_ms = rq->now_ms - rq->now_ms % 1000;
    }
    /* /integrations has its own 1-per-minute budget (handled by the management API) */
    if (strncmp(path, "/integrations", 13) != 0) {
        int w = is_write(rq->method);
        sim_rl_take(rl, w, w ? sim_http_cfg.write_rate : sim_http_cfg.get_rate, 1, rq->now_ms,
                    &po->rl);
        po->has_rl = 1;
        if (!po->rl.allowed) {
            sim_resp_error(rs, 429, "Rate limit exceeded", "trackstar");
            return;
        }
    }
    sim_http_faults *gf = &sim_g.faults;
    if (take(&gf->drop, lf ? &lf->drop : NULL)) {
        rs->drop = 1;
        return;
    }
    if (take(&gf->slow_count, lf ? &lf->slow_count : NULL))
        po->slow_ms = gf->slow_ms > 0 ? gf->slow_ms : lf ? lf->slow_ms : 0;
    if (take(&gf->force_429, lf ? &lf->force_429 : NULL)) {
        sim_resp_error(rs, 429, "Rate limit exceeded", "trackstar");
        return;
    }
    if (take(&gf->force_401, lf ? &lf->force_401 : NULL)) {
        sim_resp_error(rs, 401, "Invalid or missing x-trackstar-access-token", "trackstar");
        return;
    }
    if (take(&gf->force_5xx, lf ? &lf->force_5xx : NULL)) {
        sim_resp_error(rs, 503, "Service temporarily unavailable (injected)", "trackstar");
        return;
    }
    if (strncmp(path, "/wms/", 5) == 0)
        sim_wms_handle(rq, rs);
    else
        sim_mgmt_handle(rq, rs);
}

static void add_header(struct MHD_Response *r, const char *k, const char *v) {
    MHD_add_response_header(r, k, v);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)cls;
    (void)version;
    req_ctx *ctx = *con_cls;
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx) return MHD_NO;
        *con_cls = ctx;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (ctx->body.len + *upload_data_size > SIM_MAX_BODY)
            ctx->too_big = 1;
        else if (sbuf_append(&ctx->body, upload_data, *upload_data_size) != 0)
            ctx->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    sim_req rq = {0};
    sim_resp rs = {0};
    rq.method = method;
    rq.path = url;
    rq.body = ctx->body.p ? ctx->body.p : "";
    rq.body_len = ctx->body.len;
    rq.now_ms = util_now_ms();
    MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_arg, &rq);
    const char *api_key = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "x-trackstar-api-key");
    const char *token =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "x-trackstar-access-token");
    pipeline_out po = {0};
    char conn_id[40] = ""; /* for the request log: the connection, never its token */
    if (ctx->too_big) {
        sim_resp_error(&rs, 413, "Request body too large", "trackstar");
    } else {
        sim_store_lock();
        pipeline(&rq, &rs, api_key, token, &po);
        if (rq.conn) snprintf(conn_id, sizeof conn_id, "%s", rq.conn->id);
        sim_store_unlock();
    }
    if (!rs.status && !rs.drop) sim_resp_error(&rs, 500, "no handler answered", "trackstar");
    sim_reqstats_add(po.scope, rs.drop ? 0 : rs.status);
    if (rs.drop) {
        sbuf_free(&rs.body);
        return MHD_NO; /* libmicrohttpd closes the socket without an answer */
    }
    if (po.slow_ms > 0) {
        struct timespec ts = {po.slow_ms / 1000, (long)(po.slow_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    size_t len = rs.body.len;
    char *p = rs.body.p;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, p ? p : (char *)"", p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        sbuf_free(&rs.body);
        return MHD_NO;
    }
    char rid[40], v[32];
    unsigned char rnd[6] = {0};
    /* A request id only needs to be unique, which the sequence number makes it: without
     * random bytes it is still unique, so a failure only loses the random part. */
    if (RAND_bytes(rnd, sizeof rnd) != 1) memset(rnd, 0, sizeof rnd);
    snprintf(rid, sizeof rid, "req_%08llx%02x%02x%02x%02x", (unsigned long long)++g_req_seq, rnd[0],
             rnd[1], rnd[2], rnd[3]);
    add_header(resp, "X-Request-Id", rid);
    add_header(resp, "Content-Type", rs.content_type ? rs.content_type : "application/json");
    if (po.has_rl) {
        snprintf(v, sizeof v, "%d", po.rl.limit);
        add_header(resp, "x-ratelimit-limit", v);
        snprintf(v, sizeof v, "%d", po.rl.remaining);
        add_header(resp, "x-ratelimit-remaining", v);
        snprintf(v, sizeof v, "%lld", (long long)po.rl.reset_s);
        add_header(resp, "x-ratelimit-reset", v);
        snprintf(v, sizeof v, "%d", po.rl.retry_after_s);
        add_header(resp, "retry-after", v);
    }
    enum MHD_Result ret = MHD_queue_response(mc, (unsigned)rs.status, resp);
    MHD_destroy_response(resp);
    if (log_min_level <= LOG_DEBUG) {
        char st[8];
        snprintf(st, sizeof st, "%d", rs.status);
        log_debug("request", "method", method, "path", url, "status", st, "request_id", rid,
                  "connection_id", conn_id[0] ? conn_id : NULL, NULL);
    }
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)mc;
    (void)toe;
    req_ctx *ctx = *con_cls;
    if (ctx) {
        sbuf_free(&ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

int sim_http_start(const sim_http_config *cfg, char *errstr, size_t errlen) {
    sim_http_cfg = *cfg;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->bind, &sa.sin_addr) != 1) {
        snprintf(errstr, errlen, "SIM_BIND: not an IPv4 address");
        return -1;
    }
    g_daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)cfg->port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)SIM_MAX_HTTP_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_END);
    if (!g_daemon) {
        snprintf(errstr, errlen, "cannot listen on %s:%d", cfg->bind, cfg->port);
        return -1;
    }
    return 0;
}

void sim_http_stop(void) {
    if (g_daemon) MHD_stop_daemon(g_daemon);
    g_daemon = NULL;
}
