/* admin.c - the admin HTTP server (/healthz, /readyz, /metrics and routes a binary
 * adds), on libmicrohttpd's internal thread, separate from any data port. */
#include "admin.h"

#include "log.h"
#include "metrics.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_MAX_ROUTES 16
#define ADMIN_MAX_BODY (64 * 1024)

typedef struct admin_route_entry {
    const char *method, *path;
    admin_route_fn fn;
    void *arg;
} admin_route_entry;

static struct MHD_Daemon *admin_daemon;
static admin_ready_fn admin_ready;
static void *admin_ready_arg;
static admin_route_entry routes[ADMIN_MAX_ROUTES];
static int nroutes;

typedef struct admin_req {
    char *body;
    size_t len;
    int too_big;
} admin_req;

int admin_route(const char *method, const char *path, admin_route_fn fn, void *arg) {
    if (nroutes == ADMIN_MAX_ROUTES) return -1;
    routes[nroutes++] = (admin_route_entry){method, path, fn, arg};
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *ctype, char *body,
                             int owned) {
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body ? body : (char *)"", owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Rebuild "k=v&k=v" (decoded) from the query arguments for a route handler. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    sbuf *q = cls;
    if (q->len) sbuf_append(q, "&", 1);
    sbuf_printf(q, "%s=%s", key, value ? value : "");
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **req_cls) {
    (void)cls;
    (void)version;
    admin_req *req = *req_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req) return MHD_NO;
        *req_cls = req;
        return MHD_YES;
    }
    if (*data_size) {
        if (req->len + *data_size > ADMIN_MAX_BODY) {
            req->too_big = 1;
        } else {
            char *p = realloc(req->body, req->len + *data_size + 1);
            if (!p) return MHD_NO;
            memcpy(p + req->len, data, *data_size);
            req->body = p;
            req->len += *data_size;
            req->body[req->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (req->too_big) return reply(c, 413, "application/json", "{\"error\":\"body too large\"}", 0);

    if (strcmp(url, "/healthz") == 0) return reply(c, 200, "text/plain", "ok\n", 0);
    if (strcmp(url, "/metrics") == 0)
        return reply(c, 200, "text/plain; version=0.0.4", metrics_render(), 1);
    if (strcmp(url, "/readyz") == 0) {
        char why[256] = "";
        int ok = admin_ready ? admin_ready(admin_ready_arg, why, sizeof why) : 1;
        char body[320];
        snprintf(body, sizeof body, "%s%s%s\n", ok ? "ready" : "not ready", *why ? ": " : "", why);
        return reply(c, ok ? 200 : 503, "text/plain", body, 0);
    }
    for (int i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].path, url) != 0) continue;
        if (strcmp(routes[i].method, method) != 0)
            return reply(c, 405, "application/json", "{\"error\":\"method not allowed\"}", 0);
        sbuf query = {0};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &query);
        char *resp = NULL;
        int status = routes[i].fn(routes[i].arg, query.p ? query.p : "", req->body ? req->body : "",
                                  req->len, &resp);
        sbuf_free(&query);
        return reply(c, status, "application/json", resp, resp != NULL);
    }
    return reply(c, 404, "application/json", "{\"error\":\"not found\"}", 0);
}

static void on_done(void *cls, struct MHD_Connection *c, void **req_cls,
                    enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    admin_req *req = *req_cls;
    if (req) {
        free(req->body);
        free(req);
    }
    *req_cls = NULL;
}

int admin_start(const char *bind_addr, int port, admin_ready_fn ready, void *arg, char *errstr,
                size_t errlen) {
    admin_ready = ready;
    admin_ready_arg = arg;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
        snprintf(errstr, errlen, "ADMIN_BIND: '%s' is not an IPv4 address", bind_addr);
        return -1;
    }
    admin_daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, on_request,
        NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (!admin_daemon) {
        snprintf(errstr, errlen, "ADMIN_PORT: cannot listen on %s:%d", bind_addr, port);
        return -1;
    }
    return 0;
}

void admin_stop(void) {
    if (admin_daemon) MHD_stop_daemon(admin_daemon);
    admin_daemon = NULL;
}
