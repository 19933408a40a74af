/* bench_writer_db.c - throughput of the writer's database layer, in records per second.
 *
 * Same generated orders (each with 2 line items, 1 shipment with 1 line item, 1 package
 * with 1 line item: 6 table rows per record), same batch size, three fresh databases
 * with the same schema:
 *   wdb_apply    the whole layer: JSON parse, checks, in-batch dedupe, COPY to staging,
 *                guarded merge under a savepoint, the child rows that changed, commit;
 *   bare         the floor (the baseline of the goal): per batch, COPY the same rows
 *                (COPY text prepared outside the clock) into staging tables and one plain
 *                INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE per table, commit. No
 *                version guard, no child replacement, no JSON: the least any COPY-and-merge
 *                writer does;
 *   row_by_row   the naive writer, for scale: per record a prepared guarded upsert of the
 *                parent, then (when it changed) one DELETE per child table and one INSERT
 *                per child row, each a round trip; one transaction per batch.
 * Passes: insert (empty tables), update (every record newer, its children unchanged:
 * bare rewrites them, wdb_apply leaves them), replay (identical: no-op
 * for wdb_apply and row_by_row; bare rewrites every row, it has no guard).
 * Before each pass every database is ANALYZEd, as autovacuum does within a minute on a
 * live database: without it the bench would measure a schema's first minute, whose
 * never-analyzed tables get default selectivities.
 *
 *   bench_writer_db [records] [batch]     (BENCH_DATABASE_URL or TEST_DATABASE_URL)
 *
 * Prints a table and one BENCH line per figure (docs/benchmarks.md), with the client CPU
 * (this process, user + system) of wdb_apply and of bare per pass: while the client works
 * on a batch the server waits, so wdb_apply's client CPU above bare's is what it adds to
 * the wall time; and PostgreSQL's side of both: its backend's CPU and the WAL written,
 * per record. Exit 0 when every wdb_apply/bare ratio is >= 0.75, 1 otherwise.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench_canon_order.h"
#include "util.h"
#include "writer/db.h"
#include "writer/db_conn.h"
#include "writer/db_spec.h"
#include "writer/db_sql.h"
#include "writer/db_stage.h"

#define DEFAULT_RECORDS 20000
#define DEFAULT_BATCH 500
#define GOAL_RATIO 0.75 /* issue 7: wdb_apply >= 0.75 x bare */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) this process has used: the client's share of a pass, the
 * part the server waits for while a batch is prepared. */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *why);

/* CPU seconds (user + system) the server process behind c has used, from /proc: the
 * benchmark's PostgreSQL runs on this machine. -1 when it cannot be read (a remote
 * server), and the figures print as such. */
static double server_cpu_s(PGconn *c) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", PQbackendPID(c));
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields 14 and 15 (utime, stime, in clock ticks) follow the ")" closing field 2 */
    const char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The server's WAL insert position in bytes, through a connection of its own (the
 * benchmark's sessions may be inside a transaction). WAL is what a write costs beyond
 * the CPU, and unlike CPU on a shared machine it does not vary from run to run. */
static double wal_pos(const char *url) {
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, "SELECT pg_current_wal_insert_lsn() - '0/0'");
    double v = PQresultStatus(r) == PGRES_TUPLES_OK ? atof(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    PQfinish(c);
    return v;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_writer_db: %s: %s\n", what, why);
    exit(1);
}

static void exec_or_die(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        die(sql, PQerrorMessage(c));
    PQclear(r);
}

/* conninfo of url with another dbname */
static void conninfo_for(const char *url, const char *db, char *out, size_t len) {
    char *err = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &err);
    if (!o) die("conninfo", err ? err : "?");
    size_t n = 0;
    for (PQconninfoOption *p = o; p->keyword && n < len; p++) {
        const char *v = strcmp(p->keyword, "dbname") == 0 ? db : p->val;
        if (v) n += (size_t)snprintf(out + n, len - n, "%s='%s' ", p->keyword, v);
    }
    PQconninfoFree(o);
}

