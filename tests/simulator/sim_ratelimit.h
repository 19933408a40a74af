/* sim_ratelimit.h - Trackstar's per-access-token rate limits: a fixed window per second
 * (10 GET/s, 50 writes/s by default) plus a fixed 60 s window for /integrations (1/min).
 * Pure functions over a small state struct: the caller supplies the clock and the lock.
 */
#ifndef SIM_RATELIMIT_H
#define SIM_RATELIMIT_H

#include <stdint.h>

typedef struct sim_rl {
    int64_t window_start_s; /* start of the current window, epoch seconds */
    int get_used, write_used;
} sim_rl;

/* What to put in x-ratelimit-* / retry-after headers. */
typedef struct sim_rl_result {
    int allowed; /* 1 = serve, 0 = answer 429 */
    int limit, remaining;
    int64_t reset_s;   /* epoch seconds when the window ends */
    int retry_after_s; /* seconds to wait before the next request counts */
} sim_rl_result;

/* Count one request against st in a window of window_s seconds. limit is the budget of
 * the request's class (GET or write) in that window. */
void sim_rl_take(sim_rl *st, int is_write, int limit, int window_s, int64_t now_ms,
                 sim_rl_result *out);

#endif
