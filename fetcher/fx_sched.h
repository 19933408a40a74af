/* fx_sched.h - the fetcher's due-time queue: a binary min-heap of items keyed by the
 * monotonic time they next need a look, so that a loop turn pops only what is due and
 * never walks the items that are not (issue 24: the cost of a turn is the due work, not
 * the number of connections).
 *
 * An item is embedded in what it schedules (a stream, a connection) and carries its own
 * position, so moving or removing it is O(log n) without a search. Items with the same
 * time come out in the order they were scheduled. Capacity is reserved up front
 * (fx_sched_reserve), so scheduling never allocates and cannot fail in the loop. Pure: the
 * caller passes the clock. Not thread-safe.
 */
#ifndef FX_SCHED_H
#define FX_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define FX_SCHED_NEVER INT64_MAX /* no time: only an event schedules it again */

typedef struct fx_sched_item {
    int64_t due;  /* monotonic ms */
    uint64_t seq; /* scheduling order: ties come out first in, first out */
    size_t pos;   /* 1 + index in the heap; 0 = not scheduled (a zeroed item is not) */
} fx_sched_item;

typedef struct fx_sched {
    fx_sched_item **heap;
    fx_sched_item **scratch; /* as large as heap: for the caller to set popped items aside */
    size_t n, cap;
    uint64_t seq;
} fx_sched;

/* Room for cap items (heap and scratch). 0, or -1 when memory ran out (nothing changed). */
int fx_sched_reserve(fx_sched *s, size_t cap);
/* Frees the heap; the items are not touched (they may be gone already). */
void fx_sched_free(fx_sched *s);

/* Schedule it at due (moved if it was scheduled; removed for FX_SCHED_NEVER). 0, or -1
 * when the heap is full (see fx_sched_reserve). */
int fx_sched_set(fx_sched *s, fx_sched_item *it, int64_t due);
/* Schedule it at due unless it is scheduled earlier already (an event: "look soon"). */
int fx_sched_wake(fx_sched *s, fx_sched_item *it, int64_t due);
void fx_sched_del(fx_sched *s, fx_sched_item *it);
/* The earliest item due at or before now, removed from the heap; NULL when none is. */
fx_sched_item *fx_sched_pop(fx_sched *s, int64_t now);
/* The earliest scheduled time, FX_SCHED_NEVER when empty. */
int64_t fx_sched_next(const fx_sched *s);

static inline int fx_sched_scheduled(const fx_sched_item *it) {
    return it->pos != 0;
}

/* The spread added to a stream's next due time: a fixed share, from a hash of the
 * connection id and the resource, of up to pct percent of the interval, so that
 * connections created together do not come due together; always >= 0 (a stream is never
 * polled sooner than its interval). */
int64_t fx_sched_jitter_ms(const char *connection_id, int res, int64_t interval_ms, int pct);

#endif
