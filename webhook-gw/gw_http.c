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

enum { S_HEAD = 0, S_BODY, S_WAIT, S_WRITE, S_LINGER };

typedef struct gw_http_worker gw_http_worker;

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
    char out[GW_OUT_CAP];
    size_t out_len, out_off;
    int close_after;
    int64_t last_io_ms, req_start_ms, linger_until_ms;
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
    int64_t accept_paused_until; /* 0, or when to listen again after EMFILE and the like */
    int64_t accept_logged_at;
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
    atomic_int nconns;
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

/* ---- connections -------------------------------------------------------------- */

/* Hand the current request back to the handler (on_done), if it has one. */
static void end_request(gw_http_conn *c) {
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
    atomic_fetch_sub(&s->nconns, 1);
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
    c->close_after = r->close || force_close || !c->head.keep_alive;
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
    const gw_http_resp *r = s->h.on_complete(s->cls, c, c->ctx);
    if (r) send_answer(c, r, 0);
}

/* Pass the buffered body bytes on. Returns 1 when the body is complete, 0 when more is
 * needed, -1 when the handler wants the connection cut, -2 when it was refused (400). */
static int feed_body(gw_http_conn *c) {
    gw_http *s = c->w->s;
    while (c->pos < c->in_len || (!c->chunked && c->body_left == 0)) {
        if (!c->chunked) {
            size_t take = c->in_len - c->pos;
            if (take > c->body_left) take = (size_t)c->body_left;
            if (take && s->h.on_body(s->cls, c->ctx, c->in + c->pos, take) != 0) return -1;
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
        if (rc == GW_CHUNK_DATA && s->h.on_body(s->cls, c->ctx, data, dlen) != 0) return -1;
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
            int more = read_more(c);
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

static void accept_all(gw_http_worker *w) {
    gw_http *s = w->s;
    for (int k = 0; k < GW_ACCEPTS_PER_WAKE; k++) {
        int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
        if (atomic_fetch_add(&s->nconns, 1) >= s->cfg.max_connections) {
            atomic_fetch_sub(&s->nconns, 1);
            close(fd);
            continue;
        }
        int one = 1; /* answers are single writes; never hold one back */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        gw_http_conn *c = calloc(1, sizeof *c);
        if (c) c->in = malloc(GW_IN_CAP);
        if (!c || !c->in) {
            free(c);
            atomic_fetch_sub(&s->nconns, 1);
            close(fd);
            continue;
        }
        c->w = w;
        c->fd = fd;
        c->state = S_HEAD;
        c->last_io_ms = w->now;
        c->next = w->conns.next;
        c->prev = &w->conns;
        w->conns.next->prev = c;
        w->conns.next = c;
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
                if (s->h.on_cut) s->h.on_cut(s->cls, "stalled");
                conn_close(c);
            } else if (c->req_start_ms && now - c->req_start_ms > s->cfg.request_timeout_ms) {
                if (s->h.on_cut) s->h.on_cut(s->cls, "request over the time limit");
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
    for (int i = 0; i < s->nw; i++) {
        gw_http_worker *w = &s->w[i];
        w->s = s;
        w->ep = w->efd = w->lfd = -1;
        w->conns.next = w->conns.prev = &w->conns;
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
    return NULL;
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
    if (!s) return;
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
        pthread_mutex_destroy(&w->mu);
    }
    free(s->w);
    free(s);
}
