/* fx_run.c - one stream's runs: windows, pages, records to Kafka, acknowledgements,
 * cursor moves and sync-status changes. Called only from the engine's thread.
 *
 * A run opens date windows (fx_cursor.h) and fetches up to stream_parallel of them at
 * once, each page by page with its filters repeated. Every record of a page goes to
 * the raw topic tagged with its window; the cursor moves when whole windows are
 * acknowledged. Errors follow the API's meaning: 429 waits (fx_rate), 5xx and
 * timeouts back off and retry, 401 blocks the connection, 403 skips the resource
 * until its next interval, 501 marks it unsupported for a long while.
 *
 * A per-order run (order packs) lists the orders in a packing status by the stream's
 * cursor, one listing page at a time, and reads each listed order's packs; all of it is
 * one open window, so the cursor moves (to the newest listed order date whose packs were
 * acknowledged) only when every order was read and every pack record acknowledged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fx_backoff.h"
#include "fx_engine_int.h"
#include "fx_pub.h"
#include "fx_url.h"
#include "log.h"
#include "util.h"

const char *const fx_state_names[FX_ST_COUNT] = {"waiting_for_historical_sync",
                                                 "idle",
                                                 "running",
                                                 "rate_limited",
                                                 "failed",
                                                 "unsupported",
                                                 "blocked"};

static const char *res_name(const fx_stream *st) {
    return ts_entities[st->res].name;
}

/* ---- status and persistence ---- */

static void publish_status(fx_engine *e, fx_stream *st) {
    fx_status s = {.connection_id = st->c->id,
                   .integration = st->c->integration,
                   .resource = res_name(st),
                   .state = fx_state_names[st->state],
                   .last_started_ms = st->d.last_started_ms,
                   .last_success_ms = st->d.last_success_ms,
                   .records_seen = st->d.records_seen,
                   .last_error = st->d.last_error,
                   .updated_ms = util_now_ms()};
    char err[256];
    if (fx_pub_status_send(e->producer, e->cfg.raw_topic, &s, NULL, err, sizeof err) != 0)
        log_warn("sync status not published", "connection_id", st->c->id, "resource", res_name(st),
                 "error", err, NULL);
    else
        metric_inc(e->m.status_msgs);
}

void fx_stream_set_state(fx_engine *e, fx_stream *st, fx_state s) {
    if (st->state == s && strcmp(st->d.state, fx_state_names[s]) == 0) return;
    st->state = s;
    snprintf(st->d.state, sizeof st->d.state, "%s", fx_state_names[s]);
    st->dirty = 1;
    log_info("sync state", "connection_id", st->c->id, "resource", res_name(st), "state",
             fx_state_names[s], "last_error", st->d.last_error, NULL);
    publish_status(e, st);
}

void fx_stream_save(fx_engine *e, fx_stream *st) {
    if (!st->dirty || !st->loaded || !st->c->owned || st->save_queued) return;
    if (e->nsave == e->save_cap) {
        int cap = e->save_cap ? e->save_cap * 2 : 256;
        fx_stream **q = realloc(e->saveq, (size_t)cap * sizeof *q);
        if (!q) { /* no room to queue it: stored alone, as before batching */
            char err[256];
            int rc = fx_db_stream_put(e->db, st->c->id, res_name(st), &st->d, err, sizeof err);
            fx_db_result(e, rc, "store stream", err);
            if (rc == 0) st->dirty = 0;
            return;
        }
        e->saveq = q;
        e->save_cap = cap;
    }
    e->saveq[e->nsave++] = st;
    st->save_queued = 1;
}

void fx_conn_save(fx_engine *e, fx_conn *c) {
    if (!c->check_dirty || !c->owned || c->check_queued) return;
    if (e->ncheck == e->check_cap) {
        int cap = e->check_cap ? e->check_cap * 2 : 64;
        fx_conn **q = realloc(e->checkq, (size_t)cap * sizeof *q);
        if (!q) { /* no room to queue it: stored alone */
            char err[256];
            fx_db_check row = {.conn = c->id,
                               .checked_ms = c->checked_ms,
                               .reads_known = c->actions_known,
                               .reads = c->actions};
            int rc = fx_db_checks_put(e->db, &row, 1, err, sizeof err);
            fx_db_result(e, rc, "store connection check", err);
            if (rc == 0) c->check_dirty = 0;
            return;
        }
        e->checkq = q;
        e->check_cap = cap;
    }
    e->checkq[e->ncheck++] = c;
    c->check_queued = 1;
}

/* The queued connections' answers, after the streams (rc: how their flush went). What
 * GET /connections/{id} said of each stream is stored with the stream; the answer's time
 * is stored after it, so that a stored check never stands for schedules not stored. */
static int flush_checks(fx_engine *e, int rc) {
    if (e->ncheck == 0) return rc;
    int64_t now = util_mono_ms();
    if (rc != 0 || (now < e->check_retry_at && !e->stopping))
        return -1; /* kept queued: tried again later */
    fx_db_check rows[FX_DB_STREAMS_MAX];
    fx_conn *cs[FX_DB_STREAMS_MAX];
    int from = 0;
    while (from < e->ncheck) {
        int n = 0;
        for (; from < e->ncheck && n < FX_DB_STREAMS_MAX; from++) {
            fx_conn *c = e->checkq[from];
            c->check_queued = 0;
            if (!c->check_dirty || !c->owned) continue; /* released: its next owner asks */
            rows[n] = (fx_db_check){.conn = c->id,
                                    .checked_ms = c->checked_ms,
                                    .reads_known = c->actions_known,
                                    .reads = c->actions};
            cs[n++] = c;
        }
        if (n == 0) continue;
        char err[256];
        int put = fx_db_checks_put(e->db, rows, n, err, sizeof err);
        fx_db_result(e, put, "store connection checks", err);
        metric_inc(e->m.state_writes);
        if (put != 0) {
            metric_inc(e->m.state_write_failures);
            /* these and the rest stay queued, in order, for the retry */
            for (int i = 0; i < n; i++)
                cs[i]->check_queued = 1;
            int k = 0;
            for (int i = 0; i < n; i++)
                e->checkq[k++] = cs[i];
            for (int i = from; i < e->ncheck; i++)
                e->checkq[k++] = e->checkq[i];
            e->ncheck = k;
            e->check_retry_at = now + FX_SAVE_RETRY_MS;
            return -1;
        }
        for (int i = 0; i < n; i++)
            cs[i]->check_dirty = 0;
    }
    e->ncheck = 0;
    return rc;
}

