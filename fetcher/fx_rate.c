/* fx_rate.c - sliding-window request budget per access token (see fx_rate.h). */
#include "fx_rate.h"

#include <stdlib.h>

int fx_rate_init(fx_rate *r, int limit, int window_ms) {
    if (limit < 1) limit = 1;
    if (limit > FX_RATE_LIMIT_MAX) limit = FX_RATE_LIMIT_MAX;
    fx_rate_free(r);
    int64_t *sent = malloc((size_t)limit * sizeof *sent);
    if (!sent) return -1;
    *r = (fx_rate){.limit = limit, .window_ms = window_ms < 1 ? 1 : window_ms, .sent = sent};
    return 0;
}

void fx_rate_free(fx_rate *r) {
    free(r->sent);
    *r = (fx_rate){0};
}

int64_t fx_rate_next(const fx_rate *r, int64_t now) {
    int64_t t = now;
    if (r->count == r->limit) {
        /* The oldest of the last `limit` sends sits at head (the ring is full). */
        int64_t free_at = r->sent[r->head] + r->window_ms;
        if (free_at > t) t = free_at;
    }
    if (r->blocked_until > t) t = r->blocked_until;
    return t;
}

void fx_rate_take(fx_rate *r, int64_t now) {
    if (r->count < r->limit) {
        r->sent[(r->head + r->count) % r->limit] = now;
        r->count++;
    } else {
        r->sent[r->head] = now;
        r->head = (r->head + 1) % r->limit;
    }
}

static void block(fx_rate *r, int64_t until) {
    if (until > r->blocked_until) r->blocked_until = until;
}

int64_t fx_rate_on_response(fx_rate *r, int64_t now, int64_t wall_ms, int status,
                            long retry_after_s, long remaining, long long reset_epoch_s) {
    int64_t wait = 0;
    int64_t to_reset = reset_epoch_s >= 0 ? reset_epoch_s * 1000 - wall_ms : -1;
    if (status == 429) {
        r->throttled_total++;
        if (retry_after_s >= 0) wait = retry_after_s * 1000;
        if (to_reset > wait) wait = to_reset;
        if (retry_after_s < 0 && to_reset < 0) wait = FX_RATE_DEFAULT_429_MS;
        /* retry-after: 0 still means "not now": wait at least a moment. */
        if (wait < 50) wait = 50;
    } else if (remaining == 0 && to_reset > 0) {
        wait = to_reset;
    }
    if (wait > FX_RATE_MAX_BLOCK_MS) wait = FX_RATE_MAX_BLOCK_MS;
    if (wait > 0) block(r, now + wait);
    return wait;
}
