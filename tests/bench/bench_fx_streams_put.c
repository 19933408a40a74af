/* bench_fx_streams_put.c - the fetcher's store of stream state (fx_db_streams_put), rows
 * a second at batches of 50 and 500, against the statement it replaced in the same run:
 * one VALUES tuple a row, 18 parameters each (9,000 at 500 rows), which PostgreSQL
 * planned anew every time (40-90 ms at 500 rows on this machine, several times what the
 * upsert itself took).
 *
 *   bench_fx_streams_put <conninfo of a migrated database> [repetitions, default 20]
 *
 * The rows are the bench's own connection ids (bench-streams-NNNNNN), deleted at the end.
 * Each pass first inserts them, then times the updates. Prints BENCH lines
 * (docs/benchmarks.md); exits 0 when the store is at least as fast as the baseline at
 * both sizes, 1 when not, 2 when it could not measure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher/fx_db.h"
#include "util.h"

#define MAX_ROWS 500
#define COLS 18

typedef struct bench_rows {
    char ids[MAX_ROWS][32];
    fx_db_stream s[MAX_ROWS];
    fx_db_stream_row rows[MAX_ROWS];
} bench_rows;

static void fill(bench_rows *b, int n, int rep) {
    for (int i = 0; i < n; i++) {
        fx_db_stream *s = &b->s[i];
        snprintf(b->ids[i], sizeof b->ids[i], "bench-streams-%06d", i);
        snprintf(s->state, sizeof s->state, "%s", rep % 2 ? "running" : "idle");
        snprintf(s->cursor_field, sizeof s->cursor_field, "updated_date");
        s->cursor_ms = 1780000000000LL + rep * 1000 + i;
        s->last_started_ms = s->cursor_ms + 1;
        s->last_success_ms = s->cursor_ms + 2;
        s->next_due_ms = s->cursor_ms + 3600000;
        s->records_seen = (int64_t)rep * 20;
        s->sync_frequency_s = 3600;
        b->rows[i] = (fx_db_stream_row){.conn = b->ids[i], .resource = "orders", .s = s};
    }
}

/* The replaced statement: a VALUES tuple of 18 parameters a row, the same casts. */
static int values_put(PGconn *db, const bench_rows *b, int n) {
    sbuf q = {0};
    static char ms[MAX_ROWS][6][24], rs[MAX_ROWS][24], fq[MAX_ROWS][16];
    static const char *p[MAX_ROWS * COLS];
    int rc = sbuf_printf(&q, "INSERT INTO fetcher_streams (connection_id, resource, state, "
                             "cursor_field, cursor_at, backfill_done, run_started_at, "
                             "last_started_at, last_success_at, records_seen, last_error, "
                             "next_due_at, unsupported_until, sync_frequency_s, last_crawl_end_at, "
                             "cursor_rule, last_crawl_start_at, crawl_error) VALUES ");
    for (int i = 0; i < n && rc == 0; i++) {
        const fx_db_stream *s = &b->s[i];
        const char **r = p + i * COLS;
        int64_t t[6] = {s->cursor_ms, s->last_started_ms, s->last_success_ms, s->next_due_ms, 0, 0};
        for (int k = 0; k < 6; k++)
            snprintf(ms[i][k], sizeof ms[i][k], "%" PRId64, t[k]);
        snprintf(rs[i], sizeof rs[i], "%" PRId64, s->records_seen);
        snprintf(fq[i], sizeof fq[i], "%d", s->sync_frequency_s);
        const char *v[COLS] = {b->ids[i], "orders", s->state, s->cursor_field, ms[i][0],
                               "f",       NULL,     ms[i][1], ms[i][2],        rs[i],
                               NULL,      ms[i][3], NULL,     fq[i],           NULL,
                               "0",       NULL,     "f"};
        memcpy(r, v, sizeof v);
        int k = i * COLS;
        rc |= sbuf_printf(&q,
                          "%s($%d, $%d, $%d, $%d, to_timestamp($%d::double precision / 1000),"
                          " $%d::boolean, to_timestamp($%d::double precision / 1000),"
                          " to_timestamp($%d::double precision / 1000),"
                          " to_timestamp($%d::double precision / 1000), $%d::bigint, $%d,"
                          " to_timestamp($%d::double precision / 1000),"
                          " to_timestamp($%d::double precision / 1000), $%d::integer,"
                          " to_timestamp($%d::double precision / 1000), $%d::integer,"
                          " to_timestamp($%d::double precision / 1000), $%d::boolean)",
                          i ? ", " : "", k + 1, k + 2, k + 3, k + 4, k + 5, k + 6, k + 7, k + 8,
                          k + 9, k + 10, k + 11, k + 12, k + 13, k + 14, k + 15, k + 16, k + 17,
                          k + 18);
    }
    rc |=
        sbuf_printf(&q, " ON CONFLICT (connection_id, resource) DO UPDATE SET"
                        " state = EXCLUDED.state, cursor_at = EXCLUDED.cursor_at,"
                        " last_started_at = EXCLUDED.last_started_at,"
                        " last_success_at = EXCLUDED.last_success_at,"
                        " records_seen = EXCLUDED.records_seen, next_due_at = EXCLUDED.next_due_at,"
                        " updated_at = now()");
    if (rc != 0) {
        sbuf_free(&q);
        return -1;
    }
    PGresult *res = PQexecParams(db, q.p, n * COLS, NULL, p, NULL, NULL, 0);
    rc = res && PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc) fprintf(stderr, "bench: VALUES statement: %s", PQerrorMessage(db));
    PQclear(res);
    sbuf_free(&q);
    return rc;
}

