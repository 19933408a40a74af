/* log.c - JSON-lines logging on stderr. One write() per line so lines from several
 * threads never interleave. */
#include "log.h"

#include "util.h"
#include "values.h"

#include <stdarg.h>
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

void log_kv(log_level lvl, const char *msg, ...) {
    if (lvl < log_min_level) return;
    char ts[32];
    val_time_format(util_now_ms(), 1, ts);
    sbuf b = {0};
    sbuf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"stage\":", ts, level_names[lvl]);
    sbuf_json_str(&b, log_stage, strlen(log_stage));
    sbuf_append(&b, ",\"msg\":", 7);
    sbuf_json_str(&b, msg, strlen(msg));
    va_list ap;
    va_start(ap, msg);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        sbuf_append(&b, ",", 1);
        sbuf_json_str(&b, k, strlen(k));
        sbuf_append(&b, ":", 1);
        if (v)
            sbuf_json_str(&b, v, strlen(v));
        else
            sbuf_append(&b, "null", 4);
    }
    va_end(ap);
    sbuf_append(&b, "}\n", 2);
    if (b.p) {
        ssize_t rc = write(STDERR_FILENO, b.p, b.len);
        (void)rc;
    }
    sbuf_free(&b);
}