/* The queued streams' state, in statements of FX_DB_STREAMS_MAX rows, until max_rows are
 * stored: what is not reached stays queued, in order, and a stream changed again meanwhile
 * is stored once, as it is then. After a failed statement no other is tried: every queued
 * stream is unqueued and woken for its retry (the database is likely gone for them as
 * well, and each try could wait for a connect timeout). 0, or -1 after a failure. */
static int flush_streams(fx_engine *e, int max_rows) {
    int64_t retry_at = util_mono_ms() + FX_SAVE_RETRY_MS;
    fx_db_stream_row rows[FX_DB_STREAMS_MAX];
    fx_stream *sts[FX_DB_STREAMS_MAX];
    int rc = 0, stored = 0, from = 0;
    while (from < e->nsave && (rc != 0 || stored < max_rows)) {
        int n = 0;
        for (; from < e->nsave && n < FX_DB_STREAMS_MAX; from++) {
            fx_stream *st = e->saveq[from];
            st->save_queued = 0;
            /* released or already clean since it was queued: nothing of it to store */
            if (!st->dirty || !st->loaded || !st->c->owned) continue;
            rows[n] = (fx_db_stream_row){.conn = st->c->id, .resource = res_name(st), .s = &st->d};
            sts[n++] = st;
        }
        if (n == 0) continue;
        char err[256];
        int put = rc == 0 ? fx_db_streams_put(e->db, rows, n, err, sizeof err) : -1;
        if (rc == 0) {
            fx_db_result(e, put, "store streams", err);
            metric_inc(e->m.state_writes);
        }
        if (put == 0) {
            metric_add(e->m.state_rows, n);
            stored += n;
            for (int i = 0; i < n; i++)
                sts[i]->dirty = 0;
            continue;
        }
        if (rc == 0) metric_inc(e->m.state_write_failures);
        rc = -1;
        for (int i = 0; i < n; i++)
            fx_stream_wake(e, sts[i], retry_at); /* still dirty: its turn queues it again */
    }
    if (from > 0) { /* (saveq is NULL until a first stream is queued) */
        memmove(e->saveq, e->saveq + from, (size_t)(e->nsave - from) * sizeof *e->saveq);
        e->nsave -= from;
    }
    return rc;
}

int fx_state_flush(fx_engine *e) {
    return flush_checks(e, flush_streams(e, INT_MAX));
}

int fx_state_flush_turn(fx_engine *e) {
    int rc = flush_streams(e, FX_SAVE_TURN_ROWS);
    /* a check is stored after its streams: not while any stream waits its turn */
    return e->nsave ? rc : flush_checks(e, rc);
}

/* ---- batches (records of one page in flight to Kafka) ---- */

static fx_batch *batch_new(fx_stream *st, uint64_t seg) {
    fx_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->st = st;
    b->seg = seg;
    b->next = st->batches;
    if (st->batches) st->batches->prev = b;
    st->batches = b;
    return b;
}

static void batch_unlink(fx_batch *b) {
    if (!b->st) return;
    if (b->prev)
        b->prev->next = b->next;
    else
        b->st->batches = b->next;
    if (b->next) b->next->prev = b->prev;
    b->prev = b->next = NULL;
    b->st = NULL;
}

void fx_batch_ack(fx_engine *e, fx_batch *b, int ok) {
    if (b->st) {
        fx_track_acked(&b->st->r->track, b->seg, ok);
        fx_stream_wake(e, b->st, 0); /* its cursor may move, its run end */
    }
    if (--b->refs <= 0) {
        batch_unlink(b);
        free(b);
    }
}

/* ---- run control ---- */

static int active_chains(const fx_stream *st) {
    int n = 0;
    for (int i = 0; i < FX_MAX_CHAINS; i++)
        n += st->r->chains[i].active;
    return n;
}

static void chain_clear(fx_engine *e, fx_chain *ch) {
    if (ch->req) {
        fx_http_cancel(e->http, ch->req);
        ch->req = NULL;
        fx_conn_request_done(e, ch->st->c);
    }
    free(ch->token);
    free(ch->wh);
    free(ch->wh_upd);
    fx_stream *st = ch->st;
    memset(ch, 0, sizeof *ch);
    ch->st = st;
}

/* Forget the listed warehouses (or orders, with their dates). */
static void orders_clear(fx_stream *st) {
    for (int i = 0; i < st->r->nwh; i++) {
        free(st->r->whs[i]);
        if (st->r->whs_upd) free(st->r->whs_upd[i]);
    }
    free(st->r->whs);
    free(st->r->whs_upd);
    st->r->whs = st->r->whs_upd = NULL;
    st->r->nwh = st->r->wh_next = 0;
}

static void run_clear(fx_engine *e, fx_stream *st, int detach) {
    fx_run_state *r = st->r;
    if (detach) {
        /* Deliveries still due for these records no longer move this stream. */
        while (st->batches)
            batch_unlink(st->batches);
    }
    if (r) {
        for (int i = 0; i < FX_MAX_CHAINS; i++)
            chain_clear(e, &r->chains[i]);
        orders_clear(st);
        strmap_free(r->listed);
        free(r);
        st->r = NULL;
    }
    fx_slot_unwait(e, st); /* no run, no page to send */
    st->run = FX_RUN_NONE;
}

void fx_run_abort(fx_engine *e, fx_stream *st, int detach) {
    if (st->run == FX_RUN_NONE) return;
    if (st->run_req) {
        fx_req_stream_done(e, st->run_req, 1, "interrupted");
        st->run_req = 0;
    }
    run_clear(e, st, detach);
}

void fx_run_cancel_pages(fx_engine *e, fx_stream *st) {
    for (int i = 0; st->r && i < FX_MAX_CHAINS; i++) {
        fx_chain *ch = &st->r->chains[i];
        if (!ch->req) continue;
        fx_http_cancel(e->http, ch->req);
        ch->req = NULL;
        fx_conn_request_done(e, st->c);
    }
}

void fx_run_keep_acked(fx_stream *st) {
    if (st->run != FX_RUN_NONE && fx_track_advance(&st->r->track) &&
        (st->run == FX_RUN_INCREMENTAL || st->run == FX_RUN_LOCATIONS ||
         st->run == FX_RUN_PER_ORDER)) {
        st->d.cursor_ms = st->r->track.cursor;
        st->dirty = 1;
    }
}

void fx_stream_release(fx_engine *e, fx_stream *st) {
    fx_run_abort(e, st, 1);
    run_clear(e, st, 1);
    fx_job_reset(e, st);
    fx_db_stream_clear(&st->d);
}

