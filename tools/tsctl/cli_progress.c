/* cli_progress.c - backfill progress, rate and ETA (see cli_progress.h). */
#include "cli_progress.h"

#define MIN_SPAN_MS 1000 /* below this a time difference is too noisy to divide by */

void cli_progress_compute(const cli_progress_in *in, cli_progress *out) {
    out->fraction = -1;
    out->rate = -1;
    out->eta_s = -1;
    int64_t now = in->now.at_ms;
    if (in->backfill_done) {
        out->fraction = 1;
    } else if (in->oldest_ms > 0 && now - in->oldest_ms >= MIN_SPAN_MS) {
        double f = in->cursor_ms > 0
                       ? (double)(in->cursor_ms - in->oldest_ms) / (double)(now - in->oldest_ms)
                       : 0.0;
        out->fraction = f < 0 ? 0 : f > 1 ? 1 : f;
    }
    /* Rate: between samples when there is a previous one of the same run (its
     * records did not go down), else the average since the run started. */
    const cli_sample *p = in->prev;
    if (!in->running) {
        /* between runs nothing moves: no rate, no ETA */
    } else if (p && now - p->at_ms >= MIN_SPAN_MS && in->now.records >= p->records) {
        out->rate = (double)(in->now.records - p->records) * 1000.0 / (double)(now - p->at_ms);
    } else if (in->started_ms > 0 && now - in->started_ms >= MIN_SPAN_MS) {
        out->rate = (double)in->now.records * 1000.0 / (double)(now - in->started_ms);
    }
    if (!in->running || in->backfill_done || out->fraction < 0 || out->fraction >= 1) {
        if (out->fraction >= 1 && in->running && !in->backfill_done) out->eta_s = 0;
        return;
    }
    double speed = -1; /* fraction per ms */
    if (p && p->fraction >= 0 && now - p->at_ms >= MIN_SPAN_MS && out->fraction > p->fraction)
        speed = (out->fraction - p->fraction) / (double)(now - p->at_ms);
    else if (in->started_ms > 0 && now - in->started_ms >= MIN_SPAN_MS && out->fraction > 0)
        speed = out->fraction / (double)(now - in->started_ms);
    if (speed > 0) out->eta_s = (int64_t)((1.0 - out->fraction) / speed / 1000.0 + 0.5);
}
