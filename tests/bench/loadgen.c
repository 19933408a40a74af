/* loadgen.c - the end-to-end benchmark's load generator: Svix-signed order webhooks
 * (tests/bench/bench_order.h) sent open-loop at a fixed offered rate, with a record of
 * when each event was due and what the gateway answered, so that tests/bench/e2e_check.py
 * can match every event to its committed row.
 *
 *   WEBHOOK_SECRET=whsec_... loadgen HOST PORT PATH CONN RATE SECONDS CONNECTIONS VERSIONS OUT.csv
 *
 * Event i (0 <= i < RATE*SECONDS) is order i % M at version i / M + 1, where
 * M = ceil(events / VERSIONS): the first M events create orders, later ones update them,
 * each with a strictly newer updated_date. Event i is due at t0 + i/RATE whatever
 * happened before (open loop: a slow answer delays nothing but its own connection, and
 * the time an event waits for a free connection counts in its latency). Each request
 * is signed when it is sent, so a long run never meets Svix's 5-minute tolerance.
 *
 * OUT.csv: i,order,version,due_us (epoch microseconds),status (0 = connection error,
 * -1 = timeout),http_us (due to answer). stdout: one line of key=value totals.
 * The secret comes from the environment, never argv (argv is world-readable).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

#include "svix.h"
#include "tests/bench/bench_order.h"
#include "tests/bench/bench_pct.h"

#define LG_MAX_CONNS 4096
#define LG_MAX_EVENTS 20000000L /* 20 M records x 24 bytes: bounded memory */
#define LG_MAX_RATE 1000000L
#define LG_RESP_MAX 16384 /* the gateway's answers are tiny JSON objects */
#define LG_REQ_MAX (BENCH_ORDER_MAX + 1024)
#define LG_REQ_TIMEOUT_NS 20000000000LL /* 20 s: past Svix's 15 s a delivery has failed */
#define LG_DRAIN_NS 60000000000LL       /* after the last due time, wait this long at most */
/* A keep-alive connection idle this long is closed before its next request, as HTTP
 * clients do, under the gateway's idle timeout (WEBHOOK_GW_CONN_TIMEOUT_S, 10 s):
 * otherwise a request sent as the gateway closes the connection is lost in the race. */
#define LG_IDLE_CLOSE_NS 5000000000LL
#define LG_START_DELAY_NS 100000000LL /* connections are open before t0 */
#define LG_EPOLL_BATCH 256

typedef struct lg_event {
    int64_t due_ns; /* monotonic */
    int64_t done_ns;
    int status;
} lg_event;

typedef struct lg_conn {
    int fd;
    long ev;         /* event in flight, -1 when free */
    int64_t sent_ns; /* its last request was sent (or it was opened) */
    char out[LG_REQ_MAX];
    size_t out_len, out_off;
    char in[LG_RESP_MAX];
    size_t in_len;
} lg_conn;

static struct sockaddr_in g_addr;
static int g_ep;

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Open a connection (blocking connect: localhost, so it is immediate), then make it
 * non-blocking and register it. Returns the fd or -1. */
static int lg_connect(lg_conn *c) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr) != 0) goto fail;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) goto fail;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &e) != 0) goto fail;
    c->fd = fd;
    c->in_len = 0;
    c->sent_ns = mono_ns();
    return fd;
fail:
    close(fd);
    return -1;
}

static void lg_close(lg_conn *c) {
    if (c->fd >= 0) {
        epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

/* Try to write the rest of c->out. Returns 0 (maybe partial: EPOLLOUT is armed) or -1. */
static int lg_flush(lg_conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            return epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &e);
        }
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Parse a complete response in c->in. Returns its length and the status, 0 when more
 * bytes are needed, -1 when it is malformed. *close_after is set on Connection: close. */
static long lg_parse(lg_conn *c, int *status, int *close_after) {
    c->in[c->in_len < LG_RESP_MAX ? c->in_len : LG_RESP_MAX - 1] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) return c->in_len >= LG_RESP_MAX - 1 ? -1 : 0;
    if (strncmp(c->in, "HTTP/1.", 7) != 0 || c->in_len < 12) return -1;
    *status = atoi(c->in + 9);
    long body = 0;
    *close_after = 0;
    for (char *h = strstr(c->in, "\r\n") + 2; h < end; h = strstr(h, "\r\n") + 2) {
        if (strncasecmp(h, "content-length:", 15) == 0) body = strtol(h + 15, NULL, 10);
        if (strncasecmp(h, "connection:", 11) == 0 && strstr(h, "close") &&
            strstr(h, "close") < strstr(h, "\r\n"))
            *close_after = 1;
    }
    long total = (long)(end + 4 - c->in) + body;
    if (body < 0 || total >= LG_RESP_MAX) return -1;
    return (long)c->in_len >= total ? total : 0;
}

typedef struct lg_run {
    const char *host_port, *path, *conn;
    long events, orders;
    int versions;
    svix_key key;
    lg_event *ev;
} lg_run;