/* Stop the run as failed: in-flight requests are cancelled, the cursor stays where the
 * acknowledged windows put it, and the stream lands in `state` (failed, unsupported). */
static void run_fail(fx_engine *e, fx_stream *st, fx_state state, int64_t retry_ms, const char *fmt,
                     const char *detail) {
    if (st->fail) return;
    st->fail = 1;
    st->fail_state = state;
    st->fail_retry_ms = retry_ms;
    char what[FX_ERR_TEXT_MAX];
    snprintf(what, sizeof what, fmt, detail ? detail : "");
    fx_db_stream_error(&st->d, what);
    fx_run_cancel_pages(e, st);
    for (int i = 0; st->r && i < FX_MAX_CHAINS; i++)
        st->r->chains[i].active = 0;
}

void fx_conn_block(fx_engine *e, fx_conn *c, const char *why) {
    if (c->blocked) return;
    c->blocked = 1;
    c->blocked_recheck_at = util_mono_ms() + e->cfg.blocked_recheck_ms;
    char err[256];
    int rc = fx_db_conn_block(e->db, c->id, why, err, sizeof err);
    fx_db_result(e, rc, "block connection", err);
    log_warn("connection blocked until reinstalled", "connection_id", c->id, "reason", why, NULL);
    for (int r = 0; c->streams && r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        if (!st->loaded) continue;
        fx_run_abort(e, st, 1);
        fx_db_stream_error(&st->d, why);
        fx_stream_set_state(e, st, FX_ST_BLOCKED);
        fx_stream_save(e, st);
    }
    fx_conn_check_at(e, c, c->hist_check_at); /* no crawl times read while blocked */
    fx_conn_wake(e, c);                       /* each waits for the recheck or an unblock */
}

/* Poll no more often than Trackstar refreshes its copy, and promptly after it does: when
 * GET /connections reports crawl times, a run is due once a crawl has ended after the
 * last run started (the copy may hold something new); otherwise every interval. A failed
 * run waits for its retry time either way. */
int fx_stream_due(fx_engine *e, fx_stream *st, int64_t now_wall) {
    (void)e;
    if (st->force || st->bf_queued) return 1;
    if (now_wall < st->retry_at) return 0;
    if (st->crawls_known) return st->prom.crawl_end_ms > st->d.last_started_ms;
    return now_wall >= st->d.next_due_ms;
}

/* The frequency Trackstar crawls this resource with, as reported, else the reference's. */
static int64_t frequency_ms(const fx_stream *st) {
    return st->prom.frequency_ms > 0 ? st->prom.frequency_ms
                                     : (int64_t)ts_entities[st->res].interval_s * 1000;
}

/* The cursor rule (fx_cursor.h): the newest cursor a run starting now may store. */
static int64_t cursor_bound(fx_engine *e, const fx_stream *st, int64_t run_start) {
    return fx_cursor_bound(st->d.cursor_field, run_start, &st->prom,
                           (int64_t)ts_entities[st->res].interval_s * 1000, e->cfg.overlap_ms);
}

/* Back from a cursor on trackstar_updated_date to one on updated_date (the API no longer
 * serves it, or refuses its filter), missing nothing. */
static void cursor_fallback(fx_engine *e, fx_stream *st, const char *why) {
    snprintf(st->d.cursor_field, sizeof st->d.cursor_field, "updated_date");
    if (st->d.cursor_ms)
        st->d.cursor_ms = fx_cursor_fallback(st->d.cursor_ms, frequency_ms(st), e->cfg.overlap_ms);
    st->dirty = 1;
    log_warn("cursor back on updated_date", "connection_id", st->c->id, "resource", res_name(st),
             "reason", why, NULL);
}

void fx_run_start(fx_engine *e, fx_stream *st, fx_run_kind kind) {
    int64_t now = util_now_ms();
    const fx_cfg *cfg = &e->cfg;
    fx_run_state *r = calloc(1, sizeof *r);
    if (!r) {
        /* tried again at its retry time, as a failed run is */
        fx_db_stream_error(&st->d, "run not started: out of memory");
        st->retry_at = now + cfg->failed_retry_ms;
        st->d.next_due_ms = st->retry_at;
        st->dirty = 1;
        fx_stream_set_state(e, st, FX_ST_FAILED);
        fx_stream_save(e, st);
        log_error("run not started: out of memory", "connection_id", st->c->id, "resource",
                  res_name(st), NULL);
        return;
    }
    for (int i = 0; i < FX_MAX_CHAINS; i++)
        r->chains[i].st = st;
    st->r = r;
    st->run = kind;
    st->fail = 0;
    r->width = cfg->window_initial_ms;
    if (kind == FX_RUN_WINDOW) {
        st->run_req = st->bf_req;
        st->bf_queued = 0;
        st->bf_req = 0;
        fx_track_init(&r->track, FX_NO_BOUND);
        r->next_lo = st->bf_start;
        r->run_end = st->bf_end;
    } else {
        st->run_req = st->force_req;
        st->force = 0;
        st->force_req = 0;
        if (!st->d.run_started_ms) st->d.run_started_ms = now;
        if (st->d.cursor_ms && st->d.cursor_rule == 0) {
            /* a cursor stored under the old fixed overlap may stand past what Trackstar
             * had in its copy then: re-read as far back as a fallback does, once */
            st->d.cursor_ms =
                fx_cursor_fallback(st->d.cursor_ms, frequency_ms(st), cfg->overlap_ms);
            log_info("cursor moved back once for the cursor rule", "connection_id", st->c->id,
                     "resource", res_name(st), NULL);
        }
        st->d.cursor_rule = 1;
        fx_track_init(&r->track, st->d.cursor_ms ? st->d.cursor_ms : FX_NO_BOUND);
        /* The cursor never passes what Trackstar promises is in its copy when this run
         * started reading: the next run starts there, so nothing arriving late with an
         * older date is missed (the margin is part of the bound). */
        r->track.bound = cursor_bound(e, st, now);
        if (st->d.cursor_ms)
            r->next_lo = st->d.cursor_ms;
        else if (st->oldest_ms)
            r->next_lo = st->oldest_ms - cfg->overlap_ms; /* the backfill from oldest_data_date */
        else
            r->next_lo = FX_NO_BOUND;
        r->run_end = FX_NO_BOUND;
    }
    st->d.last_started_ms = now;
    st->d.records_seen = 0;
    fx_db_stream_error(&st->d, NULL);
    if ((kind == FX_RUN_SNAPSHOT || kind == FX_RUN_LOCATIONS) && !(r->listed = strmap_new()))
        run_fail(e, st, FX_ST_FAILED, cfg->failed_retry_ms, "%s", "out of memory");
    if (kind == FX_RUN_SNAPSHOT || kind == FX_RUN_LOCATIONS || kind == FX_RUN_PER_ORDER) {
        /* One open window for the whole run. A per-order run lists from the cursor, and its
         * records are keyed by their order's updated_date: the cursor moves to the newest
         * once every listed order's packs are read and acknowledged (fx_cursor.h). */
        int64_t seq = fx_track_open(&r->track, FX_NO_BOUND);
        r->windows_done = 1;
        r->loc_seg = (uint64_t)seq;
        fx_chain *ch = &r->chains[0];
        ch->active = 1;
        ch->seg = (uint64_t)seq;
        ch->lo = kind == FX_RUN_PER_ORDER ? r->next_lo : FX_NO_BOUND;
        ch->hi = FX_NO_BOUND;
        ch->listing = kind != FX_RUN_SNAPSHOT;
    }
    metric_inc(e->m.runs_started);
    char lo[32] = "none";
    if (r->next_lo != FX_NO_BOUND) val_time_format(r->next_lo, 0, lo);
    log_info("run started", "connection_id", st->c->id, "resource", res_name(st), "kind",
             kind == FX_RUN_WINDOW      ? "window"
             : kind == FX_RUN_SNAPSHOT  ? "snapshot"
             : kind == FX_RUN_PER_ORDER ? "per order"
             : st->d.backfill_done      ? "incremental"
                                        : "backfill",
             "from", lo, "cursor_field", st->d.cursor_field, NULL);
    st->dirty = 1;
    fx_stream_set_state(e, st, FX_ST_RUNNING);
    fx_stream_save(e, st);
}

