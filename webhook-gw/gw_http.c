/* gw_http.c - the gateway's HTTP/1.1 server (see gw_http.h): per-thread epoll loops,
 * edge-triggered connections, answers from other threads queued per thread.
 *
 * A connection's life: HEAD (reading a request head) -> BODY (reading its body) ->
 * WAIT (the handler decides later; nothing is read meanwhile) -> WRITE (the answer) ->
 * HEAD again for the next request on a keep-alive connection, or LINGER: after an
 * answer that closes the connection, the write side is shut and what the client still
 * sends is read and dropped for a moment before closing, so that the kernel does not
 * reset the connection (and the client lose the answer) over unread bytes.
 *
 * Everything about a connection happens on its own thread; the only other way in is
 * gw_http_answer(), which puts the connection on its thread's answer list.
 */
#include "gw_http.h"

#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GW_IN_CAP (GW_HTTP_MAX_HEAD + 8192) /* head, then body bytes as they pass through */
#define GW_OUT_CAP 512                      /* the largest answer (status, headers, JSON) */
#define GW_TICK_MS 100                      /* timeout scan period */
#define GW_LINGER_MS 2000                   /* reading what a client still sends after a close */
#define GW_EVENTS 128
#define GW_ACCEPTS_PER_WAKE 64
#define GW_BACKLOG 1024
#define GW_ACCEPT_PAUSE_MS 100 /* out of descriptors: stop accepting this long, not spin */
#define GW_ACCEPT_LOG_MS 5000  /* and say so at most this often per thread */
#define GW_BODY_FIRST 16384    /* a body's first allocation; it doubles as bytes arrive */
#define GW_DIRECT_MIN 4096     /* a Content-Length body with this much left is read ... */
#define GW_DIRECT_READ 65536   /* ... straight into its buffer, this much at a time */
#define GW_DISCARD_FACTOR                                                                          \
    4 /* a chunked body over the limit is read and dropped up to                                   \
         this many times the limit (to send 413), then cut off */

enum { S_HEAD = 0, S_BODY, S_WAIT, S_WRITE, S_LINGER };

typedef struct gw_http_worker gw_http_worker;

/* A thread's share of the body budget. Charged by its thread, given back by whichever
 * thread frees a body (gw_http_body_free), hence atomic. */
typedef struct gw_share {
    _Atomic size_t used;
    size_t limit;
} gw_share;

struct gw_http_conn {
    gw_http_worker *w;
    int fd;
    int state;
    int readable;    /* the socket may have bytes: an edge came, no short read since */
    int peer_closed; /* the client shut its side (EPOLLRDHUP) */
    char *in;        /* GW_IN_CAP bytes */
    size_t in_len;
    size_t pos;      /* bytes of in used by the current request */
    size_t head_len; /* the current request's head: in[0..head_len) */
    gw_http_head head;
    int has_ctx;
    void *ctx;
    int chunked;
    gw_http_chunked ch;
    uint64_t body_left; /* Content-Length framing */
    uint64_t body_want; /* declared length (0 when chunked): bounds the body's growth */
    gw_http_body body;  /* collected here until on_complete hands it over */
    uint64_t discarded; /* chunked bytes dropped after the body went over max_body */
    uint32_t peer;      /* IPv4 address, network order */
    int requests;       /* requests answered on this connection */
    char out[GW_OUT_CAP];
    size_t out_len, out_off;
    int close_after;
    int64_t last_io_ms, req_start_ms, linger_until_ms, accepted_ms;
    gw_http_conn *prev, *next; /* the thread's connections */
    gw_http_conn *answer_next; /* on the thread's answer list */
    const gw_http_resp *answer;
    gw_http_conn *dead_next; /* closed, freed at the end of the thread's wake-up */
};

struct gw_http_worker {
    gw_http *s;
    int ep, lfd, efd;
    pthread_t thread;
    int started;
    pthread_mutex_t mu; /* answers, woken */
    gw_http_conn *answers;
    int woken;          /* efd written, not yet read */
    gw_http_conn conns; /* sentinel of a circular list */
    gw_http_conn *dead; /* closed in this wake-up: later events may still name them */
    char date[40];
    time_t date_at;
    int64_t now;                 /* monotonic ms, refreshed per wake-up */
    _Atomic int64_t tick;        /* now, published for gw_http_alive */
    int64_t accept_paused_until; /* 0, or when to listen again after EMFILE and the like */
    int64_t accept_logged_at;
    int nconns;     /* open connections of this thread */
    gw_share share; /* this thread's part of max_buffered */
};

