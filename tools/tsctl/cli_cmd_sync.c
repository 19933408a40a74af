/* cli_cmd_sync.c - acting on syncs through the fetcher's admin endpoints (manual
 * sync, on-demand backfill over a date window, a request's progress) and the live
 * status of every (connection, resource) stream, with a progress display while a
 * historical backfill runs (`status --watch`). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_cmds.h"
#include "cli_db.h"
#include "cli_http.h"
#include "cli_out.h"
#include "cli_progress.h"
#include "cli_stored.h"
#include "cli_table.h"
#include "entities.h"
#include "util.h"
#include "values.h"

#define WAIT_MAX_S 86400
#define REQUEST_POLL_MS 500
#define WATCH_INTERVAL_DEFAULT_S 2
#define WATCH_INTERVAL_MAX_S 3600
#define MAX_STREAMS 4096 /* streams kept between watch samples */
#define BAR_WIDTH 20

static int fail(const cli_ctx *ctx, const char *err, int code) {
    cli_errorf(ctx, "%s", err);
    return code;
}

static int int_arg(const cli_ctx *ctx, const char *name, const char *s, long lo, long hi,
                   long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        cli_errorf(ctx, "--%s: expected an integer in %ld..%ld", name, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- requests (sync, backfill) ---- */

static void request_print(cli_ctx *ctx, const cJSON *r) {
    if (ctx->json) {
        cli_print_json(ctx, r);
        return;
    }
    char b[64], t[64];
    char *res = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r, "resources"));
    const char *ws = cli_jstr(r, "window_start"), *we = cli_jstr(r, "window_end");
    cli_kv(ctx->out, "request", cli_jtext(r, "id", b, sizeof b));
    cli_kv(ctx->out, "kind", cli_jstr(r, "kind"));
    cli_kv(ctx->out, "connection", cli_jstr(r, "connection_id"));
    cli_kv(ctx->out, "resources", res && strcmp(res, "[]") != 0 ? res : "all");
    if (ws) cli_kv(ctx->out, "window start", cli_db_time(ws, t, sizeof t));
    if (we) cli_kv(ctx->out, "window end", cli_db_time(we, t, sizeof t));
    cli_kv(ctx->out, "status", cli_jstr(r, "status"));
    cli_kv(ctx->out, "detail", cli_jstr(r, "detail"));
    free(res);
}

/* Poll GET /requests?id= until the request is done or failed. *r is replaced. */
static int request_wait(cli_ctx *ctx, cJSON **r, long seconds, char *err, size_t errlen) {
    char path[64], b[32];
    int64_t deadline = util_mono_ms() + seconds * 1000;
    snprintf(path, sizeof path, "/requests?id=%s", cli_jtext(*r, "id", b, sizeof b));
    for (;;) {
        const char *st = cli_jstr(*r, "status");
        if (st && (strcmp(st, "done") == 0 || strcmp(st, "failed") == 0)) return 0;
        if (util_stop || util_mono_ms() > deadline) {
            snprintf(err, errlen, "request %s still %s after %ld s", b, st ? st : "?", seconds);
            return -1;
        }
        usleep(REQUEST_POLL_MS * 1000);
        cJSON *n = NULL;
        if (cli_fetcher_call(ctx, "GET", path, NULL, &n, NULL, err, errlen) != 0) return -1;
        cJSON_Delete(*r);
        *r = n;
    }
}

