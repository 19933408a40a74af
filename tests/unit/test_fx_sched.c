/* test_fx_sched.c - scheduling by due time (issue 24). The heap: earliest first, equal
 * times first in first out, moves and removals; the jitter: fixed per stream, within its
 * share of the interval, spread across connections created together. And the engine's
 * turn: the work of a turn is the due work, so the streams and connections looked at per
 * turn are the same with 10 and with 10,000 idle connections (work counted, not time); a
 * stream is picked up at its due time, and a woken one (a manual request) at the next
 * turn. Before issue 24 a turn looked at every stream of every owned connection: 110 and
 * 110,000 streams here. A running stream is looked at when what it waits for comes (an
 * answer, an acknowledgement, a free request slot, its retry time), not every turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>

#include "fetcher/fx_engine_int.h"
#include "fetcher/fx_sched.h"
#include "fx_test_engine.h"
#include "log.h"
#include "util.h"

/* ---- the heap ---- */

static void heap_pops_due_items_earliest_first(void **state) {
    (void)state;
    fx_sched s = {0};
    fx_sched_item it[200] = {{0}};
    assert_int_equal(fx_sched_reserve(&s, 200), 0);
    for (int i = 0; i < 200; i++) /* a scattered order of times, with repeats */
        assert_int_equal(fx_sched_set(&s, &it[i], (int64_t)((i * 37) % 101)), 0);
    assert_int_equal(fx_sched_next(&s), 0);
    assert_null(fx_sched_pop(&s, -1));
    int64_t last = -1;
    int n = 0;
    fx_sched_item *p;
    while ((p = fx_sched_pop(&s, 50))) {
        assert_true(p->due >= last && p->due <= 50);
        assert_false(fx_sched_scheduled(p));
        last = p->due;
        n++;
    }
    int want = 0;
    for (int i = 0; i < 200; i++)
        want += (i * 37) % 101 <= 50;
    assert_int_equal(n, want);
    assert_int_equal(fx_sched_next(&s), 51);
    fx_sched_free(&s);
}

static void heap_ties_first_in_first_out_moves_and_removals(void **state) {
    (void)state;
    fx_sched s = {0};
    fx_sched_item a = {0}, b = {0}, c = {0}, d = {0};
    assert_int_equal(fx_sched_reserve(&s, 3), 0);
    assert_int_equal(fx_sched_set(&s, &a, 10), 0);
    assert_int_equal(fx_sched_set(&s, &b, 10), 0);
    assert_int_equal(fx_sched_set(&s, &c, 10), 0);
    assert_true(s.cap >= 3);
    for (size_t i = s.n; i < s.cap; i++) { /* fill what the reservation rounded up */
        fx_sched_item *x = calloc(1, sizeof *x);
        assert_non_null(x);
        assert_int_equal(fx_sched_set(&s, x, 1000 + (int64_t)i), 0);
    }
    assert_int_equal(fx_sched_set(&s, &d, 5), -1);  /* full: never grows by itself */
    assert_int_equal(fx_sched_set(&s, &a, 10), 0);  /* looked at again: behind its equals */
    assert_int_equal(fx_sched_wake(&s, &c, 20), 0); /* later than scheduled: unchanged */
    assert_int_equal(c.due, 10);
    assert_ptr_equal(fx_sched_pop(&s, 10), &b);
    assert_int_equal(fx_sched_wake(&s, &b, 3), 0); /* an event: earlier */
    assert_ptr_equal(fx_sched_pop(&s, 10), &b);
    fx_sched_del(&s, &c);
    fx_sched_del(&s, &c); /* twice is harmless */
    assert_ptr_equal(fx_sched_pop(&s, 10), &a);
    assert_null(fx_sched_pop(&s, 10));
    assert_int_equal(fx_sched_set(&s, &d, FX_SCHED_NEVER), 0);
    assert_false(fx_sched_scheduled(&d));
    fx_sched_item *x;
    while ((x = fx_sched_pop(&s, FX_SCHED_NEVER - 1)))
        free(x);
    fx_sched_free(&s);
}

