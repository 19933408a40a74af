/* test_fx_trim.c - when the fetcher hands free heap memory back (fx_trim.h): only once
 * per check interval, only when the resident memory malloc does not use grew by more
 * than the slack over its lowest since the last trim, never again for what a trim
 * already released; and a real trim after a freed peak lowers that memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fetcher/fx_trim.h"

#define MB (1 << 20)

static void a_steady_loop_is_not_trimmed(void **state) {
    (void)state;
    fx_trim t;
    fx_trim_init(&t);
    int64_t now = 0;
    assert_false(fx_trim_due(&t, now, 10 * MB)); /* the first look sets the low mark */
    for (int i = 1; i <= 100; i++) {
        now += FX_TRIM_CHECK_MS;
        /* what is freed is reused: unused memory moves within the slack */
        assert_false(fx_trim_due(&t, now, 10 * MB + (i % 2) * (FX_TRIM_SLACK_BYTES - 1)));
    }
}

static void growth_past_the_slack_is_trimmed_once(void **state) {
    (void)state;
    fx_trim t;
    fx_trim_init(&t);
    assert_false(fx_trim_due(&t, 0, 10 * MB));
    /* a busy period freed its peak: 100 MB resident and unused */
    assert_true(fx_trim_due(&t, FX_TRIM_CHECK_MS, 110 * MB));
    /* the trim released most of it, but its free chunks stay in the arena: the
     * measure after the trim is the new low mark, and nothing is trimmed again */
    fx_trim_done(&t, 12 * MB);
    assert_int_equal(t.trims, 1);
    for (int i = 2; i < 20; i++)
        assert_false(fx_trim_due(&t, i * FX_TRIM_CHECK_MS, 12 * MB));
    /* the next busy period is trimmed again */
    assert_true(fx_trim_due(&t, 20 * FX_TRIM_CHECK_MS, 12 * MB + FX_TRIM_SLACK_BYTES + 1));
}

static void reuse_then_free_counts(void **state) {
    (void)state;
    fx_trim t;
    fx_trim_init(&t);
    assert_false(fx_trim_due(&t, 0, 50 * MB));
    /* the free memory is reused (unused falls), then freed again (rises): it is
     * resident again, so it counts from the lower mark */
    assert_false(fx_trim_due(&t, FX_TRIM_CHECK_MS, 20 * MB));
    assert_true(fx_trim_due(&t, 2 * FX_TRIM_CHECK_MS, 50 * MB));
}

static void only_one_look_per_interval(void **state) {
    (void)state;
    fx_trim t;
    fx_trim_init(&t);
    assert_false(fx_trim_due(&t, 1000, 10 * MB));
    /* within the interval even a large growth waits for the next check */
    assert_false(fx_trim_due(&t, 1000 + FX_TRIM_CHECK_MS - 1, 500 * MB));
    assert_true(fx_trim_due(&t, 1000 + FX_TRIM_CHECK_MS, 500 * MB));
    /* an unreadable measure is no reason to trim */
    fx_trim_init(&t);
    assert_false(fx_trim_due(&t, 0, -1));
    assert_false(fx_trim_due(&t, FX_TRIM_CHECK_MS, -1));
}

/* The real thing: a peak of small blocks freed below a block that lives on stays
 * resident until fx_trim_step trims it. */
static void a_freed_peak_is_handed_back(void **state) {
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan's allocator is not glibc's: nothing here to measure */
#endif
    enum { N = 64 * 1024, SZ = 1000 }; /* ~64 MB in blocks below the mmap threshold */
    char **blocks = malloc(N * sizeof *blocks);
    assert_non_null(blocks);
    fx_trim t;
    fx_trim_init(&t);
    assert_int_equal(fx_trim_step(&t, 0), 0); /* the low mark, before the peak */
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(SZ);
        assert_non_null(blocks[i]);
        memset(blocks[i], 1, SZ); /* resident */
    }
    char *pin = malloc(SZ); /* lives on above the peak: the heap's top cannot shrink */
    assert_non_null(pin);
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    int64_t before = fx_trim_unused();
    assert_true(before > 32 * MB);
    assert_int_equal(fx_trim_step(&t, FX_TRIM_CHECK_MS), 1);
    int64_t after = fx_trim_unused();
    assert_true(after < before - 32 * MB);
    assert_int_equal(fx_trim_step(&t, 2 * FX_TRIM_CHECK_MS), 0); /* nothing new to give */
    free(pin);
    free(blocks);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_steady_loop_is_not_trimmed),
        cmocka_unit_test(growth_past_the_slack_is_trimmed_once),
        cmocka_unit_test(reuse_then_free_counts),
        cmocka_unit_test(only_one_look_per_interval),
        cmocka_unit_test(a_freed_peak_is_handed_back),
    };
    return cmocka_run_group_tests_name("fx_trim", tests, NULL, NULL);
}