static void fresh_db(const char *url, const char *name, char *ci, size_t len) {
    char sql[128], err[512];
    PGconn *admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK) die("connect", PQerrorMessage(admin));
    exec_or_die(admin, "SET client_min_messages = warning");
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    exec_or_die(admin, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'", name);
    exec_or_die(admin, sql);
    PQfinish(admin);
    conninfo_for(url, name, ci, len);
    wdb *db = wdb_open(ci, err, sizeof err);
    if (!db || wdb_migrate(db, "writer/migrations", err, sizeof err)) die("migrate", err);
    wdb_close(db);
}

static void drop_db(const char *url, const char *name) {
    char sql[128];
    PGconn *admin = PQconnectdb(url);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    PQclear(PQexec(admin, sql));
    PQfinish(admin);
}

/* Seconds for n records through wdb_apply; *cpu: the client CPU seconds they took. */
static double run_wdb(wdb *db, char **v, int n, int batch, double *cpu, double *scpu) {
    wdb_item *items = calloc((size_t)batch, sizeof *items);
    char err[512];
    double t0 = now_s(), c0 = cpu_s(), s0 = server_cpu_s(wdb_conn(db));
    for (int i = 0; i < n; i += batch) {
        int len = n - i < batch ? n - i : batch;
        for (int k = 0; k < len; k++)
            items[k] = (wdb_item){
                .topic = "wms.orders.v1", .value = v[i + k], .value_len = strlen(v[i + k])};
        if (wdb_apply(db, items, len, err, sizeof err) != WDB_OK) die("wdb_apply", err);
        for (int k = 0; k < len; k++)
            if (items[k].rejected) die("rejected", items[k].reason);
    }
    double dt = now_s() - t0;
    *cpu = cpu_s() - c0;
    *scpu = s0 < 0 ? -1 : server_cpu_s(wdb_conn(db)) - s0;
    free(items);
    return dt;
}

/* ------------------------------------------------------------------ staging text */

/* The staging rows of every record, per batch and table, built outside the clock. */
typedef struct staged {
    const wdb_spec *sp;
    int nt, nb, batch, n;
    sbuf *text; /* [batch * nt + table] */
} staged;

static void stage_all(staged *st, char **v, int n, int batch) {
    char reason[256];
    st->sp = wdb_specs[wdb_spec_find("wms.orders.v1", "order", NULL)];
    st->nt = 1 + st->sp->nchildren;
    st->nb = (n + batch - 1) / batch;
    st->batch = batch;
    st->n = n;
    st->text = calloc((size_t)(st->nb * st->nt), sizeof *st->text);
    for (int i = 0; i < n; i++) {
        cJSON *rec = cJSON_Parse(v[i]);
        int oom;
        if (wdb_stage_rows(st->sp, rec, v[i], strlen(v[i]), i % batch,
                           &st->text[(i / batch) * st->nt], &oom, reason, sizeof reason))
            die("stage", reason);
        cJSON_Delete(rec);
    }
}

static void staged_free(staged *st) {
    for (int i = 0; i < st->nb * st->nt; i++)
        sbuf_free(&st->text[i]);
    free(st->text);
}

/* ------------------------------------------------------------------ SQL from the spec */

/* Table t of the spec (0 = parent): its name, its column list in COPY order after the
 * seq column, each column's cast, and how many leading columns form its key. */
typedef struct tcols {
    const char *table;
    const char *name[96];
    const char *cast[96];
    int n, nkey;
} tcols;

static void table_cols(const wdb_spec *sp, int t, tcols *tc) {
    memset(tc, 0, sizeof *tc);
    if (t == 0) {
        tc->table = wdb_spec_table(sp);
        for (int i = 0; i < sp->ncols; i++) {
            tc->name[tc->n] = sp->cols[i].name;
            tc->cast[tc->n++] = wdb_sql_cast(sp->cols[i].type);
        }
        tc->name[tc->n] = sp->record_col;
        tc->cast[tc->n++] = "::jsonb";
        tc->nkey = sp->nkeys;
        return;
    }
    const wdb_child *ch = &sp->children[t - 1];
    tc->table = ch->table;
    tc->name[tc->n] = "connection_id";
    tc->cast[tc->n++] = "";
    tc->name[tc->n] = ch->parent_col;
    tc->cast[tc->n++] = "";
    for (int l = 0; l < ch->depth; l++) {
        if (!ch->levels[l].ord_col) continue;
        tc->name[tc->n] = ch->levels[l].ord_col;
        tc->cast[tc->n++] = "::integer";
    }
    tc->nkey = tc->n;
    for (int i = 0; i < ch->ncols; i++) {
        tc->name[tc->n] = ch->cols[i].name;
        tc->cast[tc->n++] = wdb_sql_cast(ch->cols[i].type);
    }
}

