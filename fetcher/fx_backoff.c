/* fx_backoff.c - exponential backoff with equal jitter (see fx_backoff.h). */
#include "fx_backoff.h"

uint64_t fx_rand(uint64_t *state) {
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

int64_t fx_backoff_delay(int attempt, int base_ms, int cap_ms, uint64_t *rng) {
    if (base_ms < 1) base_ms = 1;
    if (cap_ms < base_ms) cap_ms = base_ms;
    int64_t d = base_ms;
    for (int i = 0; i < attempt && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms) d = cap_ms;
    int64_t half = d / 2;
    int64_t v = half + (int64_t)(fx_rand(rng) % (uint64_t)(d - half + 1));
    return v < 1 ? 1 : v;
}
