/* fx_sched.c - the due-time heap (see fx_sched.h). */
#include "fx_sched.h"

#include <stdlib.h>

int fx_sched_reserve(fx_sched *s, size_t cap) {
    if (cap <= s->cap) return 0;
    size_t want = s->cap ? s->cap : 64;
    while (want < cap)
        want *= 2;
    fx_sched_item **h = realloc(s->heap, want * sizeof *h);
    if (!h) return -1;
    s->heap = h;
    fx_sched_item **t = realloc(s->scratch, want * sizeof *t);
    if (!t) return -1; /* heap grew, cap did not: still consistent */
    s->scratch = t;
    s->cap = want;
    return 0;
}

void fx_sched_free(fx_sched *s) {
    /* The items are not touched: they may be freed already (the engine's end). */
    free(s->heap);
    free(s->scratch);
    *s = (fx_sched){0};
}

static int before(const fx_sched_item *a, const fx_sched_item *b) {
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(fx_sched *s, size_t i, fx_sched_item *it) {
    s->heap[i] = it;
    it->pos = i + 1;
}

static void up(fx_sched *s, size_t i) {
    fx_sched_item *it = s->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(it, s->heap[p])) break;
        place(s, i, s->heap[p]);
        i = p;
    }
    place(s, i, it);
}

static void down(fx_sched *s, size_t i) {
    fx_sched_item *it = s->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const fx_sched_item *best = it;
        if (l < s->n && before(s->heap[l], best)) m = l, best = s->heap[l];
        if (l + 1 < s->n && before(s->heap[l + 1], best)) m = l + 1;
        if (m == i) break;
        place(s, i, s->heap[m]);
        i = m;
    }
    place(s, i, it);
}

void fx_sched_del(fx_sched *s, fx_sched_item *it) {
    if (!it->pos) return;
    size_t i = it->pos - 1;
    it->pos = 0;
    fx_sched_item *last = s->heap[--s->n];
    if (i == s->n) return;
    place(s, i, last);
    up(s, i);
    down(s, last->pos - 1);
}

int fx_sched_set(fx_sched *s, fx_sched_item *it, int64_t due) {
    if (due == FX_SCHED_NEVER) {
        fx_sched_del(s, it);
        return 0;
    }
    if (it->pos) {
        /* a new place in the order too: what was looked at goes behind its equals */
        fx_sched_del(s, it);
    }
    if (s->n >= s->cap) return -1;
    it->due = due;
    it->seq = s->seq++;
    place(s, s->n++, it);
    up(s, s->n - 1);
    return 0;
}

int fx_sched_wake(fx_sched *s, fx_sched_item *it, int64_t due) {
    if (it->pos && it->due <= due) return 0;
    return fx_sched_set(s, it, due);
}

fx_sched_item *fx_sched_pop(fx_sched *s, int64_t now) {
    if (s->n == 0 || s->heap[0]->due > now) return NULL;
    fx_sched_item *it = s->heap[0];
    fx_sched_del(s, it);
    return it;
}

int64_t fx_sched_next(const fx_sched *s) {
    return s->n ? s->heap[0]->due : FX_SCHED_NEVER;
}

int64_t fx_sched_jitter_ms(const char *connection_id, int res, int64_t interval_ms, int pct) {
    if (pct <= 0 || interval_ms <= 0) return 0;
    uint32_t h = 2166136261u; /* FNV-1a over the id, then the resource */
    for (const unsigned char *p = (const unsigned char *)connection_id; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    h ^= (uint32_t)res + 1u;
    h *= 16777619u;
    h ^= h >> 15; /* FNV's low bits mix poorly: fold the high ones in */
    int64_t span = interval_ms / 100 * pct + interval_ms % 100 * pct / 100;
    return span > 0 ? (int64_t)(h % (uint64_t)(span + 1)) : 0;
}