/* ---- the jitter ---- */

static void jitter_is_fixed_bounded_and_spread(void **state) {
    (void)state;
    const int64_t hour = 3600 * 1000;
    assert_int_equal(fx_sched_jitter_ms("c1", 0, hour, 0), 0);
    assert_int_equal(fx_sched_jitter_ms("c1", 0, 0, 10), 0);
    assert_int_equal(fx_sched_jitter_ms("c1", 3, hour, 10), fx_sched_jitter_ms("c1", 3, hour, 10));
    /* 1,000 connections created together: their next polls spread over the 6 minutes
     * (10 % of the hour), none outside it, in every minute of it */
    int minute[6] = {0};
    int64_t lo = hour, hi = -1;
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof id, "conn-%d", i);
        int64_t j = fx_sched_jitter_ms(id, 0, hour, 10);
        assert_true(j >= 0 && j <= hour / 10);
        if (j < lo) lo = j;
        if (j > hi) hi = j;
        minute[j / 60000 < 6 ? j / 60000 : 5]++;
    }
    assert_true(hi - lo > hour / 10 * 9 / 10);
    for (int m = 0; m < 6; m++)
        assert_true(minute[m] > 100); /* about 167 each */
}

/* ---- the engine's turn ---- */

/* The turns' own monotonic clock starts at 1 s, below the real one (the machine's uptime):
 * what the engine stamps with the real clock (a failed store's retry, say) then lies
 * ahead of every turn, and a test that goes on with the real clock goes forward. At
 * 1,000 s, on a machine up for less (a fresh CI machine), those retries came due in the
 * middle of the counted turns. */
#define T0_MONO 1000
#define T0_WALL 1780000000000LL
#define HOUR_MS FX_TEST_HOUR_MS

typedef struct world {
    rd_kafka_t *producer;
    fx_engine *e;
} world;

static void world_new(world *w) {
    char err[512];
    /* no database: the idle streams of these tests never write one */
    w->e = fx_test_engine_new(NULL, &w->producer, err, sizeof err);
    assert_non_null(w->e);
}

static void world_free(world *w) {
    fx_test_engine_free(w->e, w->producer);
}

/* n owned connections whose streams are idle: first syncs done, polled a moment ago, next
 * due in an hour (plus its jitter), crawl times checked again in a minute. Each is
 * scheduled for its first decision, as owning it does. */
static void add_idle(world *w, int from, int n) {
    fx_engine *e = w->e;
    for (int i = from; i < from + n; i++) {
        char id[32];
        snprintf(id, sizeof id, "conn-%06d", i);
        fx_conn *c = fx_test_conn_idle(e, id);
        assert_non_null(c);
        assert_ptr_equal(fx_conn_get(e, id, 0), c); /* the hash finds it */
        fx_conn_check_at(e, c, T0_MONO + 60000 + i % 1000);
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            fx_stream *st = &c->streams[r];
            st->d.last_started_ms = T0_WALL - 1000;
            st->d.next_due_ms = T0_WALL - 1000 + HOUR_MS + fx_sched_jitter_ms(id, r, HOUR_MS, 10);
            fx_stream_wake(e, st, 0);
        }
    }
}

/* ticks turns 20 ms apart from t (ms after T0); returns the streams looked at. */
static uint64_t run_ticks(world *w, int64_t t, int ticks, uint64_t *conns) {
    uint64_t s0 = w->e->streams_examined, c0 = w->e->conns_examined;
    for (int k = 0; k < ticks; k++, t += 20)
        fx_engine_tick(w->e, T0_MONO + t, T0_WALL + t);
    if (conns) *conns = w->e->conns_examined - c0;
    return w->e->streams_examined - s0;
}

/* The work of one second of turns (50) once the first decisions are made, with n idle
 * connections and a few due streams among them. */