/* INSERT INTO target SELECT staging ON CONFLICT (key) DO UPDATE SET every column. */
static void bare_merge_sql(const wdb_spec *sp, int t, sbuf *o) {
    tcols tc;
    char stage[80];
    table_cols(sp, t, &tc);
    wdb_sql_stage_name(sp, t, stage, sizeof stage);
    sbuf_printf(o, "INSERT INTO \"%s\" (", tc.table);
    for (int i = 0; i < tc.n; i++)
        sbuf_printf(o, "%s\"%s\"", i ? ", " : "", tc.name[i]);
    sbuf_printf(o, ") SELECT ");
    for (int i = 0; i < tc.n; i++)
        sbuf_printf(o, "%s\"%s\"%s", i ? ", " : "", tc.name[i], tc.cast[i]);
    sbuf_printf(o, " FROM %s ON CONFLICT (", stage);
    for (int i = 0; i < tc.nkey; i++)
        sbuf_printf(o, "%s\"%s\"", i ? ", " : "", tc.name[i]);
    sbuf_printf(o, ") DO UPDATE SET ");
    for (int i = tc.nkey; i < tc.n; i++)
        sbuf_printf(o, "%s\"%s\" = EXCLUDED.\"%s\"", i > tc.nkey ? ", " : "", tc.name[i],
                    tc.name[i]);
}

/* One row of table t with parameters; the parent's upsert is guarded like the merge. */
static void rbr_insert_sql(const wdb_spec *sp, int t, sbuf *o) {
    tcols tc;
    table_cols(sp, t, &tc);
    sbuf_printf(o, "INSERT INTO \"%s\" AS t (", tc.table);
    for (int i = 0; i < tc.n; i++)
        sbuf_printf(o, "%s\"%s\"", i ? ", " : "", tc.name[i]);
    sbuf_printf(o, ") VALUES (");
    for (int i = 0; i < tc.n; i++)
        sbuf_printf(o, "%s$%d%s", i ? ", " : "", i + 1, tc.cast[i]);
    sbuf_printf(o, ")");
    if (t != 0) return;
    const char *v = sp->version_col, *r = sp->record_col;
    sbuf_printf(o, " ON CONFLICT (");
    for (int i = 0; i < tc.nkey; i++)
        sbuf_printf(o, "%s\"%s\"", i ? ", " : "", tc.name[i]);
    sbuf_printf(o, ") DO UPDATE SET ");
    for (int i = tc.nkey; i < tc.n; i++)
        sbuf_printf(o, "\"%s\" = EXCLUDED.\"%s\", ", tc.name[i], tc.name[i]);
    sbuf_printf(
        o,
        "\"db_updated_at\" = now() WHERE t.\"%s\" < EXCLUDED.\"%s\" OR (t.\"%s\" = EXCLUDED.\"%s\" "
        "AND t.\"%s\" IS DISTINCT FROM EXCLUDED.\"%s\") RETURNING 1",
        v, v, v, v, r, r);
}

/* ------------------------------------------------------------------ loops */

static PGconn *connect_or_die(const char *ci) {
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK) die("connect", PQerrorMessage(c));
    exec_or_die(c, "SET TIME ZONE 'UTC'; SET client_min_messages = warning");
    return c;
}

static void copy_text(PGconn *c, const char *table, const sbuf *s) {
    char sql[96];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) die("copy", PQerrorMessage(c));
    PQclear(r);
    if (PQputCopyData(c, s->p, (int)s->len) != 1 || PQputCopyEnd(c, NULL) != 1)
        die("copy", PQerrorMessage(c));
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) die("copy", PQerrorMessage(c));
        PQclear(r);
    }
}

