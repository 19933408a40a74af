/* test_cli_progress.c - backfill progress, rate and ETA for `tsctl status --watch`:
 * position of the cursor between oldest data and now, rates between samples or
 * since the run started, and the cases where nothing can be said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "tools/tsctl/cli_progress.h"

#define T0 1767571200000LL /* 2026-01-05T00:00:00Z */
#define DAY 86400000LL

static void test_fraction(void **state) {
    (void)state;
    cli_progress p;
    /* 30 days of history, cursor 15 days in: half way */
    cli_progress_in in = {
        .running = 1, .oldest_ms = T0, .cursor_ms = T0 + 15 * DAY, .now = {.at_ms = T0 + 30 * DAY}};
    cli_progress_compute(&in, &p);
    assert_true(fabs(p.fraction - 0.5) < 1e-9);
    in.cursor_ms = 0; /* no cursor yet: at the start */
    cli_progress_compute(&in, &p);
    assert_true(p.fraction == 0);
    in.cursor_ms = T0 + 40 * DAY; /* overlap past now is clamped */
    cli_progress_compute(&in, &p);
    assert_true(p.fraction == 1);
    in.oldest_ms = 0; /* oldest data unknown: progress unknown */
    cli_progress_compute(&in, &p);
    assert_true(p.fraction == -1);
    assert_int_equal(p.eta_s, -1);
    in.backfill_done = 1; /* done is done, whatever else is known */
    cli_progress_compute(&in, &p);
    assert_true(p.fraction == 1);
    assert_int_equal(p.eta_s, -1);
}

static void test_rate_and_eta_since_start(void **state) {
    (void)state;
    cli_progress p;
    /* started 100 s ago, 5000 records, 25% of the span: 50 rec/s, 300 s left */
    cli_progress_in in = {.running = 1,
                          .oldest_ms = T0,
                          .cursor_ms = T0 + 10 * DAY,
                          .started_ms = T0 + 40 * DAY - 100000,
                          .now = {.at_ms = T0 + 40 * DAY, .records = 5000}};
    cli_progress_compute(&in, &p);
    assert_true(fabs(p.fraction - 0.25) < 1e-9);
    assert_true(fabs(p.rate - 50.0) < 1e-9);
    assert_int_equal(p.eta_s, 300);
}

static void test_rate_and_eta_between_samples(void **state) {
    (void)state;
    cli_progress p;
    cli_sample prev = {.at_ms = T0 + 40 * DAY - 2000, .records = 1000, .fraction = 0.4};
    /* 2 s later: +400 records (200/s), +0.1 progress (0.05/s): 0.5 left = 10 s */
    cli_progress_in in = {.running = 1,
                          .oldest_ms = T0,
                          .cursor_ms = T0 + 20 * DAY,
                          .started_ms = T0 + 40 * DAY - 600000,
                          .now = {.at_ms = T0 + 40 * DAY, .records = 1400},
                          .prev = &prev};
    cli_progress_compute(&in, &p);
    assert_true(fabs(p.fraction - 0.5) < 1e-9);
    assert_true(fabs(p.rate - 200.0) < 1e-9);
    assert_int_equal(p.eta_s, 10);
    /* a new run started since (records went down): fall back to the run average */
    prev.records = 99999;
    cli_progress_compute(&in, &p);
    assert_true(fabs(p.rate - 1400.0 / 600.0) < 1e-9);
    /* samples too close together are not divided by */
    prev.records = 1000;
    prev.at_ms = in.now.at_ms - 10;
    prev.fraction = 0.49;
    cli_progress_compute(&in, &p);
    assert_true(fabs(p.rate - 1400.0 / 600.0) < 1e-9);
}

static void test_idle(void **state) {
    (void)state;
    cli_progress p;
    cli_sample prev = {.at_ms = T0 - 5000, .records = 10, .fraction = 0.1};
    cli_progress_in in = {.running = 0,
                          .oldest_ms = T0 - DAY,
                          .cursor_ms = T0 - DAY / 2,
                          .now = {.at_ms = T0, .records = 10},
                          .prev = &prev};
    cli_progress_compute(&in, &p);
    assert_true(p.rate == -1); /* between runs: no rate */
    assert_int_equal(p.eta_s, -1);
    /* running but not moving: no ETA rather than infinity */
    in.running = 1;
    prev.fraction = 0.5;
    cli_progress_compute(&in, &p);
    assert_true(fabs(p.fraction - 0.5) < 1e-9);
    assert_int_equal(p.eta_s, -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraction),
        cmocka_unit_test(test_rate_and_eta_since_start),
        cmocka_unit_test(test_rate_and_eta_between_samples),
        cmocka_unit_test(test_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