struct gw_http {
    gw_http_config cfg;
    gw_http_handlers h;
    void *cls;
    int port;
    gw_http_worker *w;
    int nw;
    atomic_int stop;
    atomic_int quiesce;
    atomic_int quiesced; /* workers that closed their listener */
    atomic_int open;     /* open connections, all threads */
    int stopped;
    int max_conns, max_per_ip; /* per thread */
};

/* Answers the HTTP layer gives itself; the connection closes after each. */
static const gw_http_resp R_400 = {400, "", "{\"error\":\"bad_request\"}", 1};
static const gw_http_resp R_417 = {417, "", "{\"error\":\"expectation_failed\"}", 1};
static const gw_http_resp R_431 = {431, "", "{\"error\":\"header_too_large\"}", 1};
static const gw_http_resp R_501 = {501, "", "{\"error\":\"transfer_coding_not_implemented\"}", 1};
static const gw_http_resp R_505 = {505, "", "{\"error\":\"http_version_not_supported\"}", 1};

static const char *reason_phrase(unsigned st) {
    switch (st) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static const gw_http_resp *protocol_resp(int status) {
    switch (status) {
    case 417: return &R_417;
    case 431: return &R_431;
    case 501: return &R_501;
    case 505: return &R_505;
    default: return &R_400;
    }
}

static const char *const cut_names[GW_CUT_COUNT] = {
    [GW_CUT_STALLED] = "stalled",
    [GW_CUT_REQUEST_TIME] = "request_time",
    [GW_CUT_TOO_LARGE] = "body_too_large",
    [GW_CUT_MEMORY] = "memory",
    [GW_CUT_SLOTS] = "slots",
    [GW_CUT_PER_IP] = "per_ip",
    [GW_CUT_FULL] = "full",
};

const char *gw_http_cut_name(gw_http_cut why) {
    return (unsigned)why < GW_CUT_COUNT ? cut_names[why] : "unknown";
}

size_t gw_http_conn_bytes(void) {
    return sizeof(gw_http_conn) + GW_IN_CAP;
}

static void cut_new(gw_http *s, gw_http_cut why) {
    if (s->h.on_cut) s->h.on_cut(s->cls, why);
}

static void cut(gw_http_conn *c, gw_http_cut why) {
    cut_new(c->w->s, why);
}

/* ---- bodies and the budget ------------------------------------------------------- */

void gw_http_body_free(gw_http_body *b) {
    if (!b) return;
    free(b->p);
    if (b->share && b->cap) atomic_fetch_sub(&((gw_share *)b->share)->used, b->cap);
    memset(b, 0, sizeof *b);
}

static int charge(gw_share *sh, size_t n) {
    size_t used = atomic_fetch_add(&sh->used, n);
    if (used + n <= sh->limit) return 0;
    atomic_fetch_sub(&sh->used, n);
    return -1;
}

/* ---- connections -------------------------------------------------------------- */

/* Hand the current request back to the handler (on_done), if it has one. */
static void end_request(gw_http_conn *c) {
    gw_http_body_free(&c->body); /* not handed over: the request ends without it */
    if (!c->has_ctx) return;
    c->has_ctx = 0;
    c->w->s->h.on_done(c->w->s->cls, c->ctx);
}

static void conn_close(gw_http_conn *c) {
    gw_http *s = c->w->s;
    end_request(c);
    close(c->fd); /* also takes it out of the epoll set */
    c->fd = -1;
    c->prev->next = c->next;
    c->next->prev = c->prev;
    c->dead_next = c->w->dead;
    c->w->dead = c;
    c->w->nconns--;
    atomic_fetch_sub(&s->open, 1);
}

static void free_dead(gw_http_worker *w) {
    while (w->dead) {
        gw_http_conn *c = w->dead;
        w->dead = c->dead_next;
        free(c->in);
        free(c);
    }
}

static void refresh_date(gw_http_worker *w) {
    time_t t = time(NULL);
    if (t == w->date_at) return;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(w->date, sizeof w->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    w->date_at = t;
}

static void put(gw_http_conn *c, const char *p, size_t n) {
    if (c->out_len + n > GW_OUT_CAP) n = GW_OUT_CAP - c->out_len; /* answers are ours and short */
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

static void puts_(gw_http_conn *c, const char *p) {
    put(c, p, strlen(p));
}

static void put_int(gw_http_conn *c, int64_t v) {
    char d[UTIL_I64_BUF];
    char *p = util_i64_digits(v, d);
    put(c, p, (size_t)(d + UTIL_I64_BUF - p));
}

/* Render r into c->out and switch to WRITE. */
static void send_answer(gw_http_conn *c, const gw_http_resp *r, int force_close) {
    c->requests++;
    c->close_after = r->close || force_close || !c->head.keep_alive ||
                     c->requests >= c->w->s->cfg.max_requests_per_conn;
    refresh_date(c->w);
    size_t blen = strlen(r->body);
    c->out_len = c->out_off = 0;
    puts_(c, "HTTP/1.1 ");
    put_int(c, r->status);
    put(c, " ", 1);
    puts_(c, reason_phrase(r->status));
    puts_(c, "\r\nDate: ");
    puts_(c, c->w->date);
    puts_(c, "\r\nContent-Type: application/json\r\nContent-Length: ");
    put_int(c, (int64_t)blen);
    puts_(c, "\r\n");
    puts_(c, r->extra_headers);
    if (c->close_after) puts_(c, "Connection: close\r\n");
    puts_(c, "\r\n");
    put(c, r->body, blen);
    c->state = S_WRITE;
}

static void protocol_error(gw_http_conn *c, int status) {
    gw_http *s = c->w->s;
    if (s->h.on_protocol_error) s->h.on_protocol_error(s->cls, (unsigned)status);
    end_request(c);
    send_answer(c, protocol_resp(status), 1);
}

/* Read what fits. Returns >0 bytes, 0 at EOF, -1 for "nothing now", -2 on an error. */
static ssize_t conn_read(gw_http_conn *c, char *dst, size_t room) {
    for (;;) {
        ssize_t n = read(c->fd, dst, room);
        if (n > 0) {
            if ((size_t)n < room) c->readable = 0; /* drained: the next bytes bring an edge */
            c->last_io_ms = c->w->now;
            return n;
        }
        if (n == 0) return 0;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->readable = 0;
            return -1;
        }
        return -2;
    }
}

/* The head is parsed: hand it over, and set up the body's framing. */
static void start_request(gw_http_conn *c, size_t head_len) {
    gw_http *s = c->w->s;
    c->head_len = c->pos = head_len;
    int has_body = c->head.chunked || (c->head.has_length && c->head.content_length > 0);
    void *ctx = NULL;
    const gw_http_resp *r = s->h.on_head(s->cls, c, &c->head, &ctx);
    if (r) { /* the body is not read: close after the answer */
        send_answer(c, r, has_body);
        return;
    }
    c->ctx = ctx;
    c->has_ctx = 1;
    c->chunked = c->head.chunked;
    memset(&c->ch, 0, sizeof c->ch);
    c->body_left = c->head.has_length ? c->head.content_length : 0;
    c->body_want = c->body_left;
    c->discarded = 0;
    memset(&c->body, 0, sizeof c->body);
    if (c->head.expect_continue && has_body && c->in_len == c->pos) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof cont - 1)) {
            c->state = S_LINGER; /* cannot even say continue: give up on it */
            c->linger_until_ms = c->w->now;
            return;
        }
    }
    c->state = S_BODY;
}

