/* sim_http.h - the simulator's HTTP front: libmicrohttpd (one thread per connection),
 * authentication, rate limits, injected HTTP faults, X-Request-Id, and routing to the
 * WMS read API, the management API and the /_sim/ control API. */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "sim_filter.h"
#include "sim_ratelimit.h"
#include "sim_store.h"
#include "util.h"

#define SIM_MAX_BODY (1024 * 1024) /* request bodies above this get 413 */
#define SIM_MAX_HTTP_CONNECTIONS 256

typedef struct sim_http_config {
    const char *bind;
    int port;
    const char *api_key;         /* secret */
    int get_rate, write_rate;    /* per access token per second */
    int crawl_mutations;         /* mutations per POST /connections/sync */
    int connection_object_shape; /* GET /connections/{id}: 1 {data:{}} , 0 list envelope */
    int historical_sync_ms;      /* how long a new connection's historical sync takes */
    const char *public_base;     /* "http://host:port" for URLs the simulator hands out */
    sim_sizes default_sizes;     /* for connections created by link exchange */
} sim_http_config;

extern sim_http_config sim_http_cfg;

/* One request as the handlers see it. Strings belong to libmicrohttpd / the body
 * buffer and live until the response is queued. */
typedef struct sim_req {
    const char *method, *path;
    sim_kv args[SIM_MAX_ARGS];
    int nargs;
    int too_many_args;
    const char *body;
    size_t body_len;
    sim_conn *conn; /* the access token's connection, when required */
    int64_t now_ms;
} sim_req;

typedef struct sim_resp {
    int status;
    sbuf body;                /* JSON */
    const char *content_type; /* NULL = application/json */
    int drop;                 /* close the connection without an answer */
} sim_resp;

/* Start / stop the server. 0 or -1 with errstr. */
int sim_http_start(const sim_http_config *cfg, char *errstr, size_t errlen);
void sim_http_stop(void);

/* Response helpers: they fill rs->status and rs->body. */
void sim_resp_error(sim_resp *rs, int status, const char *msg, const char *origin);
void sim_resp_404(sim_resp *rs, const char *msg, const char *id);
void sim_resp_422(sim_resp *rs, const char *location, const char *param, const char *msg);
void sim_resp_json(sim_resp *rs, int status, const char *json); /* copies json */

/* The value of query parameter key, or NULL. */
const char *sim_req_arg(const sim_req *rq, const char *key);

/* Handlers (called with the store lock held). Return value unused; they set rs. */
void sim_wms_handle(sim_req *rq, sim_resp *rs);
void sim_mgmt_handle(sim_req *rq, sim_resp *rs);
void sim_control_handle(sim_req *rq, sim_resp *rs);

/* The list machinery shared by /wms/<res> and the truth endpoint: page through c's
 * table r with rq's query. wh (non-zero) restricts locations to one warehouse. truth
 * ignores sync state, permissions and filters other than limit/page_token. */
void sim_wms_list(sim_req *rq, sim_resp *rs, sim_conn *c, sim_res r, uint32_t wh, int truth);
/* GET /_sim/truth/order_packs: for every order of the WMS in a packing status, the
 * record the fetcher publishes for it (id, updated_date, order_id, then the packs
 * document), in id order, on one page. */
void sim_wms_order_packs_truth(sim_resp *rs, sim_conn *c);

/* Management helpers the control API shares. */
int sim_mgmt_mint_auth_code(const char *integration, const char *link_token,
                            const char *connection_id, char *code, size_t codelen, char *errstr,
                            size_t errlen);
/* connection.created for c (data: created_date, access_token). */
void sim_mgmt_emit_created(const sim_conn *c);

#endif
