/* test_fx_cursor.c - cursor advance rules: a window counts only when all its pages were
 * read and every record acknowledged; windows complete in order; the open window moves
 * the cursor to its newest record; a failed delivery freezes the cursor; it never
 * moves backwards. Plus window planning and resizing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fetcher/fx_cursor.h"
#include "fetcher/fx_url.h"

static void closed_window_needs_fetch_and_every_ack(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 1000);
    int64_t s = fx_track_open(&t, 5000);
    assert_int_equal(fx_track_produced(&t, (uint64_t)s, 2000), 0);
    assert_int_equal(fx_track_produced(&t, (uint64_t)s, 4000), 0);
    fx_track_acked(&t, (uint64_t)s, 1);
    fx_track_acked(&t, (uint64_t)s, 1);
    assert_int_equal(fx_track_advance(&t), 0); /* more pages may come */
    assert_int_equal(t.cursor, 1000);
    fx_track_fetched(&t, (uint64_t)s);
    assert_int_equal(fx_track_advance(&t), 1);
    assert_int_equal(t.cursor, 5000); /* the window's end, not its newest record */
    assert_true(fx_track_idle(&t));
}

static void pending_ack_holds_the_cursor(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, FX_NO_BOUND);
    int64_t s = fx_track_open(&t, 9000);
    fx_track_produced(&t, (uint64_t)s, 100);
    fx_track_produced(&t, (uint64_t)s, 200);
    fx_track_fetched(&t, (uint64_t)s);
    fx_track_acked(&t, (uint64_t)s, 1);
    assert_int_equal(fx_track_advance(&t), 0);
    assert_int_equal(t.cursor, FX_NO_BOUND);
    fx_track_acked(&t, (uint64_t)s, 1);
    assert_int_equal(fx_track_advance(&t), 1);
    assert_int_equal(t.cursor, 9000);
}

static void windows_complete_in_order(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 0);
    int64_t a = fx_track_open(&t, 100), b = fx_track_open(&t, 200);
    fx_track_produced(&t, (uint64_t)a, 50);
    fx_track_fetched(&t, (uint64_t)a);
    fx_track_fetched(&t, (uint64_t)b); /* b is empty and done, a still waits for its ack */
    assert_int_equal(fx_track_advance(&t), 0);
    assert_int_equal(t.cursor, 0);
    fx_track_acked(&t, (uint64_t)a, 1);
    assert_int_equal(fx_track_advance(&t), 1);
    assert_int_equal(t.cursor, 200);
}

static void open_window_moves_to_newest_record(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 1000);
    int64_t s = fx_track_open(&t, FX_NO_BOUND);
    fx_track_produced(&t, (uint64_t)s, 1500);
    fx_track_produced(&t, (uint64_t)s, 3000);
    fx_track_produced(&t, (uint64_t)s, FX_NO_BOUND); /* a record without the date */
    fx_track_produced(&t, (uint64_t)s, 2500);
    for (int i = 0; i < 4; i++)
        fx_track_acked(&t, (uint64_t)s, 1);
    fx_track_fetched(&t, (uint64_t)s);
    assert_int_equal(fx_track_advance(&t), 1);
    assert_int_equal(t.cursor, 3000);
}

static void empty_open_window_keeps_cursor(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 1000);
    int64_t s = fx_track_open(&t, FX_NO_BOUND);
    fx_track_fetched(&t, (uint64_t)s);
    assert_int_equal(fx_track_advance(&t), 0);
    assert_int_equal(t.cursor, 1000);
    assert_true(fx_track_idle(&t));
}

static void never_backwards(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 5000);
    /* a run re-reads behind the cursor (overlap): its first window ends before it */
    int64_t s = fx_track_open(&t, 4000);
    fx_track_fetched(&t, (uint64_t)s);
    assert_int_equal(fx_track_advance(&t), 0);
    assert_int_equal(t.cursor, 5000);
}

static void failed_delivery_freezes(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 0);
    int64_t a = fx_track_open(&t, 100), b = fx_track_open(&t, 200);
    fx_track_produced(&t, (uint64_t)a, 10);
    fx_track_produced(&t, (uint64_t)b, 150);
    fx_track_fetched(&t, (uint64_t)a);
    fx_track_fetched(&t, (uint64_t)b);
    fx_track_acked(&t, (uint64_t)a, 0);
    fx_track_acked(&t, (uint64_t)b, 1);
    assert_int_equal(fx_track_advance(&t), 0);
    assert_int_equal(t.cursor, 0);
    assert_true(t.failed);
}

static void bounded_windows_in_flight(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 0);
    for (int i = 0; i < FX_TRACK_SEGS; i++)
        assert_true(fx_track_open(&t, 100 * (i + 1)) >= 0);
    assert_int_equal(fx_track_open(&t, 99999), -1);
    assert_int_equal(fx_track_produced(&t, 12345, 1), -1); /* unknown window */
    fx_track_fetched(&t, 0);
    fx_track_advance(&t);
    assert_true(fx_track_open(&t, 99999) >= 0);
}

static void window_planning(void **state) {
    (void)state;
    assert_int_equal(fx_window_hi(1000, 500, 10000), 1500);
    assert_int_equal(fx_window_hi(9600, 500, 10000), FX_NO_BOUND); /* reaches now: open */
    assert_int_equal(fx_window_hi(FX_NO_BOUND, 500, 10000), FX_NO_BOUND);
    /* 4000 records where 20000 were wanted: 5x wider; empty: 8x; dense: at most 8x narrower */
    assert_int_equal(fx_window_resize(1000, 4000, 20000, 1, 1000000), 5000);
    assert_int_equal(fx_window_resize(1000, 0, 20000, 1, 1000000), 8000);
    assert_int_equal(fx_window_resize(8000, 1000000, 1000, 1, 1000000), 1000);
    assert_int_equal(fx_window_resize(1000, 0, 20000, 1, 3000), 3000);     /* max */
    assert_int_equal(fx_window_resize(1000, 1000000, 10, 500, 9000), 500); /* min */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closed_window_needs_fetch_and_every_ack),
        cmocka_unit_test(pending_ack_holds_the_cursor),
        cmocka_unit_test(windows_complete_in_order),
        cmocka_unit_test(open_window_moves_to_newest_record),
        cmocka_unit_test(empty_open_window_keeps_cursor),
        cmocka_unit_test(never_backwards),
        cmocka_unit_test(failed_delivery_freezes),
        cmocka_unit_test(bounded_windows_in_flight),
        cmocka_unit_test(window_planning),
    };
    return cmocka_run_group_tests_name("fx_cursor", tests, NULL, NULL);
}