static void complete_request(gw_http_conn *c) {
    gw_http *s = c->w->s;
    c->state = S_WAIT;
    gw_http_body body = c->body;
    memset(&c->body, 0, sizeof c->body); /* the handler's now */
    const gw_http_resp *r = s->h.on_complete(s->cls, c, c->ctx, &body);
    if (r) send_answer(c, r, 0);
}

static void conn_drive(gw_http_conn *c);

/* Cut an upload in progress to give its memory back: answered `busy` (503, close), its
 * request ended. The connection then writes the answer and lingers. */
static void cut_upload(gw_http_conn *v, gw_http_cut why) {
    cut(v, why);
    end_request(v); /* frees the body: the bytes are back in the share */
    send_answer(v, v->w->s->cfg.busy, 1);
}

/* Make room for n more body bytes of c's request: cut the uploads that started longest
 * ago until they fit. 0, or -1 when c's own upload is the oldest (or nothing else can
 * go): the caller cuts c. Uploads cut here are driven (their answer written) later in
 * this wake-up, by drive_cut(). */
static int make_room(gw_http_conn *c, size_t n) {
    gw_http_worker *w = c->w;
    while (charge(&w->share, n) != 0) {
        gw_http_conn *oldest = NULL;
        for (gw_http_conn *x = w->conns.next; x != &w->conns; x = x->next)
            if (x->state == S_BODY && x->body.cap &&
                (!oldest || x->req_start_ms < oldest->req_start_ms))
                oldest = x;
        if (!oldest || oldest == c) return -1;
        cut_upload(oldest, GW_CUT_MEMORY);
        conn_drive(oldest); /* write its answer now: no event of its own may come */
    }
    return 0;
}

