/* sim_ratelimit.c - fixed-window counters. A fixed window (not a token bucket) because it
 * makes "the 11th GET within a second gets 429" exact and testable; the real window kind
 * is undocumented. */
#include "sim_ratelimit.h"

void sim_rl_take(sim_rl *st, int is_write, int limit, int window_s, int64_t now_ms,
                 sim_rl_result *out) {
    if (window_s < 1) window_s = 1;
    int64_t now_s = now_ms / 1000;
    int64_t start = now_s - (now_s % window_s);
    if (start != st->window_start_s) {
        st->window_start_s = start;
        st->get_used = 0;
        st->write_used = 0;
    }
    int *used = is_write ? &st->write_used : &st->get_used;
    out->limit = limit;
    out->reset_s = start + window_s;
    /* retry-after in whole seconds, rounded up, never 0 so a client always waits */
    int64_t wait_ms = out->reset_s * 1000 - now_ms;
    out->retry_after_s = (int)((wait_ms + 999) / 1000);
    if (out->retry_after_s < 1) out->retry_after_s = 1;
    if (*used >= limit) {
        out->allowed = 0;
        out->remaining = 0;
        return;
    }
    (*used)++;
    out->allowed = 1;
    out->remaining = limit - *used;
}