typedef struct bare {
    PGconn *c;
    sbuf merge[1 + WDB_MAX_CHILD_TABLES];
    long deleted; /* staged rows deleted since the last VACUUM or TRUNCATE */
} bare;

static void bare_prepare(bare *b, const char *ci, const wdb_spec *sp) {
    b->c = connect_or_die(ci);
    sbuf ddl = {0};
    wdb_sql_staging_ddl(sp, &ddl);
    exec_or_die(b->c, ddl.p);
    sbuf_free(&ddl);
    for (int t = 0; t < 1 + sp->nchildren; t++)
        bare_merge_sql(sp, t, &b->merge[t]);
}

/* Seconds for one pass of bare; *cpu: its client CPU seconds (sending the COPY text and
 * waiting on results: the floor under wdb_apply's client CPU). */
static double run_bare(bare *b, const staged *st, double *cpu, double *scpu) {
    double t0 = now_s(), c0 = cpu_s(), s0 = server_cpu_s(b->c);
    for (int k = 0; k < st->nb; k++) {
        exec_or_die(b->c, "BEGIN");
        for (int t = 0; t < st->nt; t++) {
            char table[80];
            wdb_sql_stage_name(st->sp, t, table, sizeof table);
            if (st->text[k * st->nt + t].len) copy_text(b->c, table, &st->text[k * st->nt + t]);
        }
        for (int t = 0; t < st->nt; t++)
            exec_or_die(b->c, b->merge[t].p);
        /* Emptied as the writer empties them (writer/db_sql.h). */
        long n = k + 1 < st->nb ? st->batch : st->n - (long)k * st->batch;
        int truncate = n >= WDB_STAGE_TRUNCATE_BATCH;
        sbuf clear = {0};
        if (wdb_sql_staging_clear(st->sp, truncate, &clear)) die("clear", "out of memory");
        exec_or_die(b->c, clear.p);
        exec_or_die(b->c, "COMMIT");
        b->deleted = truncate ? 0 : b->deleted + n;
        if (b->deleted >= WDB_STAGE_VACUUM_RECORDS) {
            clear.len = 0;
            if (sbuf_printf(&clear, "VACUUM ") || wdb_sql_staging_names(st->sp, &clear))
                die("vacuum", "out of memory");
            exec_or_die(b->c, clear.p);
            b->deleted = 0;
        }
        sbuf_free(&clear);
    }
    *cpu = cpu_s() - c0;
    *scpu = s0 < 0 ? -1 : server_cpu_s(b->c) - s0;
    return now_s() - t0;
}

/* Split one COPY text line in place into its fields (NULL for \N), undoing the escapes
 * wdb_copy_escape made. Returns the field count; *next is the following line. */
static int copy_fields(char *line, char **f, int maxf, char **next) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *w = p;
        int null = p[0] == '\\' && p[1] == 'N' && (p[2] == '\t' || p[2] == '\n' || p[2] == '\0');
        if (null) p += 2;
        while (*p != '\t' && *p != '\n' && *p != '\0') {
            if (*p == '\\' && p[1]) {
                p++;
                *w++ = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p;
                p++;
                continue;
            }
            *w++ = *p++;
        }
        char end = *p;
        if (!null) *w = '\0';
        if (n < maxf) f[n++] = null ? NULL : start;
        if (end != '\t') {
            *next = end == '\n' ? p + 1 : p;
            return n;
        }
        p++;
    }
}

typedef struct rbr {
    PGconn *c;
    int nparams[1 + WDB_MAX_CHILD_TABLES];
} rbr;