static uint64_t work_per_second(int n, uint64_t *conns, uint64_t *first) {
    world w;
    world_new(&w);
    add_idle(&w, 0, n);
    fx_conn *due = fx_conn_get(w.e, "conn-000003", 0);
    assert_non_null(due);
    /* three streams of one connection come due half a second in */
    for (int r = 0; r < 3; r++) {
        fx_stream *st = &due->streams[r];
        st->d.next_due_ms = T0_WALL + 500;
    }
    *first = run_ticks(&w, 0, 1, NULL); /* every stream's first decision */
    uint64_t s = run_ticks(&w, 20, 50, conns);
    for (int r = 0; r < 3; r++)
        assert_int_not_equal(due->streams[r].run, FX_RUN_NONE);
    world_free(&w);
    return s;
}

static void turn_costs_the_due_work_not_the_connections(void **state) {
    (void)state;
    uint64_t c10, c10k, f10, f10k;
    uint64_t s10 = work_per_second(10, &c10, &f10);
    uint64_t s10k = work_per_second(10000, &c10k, &f10k);
    print_message("streams looked at in 1 s of turns after the first: %llu with 10 idle "
                  "connections, %llu with 10,000 (first turn: %llu and %llu); connections: "
                  "%llu and %llu\n",
                  (unsigned long long)s10, (unsigned long long)s10k, (unsigned long long)f10,
                  (unsigned long long)f10k, (unsigned long long)c10, (unsigned long long)c10k);
    assert_int_equal(f10, 10 * TS_ENTITY_COUNT);
    assert_int_equal(f10k, 10000 * TS_ENTITY_COUNT);
    /* the same work whatever the number of idle connections: the three due streams once
     * each, when they come due (their runs then wait for their pages' answers) */
    assert_int_equal(s10, s10k);
    assert_int_equal(s10, 3);
    assert_int_equal(c10, 0); /* no crawl-time check due within the second */
    assert_int_equal(c10k, 0);
}

static void due_stream_is_picked_at_its_time(void **state) {
    (void)state;
    world w;
    world_new(&w);
    add_idle(&w, 0, 100);
    fx_stream *st = &fx_conn_get(w.e, "conn-000042", 0)->streams[1];
    st->d.next_due_ms = T0_WALL + 5000;
    run_ticks(&w, 0, 1, NULL);
    assert_int_equal(fx_sched_next(&w.e->sched), T0_MONO + 5000); /* the earliest due */
    assert_int_equal(run_ticks(&w, 20, 249, NULL), 0);            /* up to 4,980 ms */
    assert_int_equal(st->run, FX_RUN_NONE);
    assert_int_equal(run_ticks(&w, 5000, 1, NULL), 1); /* at 5,000 ms: that one alone */
    assert_int_not_equal(st->run, FX_RUN_NONE);
    world_free(&w);
}

static void woken_stream_runs_at_the_next_turn(void **state) {
    (void)state;
    world w;
    world_new(&w);
    add_idle(&w, 0, 100);
    run_ticks(&w, 0, 1, NULL);
    assert_int_equal(run_ticks(&w, 20, 5, NULL), 0);
    /* what a manual poll request does to a stream due in an hour (take_request) */
    fx_conn *c = fx_conn_get(w.e, "conn-000007", 0);
    fx_stream *st = &c->streams[0];
    st->force = 1;
    fx_stream_wake(w.e, st, 0);
    assert_int_equal(run_ticks(&w, 120, 1, NULL), 1);
    assert_int_not_equal(st->run, FX_RUN_NONE);
    /* a connection's crawl-time check is started when it is due, and only then */
    fx_conn *d = fx_conn_get(w.e, "conn-000008", 0);
    fx_conn_check_at(w.e, d, T0_MONO + 1000);
    uint64_t conns;
    run_ticks(&w, 140, 43, &conns); /* up to 980 ms */
    assert_int_equal(conns, 0);
    assert_null(d->info_req);
    run_ticks(&w, 1000, 1, &conns);
    assert_int_equal(conns, 1);
    assert_non_null(d->info_req);
    assert_false(fx_sched_scheduled(&d->check)); /* its answer schedules the next */
    world_free(&w);
}

