/* fx_rate.h - the per-access-token request budget (Trackstar: 10 GET/s per token).
 *
 * A sliding-window log: the send times of the last `limit` requests are kept, and a new
 * request may start only when the oldest of them is at least window_ms old. So no
 * window of window_ms (at our clock) ever holds more than `limit` starts, whatever
 * the server's window alignment; window_ms = 1000 + a small margin absorbs jitter
 * between our clock and the server's arrival times. On top of that the server's own
 * signals are obeyed: 429 blocks for retry-after (or until x-ratelimit-reset), and
 * x-ratelimit-remaining: 0 blocks until x-ratelimit-reset. Pure: the caller passes
 * the clocks, so the rules are unit-tested without sleeping.
 */
#ifndef FX_RATE_H
#define FX_RATE_H

#include <stdint.h>

#define FX_RATE_LIMIT_MAX 100             /* largest per-window budget accepted */
#define FX_RATE_MAX_BLOCK_MS (300 * 1000) /* a server wait longer than this is capped */
#define FX_RATE_DEFAULT_429_MS 1000       /* a 429 without any timing header waits this */

typedef struct fx_rate {
    int limit, window_ms;
    /* ring of the last `limit` send times (monotonic ms), allocated to limit: every known
     * connection has one, and 100 inline entries were 800 of its 1,304 bytes */
    int64_t *sent;
    int head, count;
    int64_t blocked_until;   /* monotonic ms; 0 = not blocked */
    int64_t throttled_total; /* 429s seen */
} fx_rate;

/* limit in 1..FX_RATE_LIMIT_MAX, window_ms >= 1. r is zeroed or initialised before (a
 * second init starts it afresh). 0, or -1 out of memory (then r holds no ring). */
int fx_rate_init(fx_rate *r, int limit, int window_ms);

/* Its ring; r is zeroed. */
void fx_rate_free(fx_rate *r);

/* The earliest monotonic time a request may start (<= now: at once). */
int64_t fx_rate_next(const fx_rate *r, int64_t now);

/* Count a request started at now (call only when fx_rate_next(r, now) <= now). */
void fx_rate_take(fx_rate *r, int64_t now);

/* Learn from a response. retry_after_s, remaining and reset_epoch_s are -1 when the
 * header was absent. now is monotonic, wall_ms the wall clock (reset is wall time).
 * Returns the block length applied in ms (0 = none). */
int64_t fx_rate_on_response(fx_rate *r, int64_t now, int64_t wall_ms, int status,
                            long retry_after_s, long remaining, long long reset_epoch_s);

#endif