static void run_succeed(fx_engine *e, fx_stream *st) {
    int64_t now = util_now_ms();
    fx_run_kind kind = st->run;
    if (kind == FX_RUN_INCREMENTAL) { /* complete listings have no cursor */
        int on_ts = strcmp(st->d.cursor_field, "trackstar_updated_date") == 0;
        if (st->r->ts_seen > 0 && st->r->ts_missing == 0 && !on_ts) {
            /* Records carry trackstar_updated_date: from now on filter on it, starting where
             * the rule puts this run's start (every later change of the copy is newer). */
            snprintf(st->d.cursor_field, sizeof st->d.cursor_field, "trackstar_updated_date");
            st->d.cursor_ms = cursor_bound(e, st, st->d.run_started_ms);
            log_info("cursor switched to trackstar_updated_date", "connection_id", st->c->id,
                     "resource", res_name(st), NULL);
        } else if (on_ts && st->r->ts_missing > 0) {
            cursor_fallback(e, st, "records without trackstar_updated_date");
        }
    }
    if (kind != FX_RUN_WINDOW) st->d.backfill_done = 1;
    if (kind != FX_RUN_WINDOW) {
        st->d.run_started_ms = 0;
        /* spread, so that connections created (or polled) together do not come due
         * together every interval from then on */
        int64_t iv = e->cfg.interval_ms[st->res];
        st->d.next_due_ms = st->d.last_started_ms + iv +
                            fx_sched_jitter_ms(st->c->id, st->res, iv, e->cfg.due_jitter_pct);
    }
    st->retry_at = 0;
    st->d.last_success_ms = now;
    fx_db_stream_error(&st->d, NULL);
    char n[24];
    snprintf(n, sizeof n, "%" PRId64, st->r->run_records);
    log_info("run finished", "connection_id", st->c->id, "resource", res_name(st), "records", n,
             NULL);
    int64_t req = st->run_req;
    st->run_req = 0;
    run_clear(e, st, 1);
    metric_inc(e->m.runs_ok);
    st->dirty = 1;
    fx_stream_set_state(e, st, FX_ST_IDLE);
    fx_stream_save(e, st);
    if (req) fx_req_stream_done(e, req, 0, kind == FX_RUN_WINDOW && st->job ? st->job->note : NULL);
    if (kind == FX_RUN_WINDOW) fx_job_reset(e, st);
}

static void run_end_failed(fx_engine *e, fx_stream *st) {
    int64_t now = util_now_ms();
    fx_state s = st->fail_state;
    if (s == FX_ST_UNSUPPORTED) st->d.unsupported_until_ms = now + e->cfg.unsupported_recheck_ms;
    if (st->run != FX_RUN_WINDOW) {
        st->d.next_due_ms = now + st->fail_retry_ms;
        st->retry_at = now + st->fail_retry_ms;
    }
    if (st->run == FX_RUN_WINDOW) fx_job_reset(e, st);
    log_warn("run failed", "connection_id", st->c->id, "resource", res_name(st), "state",
             fx_state_names[s], "error", st->d.last_error, NULL);
    int64_t req = st->run_req;
    st->run_req = 0;
    run_clear(e, st, 1);
    st->fail = 0;
    metric_inc(e->m.runs_failed);
    st->dirty = 1;
    fx_stream_set_state(e, st, s);
    fx_stream_save(e, st);
    if (req) fx_req_stream_done(e, req, 1, st->d.last_error);
}

/* Records that disappear: deletes inferred from complete listings.
 *
 * A run of a resource read as a complete set (fx_res_info.table: inventory snapshot,
 * warehouses, shipping methods, every warehouse's locations) notes every id it publishes.
 * When the whole run succeeded and every one of its records is acknowledged, the rows the
 * pipeline holds as live for that connection in the resource's table, observed before the
 * run began and not listed, are published on the raw topic as "<resource>.gone"
 * (topics.h): the version each supersedes and the run's start as deleted_at, one more
 * segment of the run (its acknowledgements end the run). The writer decides by the version
 * order whether a delete still applies (docs/consuming.md). A failed or partial run infers
 * nothing. */
typedef struct gone_ctx {
    fx_engine *e;
    fx_stream *st;
    fx_batch *b;
    uint64_t seg;
    int64_t n;
    char err[256];
} gone_ctx;

