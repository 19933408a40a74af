/* fx_cursor.c - cursor advance rules (see fx_cursor.h). */
#include "fx_cursor.h"

#include <string.h>

#include "fx_url.h"

void fx_track_init(fx_track *t, int64_t cursor) {
    memset(t, 0, sizeof *t);
    t->cursor = cursor;
    t->bound = FX_NO_BOUND;
}

static fx_seg *find(fx_track *t, uint64_t seq) {
    for (int i = 0; i < t->n; i++) {
        fx_seg *s = &t->segs[(t->head + i) % FX_TRACK_SEGS];
        if (s->seq == seq) return s;
    }
    return NULL;
}

int64_t fx_track_open(fx_track *t, int64_t hi) {
    if (t->n == FX_TRACK_SEGS) return -1;
    fx_seg *s = &t->segs[(t->head + t->n) % FX_TRACK_SEGS];
    *s = (fx_seg){.seq = t->next_seq++, .hi = hi, .max_key = FX_NO_BOUND};
    t->n++;
    return (int64_t)s->seq;
}

int fx_track_produced(fx_track *t, uint64_t seq, int64_t key) {
    fx_seg *s = find(t, seq);
    if (!s || s->fetched) return -1;
    s->pending++;
    t->produced++;
    if (key != FX_NO_BOUND && key > s->max_key) s->max_key = key;
    return 0;
}

void fx_track_acked(fx_track *t, uint64_t seq, int ok) {
    fx_seg *s = find(t, seq);
    if (!s) return;
    s->pending--;
    if (ok)
        t->acked++;
    else
        t->failed = 1;
}

void fx_track_fetched(fx_track *t, uint64_t seq) {
    fx_seg *s = find(t, seq);
    if (s) s->fetched = 1;
}

int fx_track_advance(fx_track *t) {
    int moved = 0;
    while (!t->failed && t->n > 0) {
        fx_seg *s = &t->segs[t->head];
        if (!s->fetched || s->pending > 0) break;
        /* A closed window covers everything up to hi; the open one only up to what it
         * actually held (a later record may still be on its way into Trackstar's copy). */
        int64_t to = s->hi != FX_NO_BOUND ? s->hi : s->max_key;
        /* ... and never beyond what Trackstar promises is in its copy already */
        if (to != FX_NO_BOUND && t->bound != FX_NO_BOUND && to > t->bound) to = t->bound;
        if (to != FX_NO_BOUND && (t->cursor == FX_NO_BOUND || to > t->cursor)) {
            t->cursor = to;
            moved = 1;
        }
        t->head = (t->head + 1) % FX_TRACK_SEGS;
        t->n--;
    }
    return moved;
}

int fx_track_idle(const fx_track *t) {
    return t->n == 0;
}

int64_t fx_window_hi(int64_t lo, int64_t width_ms, int64_t now_ms) {
    if (lo == FX_NO_BOUND || width_ms <= 0) return FX_NO_BOUND;
    if (lo > now_ms - width_ms) return FX_NO_BOUND;
    return lo + width_ms;
}

int64_t fx_window_resize(int64_t width, int64_t records, int64_t target, int64_t min_ms,
                         int64_t max_ms) {
    int64_t w;
    if (records <= 0) {
        w = width * 8;
    } else {
        /* width * target / records without overflow for any realistic width. */
        double scaled = (double)width * (double)target / (double)records;
        if (scaled > (double)width * 8) scaled = (double)width * 8;
        if (scaled < (double)width / 8) scaled = (double)width / 8;
        w = (int64_t)scaled;
    }
    if (w < min_ms) w = min_ms;
    if (w > max_ms) w = max_ms;
    return w;
}

int64_t fx_cursor_bound(const char *field, int64_t run_start_ms, const fx_promise *p,
                        int64_t default_frequency_ms, int64_t margin_ms) {
    if (field && strcmp(field, "trackstar_updated_date") == 0) return run_start_ms - margin_ms;
    /* Trackstar's times have whole seconds: the crawl surely ended before the run started
     * only when its end plus a second is not later than the start. */
    if (p && p->crawl_start_ms && p->crawl_end_ms && p->crawl_start_ms <= p->crawl_end_ms &&
        p->crawl_end_ms + 1000 <= run_start_ms)
        return p->crawl_start_ms - margin_ms;
    int64_t f = p && p->frequency_ms > 0 ? p->frequency_ms : default_frequency_ms;
    return run_start_ms - 2 * f - margin_ms;
}

int64_t fx_cursor_fallback(int64_t ts_cursor_ms, int64_t frequency_ms, int64_t margin_ms) {
    return ts_cursor_ms - 2 * frequency_ms - margin_ms;
}
