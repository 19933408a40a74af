/* test_sim_ratelimit.c - fixed one-second windows per token: the 11th GET in a second
 * is refused, writes have their own budget, a new window resets, headers are right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/simulator/sim_ratelimit.h"

static void test_eleventh_get_refused(void **state) {
    (void)state;
    sim_rl st = {0};
    sim_rl_result r;
    int64_t t = 1767607200000LL + 250; /* 250 ms into a second */
    for (int i = 0; i < 10; i++) {
        sim_rl_take(&st, 0, 10, 1, t + i * 10, &r);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 10);
        assert_int_equal(r.remaining, 9 - i);
        assert_int_equal(r.reset_s, 1767607201LL);
    }
    sim_rl_take(&st, 0, 10, 1, t + 700, &r);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_s, 1);
    /* writes are counted separately */
    sim_rl_take(&st, 1, 50, 1, t + 710, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 49);
    /* the next second is a fresh window */
    sim_rl_take(&st, 0, 10, 1, t + 750, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 9);
}

static void test_write_budget(void **state) {
    (void)state;
    sim_rl st = {0};
    sim_rl_result r;
    for (int i = 0; i < 50; i++) {
        sim_rl_take(&st, 1, 50, 1, 5000, &r);
        assert_true(r.allowed);
    }
    sim_rl_take(&st, 1, 50, 1, 5999, &r);
    assert_false(r.allowed);
    sim_rl_take(&st, 0, 10, 1, 5999, &r); /* GETs still have theirs */
    assert_true(r.allowed);
}

static void test_minute_window(void **state) {
    (void)state;
    sim_rl st = {0};
    sim_rl_result r;
    sim_rl_take(&st, 0, 1, 60, 120000 + 5000, &r);
    assert_true(r.allowed);
    assert_int_equal(r.reset_s, 180);
    sim_rl_take(&st, 0, 1, 60, 120000 + 59000, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after_s, 1);
    sim_rl_take(&st, 0, 1, 60, 120000 + 10000, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after_s, 50);
    sim_rl_take(&st, 0, 1, 60, 180000, &r);
    assert_true(r.allowed);
}

static void test_independent_tokens(void **state) {
    (void)state;
    sim_rl a = {0}, b = {0};
    sim_rl_result r;
    for (int i = 0; i < 10; i++)
        sim_rl_take(&a, 0, 10, 1, 1000, &r);
    sim_rl_take(&a, 0, 10, 1, 1000, &r);
    assert_false(r.allowed);
    sim_rl_take(&b, 0, 10, 1, 1000, &r);
    assert_true(r.allowed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eleventh_get_refused),
        cmocka_unit_test(test_write_budget),
        cmocka_unit_test(test_minute_window),
        cmocka_unit_test(test_independent_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