static int gone_row(void *arg, const char *id, const char *upd, const char *tsupd) {
    gone_ctx *g = arg;
    fx_stream *st = g->st;
    if (strmap_get(st->r->listed, id, NULL)) return 0;
    if (!g->b && !(g->b = batch_new(st, g->seg))) return -1;
    fx_pub_gone m = {.connection_id = st->c->id,
                     .integration = st->c->integration,
                     .resource = res_name(st),
                     .id = id,
                     .source_updated_at = upd,
                     .trackstar_updated_at = tsupd,
                     .listed_ms = st->d.last_started_ms};
    if (fx_pub_gone_send(g->e->producer, g->e->cfg.raw_topic, &m, g->b, g->err, sizeof g->err))
        return -1;
    g->b->refs++;
    fx_track_produced(&st->r->track, g->seg, FX_NO_BOUND);
    g->n++;
    return 0;
}

/* 1 when deletes were produced (wait for their acknowledgements), 0 when there were none,
 * -1 when the run failed (st->fail set). */
static int infer_gone(fx_engine *e, fx_stream *st) {
    st->r->gone_sent = 1;
    int64_t seq = fx_track_open(&st->r->track, FX_NO_BOUND);
    if (seq < 0) { /* cannot happen: the tracker is idle here */
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "tracker full");
        return -1;
    }
    gone_ctx g = {.e = e, .st = st, .seg = (uint64_t)seq};
    int rc = fx_db_live_rows(e->db, ts_entities[st->res].table, st->c->id, st->d.last_started_ms,
                             gone_row, &g, g.err, sizeof g.err);
    if (rc == 0 || g.n > 0) fx_track_fetched(&st->r->track, (uint64_t)seq);
    if (g.b && g.b->refs == 0) {
        batch_unlink(g.b);
        free(g.b);
    }
    if (rc != 0) {
        fx_db_result(e, -1, "read live rows", g.err);
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "deletes not inferred: %s", g.err);
        return -1;
    }
    char n[24];
    snprintf(n, sizeof n, "%" PRId64, g.n);
    log_info("complete listing: records no longer listed", "connection_id", st->c->id, "resource",
             res_name(st), "gone", n, NULL);
    metric_add(e->m.gone, g.n);
    return g.n > 0;
}

void fx_run_after_acks(fx_engine *e, fx_stream *st) {
    if (st->run == FX_RUN_NONE) return;
    if (fx_track_advance(&st->r->track) &&
        (st->run == FX_RUN_INCREMENTAL || st->run == FX_RUN_PER_ORDER)) {
        st->d.cursor_ms = st->r->track.cursor;
        st->dirty = 1;
        metric_inc(e->m.cursor_moves);
        fx_stream_save(e, st);
    }
    if (st->r->track.failed && !st->fail)
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s",
                 "a record was not acknowledged by Kafka");
    if (st->fail) {
        run_end_failed(e, st);
        return;
    }
    if (st->r->windows_done && active_chains(st) == 0 && fx_track_idle(&st->r->track) &&
        ((st->run != FX_RUN_LOCATIONS && st->run != FX_RUN_PER_ORDER) || st->r->loc_fetched)) {
        if (st->r->listed && !st->r->gone_sent) {
            int rc = infer_gone(e, st);
            if (rc < 0) run_end_failed(e, st);
            if (rc != 0) return;
        }
        run_succeed(e, st);
    }
}

/* ---- pages ---- */

/* The order statuses in which packing has happened: only these orders have packs. */
#define FX_PACKED_FILTER "status[in]=packed,partially_fulfilled,fulfilled"

static int64_t record_key(const char *elem, size_t len, const char *field) {
    char buf[64];
    int64_t ms;
    if (fx_json_obj_str(elem, len, field, buf, sizeof buf) == 1 &&
        val_time_parse(buf, &ms, NULL) == 0)
        return ms;
    return FX_NO_BOUND;
}

/* Publish every record of a page. Returns the number produced, or -1 when producing
 * failed (the run fails; nothing is acknowledged for the rest). */
static int64_t publish_page(fx_engine *e, fx_stream *st, fx_chain *ch, const fx_page *pg) {
    fx_conn *c = st->c;
    const char *it = pg->data, *end = pg->data + pg->data_len, *elem;
    size_t len;
    int64_t n = 0;
    char received[32];
    val_time_format(util_now_ms(), 1, received);
    const char *field = st->run == FX_RUN_WINDOW ? "updated_date" : st->d.cursor_field;
    fx_batch *b = NULL;
    int rc;
    while ((rc = fx_json_array_next(&it, end, &elem, &len)) == 1) {
        char id[FX_ID_MAX * 2], upd[64], tsu[64];
        if (fx_json_obj_str(elem, len, "id", id, sizeof id) != 1 || !*id) {
            log_warn("record without an id skipped", "connection_id", c->id, "resource",
                     res_name(st), NULL);
            continue;
        }
        if (fx_json_obj_str(elem, len, "updated_date", upd, sizeof upd) != 1) upd[0] = '\0';
        if (fx_json_obj_str(elem, len, "trackstar_updated_date", tsu, sizeof tsu) == 1)
            st->r->ts_seen++;
        else
            tsu[0] = '\0', st->r->ts_missing++;
        if ((!b && !(b = batch_new(st, ch->seg))) ||
            (st->r->listed && strmap_put(st->r->listed, id, 1))) {
            if (b && b->refs == 0) {
                batch_unlink(b);
                free(b);
            }
            run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "out of memory");
            return -1;
        }
        fx_pub_record r = {.connection_id = c->id,
                           .integration = c->integration,
                           .resource = res_name(st),
                           .id = id,
                           .updated_date = upd,
                           .trackstar_updated_date = tsu,
                           .received_at = received,
                           .value = elem,
                           .len = len};
        char err[256];
        if (fx_pub_record_send(e->producer, e->cfg.raw_topic, &r, b, err, sizeof err) != 0) {
            if (b->refs == 0) {
                batch_unlink(b);
                free(b);
            }
            run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "kafka: %s", err);
            return -1;
        }
        b->refs++;
        b->bytes += (int64_t)len;
        e->unacked_bytes += (int64_t)len;
        fx_track_produced(&st->r->track, ch->seg, record_key(elem, len, field));
        n++;
    }
    if (b && b->refs == 0) {
        batch_unlink(b);
        free(b);
    }
    if (rc < 0) {
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "malformed data array");
        return -1;
    }
    metric_add(e->m.records, n);
    return n;
}

static int collect_warehouses(fx_stream *st, const fx_page *pg) {
    const char *it = pg->data, *end = pg->data + pg->data_len, *elem;
    size_t len;
    int rc;
    while ((rc = fx_json_array_next(&it, end, &elem, &len)) == 1) {
        char id[FX_ID_MAX];
        if (fx_json_obj_str(elem, len, "id", id, sizeof id) != 1) continue;
        if (st->r->nwh == FX_MAX_WAREHOUSES) return -1;
        if (st->r->nwh % 16 == 0) {
            char **p = realloc(st->r->whs, (size_t)(st->r->nwh + 16) * sizeof *p);
            if (!p) return -1;
            st->r->whs = p;
        }
        if (!(st->r->whs[st->r->nwh] = strdup(id))) return -1;
        st->r->nwh++;
    }
    return rc < 0 ? -1 : 0;
}

