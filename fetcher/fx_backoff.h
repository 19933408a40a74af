/* fx_backoff.h - exponential backoff with jitter for 5xx answers and timeouts, and the
 * small seeded random stream it draws from (seeded per process, so replicas do not
 * retry in lock-step). */
#ifndef FX_BACKOFF_H
#define FX_BACKOFF_H

#include <stdint.h>

/* xorshift64*: the next value of *state (state must not be 0; 0 is replaced). */
uint64_t fx_rand(uint64_t *state);

/* Delay before retry number attempt (0 = first retry): d = min(cap, base * 2^attempt),
 * then "equal jitter": uniformly in [d/2, d]. Never below 1 ms, never above cap_ms. */
int64_t fx_backoff_delay(int attempt, int base_ms, int cap_ms, uint64_t *rng);

#endif