/* Queue a sync or backfill at the fetcher and print (or wait for) its request. */
static int request(cli_ctx *ctx, const char *path, cJSON *body, const char *wait) {
    char err[1024];
    long wait_s = 0;
    cJSON *r = NULL;
    int rc = CLI_EXIT_FAIL;
    if (wait && int_arg(ctx, "wait", wait, 1, WAIT_MAX_S, &wait_s) != 0) {
        cJSON_Delete(body);
        return CLI_EXIT_USAGE;
    }
    if (cli_fetcher_call(ctx, "POST", path, body, &r, NULL, err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    if (wait_s && request_wait(ctx, &r, wait_s, err, sizeof err) != 0) {
        request_print(ctx, r);
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    request_print(ctx, r);
    const char *st = cli_jstr(r, "status");
    rc = st && strcmp(st, "failed") == 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
done:
    cJSON_Delete(body);
    cJSON_Delete(r);
    return rc;
}

static cJSON *request_body(const cli_ctx *ctx, const char *conn, const char *resources) {
    char err[512];
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "connection_id", conn);
    if (resources) {
        cJSON *list = cli_res_list(resources, err, sizeof err);
        if (!list) {
            cli_errorf(ctx, "--resources: %s", err);
            cJSON_Delete(b);
            return NULL;
        }
        cJSON_AddItemToObject(b, "resources", list);
    }
    return b;
}

int cli_run_sync(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    cJSON *b = request_body(ctx, a->pos[0], CLI_ARGV("resources"));
    if (!b) return CLI_EXIT_USAGE;
    return request(ctx, "/sync", b, CLI_ARGV("wait"));
}

int cli_run_backfill(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    const char *from = CLI_ARGV("from"), *to = CLI_ARGV("to");
    int64_t now = util_now_ms(), start, end = 0;
    char s1[32], s2[32];
    if (!from)
        return fail(ctx, "--from is required (a date: 2026-01-05 or RFC 3339)", CLI_EXIT_USAGE);
    if (cli_parse_date(from, now, &start) != 0)
        return fail(ctx, "--from: not a date", CLI_EXIT_USAGE);
    if (to && cli_parse_date(to, now, &end) != 0)
        return fail(ctx, "--to: not a date", CLI_EXIT_USAGE);
    if (to && end <= start) return fail(ctx, "--to must be after --from", CLI_EXIT_USAGE);
    if (start > now) return fail(ctx, "--from is in the future", CLI_EXIT_USAGE);
    cJSON *b = request_body(ctx, a->pos[0], CLI_ARGV("resources"));
    if (!b) return CLI_EXIT_USAGE;
    val_time_format(start, 0, s1);
    cJSON_AddStringToObject(b, "start", s1);
    if (to) {
        val_time_format(end, 0, s2);
        cJSON_AddStringToObject(b, "end", s2);
    }
    return request(ctx, "/backfill", b, CLI_ARGV("wait"));
}

int cli_run_request(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char err[1024], path[64];
    long id, wait_s = 0;
    if (int_arg(ctx, "id", a->pos[0], 1, 0x7fffffffL, &id) != 0) return CLI_EXIT_USAGE;
    if (CLI_ARGV("wait") && int_arg(ctx, "wait", CLI_ARGV("wait"), 1, WAIT_MAX_S, &wait_s) != 0)
        return CLI_EXIT_USAGE;
    snprintf(path, sizeof path, "/requests?id=%ld", id);
    cJSON *r = NULL;
    if (cli_fetcher_call(ctx, "GET", path, NULL, &r, NULL, err, sizeof err) != 0)
        return fail(ctx, err, CLI_EXIT_FAIL);
    int rc = CLI_EXIT_OK;
    if (wait_s && request_wait(ctx, &r, wait_s, err, sizeof err) != 0)
        rc = fail(ctx, err, CLI_EXIT_FAIL);
    request_print(ctx, r);
    const char *st = cli_jstr(r, "status");
    if (rc == CLI_EXIT_OK && st && strcmp(st, "failed") == 0) rc = CLI_EXIT_FAIL;
    cJSON_Delete(r);
    return rc;
}

/* ---- status ---- */

/* The previous sample of each stream, for rates and ETAs while watching. */
typedef struct prev_entry {
    char key[256];
    cli_sample s;
} prev_entry;

typedef struct watch_state {
    prev_entry *prev;
    int nprev;
} watch_state;

static const cli_sample *prev_find(const watch_state *w, const char *key) {
    for (int i = 0; w && i < w->nprev; i++)
        if (strcmp(w->prev[i].key, key) == 0) return &w->prev[i].s;
    return NULL;
}

static int64_t jtime(const cJSON *o, const char *key) {
    const char *s = cli_jstr(o, key);
    int64_t ms = 0;
    if (!s || val_time_parse(s, &ms, NULL) != 0) return 0;
    return ms;
}

static int64_t jint(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static const char sql_streams_db[] =
    "SELECT s.connection_id, s.resource, s.state, s.last_started_at, s.last_success_at,"
    " s.records_seen, s.last_error, NULL::timestamptz AS cursor, NULL::boolean AS backfill_done"
    " FROM sync_status s WHERE $1::text IS NULL OR s.connection_id = $1"
    " ORDER BY s.connection_id, s.resource";
/* The accuracy figures per stream (sync_accuracy, writer/db_accuracy.h). */
static const char sql_accuracy[] =
    "SELECT connection_id, resource, corrections, correction_stale_s_max,"
    " last_correction_at, webhook_lag_s_sum / nullif(webhook_versions, 0) AS webhook_lag_s_avg,"
    " poll_lag_s_sum / nullif(poll_versions, 0) AS poll_lag_s_avg, ledger_windows, ledger_drifts"
    " FROM sync_accuracy"
    " WHERE $1::text IS NULL OR connection_id = $1";
static const char sql_oldest[] =
    "SELECT connection_id, resource, oldest_data_date FROM historical_syncs"
    " WHERE ($1::text IS NULL OR connection_id = $1) AND oldest_data_date IS NOT NULL";
/* One sample of every stream: the fetcher's live view when it answers, else the
 * sync_status rows the pipeline wrote. Each stream object gets oldest_data_date
 * (from historical_syncs) and, for one connection, stored_records. *source names
 * where the streams came from. NULL when neither source answers. */
static cJSON *sample_streams(cli_ctx *ctx, const char *conn, const char **source, char *err,
                             size_t errlen) {
    char ferr[1024] = "out of memory";
    char *path = conn ? cli_url_path("/streams?connection_id=", conn) : strdup("/streams");
    cJSON *streams = NULL;
    const char *const p[] = {conn};
    int called =
        path ? cli_fetcher_call(ctx, "GET", path, NULL, &streams, NULL, ferr, sizeof ferr) : -1;
    free(path);
    if (called == 0 && cJSON_IsArray(streams)) {
        *source = "fetcher";
    } else {
        cJSON_Delete(streams);
        streams = cli_db_json(ctx, sql_streams_db, 1, p, err, errlen);
        if (!streams) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, "; fetcher: %s", ferr);
            return NULL;
        }
        *source = "database";
    }
    char dberr[512];
    cJSON *oldest = cli_db_json(ctx, sql_oldest, 1, p, dberr, sizeof dberr), *counts = NULL;
    cJSON *acc = cli_db_json(ctx, sql_accuracy, 1, p, dberr, sizeof dberr);
    char *sql_counts = conn ? cli_counts_sql() : NULL;
    if (sql_counts) counts = cli_db_json(ctx, sql_counts, 1, p, dberr, sizeof dberr);
    free(sql_counts);
    cJSON *s;
    cJSON_ArrayForEach(s, streams) {
        const char *c = cli_jstr(s, "connection_id"), *r = cli_jstr(s, "resource");
        const cJSON *o;
        cJSON_ArrayForEach(o, oldest) {
            const char *oc = cli_jstr(o, "connection_id"), *orr = cli_jstr(o, "resource");
            if (c && r && oc && orr && strcmp(c, oc) == 0 &&
                ts_entity_lookup(orr) == ts_entity_lookup(r) && cli_jstr(o, "oldest_data_date"))
                cJSON_AddStringToObject(s, "oldest_data_date", cli_jstr(o, "oldest_data_date"));
        }
        /* counts 0 and the rest null until the writer applied a version (ledger windows:
         * until the drift of an inventory window was evaluated) */
        const cJSON *ac = NULL;
        cJSON_ArrayForEach(o, acc) {
            const char *oc = cli_jstr(o, "connection_id"), *orr = cli_jstr(o, "resource");
            if (c && r && oc && orr && strcmp(c, oc) == 0 && strcmp(r, orr) == 0) ac = o;
        }
        static const struct {
            const char *key;
            int count;
        } acc_keys[] = {{"corrections", 1},        {"correction_stale_s_max", 0},
                        {"last_correction_at", 0}, {"webhook_lag_s_avg", 0},
                        {"poll_lag_s_avg", 0},     {"ledger_windows", 1},
                        {"ledger_drifts", 1}};
        for (size_t k = 0; k < sizeof acc_keys / sizeof acc_keys[0]; k++) {
            const char *key = acc_keys[k].key;
            const cJSON *v = ac ? cJSON_GetObjectItemCaseSensitive(ac, key) : NULL;
            if (v && !cJSON_IsNull(v))
                cJSON_AddItemToObject(s, key, cJSON_Duplicate(v, 1));
            else if (acc_keys[k].count)
                cJSON_AddNumberToObject(s, key, 0);
            else
                cJSON_AddNullToObject(s, key);
        }
        cJSON_ArrayForEach(o, counts) {
            const char *orr = cli_jstr(o, "resource");
            if (r && orr && strcmp(r, orr) == 0)
                cJSON_AddNumberToObject(s, "stored_records", (double)jint(o, "n"));
        }
    }
    cJSON_Delete(oldest);
    cJSON_Delete(counts);
    cJSON_Delete(acc);
    return streams;
}

/* Add progress, rate and ETA to every stream of a sample; remember it in w. */
static void annotate(cJSON *streams, int64_t now, watch_state *w) {
    prev_entry *next = calloc(MAX_STREAMS, sizeof *next);
    int nnext = 0;
    cJSON *s;
    cJSON_ArrayForEach(s, streams) {
        const char *c = cli_jstr(s, "connection_id"), *r = cli_jstr(s, "resource");
        const char *state = cli_jstr(s, "state");
        char key[256];
        snprintf(key, sizeof key, "%s|%s", c ? c : "", r ? r : "");
        int ent = ts_entity_lookup(r);
        int snapshot = ent >= 0 && ts_entities[ent].poll == TS_POLL_COMPLETE; /* no cursor */
        cli_progress_in in = {0};
        in.backfill_done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "backfill_done"));
        in.running = state && strcmp(state, "running") == 0;
        in.oldest_ms = snapshot ? 0 : jtime(s, "oldest_data_date");
        in.cursor_ms = jtime(s, "cursor");
        in.started_ms = jtime(s, "last_started_at");
        in.now.at_ms = now;
        in.now.records = jint(s, "records_seen");
        in.prev = prev_find(w, key);
        /* A finished run's average rate would describe the past, not now. */
        if (!in.running) in.started_ms = 0;
        int bf_known = cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(s, "backfill_done"));
        if (!bf_known) in.oldest_ms = 0; /* the database does not know the cursor */
        cli_progress pr;
        cli_progress_compute(&in, &pr);
        const char *phase = snapshot           ? "snapshot"
                            : !bf_known        ? NULL
                            : in.backfill_done ? "incremental"
                                               : "backfill";
        if (phase)
            cJSON_AddStringToObject(s, "phase", phase);
        else
            cJSON_AddNullToObject(s, "phase");
        if (pr.fraction >= 0)
            cJSON_AddNumberToObject(s, "progress", (double)(int)(pr.fraction * 1000 + 0.5) / 1000);
        else
            cJSON_AddNullToObject(s, "progress");
        if (pr.rate >= 0)
            cJSON_AddNumberToObject(s, "records_per_s", (double)(int64_t)(pr.rate * 10 + 0.5) / 10);
        else
            cJSON_AddNullToObject(s, "records_per_s");
        if (pr.eta_s >= 0)
            cJSON_AddNumberToObject(s, "eta_s", (double)pr.eta_s);
        else
            cJSON_AddNullToObject(s, "eta_s");
        if (next && nnext < MAX_STREAMS) {
            snprintf(next[nnext].key, sizeof next[nnext].key, "%s", key);
            next[nnext].s = in.now;
            next[nnext].s.fraction = pr.fraction;
            nnext++;
        }
    }
    if (w) {
        free(w->prev);
        w->prev = next;
        w->nprev = next ? nnext : 0;
    } else {
        free(next);
    }
}