/* Per-order run: note every listed order's id and updated_date (the version its packs
 * are read for). An order without either cannot be given an identity: skipped. */
static int collect_orders(fx_stream *st, const fx_page *pg) {
    const char *it = pg->data, *end = pg->data + pg->data_len, *elem;
    size_t len;
    int rc;
    while ((rc = fx_json_array_next(&it, end, &elem, &len)) == 1) {
        char id[FX_ID_MAX], upd[64];
        if (fx_json_obj_str(elem, len, "id", id, sizeof id) != 1 || !*id ||
            fx_json_obj_str(elem, len, "updated_date", upd, sizeof upd) != 1)
            continue;
        if (st->r->nwh == FX_MAX_WAREHOUSES) return -1;
        if (st->r->nwh % 16 == 0) {
            char **p = realloc(st->r->whs, (size_t)(st->r->nwh + 16) * sizeof *p);
            if (!p) return -1;
            st->r->whs = p;
            p = realloc(st->r->whs_upd, (size_t)(st->r->nwh + 16) * sizeof *p);
            if (!p) return -1;
            st->r->whs_upd = p;
        }
        char *a = strdup(id), *b = strdup(upd);
        if (!a || !b) {
            free(a);
            free(b);
            return -1;
        }
        st->r->whs[st->r->nwh] = a;
        st->r->whs_upd[st->r->nwh] = b;
        st->r->nwh++;
    }
    return rc < 0 ? -1 : 0;
}

/* Per-order run: publish one order's packs ({"data": {...}}, no id or date of its own)
 * as the record {"id": order id, "updated_date": the listed order's, "order_id": order
 * id, ...the data object's members}. Returns 1, or -1 when the run failed. */
static int64_t publish_packs(fx_engine *e, fx_stream *st, fx_chain *ch, const fx_page *pg) {
    fx_conn *c = st->c;
    sbuf v = {0};
    const char *in = pg->data + 1, *end = pg->data + pg->data_len;
    while (in < end && (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r'))
        in++;
    if (sbuf_append(&v, "{\"id\":", 6) || sbuf_json_str(&v, ch->wh, strlen(ch->wh)) ||
        sbuf_append(&v, ",\"updated_date\":", 16) ||
        sbuf_json_str(&v, ch->wh_upd, strlen(ch->wh_upd)) ||
        sbuf_append(&v, ",\"order_id\":", 12) || sbuf_json_str(&v, ch->wh, strlen(ch->wh)) ||
        (in < end && *in != '}' && sbuf_append(&v, ",", 1)) ||
        sbuf_append(&v, pg->data + 1, pg->data_len - 1)) {
        sbuf_free(&v);
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "out of memory");
        return -1;
    }
    fx_batch *b = batch_new(st, ch->seg);
    if (!b) {
        sbuf_free(&v);
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "out of memory");
        return -1;
    }
    char received[32];
    val_time_format(util_now_ms(), 1, received);
    fx_pub_record r = {.connection_id = c->id,
                       .integration = c->integration,
                       .resource = res_name(st),
                       .id = ch->wh,
                       .updated_date = ch->wh_upd,
                       .trackstar_updated_date = "",
                       .received_at = received,
                       .value = v.p,
                       .len = v.len};
    char err[256];
    if (fx_pub_record_send(e->producer, e->cfg.raw_topic, &r, b, err, sizeof err) != 0) {
        sbuf_free(&v);
        batch_unlink(b);
        free(b);
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "kafka: %s", err);
        return -1;
    }
    b->refs++;
    b->bytes += (int64_t)v.len;
    e->unacked_bytes += (int64_t)v.len;
    int64_t key;
    if (val_time_parse(ch->wh_upd, &key, NULL) != 0) key = FX_NO_BOUND;
    fx_track_produced(&st->r->track, ch->seg, key);
    sbuf_free(&v);
    metric_add(e->m.records, 1);
    return 1;
}

/* The last page of a chain was handled. */
static void chain_finished(fx_engine *e, fx_stream *st, fx_chain *ch) {
    if (ch->listing) {
        st->r->listing_done = 1;
    } else if (st->run == FX_RUN_INCREMENTAL || st->run == FX_RUN_WINDOW ||
               st->run == FX_RUN_SNAPSHOT) {
        fx_track_fetched(&st->r->track, ch->seg);
        if (ch->hi != FX_NO_BOUND && ch->lo != FX_NO_BOUND)
            st->r->width = fx_window_resize(st->r->width, ch->records,
                                            (int64_t)e->cfg.window_target_pages * e->cfg.page_limit,
                                            e->cfg.window_min_ms, e->cfg.window_max_ms);
    }
    chain_clear(e, ch);
}

static void transient(fx_engine *e, fx_stream *st, fx_chain *ch, const char *what) {
    ch->attempt++;
    if (ch->attempt > e->cfg.retry_max) {
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s (retries exhausted)", what);
        return;
    }
    int64_t d =
        fx_backoff_delay(ch->attempt - 1, e->cfg.backoff_base_ms, e->cfg.backoff_cap_ms, &e->rng);
    ch->retry_at = util_mono_ms() + d;
    char a[16], ms[24];
    snprintf(a, sizeof a, "%d", ch->attempt);
    snprintf(ms, sizeof ms, "%" PRId64, d);
    log_warn("page failed, retrying", "connection_id", st->c->id, "resource", res_name(st), "error",
             what, "attempt", a, "backoff_ms", ms, NULL);
}

