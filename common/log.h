/* log.h - one JSON object per line on stderr.
 *
 * Every line: {"ts":"...","level":"info","stage":"writer","msg":"...", fields...}.
 * Fields are passed as key/value string pairs terminated by NULL, so connection id and
 * resource are fields, not text inside the message. The level check happens before
 * any formatting, so a disabled debug line costs one comparison.
 * Never pass secrets or whole bodies as fields.
 */
#ifndef TS_LOG_H
#define TS_LOG_H

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

extern log_level log_min_level;

/* Set the stage name printed in every line (not copied: pass a literal). */
void log_init(const char *stage, log_level min);
int log_level_parse(const char *s, log_level *out); /* 0 or -1 */

/* log_kv(LOG_INFO, "consumer started", "topic", t, "partition", p, NULL);
 * msg may be a printf-free literal; values may be NULL (printed as null). The list ends
 * with a NULL key, which the compiler checks (sentinel): a missing one would read past
 * the arguments. */
void log_kv(log_level lvl, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_min_level <= LOG_DEBUG) log_kv(LOG_DEBUG, __VA_ARGS__);                            \
    } while (0)
#define log_info(...)                                                                              \
    do {                                                                                           \
        if (log_min_level <= LOG_INFO) log_kv(LOG_INFO, __VA_ARGS__);                              \
    } while (0)
#define log_warn(...)                                                                              \
    do {                                                                                           \
        if (log_min_level <= LOG_WARN) log_kv(LOG_WARN, __VA_ARGS__);                              \
    } while (0)
#define log_error(...) log_kv(LOG_ERROR, __VA_ARGS__)

/* Rate-limited logging, for lines an outsider can make us write at will (a rejected
 * request, a cut connection): at most `burst` lines per `window_ms`, shared by every
 * thread that uses the same limiter. The first line after a window in which lines were
 * dropped carries "suppressed":"N", so the count is never lost. Metrics still count
 * every event; the log only samples them.
 *
 *   static log_limiter rejections = LOG_LIMITER_INIT(20, 10000);
 *   log_limited(&rejections, LOG_INFO, "webhook rejected", "reason", r, NULL); */
typedef struct log_limiter {
    int burst, window_ms;
    _Atomic long long window_start; /* monotonic ms; 0 = no window yet */
    _Atomic int used;               /* lines written in the current window */
    _Atomic int dropped;            /* lines dropped since the last written one */
} log_limiter;
#define LOG_LIMITER_INIT(burst_, window_ms_)                                                       \
    { (burst_), (window_ms_), 0, 0, 0 }

void log_limited(log_limiter *l, log_level lvl, const char *msg, ...);

#endif