static void status_table(cli_ctx *ctx, const cJSON *streams, int one_conn) {
    static const char *const heads[] = {"CONNECTION", "RESOURCE",  "STATE",        "PHASE",
                                        "PROGRESS",   "RECORDS",   "PAGES",        "RATE/S",
                                        "ETA",        "IN DB",     "LAST SUCCESS", "LAST ERROR",
                                        "CORRECTED",  "MAX STALE", "LEDGER DRIFT"};
#define NHEADS ((int)(sizeof heads / sizeof heads[0]))
    /* one connection: its id is in the title, and IN DB is known */
    int skip = one_conn ? 1 : 0, nc = NHEADS - skip - (one_conn ? 0 : 1);
    const char *h[NHEADS];
    int k = 0;
    for (int c = skip; c < NHEADS; c++)
        if (one_conn || c != 9) h[k++] = heads[c];
    cli_table t;
    if (cli_table_init(&t, nc, h) != 0) return;
        /* column index in this table of the full layout's column c (-1 = not shown) */
#define COL(c) ((c) < skip || (!one_conn && (c) == 9) ? -1 : (c)-skip - (!one_conn && (c) > 9))
    for (int c = 5; c <= 9; c++)
        cli_table_align_right(&t, COL(c));
    cli_table_align_right(&t, COL(12));
    cli_table_align_right(&t, COL(13));
    cli_table_align_right(&t, COL(14));
    cli_table_width(&t, COL(11), 50);
    const cJSON *s;
    cJSON_ArrayForEach(s, streams) {
        char bar[64], n[32], pages[32], rate[32], eta[32], db[32], tb[64], corr[32], stale[32],
            drift[48];
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(s, "correction_stale_s_max");
        const cJSON *pg = cJSON_GetObjectItemCaseSensitive(s, "pages");
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(s, "progress");
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(s, "records_per_s");
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(s, "eta_s");
        const char *ls = cli_jstr(s, "last_success_at");
        cli_table_row(&t);
        cli_table_cell(&t, COL(0), cli_jstr(s, "connection_id"));
        cli_table_cell(&t, COL(1), cli_jstr(s, "resource"));
        cli_table_cell(&t, COL(2), cli_jstr(s, "state"));
        cli_table_cell(&t, COL(3), cli_jstr(s, "phase"));
        cli_table_cell(&t, COL(4),
                       cJSON_IsNumber(pr) ? cli_bar(pr->valuedouble, BAR_WIDTH, bar, sizeof bar)
                                          : NULL);
        cli_table_cell(&t, COL(5), cli_jtext(s, "records_seen", n, sizeof n));
        /* pages: shown when the fetcher reports them */
        cli_table_cell(&t, COL(6),
                       cJSON_IsNumber(pg) ? cli_jtext(s, "pages", pages, sizeof pages) : NULL);
        if (cJSON_IsNumber(rt)) snprintf(rate, sizeof rate, "%.1f", rt->valuedouble);
        cli_table_cell(&t, COL(7), cJSON_IsNumber(rt) ? rate : NULL);
        cli_table_cell(&t, COL(8),
                       cJSON_IsNumber(et) ? cli_duration((int64_t)et->valuedouble, eta, sizeof eta)
                                          : NULL);
        cli_table_cell(&t, COL(9), cli_jtext(s, "stored_records", db, sizeof db));
        cli_table_cell(&t, COL(10), ls ? cli_db_time(ls, tb, sizeof tb) : NULL);
        cli_table_cell(&t, COL(11), cli_jstr(s, "last_error"));
        /* versions a poll brought newer than the row (a webhook missed or late), and the
         * longest a corrected row had been stale */
        cli_table_cell(&t, COL(12), cli_jtext(s, "corrections", corr, sizeof corr));
        cli_table_cell(&t, COL(13),
                       cJSON_IsNumber(st)
                           ? cli_duration((int64_t)(st->valuedouble + 0.5), stale, sizeof stale)
                           : NULL);
        /* inventory windows whose onhand change the ledger does not account for, of the
         * windows evaluated (where the connection keeps a ledger) */
        int64_t lw = jint(s, "ledger_windows");
        snprintf(drift, sizeof drift, "%" PRId64 "/%" PRId64, jint(s, "ledger_drifts"), lw);
        cli_table_cell(&t, COL(14), lw > 0 ? drift : NULL);
    }
#undef COL
#undef NHEADS
    cli_table_render(&t, ctx->out);
    cli_table_free(&t);
}

