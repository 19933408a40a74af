/* fx_cursor.h - when a stream's cursor may advance: only after every record up to it
 * is acknowledged by Kafka.
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
    int failed;     /* a delivery failed: never advance again in this run */
    int64_t acked, produced;
} fx_track;

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

/* Pop every complete window from the front, moving the cursor. Returns 1 when the
 * cursor moved (store it), 0 otherwise. */
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
#endif