static void on_page(void *arg, fx_http_resp *resp) {
    fx_chain *ch = arg;
    fx_stream *st = ch->st;
    fx_conn *c = st->c;
    fx_engine *e = c->e;
    ch->req = NULL;
    fx_conn_request_done(e, c);
    fx_stream_wake(e, st, 0); /* whatever the answer, the run goes on at the next turn */
    int64_t now = util_mono_ms();
    fx_rate_on_response(&c->rate, now, util_now_ms(), resp->status, resp->retry_after_s,
                        resp->remaining, resp->reset_epoch_s);
    int status = resp->status;
    char what[320];
    if (status == 200) {
        fx_page pg;
        char err[200];
        if (fx_json_page(resp->body.p ? resp->body.p : "", resp->body.len, &pg, err, sizeof err)) {
            metric_inc(e->m.http_errors);
            transient(e, st, ch, err);
            return;
        }
        /* only an order's packs come as one object; everything else is a list */
        if (pg.single != (st->run == FX_RUN_PER_ORDER && !ch->listing)) {
            metric_inc(e->m.http_errors);
            transient(e, st, ch,
                      pg.single ? "response has a \"data\" object, not an array"
                                : "response has no \"data\" object");
            return;
        }
        if (st->state == FX_ST_RATE_LIMITED) fx_stream_set_state(e, st, FX_ST_RUNNING);
        ch->attempt = 0;
        ch->pages++;
        if (ch->listing) {
            int per_order = st->run == FX_RUN_PER_ORDER;
            if ((per_order ? collect_orders(st, &pg) : collect_warehouses(st, &pg)) != 0) {
                run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s",
                         per_order ? "order list malformed or page too long"
                                   : "warehouse list malformed or too long");
                return;
            }
        } else {
            int64_t n = pg.single ? publish_packs(e, st, ch, &pg) : publish_page(e, st, ch, &pg);
            if (n < 0) return;
            ch->records += n;
            st->r->run_records += n;
            st->d.records_seen += n;
        }
        free(ch->token);
        ch->token = NULL;
        if (pg.has_next) {
            if (!(ch->token = strdup(pg.next_token)))
                run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "out of memory");
            return;
        }
        chain_finished(e, st, ch);
        return;
    }
    /* Errors: Trackstar's bodies are short {error, origin}; keep the start. */
    snprintf(what, sizeof what, "HTTP %d: %.200s", status,
             resp->body.p ? resp->body.p : (status == 0 ? resp->err : ""));
    for (char *p = what; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    if (status == 429) {
        metric_inc(e->m.http_429);
        fx_stream_set_state(e, st, FX_ST_RATE_LIMITED);
        ch->retry_at = now; /* the limiter holds the next send until the server allows it */
    } else if (status == 401) {
        fx_conn_block(e, c, what);
    } else if (status == 403) {
        run_fail(e, st, FX_ST_FAILED, e->cfg.interval_ms[st->res],
                 "forbidden, skipped until the next interval: %s", what);
    } else if (status == 422 && strcmp(st->d.cursor_field, "trackstar_updated_date") == 0 &&
               resp->body.p && strstr(resp->body.p, "trackstar_")) {
        /* The API refuses the trackstar_* filter (the 2025 API): back on updated_date, and
         * the run again at once. */
        cursor_fallback(e, st, "the API refused the trackstar_updated_date filter (422)");
        run_fail(e, st, FX_ST_FAILED, 0, "%s", "trackstar_updated_date filter refused (422)");
        st->force = 1;
    } else if (status == 404 && ch->wh) {
        /* The warehouse went away between listing and reading its locations, or the
         * order between listing and reading its packs: nothing to read. */
        log_info("gone since listed, skipped", "connection_id", c->id, "resource", res_name(st),
                 "id", ch->wh, NULL);
        chain_clear(e, ch);
    } else if (status == 501) {
        run_fail(e, st, FX_ST_UNSUPPORTED, e->cfg.unsupported_recheck_ms,
                 "not implemented by the integration: %s", what);
    } else if (status == 0 || status == 408 || status >= 500) {
        metric_inc(status >= 500 ? e->m.http_5xx : e->m.http_errors);
        if (status == 0 && resp->timed_out) snprintf(what, sizeof what, "timeout: %s", resp->err);
        transient(e, st, ch, what);
    } else {
        metric_inc(e->m.http_errors);
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", what);
    }
}

/* ---- scheduling ---- */

static fx_chain *free_chain(fx_stream *st) {
    for (int i = 0; i < FX_MAX_CHAINS; i++)
        if (!st->r->chains[i].active) return &st->r->chains[i];
    return NULL;
}

static void open_windows(fx_engine *e, fx_stream *st, int64_t now_wall) {
    int parallel = e->cfg.stream_parallel;
    while (!st->r->windows_done && !st->fail && active_chains(st) < parallel) {
        int64_t lo = st->r->next_lo, hi;
        int last;
        if (st->run == FX_RUN_WINDOW) {
            hi = lo + st->r->width >= st->r->run_end ? st->r->run_end : lo + st->r->width;
            last = hi == st->r->run_end;
        } else if (lo == FX_NO_BOUND) {
            /* Oldest date unknown: everything before the horizon in one window, then
             * sized windows from there. */
            hi = e->cfg.backfill_horizon_ms > 0 ? now_wall - e->cfg.backfill_horizon_ms
                                                : FX_NO_BOUND;
            last = hi == FX_NO_BOUND;
        } else {
            hi = fx_window_hi(lo, st->r->width, now_wall);
            last = hi == FX_NO_BOUND;
        }
        int64_t seq = fx_track_open(&st->r->track, hi);
        if (seq < 0) break;
        fx_chain *ch = free_chain(st);
        ch->active = 1;
        ch->seg = (uint64_t)seq;
        ch->lo = lo;
        ch->hi = hi;
        if (last)
            st->r->windows_done = 1;
        else
            st->r->next_lo = hi;
    }
}

static void open_locations(fx_engine *e, fx_stream *st) {
    if (!st->r->listing_done || st->fail) return;
    while (st->r->wh_next < st->r->nwh && active_chains(st) < e->cfg.stream_parallel) {
        fx_chain *ch = free_chain(st);
        ch->active = 1;
        ch->seg = st->r->loc_seg;
        ch->lo = st->r->next_lo;
        ch->hi = FX_NO_BOUND;
        if (!(ch->wh = strdup(st->r->whs[st->r->wh_next++]))) {
            run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "out of memory");
            return;
        }
    }
    if (st->r->wh_next == st->r->nwh && active_chains(st) == 0 && !st->r->loc_fetched) {
        fx_track_fetched(&st->r->track, st->r->loc_seg);
        st->r->loc_fetched = 1;
    }
}

/* Per-order run: read the listed orders' packs, stream_parallel at once besides the
 * listing. The listing waits (fx_run_schedule) until every order of its last page was
 * read, so one page of orders is held at a time; then it goes on, and after its last
 * page the run's window is fetched. */