/* Room for n more bytes in c's body (plus its NUL), grown within the budget: doubling,
 * but never past the declared length (or max_body when chunked). 0, or -1 when c was cut
 * (answered busy). */
static int body_grow(gw_http_conn *c, size_t n) {
    gw_http *s = c->w->s;
    gw_http_body *b = &c->body;
    if (b->len + n + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap * 2 : GW_BODY_FIRST;
    while (cap < b->len + n + 1)
        cap *= 2;
    size_t most = (c->body_want ? (size_t)c->body_want : s->cfg.max_body) + 1;
    if (cap > most) cap = most;
    if (make_room(c, cap - b->cap) != 0) {
        cut_upload(c, GW_CUT_MEMORY);
        return -1;
    }
    char *np = realloc(b->p, cap);
    if (!np) {
        atomic_fetch_sub(&c->w->share.used, cap - b->cap);
        cut_upload(c, GW_CUT_MEMORY);
        return -1;
    }
    b->p = np;
    b->share = &c->w->share;
    b->cap = cap;
    return 0;
}

/* Append body bytes to c's body, growing it within the budget. 0, or -1 when c is cut
 * (answered busy). A chunked body over max_body is dropped, counted, and cut far over. */
static int body_append(gw_http_conn *c, const char *p, size_t n) {
    gw_http *s = c->w->s;
    gw_http_body *b = &c->body;
    if (b->too_large || b->len + n > s->cfg.max_body) {
        if (!b->too_large) gw_http_body_free(b);
        b->too_large = 1;
        c->discarded += n;
        if (c->discarded <= GW_DISCARD_FACTOR * (uint64_t)s->cfg.max_body) return 0;
        cut(c, GW_CUT_TOO_LARGE);
        return -2;
    }
    if (body_grow(c, n) != 0) return -1;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* Read a Content-Length body straight into its buffer, without the copy through c->in:
 * most of a large body's bytes take this way. Returns 1 when bytes came, 0 when none for
 * now, -1 when the connection is gone, -2 when c was cut (answered busy). */
static int read_body_direct(gw_http_conn *c) {
    if (!c->readable) return 0;
    size_t want = c->body_left < GW_DIRECT_READ ? (size_t)c->body_left : GW_DIRECT_READ;
    if (body_grow(c, want) != 0) return -2;
    gw_http_body *b = &c->body;
    ssize_t n = conn_read(c, b->p + b->len, want);
    if (n == -1) return 0;
    if (n <= 0) return -1;
    b->len += (size_t)n;
    b->p[b->len] = '\0';
    c->body_left -= (uint64_t)n;
    return 1;
}

/* Collect the buffered body bytes. Returns 1 when the body is complete, 0 when more is
 * needed, -1 when the connection is to be cut, -2 when it was answered (400, busy). */
static int feed_body(gw_http_conn *c) {
    while (c->pos < c->in_len || (!c->chunked && c->body_left == 0)) {
        if (!c->chunked) {
            size_t take = c->in_len - c->pos;
            if (take > c->body_left) take = (size_t)c->body_left;
            if (take) {
                int rc = body_append(c, c->in + c->pos, take);
                if (rc == -1) return -2; /* cut for memory: answered busy */
                if (rc != 0) return -1;
            }
            c->pos += take;
            c->body_left -= take;
            if (c->body_left == 0) return 1;
            continue;
        }
        size_t used = 0, dlen = 0;
        const char *data = NULL;
        int rc =
            gw_http_chunked_step(&c->ch, c->in + c->pos, c->in_len - c->pos, &used, &data, &dlen);
        c->pos += used;
        if (rc == GW_CHUNK_BAD) {
            protocol_error(c, 400);
            return -2;
        }
        if (rc == GW_CHUNK_DATA) {
            int arc = body_append(c, data, dlen);
            if (arc == -1) return -2;
            if (arc != 0) return -1;
        }
        if (rc == GW_CHUNK_DONE) return 1;
    }
    /* Everything buffered is consumed: reuse the room after the head. */
    c->in_len = c->pos = c->head_len;
    return 0;
}

/* After an answer is written: the next request, or the lingering close. */
static void request_over(gw_http_conn *c) {
    gw_http *s = c->w->s;
    end_request(c);
    /* A client that shut its side after its request gets its answer, then the close,
     * rather than an idle wait: its FIN may have come with the request's last bytes, so
     * no edge is left to report it. Only when nothing is left to read: no byte buffered,
     * and no edge since the last short read. */
    if (c->close_after || atomic_load(&s->stop) ||
        (c->peer_closed && !c->readable && c->in_len == c->pos)) {
        shutdown(c->fd, SHUT_WR);
        c->state = S_LINGER;
        c->linger_until_ms = c->w->now + GW_LINGER_MS;
        return;
    }
    size_t rest = c->in_len - c->pos; /* a pipelined next request */
    if (rest) memmove(c->in, c->in + c->pos, rest);
    c->in_len = rest;
    c->pos = c->head_len = 0;
    c->req_start_ms = 0;
    c->state = S_HEAD;
}

/* More request bytes into c->in: 1 when some came, 0 when none for now, -1 when the
 * connection is gone. */
static int read_more(gw_http_conn *c) {
    if (!c->readable) return 0;
    ssize_t n = conn_read(c, c->in + c->in_len, GW_IN_CAP - c->in_len);
    if (n == -1) return 0;
    if (n <= 0) return -1;
    c->in_len += (size_t)n;
    return 1;
}

/* Run the connection as far as its bytes allow (it may be closed on return). */
static void conn_drive(gw_http_conn *c) {
    for (;;) {
        switch (c->state) {
        case S_HEAD: {
            if (c->in_len > 0) {
                if (!c->req_start_ms) c->req_start_ms = c->w->now;
                size_t hl = 0;
                int rc = gw_http_parse_head(c->in, c->in_len, GW_HTTP_MAX_HEAD, &c->head, &hl);
                if (rc == 0) {
                    start_request(c, hl);
                    continue;
                }
                if (rc != GW_HTTP_INCOMPLETE) {
                    memset(&c->head, 0, sizeof c->head);
                    protocol_error(c, rc);
                    continue;
                }
            }
            int more = read_more(c);
            if (more < 0) goto gone;
            if (!more) return;
            continue;
        }
        case S_BODY: {
            int rc = feed_body(c);
            if (rc == 1) {
                complete_request(c);
                continue;
            }
            if (rc == -1) goto gone;
            if (rc == -2) continue; /* answered 400 */
            int more =
                !c->chunked && c->body_left >= GW_DIRECT_MIN ? read_body_direct(c) : read_more(c);
            if (more == -2) continue; /* cut: answered busy */
            if (more < 0) goto gone;
            if (!more) return;
            continue;
        }
        case S_WAIT: return;
        case S_WRITE:
            while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (n > 0) {
                    c->out_off += (size_t)n;
                    c->last_io_ms = c->w->now;
                } else if (n < 0 && errno == EINTR) {
                    continue;
                } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    return; /* EPOLLOUT brings us back */
                } else {
                    goto gone;
                }
            }
            request_over(c);
            continue;
        case S_LINGER: {
            char sink[4096];
            for (;;) {
                if (c->w->now >= c->linger_until_ms) goto gone;
                ssize_t n = conn_read(c, sink, sizeof sink);
                if (n == -1) return;
                if (n <= 0) goto gone;
            }
        }
        }
    }
gone:
    conn_close(c);
}

