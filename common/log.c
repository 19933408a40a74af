/* log.c - JSON-lines logging on stderr. One write() per line so lines from several
 * threads never interleave. */
#include "log.h"

#include "util.h"
#include "values.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

log_level log_min_level = LOG_INFO;
static const char *log_stage = "unknown";
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *stage, log_level min) {
    log_stage = stage;
    log_min_level = min;
}

int log_level_parse(const char *s, log_level *out) {
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    return -1;
}

static void put_pair(sbuf *b, const char *k, const char *v) {
    sbuf_append(b, ",", 1);
    sbuf_json_str(b, k, strlen(k));
    sbuf_append(b, ":", 1);
    if (v)
        sbuf_json_str(b, v, strlen(v));
    else
        sbuf_append(b, "null", 4);
}

/* One line: the standard fields, the pairs in ap, then (when k0) one more pair. */
static void log_write(log_level lvl, const char *msg, va_list ap, const char *k0, const char *v0) {
    char ts[32];
    val_time_format(util_now_ms(), 1, ts);
    sbuf b = {0};
    sbuf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"stage\":", ts, level_names[lvl]);
    sbuf_json_str(&b, log_stage, strlen(log_stage));
    sbuf_append(&b, ",\"msg\":", 7);
    sbuf_json_str(&b, msg, strlen(msg));
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        put_pair(&b, k, v);
    }
    if (k0) put_pair(&b, k0, v0);
    sbuf_append(&b, "}\n", 2);
    if (b.p) {
        ssize_t rc = write(STDERR_FILENO, b.p, b.len);
        (void)rc;
    }
    sbuf_free(&b);
}

void log_kv(log_level lvl, const char *msg, ...) {
    if (lvl < log_min_level) return;
    va_list ap;
    va_start(ap, msg);
    log_write(lvl, msg, ap, NULL, NULL);
    va_end(ap);
}

void log_limited(log_limiter *l, log_level lvl, const char *msg, ...) {
    if (lvl < log_min_level) return;
    long long now = (long long)util_mono_ms();
    long long start = atomic_load(&l->window_start);
    if (start == 0 || now - start >= l->window_ms) {
        /* One thread opens the next window; the others see it open. */
        if (atomic_compare_exchange_strong(&l->window_start, &start, now))
            atomic_store(&l->used, 0);
    }
    if (atomic_fetch_add(&l->used, 1) >= l->burst) {
        atomic_fetch_add(&l->dropped, 1);
        return;
    }
    int dropped = atomic_exchange(&l->dropped, 0);
    char n[16];
    snprintf(n, sizeof n, "%d", dropped);
    va_list ap;
    va_start(ap, msg);
    log_write(lvl, msg, ap, dropped ? "suppressed" : NULL, n);
    va_end(ap);
}
