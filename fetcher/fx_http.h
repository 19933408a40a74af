/* fx_http.h - non-blocking HTTP to Trackstar on one libcurl multi handle.
 *
 * Every request carries the organisation API key and, for connection-scoped calls,
 * the access token, as headers (never in URLs, never logged). A request completes
 * through its callback from fx_http_run(), on the caller's thread. The response body
 * is bounded (a larger one fails the request), and the rate-limit headers are parsed
 * for fx_rate. fx_http_call() is the blocking form for one-shot commands.
 */
#ifndef FX_HTTP_H
#define FX_HTTP_H

#include <stddef.h>

#include "util.h"

typedef struct fx_http fx_http;
typedef struct fx_http_req fx_http_req;

typedef struct fx_http_resp {
    int status;              /* HTTP status; 0 when the transfer failed (see err) */
    int timed_out;           /* the transfer hit its timeout */
    long retry_after_s;      /* -1 when absent */
    long remaining;          /* x-ratelimit-remaining, -1 when absent */
    long long reset_epoch_s; /* x-ratelimit-reset, -1 when absent */
    sbuf body;               /* owned by the library: valid only inside the callback */
    char err[256];           /* transport error text (no secrets) */
} fx_http_resp;

typedef void (*fx_http_done_fn)(void *arg, fx_http_resp *resp);

/* max_body: bytes accepted per response; timeout_ms: whole transfer; max_conns: idle
 * connections kept for reuse (the caller's bound on requests in flight). A request
 * started is sent at once: nothing queues behind a connection limit. */
fx_http *fx_http_new(size_t max_body, long timeout_ms, long connect_timeout_ms, long max_conns);
void fx_http_free(fx_http *h); /* cancels what is in flight without callbacks */

/* Start a request. method "GET"/"POST"; body is JSON (copied) or NULL; token may be
 * NULL. Returns the request (valid until its callback returns or it is cancelled), or
 * NULL when it could not be started. */
fx_http_req *fx_http_start(fx_http *h, const char *method, const char *url, const char *api_key,
                           const char *token, const char *body, fx_http_done_fn done, void *arg);

/* Abort a request in flight; its callback is not called. */
void fx_http_cancel(fx_http *h, fx_http_req *r);

/* Wait up to timeout_ms for network activity, advance transfers, and call the
 * callbacks of completed requests. Returns the number still in flight. */
int fx_http_run(fx_http *h, int timeout_ms);

int fx_http_inflight(const fx_http *h);

/* Blocking request: runs its own loop until done. On return *resp holds the status
 * and the body, which the caller frees with sbuf_free(&resp->body). 0, or -1 when the
 * transfer failed (resp->err says why). */
int fx_http_call(const char *method, const char *url, const char *api_key, const char *token,
                 const char *body, long timeout_ms, fx_http_resp *resp);

#endif
