/* test_fx_cursor.c - cursor advance rules: a window counts only when all its pages were
 * read and every record acknowledged; windows complete in order; the open window moves
 * the cursor to its newest record; a failed delivery freezes the cursor; it never
 * moves backwards; it never passes the bound. Plus window planning and resizing, and the
 * cursor rule derived from what Trackstar promises: under late ingestion (a crawl every
 * sync_frequency taking the changes made before its start) no version is ever missed,
 * for either cursor field, where the fixed 300 s overlap misses some. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static void bound_holds_the_cursor(void **state) {
    (void)state;
    fx_track t;
    fx_track_init(&t, 1000);
    t.bound = 3000;
    int64_t s = fx_track_open(&t, 5000);
    fx_track_fetched(&t, (uint64_t)s);
    assert_int_equal(fx_track_advance(&t), 1);
    assert_int_equal(t.cursor, 3000); /* the window ended at 5000, the promise at 3000 */
    int64_t o = fx_track_open(&t, FX_NO_BOUND);
    fx_track_produced(&t, (uint64_t)o, 9000);
    fx_track_fetched(&t, (uint64_t)o);
    fx_track_acked(&t, (uint64_t)o, 1);
    assert_int_equal(fx_track_advance(&t), 0); /* the open window too */
    assert_int_equal(t.cursor, 3000);
}

#define SEC 1000LL
#define HOUR (3600 * SEC)

static void bound_from_the_promise(void **state) {
    (void)state;
    fx_promise p = {.frequency_ms = HOUR, .crawl_start_ms = 100 * SEC, .crawl_end_ms = 160 * SEC};
    /* trackstar_updated_date: Trackstar's own time of each change */
    assert_int_equal(fx_cursor_bound("trackstar_updated_date", 500 * SEC, &p, HOUR, 5 * SEC),
                     495 * SEC);
    /* updated_date: the start of a crawl that ended before the run */
    assert_int_equal(fx_cursor_bound("updated_date", 500 * SEC, &p, HOUR, 5 * SEC), 95 * SEC);
    /* ... surely before: Trackstar's times have whole seconds */
    assert_int_equal(fx_cursor_bound("updated_date", 160 * SEC + 500, &p, HOUR, 5 * SEC),
                     160 * SEC + 500 - 2 * HOUR - 5 * SEC);
    /* no crawl known: two frequencies back (the reported one, else the default) */
    fx_promise none = {0};
    assert_int_equal(fx_cursor_bound("updated_date", 10 * HOUR, &none, HOUR, 0), 8 * HOUR);
    none.frequency_ms = 12 * HOUR;
    assert_int_equal(fx_cursor_bound("updated_date", 30 * HOUR, &none, HOUR, 0), 6 * HOUR);
    assert_int_equal(fx_cursor_bound("updated_date", 10 * HOUR, NULL, HOUR, SEC), 8 * HOUR - SEC);
    /* falling back from trackstar_updated_date */
    assert_int_equal(fx_cursor_fallback(10 * HOUR, HOUR, SEC), 8 * HOUR - SEC);
}

/* ---- a world of late ingestion, and a fetcher following a cursor rule ---- */

#define W_CHANGES 3000
#define W_CRAWLS 400
#define W_RUNS 600

typedef struct w_change {
    int64_t t;       /* the WMS's time (updated_date, whole seconds) */
    int64_t visible; /* when Trackstar's copy took it */
    int read_after;  /* some run read it after it became visible */
} w_change;

typedef struct world {
    int64_t start[W_CRAWLS], end[W_CRAWLS];
    w_change ch[W_CHANGES];
    int n;
} world;

static uint64_t rng_next(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

/* Crawls every hour lasting up to 40 minutes; each takes the changes made before its
 * start at random moments until its end. */
static void make_world(world *w, uint64_t seed) {
    uint64_t r = seed;
    for (int k = 0; k < W_CRAWLS; k++) {
        w->start[k] = (int64_t)k * HOUR + (int64_t)(rng_next(&r) % (10 * 60)) * SEC;
        w->end[k] = w->start[k] + (int64_t)(60 + rng_next(&r) % (40 * 60)) * SEC;
    }
    w->n = 0;
    for (int i = 0; i < W_CHANGES; i++) {
        int64_t t = (int64_t)(rng_next(&r) % (uint64_t)((W_CRAWLS - 2) * 3600)) * SEC;
        int k = 0;
        while (w->start[k] <= t)
            k++;
        int64_t v = w->start[k] + (int64_t)(rng_next(&r) % (uint64_t)(w->end[k] - w->start[k]));
        w->ch[w->n++] = (w_change){.t = t, .visible = v};
    }
}

/* The promise GET /connections would show at time `at` (whole seconds). */
static fx_promise promise_at(const world *w, int64_t at) {
    fx_promise p = {.frequency_ms = HOUR};
    for (int k = 0; k < W_CRAWLS && w->end[k] <= at; k++) {
        p.crawl_start_ms = w->start[k] - w->start[k] % SEC;
        p.crawl_end_ms = w->end[k] - w->end[k] % SEC;
    }
    return p;
}

/* Runs at random moments; each reads every visible change with date >= its cursor and
 * moves the cursor to the newest date read, held to the bound (rule 1) or, the old way,
 * to that newest date with the next run starting 300 s before it (rule 0). field: 0
 * updated_date, 1 trackstar_updated_date. Returns the versions never read. */
static int run_fetcher(world *w, int rule, int field, uint64_t seed) {
    uint64_t r = seed;
    int64_t cursor = 0, now = 0;
    for (int i = 0; i < w->n; i++)
        w->ch[i].read_after = 0;
    for (int j = 0; j < W_RUNS; j++) {
        now += (int64_t)(5 * 60 + rng_next(&r) % (90 * 60)) * SEC;
        int64_t lo = rule ? cursor : cursor - 300 * SEC, newest = cursor;
        for (int i = 0; i < w->n; i++) {
            w_change *c = &w->ch[i];
            int64_t key = field ? c->visible - c->visible % SEC : c->t;
            if (c->visible > now || key < lo) continue;
            c->read_after = 1;
            if (key > newest) newest = key;
        }
        if (rule) {
            fx_promise p = promise_at(w, now);
            int64_t b = fx_cursor_bound(field ? "trackstar_updated_date" : "updated_date", now, &p,
                                        HOUR, 0);
            if (newest > b) newest = b;
        }
        if (newest > cursor) cursor = newest;
    }
    int missed = 0;
    for (int i = 0; i < w->n; i++)
        missed += w->ch[i].visible < now && !w->ch[i].read_after;
    return missed;
}

static void rule_misses_nothing_under_late_ingestion(void **state) {
    (void)state;
    world *w = malloc(sizeof *w);
    assert_non_null(w);
    int old_missed = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        make_world(w, seed);
        assert_int_equal(run_fetcher(w, 1, 0, seed * 7), 0); /* updated_date */
        assert_int_equal(run_fetcher(w, 1, 1, seed * 7), 0); /* trackstar_updated_date */
        old_missed += run_fetcher(w, 0, 0, seed * 7);
    }
    /* the fixed 300 s overlap on updated_date: versions ingested late are lost */
    assert_true(old_missed > 0);
    free(w);
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
        cmocka_unit_test(bound_holds_the_cursor),
        cmocka_unit_test(bound_from_the_promise),
        cmocka_unit_test(rule_misses_nothing_under_late_ingestion),
    };
    return cmocka_run_group_tests_name("fx_cursor", tests, NULL, NULL);
}