/* ---- threads ------------------------------------------------------------------ */

/* How evictable a connection is when a slot is needed: 0 never (its request waits for
 * its answer, or is being answered), then lingering (3, closing anyway) before idle
 * keep-alive between requests (2) before one that has not sent all of a request yet
 * (1: a new connection, a partial head, a body). */
static int evict_rank(const gw_http_conn *c) {
    switch (c->state) {
    case S_LINGER: return 3;
    case S_HEAD: return c->in_len == 0 && c->pos == 0 && c->requests > 0 ? 2 : 1;
    case S_BODY: return 1;
    default: return 0;
    }
}

/* Since when a connection holds its slot in its current use: a request being received
 * since its first byte (or, before any, since the connection was accepted), an idle or
 * lingering one since its last traffic. */
static int64_t held_since(const gw_http_conn *c) {
    if (evict_rank(c) == 1) return c->req_start_ms ? c->req_start_ms : c->accepted_ms;
    return c->last_io_ms;
}

/* The connection to evict for a new one (of peer, when peer != 0): the highest rank,
 * then the one held longest. NULL when none may go. */
static gw_http_conn *slot_victim(gw_http_worker *w, uint32_t peer) {
    gw_http_conn *best = NULL;
    int best_rank = 0;
    int64_t best_age = 0;
    for (gw_http_conn *x = w->conns.next; x != &w->conns; x = x->next) {
        if (peer && x->peer != peer) continue;
        int r = evict_rank(x);
        if (!r) continue;
        int64_t since = held_since(x);
        if (r > best_rank || (r == best_rank && since < best_age)) {
            best = x;
            best_rank = r;
            best_age = since;
        }
    }
    return best;
}