/* Build and start sending event i on free connection c. Returns 0 or -1. */
static int lg_start(lg_run *r, lg_conn *c, long i) {
    char body[BENCH_ORDER_MAX], id[128], sig[SVIX_SIG_B64_LEN + 1];
    long order = i % r->orders;
    int version = (int)(i / r->orders) + 1;
    int blen = bench_order_render(r->conn, order, version, body, sizeof body);
    if (blen < 0) return -1;
    snprintf(id, sizeof id, "msg_%s_%ld", r->conn, i);
    long long ts = (long long)time(NULL);
    if (svix_sign(&r->key, id, ts, body, (size_t)blen, sig) != 0) return -1;
    int n = snprintf(c->out, sizeof c->out,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "svix-id: %s\r\nsvix-timestamp: %lld\r\nsvix-signature: v1,%s\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     r->path, r->host_port, id, ts, sig, blen, body);
    if (n < 0 || (size_t)n >= sizeof c->out) return -1;
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->ev = i;
    c->sent_ns = mono_ns();
    return lg_flush(c);
}

static double pct_ms(const int64_t *v, long n, double p) {
    return bench_pct(v, n, p) / 1e6;
}

static long parse_long(const char *s, long lo, long hi) {
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v >= lo && v <= hi) ? v : -1;
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: WEBHOOK_SECRET=whsec_... loadgen HOST PORT PATH CONN RATE SECONDS "
                        "CONNECTIONS VERSIONS OUT.csv\n");
        return 2;
    }
    long port = parse_long(argv[2], 1, 65535), rate = parse_long(argv[5], 1, LG_MAX_RATE);
    long secs = parse_long(argv[6], 1, 86400), nconn = parse_long(argv[7], 1, LG_MAX_CONNS);
    long versions = parse_long(argv[8], 1, 1000);
    const char *secret = getenv("WEBHOOK_SECRET");
    char err[256], host_port[300];
    lg_run r = {.path = argv[3], .conn = argv[4], .versions = (int)versions};
    if (port < 0 || rate < 0 || secs < 0 || nconn < 0 || versions < 0) {
        fprintf(stderr, "loadgen: a numeric argument is out of range\n");
        return 2;
    }
    if (!secret || svix_key_parse(secret, &r.key, err, sizeof err) != 0) {
        fprintf(stderr, "loadgen: WEBHOOK_SECRET: %s\n", secret ? err : "not set");
        return 2;
    }
    r.events = rate * secs;
    if (r.events > LG_MAX_EVENTS) {
        fprintf(stderr, "loadgen: %ld events is more than %ld\n", r.events, LG_MAX_EVENTS);
        return 2;
    }
    r.orders = (r.events + versions - 1) / versions;
    snprintf(host_port, sizeof host_port, "%s:%ld", argv[1], port);
    r.host_port = host_port;
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, argv[1], &g_addr.sin_addr) != 1) {
        fprintf(stderr, "loadgen: HOST must be an IPv4 address\n");
        return 2;
    }
    FILE *out = fopen(argv[9], "w");
    if (!out) {
        fprintf(stderr, "loadgen: cannot write %s\n", argv[9]);
        return 2;
    }

    int rc = 1;
    lg_conn *conns = calloc((size_t)nconn, sizeof *conns);
    long *free_list = calloc((size_t)nconn, sizeof *free_list);
    r.ev = calloc((size_t)r.events, sizeof *r.ev);
    int64_t *lat = calloc((size_t)r.events, sizeof *lat);
    g_ep = epoll_create1(0);
    if (!conns || !free_list || !r.ev || !lat || g_ep < 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        goto fail;
    }
    long nfree = 0;
    for (long k = 0; k < nconn; k++) {
        conns[k].ev = -1;
        if (lg_connect(&conns[k]) < 0) {
            fprintf(stderr, "loadgen: cannot connect to %s: %s\n", host_port, strerror(errno));
            goto fail;
        }
        free_list[nfree++] = k;
    }

    const int64_t t0 = mono_ns() + LG_START_DELAY_NS;
    const int64_t wall0 = wall_ns() + (t0 - mono_ns());
    const double interval = 1e9 / (double)rate;
    for (long i = 0; i < r.events; i++)
        r.ev[i].due_ns = t0 + (int64_t)((double)i * interval);
    const int64_t give_up = r.ev[r.events - 1].due_ns + LG_DRAIN_NS;
    long next = 0, finished = 0, conn_errors = 0;
    int64_t last_send = t0;
    struct epoll_event evs[LG_EPOLL_BATCH];

    while (finished < r.events) {
        int64_t now = mono_ns();
        while (next < r.events && r.ev[next].due_ns <= now && nfree > 0) {
            lg_conn *c = &conns[free_list[--nfree]];
            if (c->fd >= 0 && now - c->sent_ns > LG_IDLE_CLOSE_NS) lg_close(c);
            if (c->fd < 0 && lg_connect(c) < 0) {
                conn_errors++;
                r.ev[next].status = 0;
                r.ev[next].done_ns = mono_ns();
                finished++;
                free_list[nfree++] = c - conns;
                next++;
                continue;
            }
            if (lg_start(&r, c, next) != 0) {
                r.ev[next].status = 0;
                r.ev[next].done_ns = mono_ns();
                finished++;
                c->ev = -1;
                lg_close(c);
                free_list[nfree++] = c - conns;
            }
            last_send = now;
            next++;
        }
        if (now > give_up) break;
        int wait_ms = 100;
        if (next < r.events && nfree > 0) {
            int64_t d = r.ev[next].due_ns - now;
            wait_ms = d <= 0 ? 0 : (int)((d + 999999) / 1000000);
        }
        int n = epoll_wait(g_ep, evs, LG_EPOLL_BATCH, wait_ms);
        now = mono_ns();
        for (int k = 0; k < n; k++) {
            lg_conn *c = evs[k].data.ptr;
            int broken = 0, status = 0, close_after = 0;
            if (c->fd < 0) continue;
            if (evs[k].events & EPOLLOUT && lg_flush(c) != 0) broken = 1;
            if (!broken && evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t got = recv(c->fd, c->in + c->in_len, LG_RESP_MAX - 1 - c->in_len, 0);
                if (got > 0) {
                    c->in_len += (size_t)got;
                    long used = lg_parse(c, &status, &close_after);
                    if (used < 0) broken = 1;
                    if (used > 0) {
                        memmove(c->in, c->in + used, c->in_len - (size_t)used);
                        c->in_len -= (size_t)used;
                        if (c->ev >= 0) { /* an answer without a request is ignored */
                            r.ev[c->ev].status = status;
                            r.ev[c->ev].done_ns = now;
                            finished++;
                            c->ev = -1;
                            free_list[nfree++] = c - conns;
                        }
                        if (close_after) lg_close(c);
                    }
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    broken = 1;
                }
            }
            if (broken) {
                conn_errors++;
                if (c->ev >= 0) {
                    r.ev[c->ev].status = 0;
                    r.ev[c->ev].done_ns = now;
                    finished++;
                    c->ev = -1;
                    free_list[nfree++] = c - conns;
                }
                lg_close(c);
            }
        }
        /* A request without an answer for LG_REQ_TIMEOUT_NS is a failed delivery. */
        for (long k = 0; k < nconn; k++) {
            lg_conn *c = &conns[k];
            if (c->ev >= 0 && now - c->sent_ns > LG_REQ_TIMEOUT_NS) {
                r.ev[c->ev].status = -1;
                r.ev[c->ev].done_ns = now;
                finished++;
                c->ev = -1;
                lg_close(c);
                free_list[nfree++] = k;
            }
        }
    }

    long ok = 0, non2xx = 0, errors = 0, nlat = 0, unsent = r.events - next;
    for (long i = 0; i < r.events; i++) {
        lg_event *e = &r.ev[i];
        if (i >= next || e->done_ns == 0) {
            e->status = -1;
        } else {
            lat[nlat++] = e->done_ns - e->due_ns;
        }
        if (e->status >= 200 && e->status < 300)
            ok++;
        else if (e->status > 0)
            non2xx++;
        else
            errors++;
        long order = i % r.orders;
        int version = (int)(i / r.orders) + 1;
        fprintf(out, "%ld,%ld,%d,%lld,%d,%lld\n", i, order, version,
                (long long)((wall0 + (e->due_ns - t0)) / 1000), e->status,
                (long long)(e->done_ns ? (e->done_ns - e->due_ns) / 1000 : -1));
    }
    qsort(lat, (size_t)nlat, sizeof *lat, bench_cmp_i64);
    double span = (double)(last_send - t0) / 1e9;
    printf(
        "events=%ld orders=%ld versions=%d offered_rate=%ld achieved_rate=%.0f ok=%ld non2xx=%ld "
        "errors=%ld unsent=%ld conn_errors=%ld http_p50_ms=%.2f http_p99_ms=%.2f http_max_ms=%.2f "
        "t0_epoch_us=%lld\n",
        r.events, r.orders, r.versions, rate, span > 0 ? (double)next / span : 0, ok, non2xx,
        errors, unsent, conn_errors, pct_ms(lat, nlat, 0.50), pct_ms(lat, nlat, 0.99),
        nlat ? (double)lat[nlat - 1] / 1e6 : 0, (long long)(wall0 / 1000));
    rc = ferror(out) ? 1 : 0;
fail:
    if (fclose(out) != 0) rc = 1;
    for (long k = 0; conns && k < nconn; k++)
        if (conns[k].fd > 0) close(conns[k].fd);
    if (g_ep >= 0) close(g_ep);
    free(conns);
    free(free_list);
    free(r.ev);
    free(lat);
    return rc;
}