static void open_orders(fx_engine *e, fx_stream *st) {
    if (st->fail) return;
    int listing = 0;
    for (int i = 0; i < FX_MAX_CHAINS; i++)
        listing |= st->r->chains[i].active && st->r->chains[i].listing;
    while (st->r->wh_next < st->r->nwh && active_chains(st) - listing < e->cfg.stream_parallel) {
        fx_chain *ch = free_chain(st);
        if (!ch) break;
        ch->active = 1;
        ch->seg = st->r->loc_seg;
        ch->lo = ch->hi = FX_NO_BOUND;
        if (!(ch->wh = strdup(st->r->whs[st->r->wh_next])) ||
            !(ch->wh_upd = strdup(st->r->whs_upd[st->r->wh_next]))) {
            run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "out of memory");
            return;
        }
        st->r->wh_next++;
    }
    if (st->r->wh_next == st->r->nwh && active_chains(st) == listing) {
        orders_clear(st); /* this page's orders are read: the listing goes on */
        if (st->r->listing_done && !st->r->loc_fetched) {
            fx_track_fetched(&st->r->track, st->r->loc_seg);
            st->r->loc_fetched = 1;
        }
    }
}

/* What holds a page of c back now, if anything: the first gate found closed. */
typedef enum send_gate {
    GATE_OPEN,    /* it may go */
    GATE_CONN,    /* FETCHER_TOKEN_INFLIGHT of c's requests are out */
    GATE_PROCESS, /* FETCHER_MAX_INFLIGHT requests out, or FETCHER_MAX_UNACKED_MB unacknowledged */
    GATE_RATE     /* c's token's rate: fx_rate_next says when */
} send_gate;

static send_gate gate_of(const fx_engine *e, const fx_conn *c, int64_t now) {
    if (c->inflight >= e->cfg.token_inflight) return GATE_CONN;
    if (fx_http_inflight(e->http) >= e->cfg.max_inflight ||
        e->unacked_bytes >= e->cfg.max_unacked_bytes)
        return GATE_PROCESS;
    if (fx_rate_next(&c->rate, now) > now) return GATE_RATE;
    return GATE_OPEN;
}

/* The chain has a page to send: no request of it is out, and it is not a per-order
 * listing held until the listed orders' packs are read. Its retry time aside. */
static int has_page(const fx_stream *st, const fx_chain *ch) {
    return ch->active && !ch->req &&
           !(ch->listing && st->run == FX_RUN_PER_ORDER && st->r->nwh > 0);
}

static void send_page(fx_engine *e, fx_stream *st, fx_chain *ch, int64_t now) {
    fx_conn *c = st->c;
    const ts_entity *ri = &ts_entities[st->res];
    fx_query q = {.date_field = NULL,
                  .gte_ms = FX_NO_BOUND,
                  .lte_ms = FX_NO_BOUND,
                  .limit = e->cfg.page_limit};
    const char *path = ri->path, *arg = NULL;
    if (st->run == FX_RUN_PER_ORDER && ch->listing) {
        /* the orders in which packing has happened, changed since the cursor */
        path = ts_entities[TS_ENT_ORDERS].path;
        q.date_field = st->d.cursor_field;
        q.gte_ms = ch->lo;
        q.filter = FX_PACKED_FILTER;
    } else if (st->run == FX_RUN_PER_ORDER) {
        arg = ch->wh; /* one order's packs: a get-one endpoint */
        q.single = 1;
    } else if (ch->listing) {
        path = ts_entities[TS_ENT_WAREHOUSES].path;
    } else if (st->run == FX_RUN_LOCATIONS) {
        arg = ch->wh; /* the warehouse's whole list: a complete listing */
    } else if (st->run != FX_RUN_SNAPSHOT) {
        q.date_field = st->run == FX_RUN_WINDOW ? "updated_date" : st->d.cursor_field;
        q.gte_ms = ch->lo;
        q.lte_ms = ch->hi;
    }
    sbuf url = {0};
    if (fx_url_list(&url, e->cfg.base_url, path, arg, &q, ch->token) != 0) {
        sbuf_free(&url);
        run_fail(e, st, FX_ST_FAILED, e->cfg.failed_retry_ms, "%s", "cannot build the URL");
        return;
    }
    ch->req = fx_http_start(e->http, "GET", url.p, e->cfg.api_key, c->token, NULL, on_page, ch);
    log_debug("GET", "connection_id", c->id, "resource", res_name(st), "url", url.p, NULL);
    sbuf_free(&url);
    if (!ch->req) {
        transient(e, st, ch, "cannot start the HTTP request");
        return;
    }
    fx_rate_take(&c->rate, now);
    c->inflight++;
    metric_inc(e->m.http_requests);
}

void fx_run_schedule(fx_engine *e, fx_stream *st, int64_t now) {
    if (st->run == FX_RUN_NONE || st->fail) return;
    int64_t wall = util_now_ms();
    if (st->run == FX_RUN_INCREMENTAL || st->run == FX_RUN_WINDOW) open_windows(e, st, wall);
    if (st->run == FX_RUN_LOCATIONS) open_locations(e, st);
    if (st->run == FX_RUN_PER_ORDER) open_orders(e, st);
    for (int i = 0; i < FX_MAX_CHAINS && !st->fail && st->run != FX_RUN_NONE; i++) {
        fx_chain *ch = &st->r->chains[i];
        if (!has_page(st, ch) || ch->retry_at > now) continue;
        if (gate_of(e, st->c, now) != GATE_OPEN) break;
        send_page(e, st, ch, now);
    }
}

int64_t fx_run_next_wake(fx_engine *e, fx_stream *st, int64_t now) {
    if (st->fail) return now + 1; /* it ends at its next turn */
    fx_conn *c = st->c;
    int64_t at = FX_SCHED_NEVER;
    for (int i = 0; i < FX_MAX_CHAINS; i++) {
        const fx_chain *ch = &st->r->chains[i];
        /* no page to send: an answer (its own, or its orders' packs') wakes the stream */
        if (!has_page(st, ch)) continue;
        if (ch->retry_at > now) {
            if (ch->retry_at < at) at = ch->retry_at;
            continue;
        }
        /* ready and not sent: woken by what opens the gate that held it */
        int64_t t = now + 1;
        switch (gate_of(e, c, now)) {
        case GATE_CONN: c->slot_wait |= 1u << st->res; continue;
        case GATE_PROCESS: fx_slot_wait(e, st); continue;
        case GATE_RATE: t = fx_rate_next(&c->rate, now); break;
        case GATE_OPEN: break;
        }
        if (t < at) at = t;
    }
    /* Nothing to send: the run waits for answers and acknowledgements (windows, warehouses
     * and orders open as chains finish or records are acknowledged), each of which wakes
     * it. */
    return at;
}
