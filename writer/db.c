/* db.c - the writer's connection and its batch apply (see db.h for the contract).
 *
 * wdb_apply, in one transaction:
 *   1. parse and check every item in C; find its spec, key and version;
 *   2. reduce duplicates: per (spec, key) the version the rule of db_version.h prefers
 *      wins (applying it alone gives what applying all in order would); the others wait
 *      as runner-ups;
 *   3. per round: COPY the candidates' rows into the staging tables, then merge the
 *      round's sequence range under a savepoint. A content error (SQLSTATE class 22, 23,
 *      54) rolls back to the savepoint and the range is bisected until the one record
 *      PostgreSQL refuses is found and rejected; the rest are merged again;
 *   4. the runner-up of a rejected winner gets the next round, so the batch ends exactly
 *      as if its records had been applied one by one;
 *   5. COMMIT. Any other failure rolls everything back: WDB_RETRY.
 */
#include "writer/db.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_arena.h"
#include "values.h"
#include "pq_conn.h"
#include "writer/db_accuracy.h"
#include "writer/db_int.h"
#include "writer/db_sql.h"
#include "writer/db_stage.h"
#include "writer/db_version.h"

#define WDB_CONNECT_TIMEOUT_S "10"    /* unless the conninfo says otherwise */
#define WDB_COPY_CHUNK (256u * 1024u) /* bytes per PQputCopyData call */
#define WDB_INT4_OID 23
/* Arena memory kept from one wdb_apply call to the next: a batch of 500 orders parses
 * into about 7 MiB. Freeing it each time cost ~15% of the client's CPU in page faults. */
#define WDB_ARENA_KEEP (32u << 20)

/* One record that passed the C checks. */
typedef struct cand {
    int item;
    int spec;
    char *key;
    wdb_version version;
    const cJSON *json; /* in wdb.arena */
    int del;           /* a delete record */
    int gen;           /* deletes of the same record earlier in the batch (see wdb_apply) */
    int next;          /* the next older version of the same record (index into cands), or -1 */
} cand;

typedef struct apply_ctx {
    wdb *db;
    wdb_item *items;
    cand *cands;
    int *seq_cand; /* staging seq -> cands index */
    int *round;    /* this round's seqs sorted by (spec, key): finds what a statement applied */
    int nround;
    char *errstr;
    size_t errlen;
    /* a round's staging buffers with rows, and their tables (copy_all) */
    sbuf *copy_bufs[WDB_MAX_SPECS * (2 + WDB_MAX_CHILD_TABLES)];
    char copy_tables[WDB_MAX_SPECS * (2 + WDB_MAX_CHILD_TABLES)][80];
} apply_ctx;

/* ------------------------------------------------------------------ errors */

/* Copy libpq's message without its trailing newline. */
static void set_pq_err(char *errstr, size_t errlen, const char *what, const char *msg) {
    snprintf(errstr, errlen, "%s: %s", what, msg && *msg ? msg : "unknown error");
    size_t n = strlen(errstr);
    while (n && (errstr[n - 1] == '\n' || errstr[n - 1] == ' '))
        errstr[--n] = '\0';
}

static void set_res_err(wdb *db, const PGresult *res, char *errstr, size_t errlen,
                        const char *what) {
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char buf[512];
    snprintf(buf, sizeof buf, "%s (SQLSTATE %s)", msg ? msg : PQerrorMessage(db->conn),
             st ? st : "none");
    set_pq_err(errstr, errlen, what, buf);
}

/* A failure caused by the data of the statement, not by the server or the session:
 * data exceptions (22), integrity violations (23), program limits such as an index row
 * too large (54). Everything else (connection, 40xxx, 53xxx, 57xxx, ...) is transient. */
static int is_content_error(wdb *db, const PGresult *res) {
    if (PQstatus(db->conn) != CONNECTION_OK) return 0;
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!st) return 0;
    return strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0 || strncmp(st, "54", 2) == 0;
}

static int reject(wdb_item *it, const char *reason) {
    size_t n = strnlen(reason, sizeof it->reason - 1);
    it->rejected = 1;
    memcpy(it->reason, reason, n);
    it->reason[n] = '\0';
    return -1;
}

/* ------------------------------------------------------------------ connection */

static int exec_cmd(wdb *db, const char *sql, char *errstr, size_t errlen);

void wdb_res_err(wdb *db, const PGresult *res, char *errstr, size_t errlen, const char *what) {
    set_res_err(db, res, errstr, errlen, what);
}

int wdb_exec(wdb *db, const char *sql, char *errstr, size_t errlen) {
    return exec_cmd(db, sql, errstr, errlen);
}

