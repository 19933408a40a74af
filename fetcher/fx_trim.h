/* fx_trim.h - hand back to the system the heap memory a busy period left free.
 *
 * glibc keeps what is freed in its arenas, and returns on its own only a free top of a
 * heap. After a first sync of 1,000 connections the fetcher's main arena held 134 MB of
 * which 31 MB were in use (malloc_stats): the pages, parsed bodies and records queued in
 * the producer of the sync's peak had been freed, but allocations that live on (streams,
 * tables grown during the sync) sat above them, so the memory stayed resident for good.
 * malloc_trim(0) also releases the whole free pages inside a heap (madvise).
 *
 * The rule: every FX_TRIM_CHECK_MS, look at the resident bytes malloc does not use
 * (process RSS minus malloc's in-use bytes). Trim when they grew by more than
 * FX_TRIM_SLACK_BYTES over the lowest value seen since the last trim: memory reused
 * and freed again counts, memory a trim already released does not (its free chunks stay
 * in the arena, so "free bytes" alone would ask for a trim every time). A steady loop
 * reuses what it frees and is not trimmed; the end of a busy period is. The RSS the
 * bench reports after it is what is resident, nothing hidden (docs/benchmarks.md).
 */
#ifndef FX_TRIM_H
#define FX_TRIM_H

#include <stdint.h>

#define FX_TRIM_CHECK_MS 5000
/* 1 MiB: at 10,000 connections a 4 MiB slack was up to 0.8 KB of the 10 KB of RSS per
 * owned connection that issue 24 allows, left resident by the last trim's rule alone; a
 * trim of the fetcher's heap costs milliseconds and comes at most every FX_TRIM_CHECK_MS. */
#define FX_TRIM_SLACK_BYTES (1 << 20)

typedef struct fx_trim {
    int64_t next_ms; /* monotonic ms of the next check */
    int64_t low;     /* lowest unused resident bytes since the last trim; -1 = none yet */
    int64_t trims;   /* trims made (a metric's source) */
} fx_trim;

void fx_trim_init(fx_trim *t);

/* Pure rule: with `unused` resident bytes malloc does not use at now_ms, 1 when a trim
 * is due (the caller trims, then calls fx_trim_done), else 0. Only one call per
 * FX_TRIM_CHECK_MS looks at unused; the others return 0 at once. */
int fx_trim_due(fx_trim *t, int64_t now_ms, int64_t unused);

/* A trim was made; unused is the value measured after it. */
void fx_trim_done(fx_trim *t, int64_t unused);

/* The process's unused resident bytes now: RSS (/proc/self/statm) minus malloc's in-use
 * bytes in every arena and its mmapped chunks (mallinfo2). -1 when statm cannot be read. */
int64_t fx_trim_unused(void);

/* fx_trim_due on fx_trim_unused(), and malloc_trim(0) when due. Returns 1 when it
 * trimmed. Call from the loop; a check costs a small read and mallinfo2's walk of the
 * arenas' free lists, every FX_TRIM_CHECK_MS only. */
int fx_trim_step(fx_trim *t, int64_t now_ms);

#endif