/* Every stream of n connections forced at once: a run each, far more pages ready than
 * the process's 64 request slots. */
static void force_all(world *w, int n) {
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "conn-%06d", i);
        fx_conn *c = fx_conn_get(w->e, id, 0);
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            c->streams[r].force = 1;
            fx_stream_wake(w->e, &c->streams[r], 0);
        }
    }
}

static int runs_on(world *w, int n) {
    int on = 0;
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "conn-%06d", i);
        fx_conn *c = fx_conn_get(w->e, id, 0);
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            const fx_stream *st = &c->streams[r];
            /* a run's state is held while it is on, and only then */
            assert_int_equal(st->run != FX_RUN_NONE, st->r != NULL);
            on += st->run != FX_RUN_NONE;
        }
    }
    return on;
}

/* A run that waits (for a request slot, its page's answer, an acknowledgement) is not
 * looked at while it waits: it is woken by what it waits for. Before, every run was
 * looked at every turn: a first sync of 10,000 connections examined 94,500 streams a turn
 * and the loop made under two turns a second. */
static void waiting_runs_are_not_looked_at(void **state) {
    (void)state;
    enum { N = 200 };
    world w;
    world_new(&w);
    add_idle(&w, 0, N);
    run_ticks(&w, 0, 1, NULL);
    force_all(&w, N);
    assert_int_equal(run_ticks(&w, 20, 1, NULL), N * TS_ENTITY_COUNT);
    assert_int_equal(runs_on(&w, N), N * TS_ENTITY_COUNT);
    assert_int_equal(fx_http_inflight(w.e->http), w.e->cfg.max_inflight);
    /* 3,000 runs, 64 requests out, nothing answered yet: nothing to look at (half a
     * second of turns; the old loop looked at 75,000 streams) */
    uint64_t waiting = run_ticks(&w, 40, 25, NULL);
    print_message("streams looked at in 25 turns with %d runs waiting: %llu\n", N * TS_ENTITY_COUNT,
                  (unsigned long long)waiting);
    assert_int_equal(waiting, 0);
    /* The requests now fail (nothing listens on port 9), are retried once, and every run
     * ends failed: no run is left waiting for a wake that never comes. Real clock. */
    int64_t t0 = util_mono_ms();
    uint64_t ticks = 0, s0 = w.e->streams_examined, most = 0;
    while (runs_on(&w, N) > 0 && util_mono_ms() - t0 < 60000) {
        if (fx_http_run(w.e->http, 20) == 0) nanosleep(&(struct timespec){0, 2000000}, NULL);
        uint64_t before = w.e->streams_examined;
        fx_engine_tick(w.e, util_mono_ms(), util_now_ms());
        if (w.e->streams_examined - before > most) most = w.e->streams_examined - before;
        ticks++;
    }
    uint64_t looked = w.e->streams_examined - s0;
    print_message("draining %d runs: %llu turns, %llu streams looked at (at most %llu in a "
                  "turn)\n",
                  N * TS_ENTITY_COUNT, (unsigned long long)ticks, (unsigned long long)looked,
                  (unsigned long long)most);
    assert_int_equal(runs_on(&w, N), 0);
    assert_null(w.e->slotq.head); /* an ended run waits for nothing */
    world_free(&w);
}

int main(void) {
    /* the database errors expected here (there is none) are not logged */
    log_init("test", (log_level)(LOG_ERROR + 1));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heap_pops_due_items_earliest_first),
        cmocka_unit_test(heap_ties_first_in_first_out_moves_and_removals),
        cmocka_unit_test(jitter_is_fixed_bounded_and_spread),
        cmocka_unit_test(turn_costs_the_due_work_not_the_connections),
        cmocka_unit_test(due_stream_is_picked_at_its_time),
        cmocka_unit_test(woken_stream_runs_at_the_next_turn),
        cmocka_unit_test(waiting_runs_are_not_looked_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