/* Close v at once to free its slot; one still sending a request gets `busy` first,
 * written if the socket takes it now (no waiting: the slot is needed). */
static void evict(gw_http_conn *v, gw_http_cut why) {
    cut(v, why);
    if (v->state == S_BODY || (v->state == S_HEAD && v->in_len)) {
        end_request(v);
        send_answer(v, v->w->s->cfg.busy, 1);
        ssize_t rc = send(v->fd, v->out, v->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)rc;
    }
    conn_close(v);
}

static int count_peer(gw_http_worker *w, uint32_t peer) {
    int n = 0;
    for (gw_http_conn *x = w->conns.next; x != &w->conns; x = x->next)
        n += x->peer == peer;
    return n;
}

/* Room for one more connection from peer: 0, or -1 when every candidate slot is held
 * by a request waiting for its answer (the new connection is refused). */
static int make_slot(gw_http_worker *w, uint32_t peer) {
    gw_http *s = w->s;
    if (s->max_per_ip && count_peer(w, peer) >= s->max_per_ip) {
        gw_http_conn *v = slot_victim(w, peer);
        if (!v) return -1;
        evict(v, GW_CUT_PER_IP);
    }
    if (w->nconns >= s->max_conns) {
        gw_http_conn *v = slot_victim(w, 0);
        if (!v) return -1;
        evict(v, GW_CUT_SLOTS);
    }
    return 0;
}

static void accept_all(gw_http_worker *w) {
    gw_http *s = w->s;
    for (int k = 0; k < GW_ACCEPTS_PER_WAKE; k++) {
        struct sockaddr_in sin;
        socklen_t sl = sizeof sin;
        int fd = accept4(w->lfd, (struct sockaddr *)&sin, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                /* The listener is level-triggered: without a pause this would spin (and
                 * log) until a descriptor frees up. */
                if (!w->accept_logged_at || w->now - w->accept_logged_at >= GW_ACCEPT_LOG_MS) {
                    log_warn("accept failed: pausing new connections", "error", strerror(errno),
                             NULL);
                    w->accept_logged_at = w->now;
                }
                struct epoll_event off = {.events = 0, .data.ptr = &w->lfd};
                epoll_ctl(w->ep, EPOLL_CTL_MOD, w->lfd, &off);
                w->accept_paused_until = w->now + GW_ACCEPT_PAUSE_MS;
            }
            return;
        }
        uint32_t peer = sl >= sizeof sin && sin.sin_family == AF_INET ? sin.sin_addr.s_addr : 0;
        if (make_slot(w, peer) != 0) {
            cut_new(s, GW_CUT_FULL);
            close(fd);
            continue;
        }
        int one = 1; /* answers are single writes; never hold one back */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        gw_http_conn *c = calloc(1, sizeof *c);
        if (c) c->in = malloc(GW_IN_CAP);
        if (!c || !c->in) {
            free(c);
            close(fd);
            continue;
        }
        c->w = w;
        c->fd = fd;
        c->peer = peer;
        c->state = S_HEAD;
        c->last_io_ms = c->accepted_ms = w->now;
        c->next = w->conns.next;
        c->prev = &w->conns;
        w->conns.next->prev = c;
        w->conns.next = c;
        w->nconns++;
        atomic_fetch_add(&s->open, 1);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) conn_close(c);
    }
}

