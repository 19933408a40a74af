/* gw_loadgen.c - an open-loop, fixed-rate HTTP/1.1 load generator for the webhook-gw
 * benchmark (wrk2 is not in Debian, and plain wrk is closed-loop: it cannot hold a
 * rate). Request i is due at t0 + i/rate whatever happened before; its latency is
 * measured from that due time, so time spent waiting for a free connection counts
 * (no coordinated omission).
 *
 * Usage: gw_loadgen HOST PORT RATE SECONDS CONNECTIONS POOLFILE
 * POOLFILE holds ready-made requests: each is a 4-byte big-endian length, then the raw
 * HTTP/1.1 request bytes (keep-alive). They are sent round-robin.
 * Prints one line of key=value results (rate, status counts, p50/p90/p99/max in ms).
 * Built by tests/bench/webhook_gw.sh with plain cc; it is a test tool, not a product.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define RESP_BUF 8192
#define MAX_SAMPLES 10000000
/* A keep-alive connection idle this long is closed and opened again before its next
 * request, as HTTP clients do, under the gateway's idle timeout (WEBHOOK_GW_CONN_TIMEOUT_S,
 * 10 s): otherwise a request sent as the gateway closes the connection is lost in the
 * race (idle connections are taken last-in first-out, so some stay unused for long). */
#define IDLE_CLOSE_NS 5000000000LL

typedef struct conn {
    int fd;
    int busy;
    int64_t due_ns;  /* when the request in flight was due */
    int64_t used_ns; /* when it was opened or last sent a request */
    int closing;     /* the last answer said Connection: close */
    char buf[RESP_BUF];
    size_t len;
} conn;

typedef struct req {
    char *p;
    size_t len;
} req;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int load_pool(const char *path, req **out, int *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int cap = 1024, cnt = 0;
    req *r = malloc(sizeof *r * (size_t)cap);
    unsigned char lb[4];
    while (r && fread(lb, 1, 4, f) == 4) {
        size_t len = (size_t)lb[0] << 24 | (size_t)lb[1] << 16 | (size_t)lb[2] << 8 | lb[3];
        if (cnt == cap) {
            cap *= 2;
            req *nr = realloc(r, sizeof *r * (size_t)cap);
            if (!nr) break;
            r = nr;
        }
        r[cnt].p = malloc(len);
        r[cnt].len = len;
        if (!r[cnt].p || fread(r[cnt].p, 1, len, f) != len) break;
        cnt++;
    }
    fclose(f);
    *out = r;
    *n = cnt;
    return cnt > 0 ? 0 : -1;
}

static int open_conn(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sin.sin_addr);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* A complete response in c->buf? Returns its status and consumes it, 0 if incomplete,
 * -1 if unparseable. Notes a "Connection: close" in c->closing. */
static int take_response(conn *c) {
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end) return c->len == RESP_BUF ? -1 : 0;
    size_t hlen = (size_t)(end - c->buf) + 4;
    int status = 0;
    if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1) return -1;
    size_t clen = 0;
    for (char *p = c->buf; p < end; p++) {
        if (p != c->buf && p[-1] != '\n') continue;
        if (strncasecmp(p, "content-length:", 15) == 0) clen = strtoul(p + 15, NULL, 10);
        if (strncasecmp(p, "connection: close", 17) == 0) c->closing = 1;
    }
    if (c->len < hlen + clen) return 0;
    memmove(c->buf, c->buf + hlen + clen, c->len - hlen - clen);
    c->len -= hlen + clen;
    return status;
}

/* Close c's connection and open a new one in its place, watched by ep as connection ci.
 * Returns 0, or -1 when no new connection could be opened and watched. */
