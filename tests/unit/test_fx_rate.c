/* test_fx_rate.c - the per-token budget: never more than `limit` starts in any window
 * (checked by brute force over a simulated second-by-second schedule), 429 with
 * retry-after or x-ratelimit-reset blocks, remaining: 0 blocks until reset, and
 * server waits are capped. Plus backoff: exponential, jittered, capped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fetcher/fx_backoff.h"
#include "fetcher/fx_rate.h"

static void first_limit_requests_go_at_once(void **state) {
    (void)state;
    fx_rate r = {0};
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    for (int i = 0; i < 10; i++) {
        assert_true(fx_rate_next(&r, 5000) <= 5000);
        fx_rate_take(&r, 5000);
    }
    assert_int_equal(fx_rate_next(&r, 5000), 6000);
    fx_rate_free(&r);
}

static void no_window_ever_exceeds_the_limit(void **state) {
    (void)state;
    /* A greedy client sends whenever allowed for 10 simulated seconds. */
    fx_rate r = {0};
    assert_int_equal(fx_rate_init(&r, 10, 1050), 0);
    int64_t sent[400];
    int n = 0;
    for (int64_t t = 0; t < 10000 && n < 400; t++) {
        while (fx_rate_next(&r, t) <= t && n < 400) {
            fx_rate_take(&r, t);
            sent[n++] = t;
        }
    }
    /* any 1000 ms window (sliding, so every fixed one too) holds at most 10 */
    for (int i = 0; i < n; i++) {
        int in = 0;
        for (int j = i; j < n && sent[j] < sent[i] + 1000; j++)
            in++;
        assert_true(in <= 10);
    }
    /* and the budget is used: about 10 per 1.05 s */
    assert_true(n >= 90 && n <= 100);
    fx_rate_free(&r);
}

static void retry_after_blocks(void **state) {
    (void)state;
    fx_rate r = {0};
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    int64_t w = fx_rate_on_response(&r, 1000, 1700000000000LL, 429, 3, 0, -1);
    assert_int_equal(w, 3000);
    assert_int_equal(fx_rate_next(&r, 1000), 4000);
    assert_int_equal(r.throttled_total, 1);
    fx_rate_free(&r);
}

static void reset_header_blocks_when_later(void **state) {
    (void)state;
    fx_rate r = {0};
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    /* wall 1700000000.200 s, reset at ...002 s: 1.8 s, more than retry-after 1 */
    int64_t w = fx_rate_on_response(&r, 0, 1700000000200LL, 429, 1, 0, 1700000002LL);
    assert_int_equal(w, 1800);
    /* 429 without any timing header still waits */
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    assert_int_equal(fx_rate_on_response(&r, 0, 0, 429, -1, -1, -1), FX_RATE_DEFAULT_429_MS);
    /* retry-after: 0 is not "go now" */
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    assert_true(fx_rate_on_response(&r, 0, 0, 429, 0, -1, -1) > 0);
    fx_rate_free(&r);
}

static void remaining_zero_waits_for_reset(void **state) {
    (void)state;
    fx_rate r = {0};
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    assert_int_equal(fx_rate_on_response(&r, 100, 1700000000400LL, 200, 1, 0, 1700000001LL), 600);
    assert_int_equal(fx_rate_next(&r, 100), 700);
    /* remaining > 0: nothing */
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    assert_int_equal(fx_rate_on_response(&r, 100, 1700000000400LL, 200, 1, 3, 1700000001LL), 0);
    assert_int_equal(fx_rate_next(&r, 100), 100);
    fx_rate_free(&r);
}

static void server_wait_is_capped(void **state) {
    (void)state;
    fx_rate r = {0};
    assert_int_equal(fx_rate_init(&r, 10, 1000), 0);
    assert_int_equal(fx_rate_on_response(&r, 0, 0, 429, 100000, -1, -1), FX_RATE_MAX_BLOCK_MS);
    fx_rate_free(&r);
}

static void backoff_grows_with_jitter_and_cap(void **state) {
    (void)state;
    uint64_t rng = 42;
    for (int attempt = 0; attempt < 12; attempt++) {
        int64_t d = 500;
        for (int i = 0; i < attempt && d < 8000; i++)
            d *= 2;
        if (d > 8000) d = 8000;
        int64_t lo = INT64_MAX, hi = 0;
        for (int k = 0; k < 200; k++) {
            int64_t v = fx_backoff_delay(attempt, 500, 8000, &rng);
            assert_true(v >= d / 2 && v <= d);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        assert_true(hi > lo); /* jittered, not constant */
    }
    /* different seeds, different schedules (replicas do not retry in lock-step) */
    uint64_t a = 1, b = 2;
    int same = 0;
    for (int k = 0; k < 20; k++)
        same += fx_backoff_delay(5, 500, 60000, &a) == fx_backoff_delay(5, 500, 60000, &b);
    assert_true(same < 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_limit_requests_go_at_once),
        cmocka_unit_test(no_window_ever_exceeds_the_limit),
        cmocka_unit_test(retry_after_blocks),
        cmocka_unit_test(reset_header_blocks_when_later),
        cmocka_unit_test(remaining_zero_waits_for_reset),
        cmocka_unit_test(server_wait_is_capped),
        cmocka_unit_test(backoff_grows_with_jitter_and_cap),
    };
    return cmocka_run_group_tests_name("fx_rate", tests, NULL, NULL);
}