static void take_answers(gw_http_worker *w) {
    uint64_t v;
    if (read(w->efd, &v, sizeof v) < 0 && errno != EAGAIN) log_warn("eventfd read failed", NULL);
    pthread_mutex_lock(&w->mu);
    gw_http_conn *list = w->answers;
    w->answers = NULL;
    w->woken = 0;
    pthread_mutex_unlock(&w->mu);
    gw_http_conn *fifo = NULL; /* the list is last-in first: answer in arrival order */
    while (list) {
        gw_http_conn *n = list->answer_next;
        list->answer_next = fifo;
        fifo = list;
        list = n;
    }
    while (fifo) {
        gw_http_conn *c = fifo;
        fifo = c->answer_next;
        if (c->fd < 0 || c->state != S_WAIT) continue; /* cannot happen: one answer per request */
        send_answer(c, c->answer, 0);
        conn_drive(c);
    }
}

static void scan_timeouts(gw_http_worker *w) {
    gw_http *s = w->s;
    int64_t now = w->now;
    for (gw_http_conn *c = w->conns.next, *n; c != &w->conns; c = n) {
        n = c->next;
        switch (c->state) {
        case S_WAIT: /* the handler's deadline answers it */ break;
        case S_LINGER:
            if (now >= c->linger_until_ms) conn_close(c);
            break;
        case S_HEAD:
            if (c->in_len == 0 && c->pos == 0) { /* idle between requests */
                if (now - c->last_io_ms > s->cfg.idle_timeout_ms) conn_close(c);
                break;
            }
            /* a request is arriving */
            __attribute__((fallthrough));
        case S_BODY:
            if (now - c->last_io_ms > s->cfg.idle_timeout_ms) {
                cut(c, GW_CUT_STALLED);
                conn_close(c);
            } else if (c->req_start_ms && now - c->req_start_ms > s->cfg.request_timeout_ms) {
                cut(c, GW_CUT_REQUEST_TIME);
                conn_close(c);
            }
            break;
        case S_WRITE:
            if (now - c->last_io_ms > s->cfg.idle_timeout_ms) conn_close(c);
            break;
        }
    }
}

static void *worker_main(void *arg) {
    gw_http_worker *w = arg;
    gw_http *s = w->s;
    struct epoll_event evs[GW_EVENTS];
    int64_t last_scan = util_mono_ms();
    while (!atomic_load(&s->stop)) {
        int n = epoll_wait(w->ep, evs, GW_EVENTS, GW_TICK_MS);
        w->now = util_mono_ms();
        atomic_store(&w->tick, w->now);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &w->lfd) {
                if (w->lfd >= 0) accept_all(w);
            } else if (p == &w->efd) {
                take_answers(w);
            } else {
                gw_http_conn *c = p;
                if (c->fd < 0) continue; /* closed earlier in this wake-up */
                if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = 1;
                if (evs[i].events & (EPOLLRDHUP | EPOLLHUP)) c->peer_closed = 1;
                conn_drive(c);
            }
        }
        if (atomic_load(&s->quiesce) && w->lfd >= 0) {
            close(w->lfd);
            w->lfd = -1;
            atomic_fetch_add(&s->quiesced, 1);
        }
        if (w->now - last_scan >= GW_TICK_MS) {
            scan_timeouts(w);
            last_scan = w->now;
        }
        if (w->accept_paused_until && w->now >= w->accept_paused_until && w->lfd >= 0) {
            struct epoll_event on = {.events = EPOLLIN, .data.ptr = &w->lfd};
            epoll_ctl(w->ep, EPOLL_CTL_MOD, w->lfd, &on);
            w->accept_paused_until = 0;
        }
        free_dead(w);
    }
    while (w->conns.next != &w->conns)
        conn_close(w->conns.next);
    free_dead(w);
    return NULL;
}