/* Rows a second over reps updates of n rows, by the store (values = 0) or the baseline. */
static double pass(PGconn *db, bench_rows *b, int n, int reps, int values) {
    char err[256];
    fill(b, n, 0);
    if (fx_db_streams_put(db, b->rows, n, err, sizeof err) != 0) { /* insert, untimed */
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    int64_t t0 = util_mono_us();
    for (int r = 1; r <= reps; r++) {
        fill(b, n, r);
        if (values ? values_put(db, b, n) != 0
                   : fx_db_streams_put(db, b->rows, n, err, sizeof err) != 0) {
            if (!values) fprintf(stderr, "bench: %s\n", err);
            return -1;
        }
    }
    double s = (double)(util_mono_us() - t0) / 1e6;
    return s > 0 ? (double)n * reps / s : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <conninfo> [repetitions]\n", argv[0]);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    if (reps < 1) reps = 1;
    char err[256];
    PGconn *db = fx_db_open(argv[1], err, sizeof err);
    if (!db) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    bench_rows *b = calloc(1, sizeof *b);
    int rc = b ? 0 : 2;
    const int sizes[] = {50, MAX_ROWS};
    for (int k = 0; k < 2 && rc != 2; k++) {
        int n = sizes[k];
        double store = pass(db, b, n, reps, 0), values = pass(db, b, n, reps, 1);
        if (store <= 0 || values <= 0) {
            rc = 2;
            break;
        }
        printf("fetcher stream state, %d rows a statement: %.0f rows/s (%.1f ms a statement); "
               "VALUES list %.0f rows/s (%.1f ms)\n",
               n, store, 1000.0 * n / store, values, 1000.0 * n / values);
        printf("BENCH name=fetcher.streams_put.n%d stage=fetcher value=%.0f unit=rows/s "
               "baseline=%.0f baseline_name=values_list goal=ratio>=1 reps=%d\n",
               n, store, values, reps);
        if (store < values) rc = 1;
    }
    PQclear(PQexec(db, "DELETE FROM fetcher_streams WHERE connection_id LIKE 'bench-streams-%'"));
    PQfinish(db);
    free(b);
    return rc;
}
