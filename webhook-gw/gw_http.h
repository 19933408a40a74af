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
 * at once, before a byte of body is read), on_complete (the whole body, collected here;
 * answers at once, or returns NULL and someone calls gw_http_answer later, exactly
 * once), and on_done (the request is over: answered and written, or its connection
 * gone). A connection whose request waits for gw_http_answer is never closed before the
 * answer comes, so the conn pointer stays valid until then.
 *
 * Hostile clients (docs/webhook-gw.md, "Under attack"): every limit is per thread, each
 * thread holding an even share, so a thread only ever touches its own connections.
 *  - Bodies grow as their bytes arrive, charged to the thread's share of max_buffered
 *    until freed (also after the hand-over: gw_http_body_free). When a body needs more
 *    than is left, the uploads that started longest ago are cut (answered `busy`) until
 *    it fits; if the oldest is this one, this one is cut. Requests waiting for their
 *    answer are never cut: their bodies are verified.
 *  - When all of a thread's slots are taken, a new connection evicts the longest-held
 *    one that is lingering, idle, or still sending its request (never one waiting for
 *    its answer): a held slot cannot lock newcomers out.
 *  - max_conns_per_ip bounds one address's share the same way: its oldest evictable
 *    connection makes room. Behind an ingress every client has the ingress's address:
 *    leave it 0 there.
 *  - max_requests_per_conn: the answer to the last one says Connection: close.
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

/* A request body, collected by the server. */
typedef struct gw_http_body {
    char *p; /* NUL-terminated bytes, or NULL when empty or too large */
    size_t len;
    size_t cap;    /* bytes charged to the budget (the allocation) */
    int too_large; /* over max_body: its bytes were read and dropped */
    void *share;   /* the budget share it is charged to (internal) */
} gw_http_body;

/* Free a body handed over by on_complete and give its bytes back to the budget. Any
 * thread, any time before gw_http_free. */
void gw_http_body_free(gw_http_body *b);

/* Why a connection was cut without its request being answered by the handler. */
typedef enum gw_http_cut {
    GW_CUT_STALLED = 0,  /* no traffic for idle_timeout_ms while receiving */
    GW_CUT_REQUEST_TIME, /* still receiving after request_timeout_ms */
    GW_CUT_TOO_LARGE,    /* a chunked body far over max_body */
    GW_CUT_MEMORY,       /* an upload cut to make room in the body budget (answered busy) */
    GW_CUT_SLOTS,        /* evicted to make room for a new connection */
    GW_CUT_PER_IP,       /* evicted: its address had max_conns_per_ip connections */
    GW_CUT_FULL,         /* a new connection refused: every slot held by a waiting request */
    GW_CUT_COUNT
} gw_http_cut;

const char *gw_http_cut_name(gw_http_cut why);

typedef struct gw_http_handlers {
    /* The head is parsed. Return NULL and set *ctx to go on with the body, or an
     * answer to send now (the body, if any, is then not read: the connection closes). */
    const gw_http_resp *(*on_head)(void *cls, gw_http_conn *c, const gw_http_head *h, void **ctx);
    /* The whole body arrived; the handler owns *body now (gw_http_body_free it, at
     * once or later). Return the answer, or NULL when it is decided later
     * (gw_http_answer). The head (gw_http_conn_head) is still valid here. */
    const gw_http_resp *(*on_complete)(void *cls, gw_http_conn *c, void *ctx, gw_http_body *body);
    /* The request is over; ctx is the handler's again. */
    void (*on_done)(void *cls, void *ctx);
    /* A request refused by the HTTP layer itself (400, 417, 431, 501, 505), or a
     * connection cut; for counting and logging. */
    void (*on_protocol_error)(void *cls, unsigned status);
    void (*on_cut)(void *cls, gw_http_cut why);
} gw_http_handlers;

typedef struct gw_http_config {
    const char *bind_addr; /* IPv4 */
    int port;              /* 0 = any free port (gw_http_port) */
    int threads;
    int max_connections;
    int max_conns_per_ip;      /* 0 = no per-address limit */
    int max_requests_per_conn; /* keep-alive requests on one connection */
    int idle_timeout_ms;       /* a connection without traffic this long is closed */
    int request_timeout_ms;    /* a request still being received after this is cut */
    size_t max_body;           /* a chunked body over this is dropped: too_large */
    size_t max_buffered;       /* bytes of bodies held at once, whole process */
    const gw_http_resp *busy;  /* the answer to an upload cut for memory (503, close) */
} gw_http_config;

/* Bytes one connection costs whatever it does (its structure and read buffer): the
 * per-connection term of the memory bound. */
size_t gw_http_conn_bytes(void);

/* Bind, listen and start the threads. NULL with errstr on failure. */
gw_http *gw_http_start(const gw_http_config *cfg, const gw_http_handlers *h, void *cls,
                       char *errstr, size_t errlen);
int gw_http_port(const gw_http *s);

/* Connections open now, all threads (the publish hold compares it with the requests
 * waiting for an answer). */
int gw_http_open_connections(gw_http *s);

/* The current request's head; valid from on_head until on_done. */
const gw_http_head *gw_http_conn_head(const gw_http_conn *c);

/* Answer a request whose on_complete returned NULL. Any thread; exactly once. The
 * connection's thread writes it; r must stay valid (prebuilt answers). */
void gw_http_answer(gw_http_conn *c, const gw_http_resp *r);

/* Close the listening sockets (open connections are still served). Returns once no
 * thread accepts any more. */
void gw_http_quiesce(gw_http *s);

/* 1 when every thread has turned its loop within max_age_ms (the heartbeat). */
int gw_http_alive(gw_http *s, int64_t max_age_ms);

/* Stop the threads and close every connection; on_done is called for every request
 * still open, including ones waiting for gw_http_answer (which must not come after).
 * Idempotent. Bodies handed over stay valid until gw_http_free. */
void gw_http_stop(gw_http *s);
void gw_http_free(gw_http *s);

#endif