static void rbr_prepare(rbr *r, const char *ci, const wdb_spec *sp) {
    r->c = connect_or_die(ci);
    for (int t = 0; t < 1 + sp->nchildren; t++) {
        sbuf q = {0};
        char name[16];
        tcols tc;
        table_cols(sp, t, &tc);
        r->nparams[t] = tc.n;
        rbr_insert_sql(sp, t, &q);
        snprintf(name, sizeof name, "rbr_i%d", t);
        PGresult *res = PQprepare(r->c, name, q.p, tc.n, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) die("prepare", PQerrorMessage(r->c));
        PQclear(res);
        sbuf_free(&q);
        if (t == 0) continue;
        sbuf_printf(&q, "DELETE FROM \"%s\" WHERE connection_id = $1 AND \"%s\" = $2", tc.table,
                    tc.name[1]);
        snprintf(name, sizeof name, "rbr_d%d", t);
        res = PQprepare(r->c, name, q.p, 2, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) die("prepare", PQerrorMessage(r->c));
        PQclear(res);
        sbuf_free(&q);
    }
}

static PGresult *exec_prep(PGconn *c, const char *name, int n, const char *const *vals) {
    PGresult *res = PQexecPrepared(c, name, n, vals, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        die(name, PQerrorMessage(c));
    return res;
}

/* The COPY text of each batch is parsed into parameters before the clock starts. */
static double run_rbr(rbr *r, const staged *st, int batch) {
    enum { MAXF = 97 };
    int nt = st->nt;
    /* rows[t][k] = fields of the k-th row of table t in the batch; seq first */
    typedef struct row {
        char *f[MAXF];
        int nf;
    } row;
    double total = 0;
    char *copy[1 + WDB_MAX_CHILD_TABLES];
    row *rows[1 + WDB_MAX_CHILD_TABLES];
    int nrows[1 + WDB_MAX_CHILD_TABLES];
    for (int k = 0; k < st->nb; k++) {
        for (int t = 0; t < nt; t++) {
            const sbuf *s = &st->text[k * nt + t];
            copy[t] = malloc(s->len + 1);
            memcpy(copy[t], s->len ? s->p : "", s->len);
            copy[t][s->len] = '\0';
            rows[t] = calloc((size_t)batch * 8 + 1, sizeof **rows);
            nrows[t] = 0;
            for (char *p = copy[t]; *p && nrows[t] < batch * 8;) {
                row *w = &rows[t][nrows[t]++];
                w->nf = copy_fields(p, w->f, MAXF, &p);
            }
        }
        double t0 = now_s();
        exec_or_die(r->c, "BEGIN");
        int ci[1 + WDB_MAX_CHILD_TABLES] = {0};
        for (int i = 0; i < nrows[0]; i++) {
            const row *pr = &rows[0][i];
            const char *seq = pr->f[0];
            PGresult *res =
                exec_prep(r->c, "rbr_i0", r->nparams[0], (const char *const *)pr->f + 1);
            int changed = PQntuples(res) > 0;
            PQclear(res);
            for (int t = 1; t < nt; t++) {
                char name[16];
                if (changed) {
                    const char *key[2] = {pr->f[1], pr->f[2]};
                    snprintf(name, sizeof name, "rbr_d%d", t);
                    PQclear(exec_prep(r->c, name, 2, key));
                }
                snprintf(name, sizeof name, "rbr_i%d", t);
                for (; ci[t] < nrows[t] && strcmp(rows[t][ci[t]].f[0], seq) == 0; ci[t]++)
                    if (changed)
                        PQclear(exec_prep(r->c, name, r->nparams[t],
                                          (const char *const *)rows[t][ci[t]].f + 1));
            }
        }
        exec_or_die(r->c, "COMMIT");
        total += now_s() - t0;
        for (int t = 0; t < nt; t++)
            free(copy[t]), free(rows[t]);
    }
    return total;
}

static void analyze(const char *ci) {
    PGconn *c = connect_or_die(ci);
    exec_or_die(c, "ANALYZE");
    PQfinish(c);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : DEFAULT_RECORDS;
    int batch = argc > 2 ? atoi(argv[2]) : DEFAULT_BATCH;
    const char *url = getenv("BENCH_DATABASE_URL");
    if (!url || !*url) url = getenv("TEST_DATABASE_URL");
    if (!url || !*url) die("config", "set BENCH_DATABASE_URL or TEST_DATABASE_URL");
    if (n < 1 || batch < 1 || batch > WDB_MAX_BATCH)
        die("config", "records >= 1, 1 <= batch <= WDB_MAX_BATCH");
    char ci_w[2048], ci_b[2048], ci_r[2048], err[512];
    fresh_db(url, "wdb_bench_layer", ci_w, sizeof ci_w);
    fresh_db(url, "wdb_bench_bare", ci_b, sizeof ci_b);
    fresh_db(url, "wdb_bench_rbr", ci_r, sizeof ci_r);
    wdb *db = wdb_open(ci_w, err, sizeof err);
    if (!db) die("wdb_open", err);

    char **v1 = bench_canon_orders(n, 6, "open"), **v2 = bench_canon_orders(n, 7, "fulfilled");
    staged s1 = {0}, s2 = {0};
    stage_all(&s1, v1, n, batch);
    stage_all(&s2, v2, n, batch);
    long rows = 0; /* table rows per pass: parents and children */
    for (int i = 0; i < s1.nb * s1.nt; i++)
        for (size_t k = 0; k < s1.text[i].len; k++)
            rows += s1.text[i].p[k] == '\n';
    bare b = {0};
    rbr r = {0};
    bare_prepare(&b, ci_b, s1.sp);
    rbr_prepare(&r, ci_r, s1.sp);

    printf("bench_writer_db: %d orders, %ld table rows (%.1f per order), batches of %d\n", n, rows,
           (double)rows / n, batch);
    printf("%-8s %12s %12s %12s %7s %12s %12s %19s %15s %15s %15s %12s %12s\n", "pass",
           "wdb_apply/s", "bare/s", "row_by_row/s", "w/bare", "wdb rows/s", "w/rbr",
           "wdb client cpu", "bare client", "wdb server", "bare server", "wdb wal", "bare wal");
    const char *names[3] = {"insert", "update", "replay"};
    char **sets[3] = {v1, v2, v2};
    const staged *st[3] = {&s1, &s2, &s2};
    int met = 1;
    for (int p = 0; p < 3; p++) {
        analyze(ci_w), analyze(ci_b), analyze(ci_r);
        double cpu, bcpu, scpu, sbcpu;
        double w0 = wal_pos(url);
        double w = n / run_wdb(db, sets[p], n, batch, &cpu, &scpu);
        double w1 = wal_pos(url);
        double x = n / run_bare(&b, st[p], &bcpu, &sbcpu);
        double w2 = wal_pos(url);
        double y = n / run_rbr(&r, st[p], batch);
        met &= w / x >= GOAL_RATIO;
        printf("%-8s %12.0f %12.0f %12.0f %6.2fx %12.0f %11.1fx %6.2f s %3.0f us/rec %8.0f us/rec "
               "%8.0f us/rec %8.0f us/rec %8.0f B/rec %8.0f B/rec\n",
               names[p], w, x, y, w / x, w * rows / n, w / y, cpu, cpu * 1e6 / n, bcpu * 1e6 / n,
               scpu * 1e6 / n, sbcpu * 1e6 / n, (w1 - w0) / n, (w2 - w1) / n);
        printf(
            "BENCH name=writer.%s.records_per_s value=%.0f unit=records/s baseline=%.0f "
            "baseline_name=bare_copy_merge goal=ratio>=%.2f stage=writer rows_per_record=%.1f "
            "client_cpu_s=%.2f bare_client_cpu_s=%.2f server_cpu_s=%.2f bare_server_cpu_s=%.2f\n",
            names[p], w, x, GOAL_RATIO, (double)rows / n, cpu, bcpu, scpu, sbcpu);
        printf("BENCH name=writer.%s.vs_row_by_row value=%.0f unit=records/s baseline=%.0f "
               "baseline_name=row_by_row stage=writer\n",
               names[p], w, y);
        fflush(stdout);
    }
    staged_free(&s1);
    staged_free(&s2);
    for (int i = 0; i < n; i++)
        free(v1[i]), free(v2[i]);
    free(v1), free(v2);
    wdb_close(db);
    PQfinish(b.c);
    PQfinish(r.c);
    for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
        sbuf_free(&b.merge[t]);
    if (!getenv("BENCH_KEEP")) drop_db(url, "wdb_bench_layer");
    drop_db(url, "wdb_bench_bare");
    drop_db(url, "wdb_bench_rbr");
    return met ? 0 : 1;
}
