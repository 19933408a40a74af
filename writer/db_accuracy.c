/* db_accuracy.c - the accuracy figures of a batch: fold what the merges recorded in the
 * temporary table into sync_accuracy, keep it for the metrics (see db_accuracy.h). */
#include "writer/db_accuracy.h"

#include <stdlib.h>
#include <string.h>

#include "writer/db_int.h"
#include "writer/db_sql.h"

const char wdb_acc_ddl[] =
    "CREATE TEMP TABLE IF NOT EXISTS " WDB_ACC_TABLE
    " (tbl text, connection_id text, poll boolean, "
    "lag_s double precision, stale_s double precision, corrected boolean);\n";

/* The batch's sums per (connection, resource), added to what sync_accuracy holds, in key
 * order (writers that share a connection lock its rows in one order); then every row.
 * The merges record their table (tableoid: no name in their text); $1 and $2 are the
 * entity tables and resource names of the registry, side by side. */
#define WDB_ACC_FLUSH_SQL                                                                          \
    "WITH m AS (SELECT * FROM unnest($1::text[], $2::text[]) AS m(tbl, resource)), "               \
    "a AS (SELECT m.resource, x.* FROM " WDB_ACC_TABLE " x JOIN m ON m.tbl = x.tbl), "             \
    "agg AS (SELECT connection_id, resource, "                                                     \
    "count(*) FILTER (WHERE NOT poll) AS wv, "                                                     \
    "coalesce(sum(lag_s) FILTER (WHERE NOT poll), 0) AS wl, "                                      \
    "count(*) FILTER (WHERE poll) AS pv, coalesce(sum(lag_s) FILTER (WHERE poll), 0) AS pl, "      \
    "count(*) FILTER (WHERE corrected) AS cv, "                                                    \
    "coalesce(sum(stale_s) FILTER (WHERE corrected), 0) AS cs, "                                   \
    "max(stale_s) FILTER (WHERE corrected) AS cm FROM a GROUP BY connection_id, resource), "       \
    "ins AS (INSERT INTO sync_accuracy AS x (connection_id, resource, webhook_versions, "          \
    "webhook_lag_s_sum, poll_versions, poll_lag_s_sum, corrections, correction_stale_s_sum, "      \
    "correction_stale_s_max, last_correction_at, updated_at) "                                     \
    "SELECT connection_id, resource, wv, wl, pv, pl, cv, cs, cm, "                                 \
    "CASE WHEN cv > 0 THEN clock_timestamp() END, clock_timestamp() FROM agg "                     \
    "ORDER BY connection_id, resource "                                                            \
    "ON CONFLICT (connection_id, resource) DO UPDATE SET "                                         \
    "webhook_versions = x.webhook_versions + EXCLUDED.webhook_versions, "                          \
    "webhook_lag_s_sum = x.webhook_lag_s_sum + EXCLUDED.webhook_lag_s_sum, "                       \
    "poll_versions = x.poll_versions + EXCLUDED.poll_versions, "                                   \
    "poll_lag_s_sum = x.poll_lag_s_sum + EXCLUDED.poll_lag_s_sum, "                                \
    "corrections = x.corrections + EXCLUDED.corrections, "                                         \
    "correction_stale_s_sum = x.correction_stale_s_sum + EXCLUDED.correction_stale_s_sum, "        \
    "correction_stale_s_max = greatest(x.correction_stale_s_max, "                                 \
    "EXCLUDED.correction_stale_s_max), "                                                           \
    "last_correction_at = coalesce(EXCLUDED.last_correction_at, x.last_correction_at), "           \
    "updated_at = EXCLUDED.updated_at) "                                                           \
    "SELECT resource, poll, lag_s, corrected, stale_s FROM a"

/* "{a,b,...}": the table or the name of every entity spec, in spec order. Registry names
 * are identifiers (wdb_sql_check), so nothing needs quoting in the array. */
static int names_array(sbuf *o, int tables) {
    int rc = sbuf_printf(o, "{");
    for (int s = 0, n = 0; s < wdb_nspecs; s++)
        if (wdb_spec_lifecycle(wdb_specs[s]))
            rc |= sbuf_printf(o, "%s%s", n++ ? "," : "",
                              tables ? wdb_spec_table(wdb_specs[s]) : wdb_spec_name(wdb_specs[s]));
    rc |= sbuf_printf(o, "}");
    return rc ? -1 : 0;
}

int wdb_acc_flush(wdb *db, char *errstr, size_t errlen) {
    db->nacc = 0;
    if (!db->acc_dirty) return 0;
    static sbuf tables, names; /* the same for every session: made once */
    if (!names.len) {
        tables.len = 0;
        if (names_array(&tables, 1) || names_array(&names, 0)) {
            names.len = 0;
            snprintf(errstr, errlen, "out of memory");
            return -1;
        }
    }
    const char *const params[] = {tables.p, names.p};
    PGresult *res = PQexecParams(db->conn, WDB_ACC_FLUSH_SQL, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        wdb_res_err(db, res, errstr, errlen, "accuracy");
        PQclear(res);
        return -1;
    }
    int n = PQntuples(res);
    if (n > db->capacc) {
        wdb_acc_row *r = realloc(db->acc, (size_t)n * sizeof *r);
        if (!r) {
            PQclear(res);
            snprintf(errstr, errlen, "out of memory");
            return -1;
        }
        db->acc = r;
        db->capacc = n;
    }
    for (int i = 0; i < n; i++) {
        const char *resource = PQgetvalue(res, i, 0);
        int spec = -1;
        for (int s = 0; s < wdb_nspecs && spec < 0; s++)
            if (wdb_spec_lifecycle(wdb_specs[s]) &&
                strcmp(wdb_spec_name(wdb_specs[s]), resource) == 0)
                spec = s;
        if (spec < 0) continue; /* cannot happen: the merges name their own spec */
        db->acc[db->nacc++] = (wdb_acc_row){.spec = spec,
                                            .poll = PQgetvalue(res, i, 1)[0] == 't',
                                            .corrected = PQgetvalue(res, i, 3)[0] == 't',
                                            .lag_s = strtod(PQgetvalue(res, i, 2), NULL),
                                            .stale_s = strtod(PQgetvalue(res, i, 4), NULL)};
    }
    PQclear(res);
    db->acc_dirty = 0;
    return 0;
}

int wdb_accuracy(const wdb *db, const wdb_acc_row **rows) {
    *rows = db->acc;
    return db->nacc;
}