/* 1 while any stream runs or has its first pass (backfill) still to do. */
static int busy(const cJSON *streams) {
    const cJSON *s;
    cJSON_ArrayForEach(s, streams) {
        const char *st = cli_jstr(s, "state"), *ph = cli_jstr(s, "phase");
        if ((st &&
             (strcmp(st, "running") == 0 || strcmp(st, "waiting_for_historical_sync") == 0)) ||
            (ph && strcmp(ph, "backfill") == 0 &&
             !(st && (strcmp(st, "unsupported") == 0 || strcmp(st, "failed") == 0 ||
                      strcmp(st, "blocked") == 0))))
            return 1;
    }
    return 0;
}

int cli_run_status(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    const char *conn = a->npos ? a->pos[0] : NULL, *source = "";
    int watch = CLI_ARGV("watch") != NULL, until_done = CLI_ARGV("until-done") != NULL;
    long interval = WATCH_INTERVAL_DEFAULT_S, count = 0;
    char err[2048];
    if (CLI_ARGV("interval") &&
        int_arg(ctx, "interval", CLI_ARGV("interval"), 1, WATCH_INTERVAL_MAX_S, &interval) != 0)
        return CLI_EXIT_USAGE;
    if (CLI_ARGV("count") && int_arg(ctx, "count", CLI_ARGV("count"), 1, 1000000, &count) != 0)
        return CLI_EXIT_USAGE;
    if (until_done) watch = 1;
    watch_state w = {0};
    int tty = !ctx->json && isatty(fileno(ctx->out)), rc = CLI_EXIT_OK, fetched = 0;
    for (long i = 0; !util_stop; i++) {
        cJSON *streams = sample_streams(ctx, conn, &source, err, sizeof err);
        if (!streams) {
            rc = fail(ctx, err, CLI_EXIT_FAIL);
            break;
        }
        int64_t now = util_now_ms();
        annotate(streams, now, &w);
        char at[32];
        val_time_format(now, 0, at);
        if (ctx->json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "at", at);
            cJSON_AddStringToObject(o, "source", source);
            cJSON_AddItemReferenceToObject(o, "streams", streams);
            /* while watching: one line per sample (NDJSON), for scripts that follow */
            char *s = watch ? cJSON_PrintUnformatted(o) : cJSON_Print(o);
            if (s) fprintf(ctx->out, "%s\n", s);
            free(s);
            cJSON_Delete(o);
        } else {
            if (watch && tty) fputs("\033[H\033[2J", ctx->out);
            fprintf(ctx->out, "%s  streams from the %s%s%s\n", at, source,
                    conn ? ", connection " : "", conn ? conn : "");
            status_table(ctx, streams, conn != NULL);
            if (watch) fputc('\n', ctx->out);
        }
        fflush(ctx->out);
        /* A connection registered a moment ago has no streams yet: that is not "done". */
        int more = busy(streams) || (conn && cJSON_GetArraySize(streams) == 0);
        cJSON_Delete(streams);
        if (until_done && !more) {
            fetched = 1;
            break;
        }
        if (!watch || (count && i + 1 >= count)) break;
        for (long ms = 0; ms < interval * 1000 && !util_stop; ms += 100)
            usleep(100 * 1000);
    }
    free(w.prev);
    if (fetched && !util_stop) rc = cli_wait_stored(ctx, interval);
    return rc;
}