/* Run a utility command; 0 or -1 with errstr. */
static int exec_cmd(wdb *db, const char *sql, char *errstr, size_t errlen) {
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_res_err(db, res, errstr, errlen, sql);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

wdb *wdb_open(const char *conninfo, char *errstr, size_t errlen) {
    wdb *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    /* Our defaults first: later entries (the expanded conninfo) override them. */
    const char *kw[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *val[] = {WDB_CONNECT_TIMEOUT_S, "trackstar-writer", conninfo ? conninfo : "", NULL};
    db->conn = PQconnectdbParams(kw, val, 1);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        snprintf(errstr, errlen, "%s", pq_conn_failure(conninfo, db->conn));
        goto fail;
    }
    if (PQsetClientEncoding(db->conn, "UTF8") != 0) {
        set_pq_err(errstr, errlen, "client encoding", PQerrorMessage(db->conn));
        goto fail;
    }
    /* NOTICEs ("relation exists, skipping") would go to stderr as non-JSON lines.
     * Every statement of this session is driven by a batch's keys, so nested loops over
     * primary-key indexes are always the right plan; left alone, the planner prefers a
     * hash join that scans a whole child table per batch (measured: 24.8 ms vs 2.9 ms
     * for 500 parents over 40k child rows, and linear in the table's size).
     * Nor may it materialize the inner side of a loop: sized from a staging table's
     * estimate (a seq range it has no statistics for: 0.5% of its rows), the child
     * delete's lookup of the staged rows ran as a scan of a materialized copy, every
     * staged row per stored row (4 million comparisons at a batch of 2,000 orders),
     * where the staging index costs one probe. work_mem: the merge sorts a batch by
     * key, up to ~7 MB of rows at 2,000 orders, which spilled to disk at the default.
     * (The child deletes are therefore not prepared: see merge_statements.) */
    if (exec_cmd(db,
                 "SET statement_timeout = '" WDB_STATEMENT_TIMEOUT "'; SET TIME ZONE 'UTC'; "
                 "SET client_min_messages = warning; SET enable_hashjoin = off; "
                 "SET enable_mergejoin = off; SET enable_material = off; "
                 "SET work_mem = '" WDB_WORK_MEM "'",
                 errstr, errlen))
        goto fail;
    /* lz4 compresses the jsonb record several times faster than pglz, at about the same
     * size; a server built without lz4 refuses the value and keeps its default, which is
     * only slower, so the refusal is not an error. */
    PQclear(PQexec(db->conn, "SET default_toast_compression = lz4"));
    return db;
fail:
    wdb_close(db);
    return NULL;
}

void wdb_close(wdb *db) {
    if (!db) return;
    if (db->conn) PQfinish(db->conn);
    for (int i = 0; i < WDB_MAX_SPECS; i++)
        for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
            sbuf_free(&db->bufs[i][t]);
    for (int i = 0; i < WDB_MAX_SPECS; i++)
        sbuf_free(&db->dbufs[i]);
    sbuf_free(&db->multi_sql);
    json_arena_free(&db->arena);
    free(db->acc);
    free(db->pi);
    free(db->pubs);
    sbuf_free(&db->pubtext);
    free(db);
}

int wdb_ok(wdb *db) {
    return db && db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

PGconn *wdb_conn(wdb *db) {
    return db->conn;
}

/* ------------------------------------------------------------------ prepare */

static int prepare_one(wdb *db, const char *name, const sbuf *sql, int nparams, char *errstr,
                       size_t errlen) {
    static const Oid types[2] = {WDB_INT4_OID, WDB_INT4_OID};
    PGresult *res = PQprepare(db->conn, name, sql->p, nparams, nparams ? types : NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        set_res_err(db, res, errstr, errlen, "prepare");
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

/* Start the session's prepared state: forget statements of an earlier attempt and check
 * every spec. The staging tables and statements of a spec are made on its first use
 * (prepare_spec): a writer fed one topic needs one spec's tables, not all fourteen
 * specs' ~50. */
static int wdb_prepare(wdb *db, char *errstr, size_t errlen) {
    if (wdb_nspecs > WDB_MAX_SPECS) {
        snprintf(errstr, errlen, "too many specs");
        return -1;
    }
    for (int i = 0; i < wdb_nspecs; i++)
        if (wdb_sql_check(wdb_specs[i], errstr, errlen)) return -1;
    if (exec_cmd(db, "DEALLOCATE ALL", errstr, errlen)) return -1;
    memset(db->ready, 0, sizeof db->ready);
    db->prepared = 1;
    return 0;
}

/* Create spec i's staging tables and prepare its statements, outside any transaction
 * (a rolled-back CREATE would leave prepared statements without their tables).
 * Idempotent (IF NOT EXISTS); after a failure the caller restarts from wdb_prepare,
 * whose DEALLOCATE ALL drops what was prepared. Fails with "relation ... does not exist"
 * until the migrations have run. */
static int prepare_spec(wdb *db, int i, char *errstr, size_t errlen) {
    const wdb_spec *s = wdb_specs[i];
    sbuf sql = {0};
    char name[32];
    if (wdb_sql_staging_ddl(s, &sql)) goto oom;
    if (exec_cmd(db, sql.p, errstr, errlen)) goto fail;
    sql.len = 0;
    if (wdb_sql_merge(s, &sql)) goto oom;
    snprintf(name, sizeof name, "wdb_m%d", i);
    if (prepare_one(db, name, &sql, 2, errstr, errlen)) goto fail;
    if (wdb_spec_lifecycle(s)) {
        sql.len = 0;
        if (wdb_sql_delete(s, &sql)) goto oom;
        snprintf(name, sizeof name, "wdb_d%d", i);
        if (prepare_one(db, name, &sql, 2, errstr, errlen)) goto fail;
    }
    for (int c = 0; c < s->nchildren; c++) {
        sql.len = 0;
        if (wdb_sql_child_insert(s, c, &sql)) goto oom;
        snprintf(name, sizeof name, "wdb_i%d_%d", i, c);
        if (prepare_one(db, name, &sql, 2, errstr, errlen)) goto fail;
    }
    sbuf_free(&sql);
    db->ready[i] = 1;
    return 0;
oom:
    snprintf(errstr, errlen, "out of memory");
fail:
    sbuf_free(&sql);
    db->prepared = 0;
    return -1;
}

/* ------------------------------------------------------------------ statements */

/* Run a prepared statement with the seq range [lo, hi) (nparams 2) or none. Returns the
 * result on success (caller clears); NULL with *err set to the failed result (caller
 * clears) otherwise. */
static PGresult *run(wdb *db, const char *name, int nparams, int lo, int hi, PGresult **err) {
    char a[16], b[16];
    const char *vals[2] = {a, b};
    snprintf(a, sizeof a, "%d", lo);
    snprintf(b, sizeof b, "%d", hi);
    PGresult *res = PQexecPrepared(db->conn, name, nparams, nparams ? vals : NULL, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
        *err = NULL;
        return res;
    }
    *err = res;
    return NULL;
}

/* This round's staged candidate of (spec, key "len:conn" "len:id"), or -1: bsearch over
 * a->round, sorted by cmp_round. */
static int cmp_round_key(const cand *c, int spec, const char *key) {
    if (c->spec != spec) return c->spec < spec ? -1 : 1;
    return strcmp(c->key, key);
}

static int cmp_round(const void *pa, const void *pb, void *arg) {
    const apply_ctx *a = arg;
    const cand *x = &a->cands[a->seq_cand[*(const int *)pa]];
    const cand *y = &a->cands[a->seq_cand[*(const int *)pb]];
    return cmp_round_key(x, y->spec, y->key);
}

static int round_find(const apply_ctx *a, int spec, const char *key) {
    int lo = 0, hi = a->nround;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_round_key(&a->cands[a->seq_cand[a->round[mid]]], spec, key);
        if (c == 0) return a->seq_cand[a->round[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* A statement's RETURNed keys (connection_id, id) are versions PostgreSQL applied: add
 * them to the publish list in the order returned (a delete: its record, then a
 * tombstone). -1 on ENOMEM or a key that was not staged (a bug: the batch is retried). */
static int applied_rows(apply_ctx *a, int spec, const PGresult *res, int del) {
    char key[2 * WDB_MAX_KEY_BYTES + 48];
    for (int r = 0; r < PQntuples(res); r++) {
        const char *conn = PQgetvalue(res, r, 0), *id = PQgetvalue(res, r, 1);
        snprintf(key, sizeof key, "%zu:%s%zu:%s", strlen(conn), conn, strlen(id), id);
        int ci = round_find(a, spec, key);
        if (ci < 0) {
            snprintf(a->errstr, a->errlen, "applied a record that was not staged");
            return -1;
        }
        if (wdb_pub_add(a->db, spec, conn, id, a->cands[ci].item, NULL, 0) ||
            (del && wdb_pub_add(a->db, spec, conn, id, -1, NULL, 0))) {
            snprintf(a->errstr, a->errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The child statements of spec i's merge of [lo, hi), as one message: per child its
 * delete and its insert, then the changed parents' list emptied for the next merge
 * (wdb_c_<name> is empty before every merge: emptied here, or the merge that filled it
 * rolled back, or nothing changed). One round trip instead of one per statement (pgbench
 * here: ten small statements one by one 0.5 ms, in one message 0.06 ms; a batch of
 * orders sent 20 of them). The server stops at the first error; its result is the one
 * PQexec returns. 0, or -1 with *err (the failed result) or errstr set. */
static int children_statements(apply_ctx *a, int i, int lo, int hi, PGresult **err) {
    wdb *db = a->db;
    const wdb_spec *sp = wdb_specs[i];
    sbuf *sql = &db->multi_sql;
    int rc = 0;
    sql->len = 0;
    for (int c = 0; c < sp->nchildren; c++) {
        /* The delete unprepared: a prepared statement would soon switch to a generic plan
         * made when the batch's tables were small, and drive the join from the whole
         * child table (measured: 30 ms per batch at 20k orders, and growing). Sent as
         * text, it is planned each time for the current sizes: ~0.2 ms. Seq scans off
         * for it alone: the planner sizes the join of the batch's parents with their
         * stored rows at one row, so it reads the staged rows by a scan per stored row
         * instead of the staging index (measured: 22 ms instead of 2.4 ms per 500
         * orders, growing with the square of the batch). A rollback to the savepoint
         * undoes the SET LOCAL with the rest. */
        rc |= sbuf_printf(sql, "SET LOCAL enable_seqscan = off;\n");
        rc |= wdb_sql_child_delete(sp, c, lo, hi, sql);
        rc |= sbuf_printf(sql, ";\nSET LOCAL enable_seqscan = on;\nEXECUTE wdb_i%d_%d(%d, %d);\n",
                          i, c, lo, hi);
    }
    rc |= wdb_sql_clear_changed(sp, sql);
    if (rc) {
        snprintf(a->errstr, a->errlen, "out of memory");
        return -1;
    }
    PGresult *res = PQexec(db->conn, sql->p);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *err = res;
        return -1;
    }
    PQclear(res);
    return 0;
}

/* Merge the specs present in seq range [lo, hi) (content or deletes: a round holds one
 * kind). 0 on success; -1 with the failing result in *err (the caller classifies and
 * clears it), or -1 with *err NULL and errstr set on a local failure. */
static int merge_statements(apply_ctx *a, int lo, int hi, PGresult **err) {
    wdb *db = a->db;
    char name[32];
    int present[WDB_MAX_SPECS] = {0};
    *err = NULL;
    for (int s = lo; s < hi; s++) {
        const cand *c = &a->cands[a->seq_cand[s]];
        present[c->spec] |= c->del ? 2 : 1;
    }
    for (int i = 0; i < wdb_nspecs; i++) {
        if (!present[i]) continue;
        const wdb_spec *sp = wdb_specs[i];
        PGresult *res;
        if (present[i] & 2) {
            snprintf(name, sizeof name, "wdb_d%d", i);
            if (!(res = run(db, name, 2, lo, hi, err))) return -1;
            int rc = applied_rows(a, i, res, 1);
            PQclear(res);
            if (rc) return -1;
            continue;
        }
        snprintf(name, sizeof name, "wdb_m%d", i);
        if (!(res = run(db, name, 2, lo, hi, err))) return -1;
        /* Children change only with their parent: none changed, nothing to do. */
        int changed = wdb_spec_lifecycle(sp) ? PQntuples(res) : atoi(PQcmdTuples(res));
        if (wdb_spec_lifecycle(sp) && changed) db->acc_dirty = 1;
        if (wdb_spec_lifecycle(sp) && applied_rows(a, i, res, 0)) {
            PQclear(res);
            return -1;
        }
        PQclear(res);
        if (!sp->nchildren || changed == 0) continue;
        if (children_statements(a, i, lo, hi, err)) return -1;
    }
    return 0;
}

/* Merge [lo, hi) under a savepoint; on a content error, bisect down to the refused
 * record(s) and reject them. What a rolled-back attempt applied leaves the publish list
 * with it. 0, or -1 on a transient failure (errstr set). */
static int merge_range(apply_ctx *a, int lo, int hi) {
    wdb *db = a->db;
    PGresult *err = NULL;
    int mark = db->npi;
    size_t text_mark = db->pubtext.len;
    if (exec_cmd(db, "SAVEPOINT wdb_sp", a->errstr, a->errlen)) return -1;
    if (merge_statements(a, lo, hi, &err) == 0)
        return exec_cmd(db, "RELEASE SAVEPOINT wdb_sp", a->errstr, a->errlen);
    db->npi = mark;
    db->pubtext.len = text_mark;
    if (!err) return -1; /* local failure, errstr set */
    if (!is_content_error(db, err)) {
        set_res_err(db, err, a->errstr, a->errlen, "merge");
        PQclear(err);
        return -1;
    }
    if (exec_cmd(db, "ROLLBACK TO SAVEPOINT wdb_sp", a->errstr, a->errlen) ||
        exec_cmd(db, "RELEASE SAVEPOINT wdb_sp", a->errstr, a->errlen)) {
        PQclear(err);
        return -1;
    }
    if (hi - lo == 1) {
        /* The primary message and the column: never DETAIL, which echoes whole rows. */
        const char *msg = PQresultErrorField(err, PG_DIAG_MESSAGE_PRIMARY);
        const char *st = PQresultErrorField(err, PG_DIAG_SQLSTATE);
        const char *tab = PQresultErrorField(err, PG_DIAG_TABLE_NAME);
        const char *col = PQresultErrorField(err, PG_DIAG_COLUMN_NAME);
        wdb_item *it = &a->items[a->cands[a->seq_cand[lo]].item];
        char where[160] = "";
        if (tab) snprintf(where, sizeof where, " [%s%s%s]", tab, col ? "." : "", col ? col : "");
        char full[512];
        snprintf(full, sizeof full, "database refused the record: %.160s%s (SQLSTATE %s)",
                 msg ? msg : "error", where, st ? st : "?");
        reject(it, full); /* truncated to the reason field */
        PQclear(err);
        return 0;
    }
    PQclear(err);
    int mid = lo + (hi - lo) / 2;
    if (merge_range(a, lo, mid)) return -1;
    return merge_range(a, mid, hi);
}

/* Serve the results still to come after a failure, ending a COPY the server still waits
 * for, so that the connection is ready for the ROLLBACK. */
static void drain_results(wdb *db) {
    PGresult *res;
    while ((res = PQgetResult(db->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (PQstatus(db->conn) == CONNECTION_BAD) break;
        if (st == PGRES_COPY_IN && PQputCopyEnd(db->conn, "the writer gave up the batch") != 1)
            break;
    }
}

/* Send one staging buffer's rows and end its COPY. 0 or -1 (errstr). */
static int copy_rows(wdb *db, const sbuf *b, const char *table, char *errstr, size_t errlen) {
    int ok = 1;
    for (size_t off = 0; ok && off < b->len; off += WDB_COPY_CHUNK) {
        size_t n = b->len - off < WDB_COPY_CHUNK ? b->len - off : WDB_COPY_CHUNK;
        ok = PQputCopyData(db->conn, b->p + off, (int)n) == 1;
    }
    if (PQputCopyEnd(db->conn, ok ? NULL : "client error") != 1) ok = 0;
    if (!ok) {
        char what[112];
        snprintf(what, sizeof what, "copying rows into %s", table);
        set_pq_err(errstr, errlen, what, PQerrorMessage(db->conn));
        return -1;
    }
    return 0;
}

/* COPY a round's staging buffers, all in one message ("COPY a FROM STDIN;COPY b FROM
 * STDIN;..."): the server asks for each table's rows in turn, so a table costs one round
 * trip instead of two (a statement of its own first waits for the server's request).
 * 0 or -1 with errstr. */
static int copy_all(wdb *db, char (*tables)[80], sbuf *const *bufs, int m, char *errstr,
                    size_t errlen) {
    if (m == 0) return 0;
    sbuf *sql = &db->multi_sql;
    sql->len = 0;
    int rc = 0;
    for (int k = 0; k < m; k++)
        rc |= sbuf_printf(sql, "COPY %s FROM STDIN;", tables[k]);
    if (rc) {
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    PGresult *res = PQexec(db->conn, sql->p);
    int k;
    for (k = 0; k < m; k++) {
        /* res: the server's request for table k's rows */
        if (PQresultStatus(res) != PGRES_COPY_IN) goto refused;
        PQclear(res);
        res = NULL;
        if (copy_rows(db, bufs[k], tables[k], errstr, errlen)) goto failed;
        /* table k's result, then the request for the next table's rows (none after the
         * last) */
        res = PQgetResult(db->conn);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) goto refused;
        PQclear(res);
        res = PQgetResult(db->conn);
    }
    if (!res) return 0;
    set_pq_err(errstr, errlen, "COPY", "a result after the last table's");
    goto failed;
refused:
    set_res_err(db, res, errstr, errlen, tables[k]);
failed:
    PQclear(res);
    drain_results(db);
    return -1;
}

/* ------------------------------------------------------------------ apply */

/* By (spec, key), then arrival: the order in which deletes split a record's versions into
 * generations. arg: the cands. (qsort_r, not a global: each thread has its own wdb.) */
static int cmp_arrival(const void *pa, const void *pb, void *arg) {
    const cand *cands = arg;
    const cand *x = &cands[*(const int *)pa], *y = &cands[*(const int *)pb];
    if (x->spec != y->spec) return x->spec < y->spec ? -1 : 1;
    int k = strcmp(x->key, y->key);
    if (k) return k;
    return (x->item > y->item) - (x->item < y->item);
}

/* By generation, (spec, key), content before the delete, then in the order db_version.h
 * prefers the versions of one record (the plain rule: newest first, equal versions the
 * later item first). arg: the cands. qsort_r, not qsort and a global array: each thread
 * has its own wdb (db.h), and a shared global let concurrent writers sort by each other's
 * candidates (ASan caught it in test_concurrent_writers_converge, which also saw a unique
 * violation from it). */
static int cmp_cand(const void *pa, const void *pb, void *arg) {
    const cand *cands = arg;
    const cand *x = &cands[*(const int *)pa], *y = &cands[*(const int *)pb];
    if (x->gen != y->gen) return x->gen < y->gen ? -1 : 1;
    if (x->spec != y->spec) return x->spec < y->spec ? -1 : 1;
    int k = strcmp(x->key, y->key);
    if (k) return k;
    if (x->del != y->del) return x->del < y->del ? -1 : 1;
    if (wdb_version_total(wdb_specs[x->spec]))
        return wdb_version_prefer(&x->version, x->item, &y->version, y->item);
    int v = wdb_version_cmp(&x->version, &y->version);
    if (v) return -v;
    return x->item > y->item ? -1 : (x->item < y->item);
}

/* Step 1 for one item: 0 and a filled cand, -1 with the item rejected, or -2 when memory
 * ran out (the batch is retried: the item is not at fault). */
static int check_item(json_arena *arena, wdb_item *it, int i, cand *c) {
    char reason[sizeof it->reason];
    c->item = i;
    c->next = -1;
    c->del = c->gen = 0;
    if (!it->topic) return reject(it, "missing topic");
    if (!it->value || it->value_len == 0) return reject(it, "empty value");
    if (it->value_len > WDB_MAX_VALUE_BYTES)
        return reject(it, "record larger than the writer's limit");
    if (!val_text_valid(it->value, it->value_len)) return reject(it, VAL_TEXT_INVALID);
    const char *end; /* text after the value is not checked here: jsonb refuses it */
    c->json = json_arena_parse(arena, it->value, it->value_len, &end);
    if (!c->json) {
        if (arena->oom) return -2;
        /* jsonb refuses \u0000 as well: say why here rather than bisect to PostgreSQL's
         * refusal of the whole record. */
        return reject(it, arena->nul ? "NUL character in a string" : "malformed JSON");
    }
    if (!cJSON_IsObject(c->json)) return reject(it, "not a JSON object");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(c->json, "schema_version");
    if (!cJSON_IsNumber(sv) || sv->valuedouble != 1)
        return reject(it, "missing or unsupported schema_version (1 expected)");
    const char *entity = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->json, "entity"));
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->json, "kind"));
    if (!entity) return reject(it, "missing entity");
    c->spec = wdb_spec_find(it->topic, entity, kind);
    if (c->spec < 0) {
        snprintf(reason, sizeof reason, "no table for entity %.40s (kind %.40s) on topic %.60s",
                 entity, kind ? kind : "-", it->topic);
        return reject(it, reason);
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(c->json, "deleted");
    if (d && !cJSON_IsNull(d)) {
        if (!cJSON_IsBool(d)) return reject(it, "deleted: expected a boolean");
        c->del = cJSON_IsTrue(d);
    }
    if (c->del) {
        int64_t ms;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(c->json, "deleted_at");
        if (!wdb_spec_lifecycle(wdb_specs[c->spec]))
            return reject(it, "a delete record for an entity without deletes");
        if (!cJSON_IsString(at) || val_time_canonical(at->valuestring, &ms))
            return reject(it, "delete record without a valid deleted_at");
    }
    if (wdb_stage_key(wdb_specs[c->spec], c->json, &c->key, &c->version, reason, sizeof reason))
        return reject(it, reason);
    return 0;
}

/* Stage, COPY and merge the candidates pending[0..npending) (heads of their chains) in
 * rounds: a record refused by the database hands over to its runner-up in the next round,
 * so the result is as if the records had been applied one by one. */
static int apply_rounds(apply_ctx *a, int *pending, int npending, int *seq) {
    wdb *db = a->db;
    char reason[sizeof a->items[0].reason];
    while (npending > 0) {
        int base = *seq;
        for (int i = 0; i < wdb_nspecs; i++) {
            db->dbufs[i].len = 0;
            for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
                db->bufs[i][t].len = 0;
        }
        /* stage this round; a record refused here hands over to its runner-up now */
        for (int k = 0; k < npending; k++) {
            for (int ci = pending[k]; ci >= 0; ci = a->cands[ci].next) {
                cand *c = &a->cands[ci];
                wdb_item *it = &a->items[c->item];
                const wdb_spec *sp = wdb_specs[c->spec];
                wdb_spec dspec;
                int oom, rc;
                if (c->del) {
                    wdb_sql_delete_spec(sp, &dspec);
                    rc = wdb_stage_rows(&dspec, c->json, it->value, it->value_len, *seq,
                                        &db->dbufs[c->spec], &oom, reason, sizeof reason);
                } else {
                    rc = wdb_stage_rows(sp, c->json, it->value, it->value_len, *seq,
                                        db->bufs[c->spec], &oom, reason, sizeof reason);
                }
                if (rc == 0) {
                    a->seq_cand[(*seq)++] = ci;
                    break;
                }
                if (oom) {
                    snprintf(a->errstr, a->errlen, "out of memory");
                    return -1;
                }
                reject(it, reason);
            }
        }
        if (*seq == base) break;
        int m = 0;
        for (int i = 0; i < wdb_nspecs; i++) {
            for (int t = 0; t < 1 + wdb_specs[i]->nchildren; t++) {
                if (db->bufs[i][t].len == 0) continue;
                wdb_sql_stage_name(wdb_specs[i], t, a->copy_tables[m], sizeof a->copy_tables[m]);
                a->copy_bufs[m++] = &db->bufs[i][t];
            }
            if (db->dbufs[i].len) {
                snprintf(a->copy_tables[m], sizeof a->copy_tables[m], "wdb_d_%s",
                         wdb_spec_name(wdb_specs[i]));
                a->copy_bufs[m++] = &db->dbufs[i];
            }
        }
        if (copy_all(db, a->copy_tables, a->copy_bufs, m, a->errstr, a->errlen)) return -1;
        a->nround = *seq - base;
        for (int s = 0; s < a->nround; s++)
            a->round[s] = base + s;
        qsort_r(a->round, (size_t)a->nround, sizeof *a->round, cmp_round, a);
        if (merge_range(a, base, *seq)) return -1;
        /* runner-ups of records the database refused */
        npending = 0;
        for (int s = base; s < *seq; s++) {
            const cand *c = &a->cands[a->seq_cand[s]];
            if (a->items[c->item].rejected && c->next >= 0) pending[npending++] = c->next;
        }
    }
    return 0;
}

/* Skip the records of purged connections: mark their items, and drop their chains from
 * order[0..*n). */
static int skip_purged(apply_ctx *a, int *order, int *n) {
    const char **conns = calloc((size_t)(*n ? *n : 1), sizeof *conns);
    int *purged = calloc((size_t)(*n ? *n : 1), sizeof *purged);
    int nc = 0, rc = -1;
    if (!conns || !purged) {
        snprintf(a->errstr, a->errlen, "out of memory");
        goto done;
    }
    for (int k = 0; k < *n; k++) {
        const char *c = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(a->cands[order[k]].json, "connection_id"));
        int seen = !c;
        for (int j = 0; j < nc && !seen; j++)
            seen = strcmp(conns[j], c) == 0;
        if (!seen) conns[nc++] = c;
    }
    if (wdb_purged(a->db, conns, nc, purged, a->errstr, a->errlen)) goto done;
    int kept = 0;
    for (int k = 0; k < *n; k++) {
        const char *c = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(a->cands[order[k]].json, "connection_id"));
        int skip = 0;
        for (int j = 0; c && j < nc && !skip; j++)
            skip = purged[j] && strcmp(conns[j], c) == 0;
        if (skip)
            a->items[a->cands[order[k]].item].skipped = 1;
        else
            order[kept++] = order[k];
    }
    *n = kept;
    rc = 0;
done:
    free(conns);
    free(purged);
    return rc;
}

/* For items flagged recover: publish their keys' stored rows (after what the batch
 * applied, so that the last message per key is the row). */
static int publish_stored(apply_ctx *a, int n) {
    const char **conns = calloc((size_t)n, sizeof *conns), **ids = calloc((size_t)n, sizeof *ids);
    int rc = -1;
    if (!conns || !ids) {
        snprintf(a->errstr, a->errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < wdb_nspecs; i++) {
        if (!wdb_spec_lifecycle(wdb_specs[i])) continue;
        int k = 0;
        for (int c = 0; c < n; c++) {
            const cand *cd = &a->cands[c];
            const wdb_item *it = &a->items[cd->item];
            if (!it->recover || it->rejected || it->skipped || !cd->key || cd->spec != i) continue;
            conns[k] =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cd->json, "connection_id"));
            ids[k] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cd->json, "id"));
            if (conns[k] && ids[k]) k++;
        }
        if (k && wdb_pub_stored(a->db, i, conns, ids, k, a->errstr, a->errlen)) goto done;
    }
    rc = 0;
done:
    free(conns);
    free(ids);
    return rc;
}

/* Empty the staging tables this batch used, in its transaction, so that the next batch
 * finds them empty (writer/db_sql.h): a small batch by DELETE, its rows' space given
 * back by a VACUUM later; a large one by TRUNCATE, of every table holding deleted rows
 * too. 0 or -1 (errstr). */
static int clear_staging(apply_ctx *a, const int *order, int nvalid) {
    wdb *db = a->db;
    int used[WDB_MAX_SPECS] = {0};
    for (int k = 0; k < nvalid; k++)
        used[a->cands[order[k]].spec] = 1;
    int truncate = nvalid >= WDB_STAGE_TRUNCATE_BATCH;
    sbuf sql = {0};
    for (int i = 0; i < wdb_nspecs; i++) {
        if (!(used[i] || (truncate && db->dirty[i] && db->ready[i]))) continue;
        if (wdb_sql_staging_clear(wdb_specs[i], truncate, &sql)) {
            sbuf_free(&sql);
            snprintf(a->errstr, a->errlen, "out of memory");
            return -1;
        }
    }
    int rc = sql.len ? exec_cmd(db, sql.p, a->errstr, a->errlen) : 0;
    sbuf_free(&sql);
    if (rc) return -1;
    if (truncate) {
        memset(db->dirty, 0, sizeof db->dirty);
        db->deleted_since_vacuum = 0;
        return 0;
    }
    for (int i = 0; i < wdb_nspecs; i++)
        db->dirty[i] |= used[i];
    db->deleted_since_vacuum += nvalid;
    return 0;
}

/* Between two batches (VACUUM cannot run in a transaction): once enough rows were
 * deleted, give their space back to the tables (writer/db_sql.h). Only tables of this
 * session: it takes no lock another one waits for. 0 or -1 (errstr). */
static int vacuum_staging(wdb *db, char *errstr, size_t errlen) {
    if (db->deleted_since_vacuum < WDB_STAGE_VACUUM_RECORDS) return 0;
    sbuf sql = {0};
    int rc = sbuf_printf(&sql, "VACUUM ");
    const char *sep = "";
    for (int i = 0; i < wdb_nspecs; i++) {
        if (!db->dirty[i] || !db->ready[i]) continue;
        rc |= sbuf_printf(&sql, "%s", sep);
        rc |= wdb_sql_staging_names(wdb_specs[i], &sql);
        sep = ", ";
    }
    if (rc) {
        sbuf_free(&sql);
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    rc = *sep ? exec_cmd(db, sql.p, errstr, errlen) : 0;
    sbuf_free(&sql);
    if (rc) return -1;
    memset(db->dirty, 0, sizeof db->dirty);
    db->deleted_since_vacuum = 0;
    return 0;
}

wdb_result wdb_apply(wdb *db, wdb_item *items, int n, char *errstr, size_t errlen) {
    return wdb_apply_fenced(db, NULL, NULL, 0, items, n, errstr, errlen);
}

/* wdb_apply, in one transaction:
 *   1. parse and check every item in C; find its spec, key and version, and whether it is
 *      a delete record;
 *   2. split each record's items into generations at its deletes (a delete and what came
 *      before it, then what came after it, ...), and within a generation reduce the
 *      versions: the newest wins, on equal versions the later item; the others wait as
 *      runner-ups;
 *   3. per generation: the versions in rounds (apply_rounds), then its deletes;
 *   4. the stored rows of recovered items; COMMIT. Any other failure rolls everything back.
 * The publish list records what each statement RETURNed as applied, in order. */
wdb_result wdb_apply_fenced(wdb *db, const char *group, wdb_fence *fences, int nfences,
                            wdb_item *items, int n, char *errstr, size_t errlen) {
    apply_ctx a = {.db = db, .items = items, .errstr = errstr, .errlen = errlen};
    int *order = NULL, *pending = NULL, seq = 0, in_tx = 0, maxgen = 0;
    wdb_result result = WDB_RETRY;

    wdb_pub_reset(db);
    db->nacc = 0;
    db->acc_dirty = 0;
    for (int i = 0; i < n; i++) {
        items[i].rejected = items[i].skipped = 0;
        items[i].reason[0] = '\0';
    }
    if (n < 0 || n > WDB_MAX_BATCH) {
        snprintf(errstr, errlen, "batch of %d items outside 0..%d", n, WDB_MAX_BATCH);
        return WDB_RETRY;
    }
    if (!wdb_ok(db)) {
        snprintf(errstr, errlen, "not connected");
        return WDB_RETRY;
    }
    if (!db->prepared && wdb_prepare(db, errstr, errlen)) return WDB_RETRY;
    if (n == 0 && nfences == 0) return WDB_OK;

    a.cands = calloc((size_t)(n ? n : 1), sizeof *a.cands);
    a.seq_cand = calloc((size_t)(n ? n : 1), sizeof *a.seq_cand);
    a.round = calloc((size_t)(n ? n : 1), sizeof *a.round);
    order = calloc((size_t)(n ? n : 1), sizeof *order);
    pending = calloc((size_t)(n ? n : 1), sizeof *pending);
    if (!a.cands || !a.seq_cand || !a.round || !order || !pending) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }

    /* 1. check */
    int nvalid = 0;
    for (int i = 0; i < n; i++) {
        int rc = check_item(&db->arena, &items[i], i, &a.cands[i]);
        if (rc == 0) order[nvalid++] = i;
        if (rc == -2) {
            snprintf(errstr, errlen, "out of memory");
            goto fail;
        }
    }
    /* 2. generations, then chains of versions within (generation, record) */
    qsort_r(order, (size_t)nvalid, sizeof *order, cmp_arrival, a.cands);
    for (int k = 1; k < nvalid; k++) {
        cand *c = &a.cands[order[k]];
        const cand *p = &a.cands[order[k - 1]];
        if (p->spec == c->spec && strcmp(p->key, c->key) == 0) c->gen = p->gen + p->del;
        if (c->gen > maxgen) maxgen = c->gen;
    }
    qsort_r(order, (size_t)nvalid, sizeof *order, cmp_cand, a.cands);
    for (int k = 1; k < nvalid; k++) {
        const cand *c = &a.cands[order[k]], *p = &a.cands[order[k - 1]];
        if (p->gen == c->gen && p->spec == c->spec && p->del == c->del &&
            strcmp(p->key, c->key) == 0)
            a.cands[order[k - 1]].next = order[k];
    }
    for (int k = 0; k < nvalid; k++)
        if (!db->ready[a.cands[order[k]].spec] &&
            prepare_spec(db, a.cands[order[k]].spec, errstr, errlen))
            goto fail;

    if (vacuum_staging(db, errstr, errlen)) goto fail;
    if (exec_cmd(db, "BEGIN", errstr, errlen)) goto fail;
    in_tx = 1;
    int frc = wdb_fence_run(db, group ? group : "", fences, nfences, errstr, errlen);
    if (frc == -2) {
        result = WDB_FENCED;
        goto rollback;
    }
    if (frc) goto fail;
    if (skip_purged(&a, order, &nvalid)) goto fail;

    /* 3. generation by generation: versions, then deletes */
    for (int g = 0; g <= maxgen; g++) {
        for (int del = 0; del <= 1; del++) {
            int npending = 0;
            for (int k = 0; k < nvalid; k++) {
                const cand *c = &a.cands[order[k]];
                if (c->gen != g || c->del != del) continue;
                const cand *p = k ? &a.cands[order[k - 1]] : NULL;
                if (p && p->gen == c->gen && p->spec == c->spec && p->del == c->del &&
                    strcmp(p->key, c->key) == 0)
                    continue; /* a runner-up */
                pending[npending++] = order[k];
            }
            if (npending && apply_rounds(&a, pending, npending, &seq)) goto fail;
        }
    }
    /* 4. (the list is built before COMMIT: nothing can fail between the commit and it) */
    if (wdb_acc_flush(db, errstr, errlen)) goto fail;
    if (publish_stored(&a, n)) goto fail;
    if (clear_staging(&a, order, nvalid)) goto fail;
    if (wdb_pub_finish(db, items)) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }
    if (exec_cmd(db, "COMMIT", errstr, errlen)) goto fail;
    in_tx = 0;
    result = WDB_OK;
    goto done;

fail:
    result = WDB_RETRY;
rollback:
    if (in_tx && PQstatus(db->conn) == CONNECTION_OK) {
        PGresult *res = PQexec(db->conn, "ROLLBACK");
        PQclear(res);
    }
    /* Nothing was committed: no item is rejected, the whole batch is to be retried. */
    for (int i = 0; i < n; i++) {
        items[i].rejected = items[i].skipped = 0;
        items[i].reason[0] = '\0';
    }
    wdb_pub_reset(db);
    db->nacc = 0;
    db->acc_dirty = 0;
done:
    if (a.cands) {
        for (int i = 0; i < n; i++)
            free(a.cands[i].key);
    }
    json_arena_reset(&db->arena, WDB_ARENA_KEEP);
    free(a.cands);
    free(a.seq_cand);
    free(a.round);
    free(order);
    free(pending);
    return result;
}
