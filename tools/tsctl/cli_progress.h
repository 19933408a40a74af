/* cli_progress.h - how far a stream's backfill has come, how fast it goes, and when
 * it should end, from what the fetcher reports (cursor, records of the current run,
 * run start) and, while watching, the previous sample. Pure arithmetic: no I/O.
 *
 * A backfill walks time forward from the resource's oldest_data_date to now, so
 * the cursor's position in that span is its progress; the ETA extrapolates the
 * speed of that position (between two samples, or since the run started).
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdint.h>

typedef struct cli_sample {
    int64_t at_ms;   /* when this sample was taken (wall clock) */
    int64_t records; /* records of the current run so far */
    double fraction; /* progress at that time, -1 = unknown */
} cli_sample;

typedef struct cli_progress_in {
    int backfill_done;      /* the first full pass is over: incremental from now on */
    int running;            /* a run is in progress */
    int64_t oldest_ms;      /* oldest_data_date of the resource, 0 = unknown */
    int64_t cursor_ms;      /* the stream's cursor, 0 = none yet */
    int64_t started_ms;     /* the current run's start, 0 = unknown */
    cli_sample now;         /* at_ms and records filled; fraction is computed */
    const cli_sample *prev; /* the previous sample of this stream, or NULL */
} cli_progress_in;

typedef struct cli_progress {
    double fraction; /* 0..1, or -1 when it cannot be known */
    double rate;     /* records per second while running, -1 = unknown or idle */
    int64_t eta_s;   /* seconds left, -1 = unknown */
} cli_progress;

void cli_progress_compute(const cli_progress_in *in, cli_progress *out);

#endif
