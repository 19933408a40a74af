/* fx_jobs.c - a backfill's on-demand sync (reference §6.4, on-demand-syncs): Trackstar's
 * stored copy holds only what its crawls read (the historical sync reads the last 30 days),
 * so a window older than that is first pulled from the WMS by a job,
 * POST /connections/on-demand-syncs {function_name, start_time, end_time}, followed with
 * GET .../{id} until it is no longer open (completed, cancelled or stuck). Then the window
 * is read. Functions without on-demand sync (inventory is always a full snapshot), and a
 * 400 "On-demand sync is not enabled", read the stored copy as it is; the request's
 * detail says which. Engine thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx_engine_int.h"
#include "fx_url.h"
#include "log.h"
#include "util.h"

/* The WMS functions the reference allows on-demand syncs for (on-demand-syncs). */
static const char *const job_functions[] = {"get_products", "get_orders", "get_inbound_shipments",
                                            "get_returns",  "get_bills",  NULL};

static int allowed(int res) {
    /* one read WITH another's function has no on-demand sync of its own */
    if (!ts_entity_owns_function(res)) return 0;
    for (int i = 0; job_functions[i]; i++)
        if (strcmp(job_functions[i], ts_entities[res].function) == 0) return 1;
    return 0;
}

static void ended(fx_stream *st, const char *fmt, const char *a, const char *b) {
    fx_job *j = st->job;
    j->state = FX_JOB_ENDED;
    snprintf(j->note, sizeof j->note, fmt, a ? a : "", b ? b : "");
    log_info("on-demand sync", "connection_id", st->c->id, "resource", ts_entities[st->res].name,
             "outcome", j->note, NULL);
}

static void on_job(void *arg, fx_http_resp *resp) {
    fx_stream *st = arg;
    fx_conn *c = st->c;
    fx_engine *e = c->e;
    fx_job *j = st->job; /* held while its request is in flight (fx_job_reset cancels it) */
    j->req = NULL;
    fx_conn_request_done(e, c);
    fx_stream_wake(e, st, 0); /* the window may be read now, or the job looked at later */
    int64_t now = util_mono_ms();
    fx_rate_on_response(&c->rate, now, util_now_ms(), resp->status, resp->retry_after_s,
                        resp->remaining, resp->reset_epoch_s);
    char id[FX_ID_MAX], status[24], code[16];
    snprintf(code, sizeof code, "%d", resp->status);
    if (resp->status == 200 || resp->status == 201) {
        if (fx_api_parse_job(resp->body.p ? resp->body.p : "", resp->body.len, id, status,
                             sizeof status) != 0) {
            ended(st, "on-demand sync answer unreadable (%s%s): read the stored copy", code, NULL);
            return;
        }
        if (j->state == FX_JOB_POSTING) snprintf(j->id, sizeof j->id, "%s", id);
        if (strcmp(status, "open") == 0) {
            j->state = FX_JOB_OPEN;
            j->check_at = now + e->cfg.job_check_ms;
        } else if (strcmp(status, "completed") == 0) {
            ended(st, "on-demand sync %s completed%s", j->id, NULL);
        } else {
            /* cancelled or stuck: what the window holds is read, and the operator told */
            ended(st, "on-demand sync %s %s: read the stored copy only", j->id, status);
        }
        return;
    }
    if (resp->status == 429 || resp->status >= 500 || resp->status == 0) {
        j->check_at = now + e->cfg.job_check_ms; /* tried again */
        if (j->state == FX_JOB_POSTING) j->state = FX_JOB_NONE;
        return;
    }
    /* 400 "On-demand sync is not enabled for ...", 404, 422: no job */
    char what[200];
    snprintf(what, sizeof what, "%.160s", resp->body.p ? resp->body.p : "");
    for (char *p = what; *p; p++)
        if (*p == '"' || *p == '\n') *p = '\'';
    ended(st, "on-demand sync refused (HTTP %s %s): read the stored copy", code, what);
}

int fx_job_pending(fx_engine *e, fx_stream *st, int64_t now) {
    fx_conn *c = st->c;
    if (!st->job && !(st->job = calloc(1, sizeof *st->job))) {
        log_error("on-demand sync not asked for: out of memory", "connection_id", c->id, "resource",
                  ts_entities[st->res].name, NULL);
        return 0; /* the window is read from the stored copy as it is */
    }
    fx_job *j = st->job;
    if (j->state == FX_JOB_ENDED) return 0;
    if (j->state == FX_JOB_NONE && !allowed(st->res)) {
        snprintf(j->note, sizeof j->note, "no on-demand sync for %s: read the stored copy",
                 ts_entities[st->res].function);
        j->state = FX_JOB_ENDED;
        return 0;
    }
    if (j->req || now < j->check_at || !c->token) return 1;
    if (c->inflight >= e->cfg.token_inflight || fx_rate_next(&c->rate, now) > now) return 1;
    sbuf url = {0}, body = {0};
    char from[32], to[32];
    if (j->state == FX_JOB_NONE) {
        /* A POST: Trackstar counts it against the write budget, not the GET one. */
        if (fx_url_date(st->bf_start, 0, from) == 0 && fx_url_date(st->bf_end, 1, to) == 0 &&
            sbuf_printf(&url, "%s/connections/on-demand-syncs", e->cfg.base_url) == 0 &&
            sbuf_printf(&body,
                        "{\"function_name\":\"%s\",\"start_time\":\"%s\",\"end_time\":\"%s\"}",
                        ts_entities[st->res].function, from, to) == 0)
            j->req =
                fx_http_start(e->http, "POST", url.p, e->cfg.api_key, c->token, body.p, on_job, st);
        if (j->req) j->state = FX_JOB_POSTING;
    } else {
        if (sbuf_printf(&url, "%s/connections/on-demand-syncs/", e->cfg.base_url) == 0 &&
            val_url_escape(&url, j->id) == 0)
            j->req =
                fx_http_start(e->http, "GET", url.p, e->cfg.api_key, c->token, NULL, on_job, st);
        if (j->req) fx_rate_take(&c->rate, now);
    }
    sbuf_free(&url);
    sbuf_free(&body);
    if (!j->req) {
        j->check_at = now + e->cfg.job_check_ms;
        return 1;
    }
    c->inflight++;
    metric_inc(e->m.http_requests);
    return 1;
}

void fx_job_reset(fx_engine *e, fx_stream *st) {
    fx_job *j = st->job;
    if (!j) return;
    if (j->req) {
        fx_http_cancel(e->http, j->req);
        fx_conn_request_done(e, st->c);
    }
    free(j);
    st->job = NULL;
}