static void wake(gw_http_worker *w) {
    uint64_t one = 1;
    if (write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("eventfd write failed", NULL);
}

void gw_http_answer(gw_http_conn *c, const gw_http_resp *r) {
    gw_http_worker *w = c->w;
    c->answer = r;
    pthread_mutex_lock(&w->mu);
    c->answer_next = w->answers;
    w->answers = c;
    int first = !w->woken; /* one wake-up per batch of answers */
    w->woken = 1;
    pthread_mutex_unlock(&w->mu);
    if (first) wake(w);
}

int gw_http_alive(gw_http *s, int64_t max_age_ms) {
    int64_t now = util_mono_ms();
    for (int i = 0; i < s->nw; i++)
        if (!s->w[i].started || now - atomic_load(&s->w[i].tick) > max_age_ms) return 0;
    return 1;
}

const gw_http_head *gw_http_conn_head(const gw_http_conn *c) {
    return &c->head;
}

/* ---- life cycle --------------------------------------------------------------- */

static int listen_on(const struct sockaddr_in *sin, char *errstr, size_t errlen) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)sin, sizeof *sin) != 0 || listen(fd, GW_BACKLOG) != 0) {
        char addr[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
        snprintf(errstr, errlen, "cannot listen on %s:%d: %s", addr, ntohs(sin->sin_port),
                 strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

gw_http *gw_http_start(const gw_http_config *cfg, const gw_http_handlers *h, void *cls,
                       char *errstr, size_t errlen) {
    gw_http *s = calloc(1, sizeof *s);
    if (!s || cfg->threads < 1 || !(s->w = calloc((size_t)cfg->threads, sizeof *s->w))) {
        snprintf(errstr, errlen, "cannot start the HTTP server");
        free(s);
        return NULL;
    }
    s->cfg = *cfg;
    s->h = *h;
    s->cls = cls;
    s->nw = cfg->threads;
    /* Every limit is shared evenly: a thread only ever acts on its own connections. */
    s->max_conns = (cfg->max_connections + s->nw - 1) / s->nw;
    s->max_per_ip = cfg->max_conns_per_ip ? (cfg->max_conns_per_ip + s->nw - 1) / s->nw : 0;
    for (int i = 0; i < s->nw; i++) {
        gw_http_worker *w = &s->w[i];
        w->s = s;
        w->ep = w->efd = w->lfd = -1;
        w->conns.next = w->conns.prev = &w->conns;
        w->share.limit = cfg->max_buffered / (size_t)s->nw;
        atomic_store(&w->tick, util_mono_ms());
        pthread_mutex_init(&w->mu, NULL);
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->bind_addr, &sin.sin_addr) != 1) {
        snprintf(errstr, errlen, "WEBHOOK_GW_BIND: '%s' is not an IPv4 address", cfg->bind_addr);
        goto fail;
    }
    for (int i = 0; i < s->nw; i++) {
        gw_http_worker *w = &s->w[i];
        /* One listening socket per thread on the same port: the kernel spreads the
         * connections, and a thread never takes another's. */
        if ((w->lfd = listen_on(&sin, errstr, errlen)) < 0) goto fail;
        if (i == 0) {
            socklen_t sl = sizeof sin;
            getsockname(w->lfd, (struct sockaddr *)&sin, &sl);
            s->port = ntohs(sin.sin_port);
        }
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event le = {.events = EPOLLIN, .data.ptr = &w->lfd};
        struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &w->efd};
        if (w->ep < 0 || w->efd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->lfd, &le) != 0 ||
            epoll_ctl(w->ep, EPOLL_CTL_ADD, w->efd, &ee) != 0) {
            snprintf(errstr, errlen, "cannot set up epoll: %s", strerror(errno));
            goto fail;
        }
    }
    for (int i = 0; i < s->nw; i++) {
        if (pthread_create(&s->w[i].thread, NULL, worker_main, &s->w[i]) != 0) {
            snprintf(errstr, errlen, "cannot start the HTTP threads");
            goto fail;
        }
        s->w[i].started = 1;
    }
    return s;
fail:
    gw_http_stop(s);
    gw_http_free(s);
    return NULL;
}

int gw_http_open_connections(gw_http *s) {
    return atomic_load(&s->open);
}

int gw_http_port(const gw_http *s) {
    return s->port;
}

void gw_http_quiesce(gw_http *s) {
    if (atomic_exchange(&s->quiesce, 1)) return;
    int running = 0;
    for (int i = 0; i < s->nw; i++)
        if (s->w[i].started) {
            running++;
            wake(&s->w[i]);
        }
    while (atomic_load(&s->quiesced) < running) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

void gw_http_stop(gw_http *s) {
    if (!s || s->stopped) return;
    s->stopped = 1;
    atomic_store(&s->stop, 1);
    for (int i = 0; i < s->nw; i++)
        if (s->w[i].started) {
            wake(&s->w[i]);
            pthread_join(s->w[i].thread, NULL);
        }
    for (int i = 0; i < s->nw; i++) {
        gw_http_worker *w = &s->w[i];
        if (w->lfd >= 0) close(w->lfd);
        if (w->efd >= 0) close(w->efd);
        if (w->ep >= 0) close(w->ep);
        w->lfd = w->efd = w->ep = -1;
    }
}

void gw_http_free(gw_http *s) {
    if (!s) return;
    gw_http_stop(s);
    for (int i = 0; i < s->nw; i++)
        pthread_mutex_destroy(&s->w[i].mu);
    free(s->w);
    free(s);
}