static int reopen(int ep, conn *c, int ci, const char *host, int port) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = open_conn(host, port);
    c->len = 0;
    c->closing = 0;
    c->used_ns = now_ns();
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)ci};
    return c->fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT RATE SECONDS CONNECTIONS POOLFILE\n", argv[0]);
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    double rate = atof(argv[3]);
    double secs = atof(argv[4]);
    int nconn = atoi(argv[5]);
    if (rate <= 0 || secs <= 0 || nconn < 1 || nconn > MAX_CONNS) return 2;
    req *pool;
    int npool;
    if (load_pool(argv[6], &pool, &npool) != 0) {
        fprintf(stderr, "cannot read pool %s\n", argv[6]);
        return 2;
    }
    static conn conns[MAX_CONNS];
    int ep = epoll_create1(0);
    int idle[MAX_CONNS], nidle = 0;
    for (int i = 0; i < nconn; i++) {
        conns[i].fd = open_conn(host, port);
        conns[i].used_ns = now_ns();
        if (conns[i].fd < 0) {
            fprintf(stderr, "cannot connect to %s:%d\n", host, port);
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
        idle[nidle++] = i;
    }
    int64_t total = (int64_t)(rate * secs);
    if (total > MAX_SAMPLES) total = MAX_SAMPLES;
    int64_t *lat = malloc(sizeof *lat * (size_t)total);
    int64_t interval = (int64_t)(1e9 / rate);
    int64_t t0 = now_ns(), sent = 0, done = 0, errors = 0, reconnects = 0, late_ns = 0;
    long status_count[6] = {0};
    int64_t deadline = t0 + (int64_t)(secs * 1e9) + 10000000000LL; /* +10 s to drain */
    while (done + errors < total && now_ns() < deadline) {
        int64_t now = now_ns();
        /* Send everything that is due, as long as a connection is free. */
        while (sent < total && t0 + sent * interval <= now && nidle > 0) {
            conn *c = &conns[idle[--nidle]];
            const req *r = &pool[sent % npool];
            /* A connection the gateway closes (its last answer said so: after
             * WEBHOOK_GW_MAX_REQUESTS_PER_CONNECTION requests) is not used again, as
             * HTTP clients do; sending on it races the close and loses the request. */
            if (c->closing || now - c->used_ns > IDLE_CLOSE_NS) { /* see IDLE_CLOSE_NS */
                if (reopen(ep, c, (int)(c - conns), host, port) != 0) {
                    fprintf(stderr, "cannot reconnect to %s:%d\n", host, port);
                    return 1;
                }
                reconnects++;
            }
            c->used_ns = now;
            c->busy = 1;
            c->due_ns = t0 + sent * interval;
            ssize_t w = 0;
            for (size_t off = 0; off < r->len; off += (size_t)w) {
                w = write(c->fd, r->p + off, r->len - off);
                if (w < 0 && errno == EAGAIN) {
                    w = 0;
                    continue;
                } /* small requests: rare */
                if (w < 0) {
                    errors++;
                    break;
                }
            }
            sent++;
        }
        if (sent < total && t0 + sent * interval <= now) late_ns = now - (t0 + sent * interval);
        int wait_ms = 1;
        if (sent < total && nidle > 0) {
            int64_t next = t0 + sent * interval - now_ns();
            wait_ms = next > 0 ? (int)(next / 1000000) : 0;
        }
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, wait_ms);
        for (int i = 0; i < n; i++) {
            int ci = (int)evs[i].data.u32;
            conn *c = &conns[ci];
            ssize_t r = read(c->fd, c->buf + c->len, RESP_BUF - c->len);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                /* An idle keep-alive connection closed by the server's idle timeout is
                 * normal (idle connections are taken last-in first-out, so at low
                 * latency some stay unused); only a close with a request in flight
                 * loses a request. */
                int was_busy = c->busy;
                if (was_busy) {
                    fprintf(stderr, "connection closed by server with a request in flight\n");
                    errors++;
                } else {
                    reconnects++;
                }
                if (reopen(ep, c, ci, host, port) == 0) {
                    c->busy = 0;
                    if (was_busy) idle[nidle++] = ci; /* an idle one is on the stack already */
                }
                continue;
            }
            c->len += (size_t)r;
            int st;
            while (c->busy && (st = take_response(c)) != 0) {
                if (st < 0) {
                    errors++;
                    c->len = 0;
                } else {
                    status_count[st / 100 < 6 ? st / 100 : 0]++;
                    if (done < total) lat[done++] = now_ns() - c->due_ns;
                }
                c->busy = 0;
                idle[nidle++] = ci;
            }
        }
    }
    double elapsed = (double)(now_ns() - t0) / 1e9;
    qsort(lat, (size_t)done, sizeof *lat, cmp_i64);
#define PCT(p) (done ? (double)lat[(int64_t)((double)(done - 1) * (p))] / 1e6 : 0.0)
    printf("target_rate=%.0f sent=%lld done=%lld errors=%lld elapsed_s=%.2f achieved_rate=%.0f "
           "2xx=%ld 4xx=%ld 5xx=%ld p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f "
           "last_send_lag_ms=%.1f reconnects=%lld\n",
           rate, (long long)sent, (long long)done, (long long)errors, elapsed,
           (double)done / (secs < elapsed ? secs : elapsed), status_count[2], status_count[4],
           status_count[5], PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999), PCT(1.0),
           (double)late_ns / 1e6, (long long)reconnects);
    return errors ? 1 : 0;
}
