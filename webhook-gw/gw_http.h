/* gw_http.h - the gateway's HTTP/1.1 server: a few threads, each with its own epoll set
 * and its own listening socket (SO_REUSEPORT), serving keep-alive connections for one
 * kind of request, a POST whose answer is often decided later on another thread (the
 * Kafka delivery report).
 *
 * Why not libmicrohttpd: to answer later it suspends and resumes the connection, which
 * costs an epoll_ctl pair and an eventfd write and read per request, and it zeroes its
 * per-connection pool on every request. Here a waiting connection just stays in the
 * set, unread; answers decided elsewhere are queued to the connection's thread, which
 * is woken once per batch, so a request costs one read and one write in the common case
 * (measured in docs/webhook-gw.md).
 *
 * A request goes through the handlers in this order: on_head (head parsed; may answer
 * at once), on_body (body bytes, several times), on_complete (whole body; answers at
 * once, or returns NULL and someone calls gw_http_answer later, exactly once), and
 * on_done (the request is over: answered and written, or its connection gone). A
 * connection whose request waits for gw_http_answer is never closed before the answer
 * comes, so the conn pointer stays valid until then.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include "gw_http_parse.h"

#include <stddef.h>
#include <stdint.h>

#define GW_HTTP_MAX_HEAD 8192 /* request line and headers; larger heads get 431 */

typedef struct gw_http gw_http;
typedef struct gw_http_conn gw_http_conn;

/* A prebuilt answer: status, extra header lines (each ending in CRLF), a JSON body. */
typedef struct gw_http_resp {
    unsigned status;
    const char *extra_headers; /* "" or e.g. "Retry-After: 5\r\n" */
    const char *body;
    int close; /* send Connection: close and close after it */
} gw_http_resp;

typedef struct gw_http_handlers {
    /* The head is parsed. Return NULL and set *ctx to go on with the body, or an
     * answer to send now (the body, if any, is then not read: the connection closes). */
    const gw_http_resp *(*on_head)(void *cls, gw_http_conn *c, const gw_http_head *h, void **ctx);
    /* Body bytes. Return 0, or -1 to cut the connection without an answer. */
    int (*on_body)(void *cls, void *ctx, const char *p, size_t n);
    /* The whole body arrived. Return the answer, or NULL when it is decided later
     * (gw_http_answer). The head (gw_http_conn_head) is still valid here. */
    const gw_http_resp *(*on_complete)(void *cls, gw_http_conn *c, void *ctx);
    /* The request is over; ctx is the handler's again. */
    void (*on_done)(void *cls, void *ctx);
    /* A request refused by the HTTP layer itself (400, 413, 417, 431, 501, 505), or a
     * connection cut for time; for counting and logging. */
    void (*on_protocol_error)(void *cls, unsigned status);
    void (*on_cut)(void *cls, const char *why);
} gw_http_handlers;

typedef struct gw_http_config {
    const char *bind_addr; /* IPv4 */
    int port;              /* 0 = any free port (gw_http_port) */
    int threads;
    int max_connections;
    int idle_timeout_ms;    /* a connection without traffic this long is closed */
    int request_timeout_ms; /* a request still being received after this is cut */
} gw_http_config;

/* Bind, listen and start the threads. NULL with errstr on failure. */
gw_http *gw_http_start(const gw_http_config *cfg, const gw_http_handlers *h, void *cls,
                       char *errstr, size_t errlen);
int gw_http_port(const gw_http *s);

/* The current request's head; valid from on_head until on_done. */
const gw_http_head *gw_http_conn_head(const gw_http_conn *c);

/* Answer a request whose on_complete returned NULL. Any thread; exactly once. The
 * connection's thread writes it; r must stay valid (prebuilt answers). */
void gw_http_answer(gw_http_conn *c, const gw_http_resp *r);

/* Close the listening sockets (open connections are still served). Returns once no
 * thread accepts any more. */
void gw_http_quiesce(gw_http *s);

/* Stop the threads and close every connection; on_done is called for every request
 * still open, including ones waiting for gw_http_answer (which must not come after). */
void gw_http_stop(gw_http *s);

#endif
