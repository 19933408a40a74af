/* fx_cursor.h - where a stream's cursor may stand: only where every record up to it is
 * acknowledged by Kafka, and never beyond what Trackstar promises is already in its copy
 * (fx_cursor_bound, docs/fetcher.md "The cursor rule").
 *
 * A run reads [cursor - overlap, now) in date windows ("segments"): closed windows
 * [lo, hi] with gte+lte, and a last open one [lo, ...). Trackstar does not document the
 * order of list results, so nothing here assumes one: a segment counts only as a
 * whole. It is complete when all its pages were fetched and every record produced
 * from them was acknowledged; then the cursor moves to its hi (a closed window) or to
 * the newest record date it held (the open window). Segments complete strictly in
 * order, the cursor never moves backwards, and one failed delivery freezes the
 * tracker (the run is redone from the stored cursor: overlaps are fine, gaps are not).
 * Pure logic, no I/O.
 */
#ifndef FX_CURSOR_H
#define FX_CURSOR_H

#include <stdint.h>

#define FX_TRACK_SEGS 8 /* windows in flight per stream (fetched ahead of their acks) */

typedef struct fx_seg {
    uint64_t seq;    /* absolute number within the run */
    int64_t hi;      /* inclusive upper bound; FX_NO_BOUND (fx_url.h) = open window */
    int64_t pending; /* produced, not yet acknowledged */
    int64_t max_key; /* newest cursor-field date among its records */
    int fetched;     /* every page read and produced */
} fx_seg;

typedef struct fx_track {
    fx_seg segs[FX_TRACK_SEGS];
    int head, n;
    uint64_t next_seq;
    int64_t cursor; /* the durable value: FX_NO_BOUND when none yet */
    int64_t bound;  /* the cursor never passes it (fx_cursor_bound); FX_NO_BOUND = none */
    int failed;     /* a delivery failed: never advance again in this run */
    int64_t acked, produced;
} fx_track;

/* Start tracking from cursor, with no bound (set t->bound before the first advance). */
void fx_track_init(fx_track *t, int64_t cursor);

/* Open the next window (hi = FX_NO_BOUND for the open one). Returns its seq, or -1
 * when FX_TRACK_SEGS windows are still in flight (wait for acks first). */
int64_t fx_track_open(fx_track *t, int64_t hi);

/* A record was produced in window seq with its cursor-field date (FX_NO_BOUND when it
 * has none). Returns 0, or -1 for an unknown seq. */
int fx_track_produced(fx_track *t, uint64_t seq, int64_t key);

/* Kafka's delivery report for one record of window seq. */
void fx_track_acked(fx_track *t, uint64_t seq, int ok);

/* The last page of window seq was read and all its records produced. */
void fx_track_fetched(fx_track *t, uint64_t seq);

/* Pop every complete window from the front, moving the cursor (at most to the bound).
 * Returns 1 when the cursor moved (store it), 0 otherwise. */
int fx_track_advance(fx_track *t);

/* 1 when no window is in flight. */
int fx_track_idle(const fx_track *t);

/* ---- window planning ---- */

/* The inclusive upper bound of the window that starts at lo and is width_ms wide, or
 * FX_NO_BOUND when it would reach now_ms (then it is the open, last window). */
int64_t fx_window_hi(int64_t lo, int64_t width_ms, int64_t now_ms);

/* The next width after a closed window of width held `records` records, aiming at
 * target records a window: scaled by target/records but at most 8x up or down per
 * step, and within [min_ms, max_ms]. An empty window grows 8x. */
int64_t fx_window_resize(int64_t width, int64_t records, int64_t target, int64_t min_ms,
                         int64_t max_ms);
/* ---- the cursor rule: what Trackstar promises ---- */

/* What GET /connections says about Trackstar's copy of one resource (sync_schedules). */
typedef struct fx_promise {
    int64_t frequency_ms;   /* sync_frequency; 0 = not reported (use the resource's default) */
    int64_t crawl_start_ms; /* start of the newest crawl known to have ended; 0 = none known */
    int64_t crawl_end_ms;   /* that crawl's end */
} fx_promise;

/* The newest value the cursor may take in a run that started reading at run_start_ms,
 * for cursor field `field`, so that no record can reach Trackstar's copy after the run
 * with a cursor date below it:
 *  - trackstar_updated_date is Trackstar's own time of each change of its copy: every
 *    change after the run started carries a later date. Bound: run start - margin.
 *  - updated_date is the WMS's time of the change; the copy takes a change only when a
 *    crawl reads it, and a crawl takes every change made before its start. So once a
 *    crawl has ended (before the run started), nothing with an older updated_date can
 *    still arrive. Bound: that crawl's start - margin. Without a known crawl, a change
 *    is in the copy a sync_frequency plus a crawl (itself shorter than a sync_frequency)
 *    after it was made. Bound: run start - 2 x frequency - margin.
 * A crawl that ended after the run started does not count (the run may have read before
 * it). default_frequency_ms stands for an unreported frequency. */
int64_t fx_cursor_bound(const char *field, int64_t run_start_ms, const fx_promise *p,
                        int64_t default_frequency_ms, int64_t margin_ms);

/* A run found its records without trackstar_updated_date, or the API refused the filter
 * (422): the cursor on trackstar_updated_date becomes one on updated_date that misses
 * nothing: a change the old cursor had covered was in the copy by then, so its WMS time
 * is at most that, and it reached the copy within 2 x frequency (as above). */
int64_t fx_cursor_fallback(int64_t ts_cursor_ms, int64_t frequency_ms, int64_t margin_ms);

#endif
