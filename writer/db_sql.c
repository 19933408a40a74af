/* db_sql.c - build the staging DDL and the merge statements of a wdb_spec (see db_sql.h).
 *
 * The merge guard is the heart of the writer's contract, and it is db_version.h's rule
 * written in SQL (wdb_version_sql_guard): a newer version wins, an older one never does,
 * and the same version with the same content is a true no-op: a replayed batch rewrites
 * nothing, not even db_updated_at, and touches no child row.
 */
#include "writer/db_sql.h"
#include "writer/db_accuracy.h"

#include "writer/db_version.h"

#include <stdio.h>
#include <string.h>

#define WDB_MAX_IDENT 63 /* PostgreSQL's NAMEDATALEN - 1 */
/* PostgreSQL's maximum: toast only rows beyond a page. Text, so that it is part of the
 * SQL literal rather than a conversion (tests/faults/check_sql.py, rule R3). */
#define WDB_STAGE_TOAST_TARGET "8160"
/* trackstar_updated_at of table alias a, NULL ordered first: (source_updated_at, this)
 * is the part of the version order a delete compares (docs/consuming.md). */
#define WDB_SQL_TS_OR_MIN(a) "coalesce(" a ".\"trackstar_updated_at\", '-infinity')"

/* The columns of a delete record the writer stages (wdb_d_<spec name>): the key, how it
 * reached us, the version it supersedes and when the listing that found it gone began. */
static const wdb_col delete_cols[] = {
    {"connection_id", NULL, WDB_TEXT, 0},
    {"id", NULL, WDB_TEXT, 0},
    {"source", NULL, WDB_TEXT, 0},
    {"event_id", NULL, WDB_TEXT, 0},
    {"event_type", NULL, WDB_TEXT, 0},
    {"source_updated_at", NULL, WDB_TS, 0},
    {"trackstar_updated_at", NULL, WDB_TS, 0},
    {"observed_at", NULL, WDB_TS, 0},
    {"deleted_at", NULL, WDB_TS, 0},
};

const char *wdb_sql_cast(wdb_coltype t) {
    switch (t) {
    case WDB_INT: return "::bigint";
    case WDB_NUM: return "::numeric";
    case WDB_BOOL: return "::boolean";
    case WDB_TS: return "::timestamptz";
    case WDB_JSON: return "::jsonb";
    case WDB_TEXT:
    case WDB_FIRST_OF: break;
    }
    return "";
}

static int ident_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > WDB_MAX_IDENT) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

static int has_col(const wdb_col *cols, int n, const char *name, wdb_coltype *type) {
    for (int i = 0; i < n; i++) {
        if (strcmp(cols[i].name, name) == 0) {
            if (type) *type = cols[i].type;
            return 1;
        }
    }
    return 0;
}

int wdb_sql_check(const wdb_spec *s, char *errstr, size_t errlen) {
    const char *sn = wdb_spec_name(s); /* an entity's name and table are the registry's */
    wdb_coltype vt;
    char name[WDB_MAX_IDENT + 8];
    if (!ident_ok(sn) || !ident_ok(wdb_spec_table(s)) || !ident_ok(s->record_col)) goto bad_ident;
    if (s->nkeys < 1 || s->nkeys > WDB_MAX_KEYS || s->nkeys > s->ncols) {
        snprintf(errstr, errlen, "spec %s: bad key count", sn);
        return -1;
    }
    for (int i = 0; i < s->ncols; i++) {
        if (!ident_ok(s->cols[i].name)) goto bad_ident;
        if (i < s->nkeys && s->cols[i].type != WDB_TEXT && s->cols[i].type != WDB_FIRST_OF) {
            snprintf(errstr, errlen, "spec %s: key %s must be text", sn, s->cols[i].name);
            return -1;
        }
        if (has_col(s->cols, i, s->cols[i].name, NULL)) {
            snprintf(errstr, errlen, "spec %s: column %s twice", sn, s->cols[i].name);
            return -1;
        }
    }
    if (!has_col(s->cols, s->ncols, s->version_col, &vt) || vt != WDB_TS) {
        snprintf(errstr, errlen, "spec %s: version column must be a timestamp column", sn);
        return -1;
    }
    snprintf(name, sizeof name, "wdb_s_%s", sn);
    if (strlen(name) > WDB_MAX_IDENT) goto bad_ident;
    if (s->nchildren > WDB_MAX_CHILD_TABLES) {
        snprintf(errstr, errlen, "spec %s: too many child tables", sn);
        return -1;
    }
    if (s->nchildren && (s->nkeys != 2 || strcmp(s->cols[0].name, "connection_id") != 0 ||
                         strcmp(s->cols[1].name, "id") != 0 || s->cols[1].type != WDB_TEXT)) {
        snprintf(errstr, errlen, "spec %s: children need keys (connection_id, id)", sn);
        return -1;
    }
    if (wdb_spec_lifecycle(s)) {
        static const char *const need[] = {"source", "event_id", "event_type",
                                           "trackstar_updated_at", "observed_at"};
        int ok = s->nkeys == 2 && strcmp(s->cols[0].name, "connection_id") == 0 &&
                 strcmp(s->cols[1].name, "id") == 0 &&
                 strcmp(s->version_col, "source_updated_at") == 0;
        for (size_t i = 0; ok && i < sizeof need / sizeof need[0]; i++)
            ok = has_col(s->cols, s->ncols, need[i], NULL);
        if (!ok) {
            snprintf(
                errstr, errlen,
                "spec %s: a lifecycle spec needs keys (connection_id, id) and the envelope columns",
                sn);
            return -1;
        }
    }
    for (int c = 0; c < s->nchildren; c++) {
        const wdb_child *ch = &s->children[c];
        if (!ident_ok(ch->table) || !ident_ok(ch->parent_col)) goto bad_ident;
        snprintf(name, sizeof name, "wdb_s_%s", ch->table);
        if (strlen(name) > WDB_MAX_IDENT) goto bad_ident;
        if (ch->depth < 1 || ch->depth > WDB_MAX_DEPTH) {
            snprintf(errstr, errlen, "child %s: bad depth", ch->table);
            return -1;
        }
        for (int l = 0; l < ch->depth; l++) {
            const char *oc = ch->levels[l].ord_col;
            if (!ch->levels[l].path || (oc && !ident_ok(oc))) goto bad_ident;
            /* without a position column the rows must be told apart by unique_col */
            if (!oc &&
                (l != ch->depth - 1 || ch->depth != 1 || !ch->unique_col || ch->levels[l].is_map)) {
                snprintf(errstr, errlen, "child %s: a level without ord_col needs unique_col",
                         ch->table);
                return -1;
            }
        }
        for (int i = 0; i < ch->ncols; i++) {
            if (!ident_ok(ch->cols[i].name)) goto bad_ident;
            if (ch->cols[i].up < 0 || ch->cols[i].up > ch->depth ||
                ch->cols[i].type == WDB_FIRST_OF) {
                snprintf(errstr, errlen, "child %s: bad column %s", ch->table, ch->cols[i].name);
                return -1;
            }
        }
        if (ch->unique_col &&
            (ch->depth != 1 || !has_col(ch->cols, ch->ncols, ch->unique_col, &vt) ||
             vt != WDB_TEXT)) {
            snprintf(errstr, errlen, "child %s: unique_col must be a text column at depth 1",
                     ch->table);
            return -1;
        }
    }
    return 0;
bad_ident:
    snprintf(errstr, errlen, "spec %s: bad identifier", sn);
    return -1;
}

void wdb_sql_stage_name(const wdb_spec *s, int t, char *buf, size_t len) {
    const char *sn = wdb_spec_name(s);
    snprintf(buf, len, "wdb_s_%s", t == 0 ? sn : s->children[t - 1].table);
}

/* The column list of child c's staging table and target table, in COPY order:
 * connection_id, parent_col, position columns, data columns. With prefix/casts for a
 * SELECT list, or bare for an INSERT column list / DDL (suffix appended to each). */
static int child_cols(const wdb_child *ch, sbuf *o, const char *prefix, int casts,
                      const char *suffix) {
    int rc = sbuf_printf(o, "%s\"connection_id\"%s, %s\"%s\"%s", prefix, suffix, prefix,
                         ch->parent_col, suffix);
    for (int l = 0; l < ch->depth; l++) {
        if (!ch->levels[l].ord_col) continue;
        rc |= sbuf_printf(o, ", %s\"%s\"%s%s", prefix, ch->levels[l].ord_col,
                          casts && !ch->levels[l].is_map ? "::integer" : "", suffix);
    }
    for (int i = 0; i < ch->ncols; i++)
        rc |= sbuf_printf(o, ", %s\"%s\"%s%s", prefix, ch->cols[i].name,
                          casts ? wdb_sql_cast(ch->cols[i].type) : "", suffix);
    return rc ? -1 : 0;
}

/* Spec s's staging tables, each name preceded by pre and followed by sep but the last
 * (the one list that ANALYZE, DELETE, TRUNCATE and VACUUM follow). 0 or -1 (ENOMEM). */
static int staging_tables(const wdb_spec *s, sbuf *o, const char *pre, const char *sep) {
    const char *sn = wdb_spec_name(s);
    int rc = sbuf_printf(o, "%swdb_s_%s", pre, sn);
    if (s->nchildren) rc |= sbuf_printf(o, "%s%swdb_c_%s", sep, pre, sn);
    if (wdb_spec_lifecycle(s))
        rc |= sbuf_printf(o, "%s%swdb_d_%s%s%s" WDB_ACC_TABLE, sep, pre, sn, sep, pre);
    for (int c = 0; c < s->nchildren; c++)
        rc |= sbuf_printf(o, "%s%swdb_s_%s", sep, pre, s->children[c].table);
    return rc ? -1 : 0;
}

int wdb_sql_staging_ddl(const wdb_spec *s, sbuf *o) {
    const char *sn = wdb_spec_name(s);
    int rc = sbuf_printf(o, "CREATE TEMP TABLE IF NOT EXISTS wdb_s_%s (seq integer", sn);
    for (int i = 0; i < s->ncols; i++)
        rc |= sbuf_printf(o, ", \"%s\" text", s->cols[i].name);
    /* The record is staged as text only to be cast to jsonb once: TOAST would compress
     * it (pglz) on COPY and decompress it on the merge, before the jsonb is compressed
     * again for the target table. Rows up to a page stay inline and uncompressed; a
     * larger record goes out of line, still uncompressed. */
    rc |= sbuf_printf(o,
                      ", \"%s\" text) WITH (toast_tuple_target = " WDB_STAGE_TOAST_TARGET ");\n"
                      "ALTER TABLE wdb_s_%s ALTER COLUMN \"%s\" SET STORAGE EXTERNAL;\n",
                      s->record_col, sn, s->record_col);
    if (s->nchildren)
        rc |= sbuf_printf(
            o,
            "CREATE TEMP TABLE IF NOT EXISTS wdb_c_%s (connection_id text, id text, "
            "existed boolean);\n"
            "CREATE INDEX IF NOT EXISTS wdb_c_%s_idx ON wdb_c_%s (connection_id, id);\n",
            sn, sn, sn);
    if (wdb_spec_lifecycle(s)) {
        rc |= sbuf_printf(o, "%s", wdb_acc_ddl);
        rc |= sbuf_printf(o, "CREATE TEMP TABLE IF NOT EXISTS wdb_d_%s (seq integer", sn);
        for (size_t i = 0; i < sizeof delete_cols / sizeof delete_cols[0]; i++)
            rc |= sbuf_printf(o, ", \"%s\" text", delete_cols[i].name);
        rc |= sbuf_printf(o, ", \"%s\" text);\n", s->record_col);
    }
    for (int c = 0; c < s->nchildren; c++) {
        rc |= sbuf_printf(o, "CREATE TEMP TABLE IF NOT EXISTS wdb_s_%s (pseq integer, ",
                          s->children[c].table);
        rc |= child_cols(&s->children[c], o, "", 0, " text");
        rc |= sbuf_printf(o, ");\n");
        /* The child delete looks up, for each stored row of an updated parent, whether
         * the new version has it, by the parent's key. The writer's session allows
         * only nested loops (wdb_open): without this index each lookup scans the whole
         * batch (measured: 184 ms instead of ~3 ms per batch of 500 orders). */
        rc |= sbuf_printf(o,
                          "CREATE INDEX IF NOT EXISTS wdb_s_%s_idx ON wdb_s_%s "
                          "(\"connection_id\", \"%s\");\n",
                          s->children[c].table, s->children[c].table, s->children[c].parent_col);
    }
    /* Never analyzed, an empty table is assumed to hold 10 pages of rows whatever it
     * holds; analyzed once (empty), the planner sizes it from its current pages. */
    rc |= sbuf_printf(o, "ANALYZE ");
    rc |= staging_tables(s, o, "", ", ");
    rc |= sbuf_printf(o, ";\n");
    return rc ? -1 : 0;
}

int wdb_sql_staging_clear(const wdb_spec *s, int truncate, sbuf *o) {
    /* A TRUNCATE gives the tables new files, which PostgreSQL takes for never analyzed
     * (then the planner assumes 10 pages of rows): analyzed again, empty. */
    if (truncate)
        return sbuf_printf(o, "TRUNCATE ") || staging_tables(s, o, "", ", ") ||
                       sbuf_printf(o, ";\nANALYZE ") || staging_tables(s, o, "", ", ") ||
                       sbuf_printf(o, ";\n")
                   ? -1
                   : 0;
    return staging_tables(s, o, "DELETE FROM ", ";\n") || sbuf_printf(o, ";\n") ? -1 : 0;
}

int wdb_sql_staging_names(const wdb_spec *s, sbuf *o) {
    return staging_tables(s, o, "", ", ");
}

int wdb_sql_merge(const wdb_spec *s, sbuf *o) {
    const char *sn = wdb_spec_name(s);
    int rc = 0;
    const char *r = s->record_col;
    int life = wdb_spec_lifecycle(s);
    if (life || s->nchildren) rc |= sbuf_printf(o, "WITH up AS (");
    rc |= sbuf_printf(o, "INSERT INTO \"%s\" AS t (", wdb_spec_table(s));
    for (int i = 0; i < s->ncols; i++)
        rc |= sbuf_printf(o, "\"%s\", ", s->cols[i].name);
    rc |= sbuf_printf(o, "\"%s\") SELECT ", r);
    for (int i = 0; i < s->ncols; i++)
        rc |= sbuf_printf(o, "s.\"%s\"%s, ", s->cols[i].name, wdb_sql_cast(s->cols[i].type));
    rc |= sbuf_printf(
        o, "s.\"%s\"::jsonb FROM wdb_s_%s s WHERE s.seq >= $1 AND s.seq < $2 ORDER BY ", r, sn);
    /* Key order: two writers merging overlapping batches lock rows in the same order. */
    for (int i = 0; i < s->nkeys; i++)
        rc |= sbuf_printf(o, "%ss.\"%s\"", i ? ", " : "", s->cols[i].name);
    rc |= sbuf_printf(o, " ON CONFLICT (");
    for (int i = 0; i < s->nkeys; i++)
        rc |= sbuf_printf(o, "%s\"%s\"", i ? ", " : "", s->cols[i].name);
    rc |= sbuf_printf(o, ") DO UPDATE SET ");
    for (int i = s->nkeys; i < s->ncols; i++)
        rc |= sbuf_printf(o, "\"%s\" = EXCLUDED.\"%s\", ", s->cols[i].name, s->cols[i].name);
    rc |= sbuf_printf(o, "\"%s\" = EXCLUDED.\"%s\", \"db_updated_at\" = now()", r, r);
    if (wdb_spec_lifecycle(s)) rc |= sbuf_printf(o, ", \"deleted_at\" = NULL");
    rc |= sbuf_printf(o, " WHERE ");
    if (wdb_spec_lifecycle(s)) rc |= sbuf_printf(o, "(t.\"deleted_at\" IS NULL AND (");
    rc |= wdb_version_sql_guard(s, o);
    if (wdb_spec_lifecycle(s))
        /* A deleted row comes back only with a strictly newer version, or when a poll
         * made after the listing that deleted it sees it again (docs/consuming.md). */
        rc |= sbuf_printf(o, ")) OR (t.\"deleted_at\" IS NOT NULL AND ("
                             "(EXCLUDED.\"source_updated_at\", " WDB_SQL_TS_OR_MIN(
                                 "EXCLUDED") ") > "
                                             "(t.\"source_updated_at\", " WDB_SQL_TS_OR_MIN(
                                                 "t") ") OR "
                                                      "coalesce(EXCLUDED.\"source\" = 'poll' AND "
                                                      "EXCLUDED.\"observed_at\" > "
                                                      "t.\"deleted_at\", false)))");
    /* xmax = 0: the row was inserted, not updated (an updated row carries the conflict's
     * row lock into its new version), so it has no children to delete. */
    if (!life) {
        if (s->nchildren)
            rc |= sbuf_printf(o,
                              " RETURNING t.\"connection_id\", t.\"id\", NOT (t.xmax = 0) AS "
                              "existed) INSERT INTO wdb_c_%s (connection_id, id, existed) "
                              "SELECT connection_id, id, existed FROM up",
                              sn);
        return rc ? -1 : 0;
    }
    rc |= sbuf_printf(o, " RETURNING t.tableoid::regclass::text AS tbl, t.\"connection_id\", "
                         "t.\"id\", t.\"source\", "
                         "t.\"source_updated_at\", t.\"trackstar_updated_at\", "
                         "NOT (t.xmax = 0) AS existed)");
    if (s->nchildren)
        rc |= sbuf_printf(o,
                          ", ch AS (INSERT INTO wdb_c_%s (connection_id, id, existed) "
                          "SELECT connection_id, id, existed FROM up)",
                          sn);
    /* Every applied version, for the accuracy figures (writer/db_accuracy.h): how old it
     * was when committed, whether a poll brought a version newer in the version order
     * than the row held (a webhook missed or late), and since when Trackstar had it. A
     * temporary table, so that a savepoint's rollback takes its rows back too. */
    rc |= sbuf_printf(
        o, ", acc AS (INSERT INTO " WDB_ACC_TABLE " (tbl, connection_id, poll, lag_s, stale_s, "
           "corrected) SELECT up.tbl, up.\"connection_id\", up.\"source\" = 'poll', "
           "extract(epoch FROM c.t - up.\"source_updated_at\"), extract(epoch FROM c.t - "
           "coalesce(up.\"trackstar_updated_at\", up.\"source_updated_at\")), ");
    /* Where Trackstar sends no webhooks (order channels, suppliers) every change comes
     * by a poll: no webhook was missed, nothing is a correction. */
    if (wdb_spec_webhooks(s))
        rc |= sbuf_printf(
            o, "coalesce(up.\"source\" = 'poll' AND (o.\"source_updated_at\", " WDB_SQL_TS_OR_MIN(
                   "o") ") < (up.\"source_updated_at\", " WDB_SQL_TS_OR_MIN("up") "), false) ");
    else
        rc |= sbuf_printf(o, "false ");
    rc |= sbuf_printf(o, "FROM up CROSS JOIN (SELECT clock_timestamp() AS t) c");
    /* The row this statement replaced, looked up by its key in the target table: every
     * part of a statement reads the snapshot taken before it, so o is the version held
     * before the upsert. A join of up with a set made from the staging table instead
     * has no index to use: in this session of nested loops it compared every pair
     * (4 million at a batch of 2,000 orders, ~0.4 s). */
    if (wdb_spec_webhooks(s))
        rc |= sbuf_printf(o,
                          " LEFT JOIN \"%s\" o ON o.\"connection_id\" = up.\"connection_id\" "
                          "AND o.\"id\" = up.\"id\"",
                          wdb_spec_table(s));
    rc |= sbuf_printf(o, ") SELECT \"connection_id\", \"id\" FROM up");
    return rc ? -1 : 0;
}

void wdb_sql_delete_spec(const wdb_spec *s, wdb_spec *out) {
    *out = (wdb_spec){.name = wdb_spec_name(s),
                      .topic = wdb_spec_topic(s),
                      .entity = wdb_spec_entity(s),
                      .table = wdb_spec_table(s),
                      .nkeys = 2,
                      .cols = delete_cols,
                      .ncols = (int)(sizeof delete_cols / sizeof delete_cols[0]),
                      .version_col = "source_updated_at",
                      .record_col = s->record_col};
}

int wdb_sql_delete(const wdb_spec *s, sbuf *o) {
    const char *r = s->record_col;
    int rc = sbuf_printf(o, "WITH del AS (UPDATE \"%s\" AS t SET ", wdb_spec_table(s));
    for (size_t i = 2; i < sizeof delete_cols / sizeof delete_cols[0]; i++) {
        if (strcmp(delete_cols[i].name, "source_updated_at") == 0 ||
            strcmp(delete_cols[i].name, "trackstar_updated_at") == 0)
            continue; /* the version the delete supersedes: the row keeps its own */
        rc |= sbuf_printf(o, "\"%s\" = d.\"%s\"%s, ", delete_cols[i].name, delete_cols[i].name,
                          wdb_sql_cast(delete_cols[i].type));
    }
    rc |= sbuf_printf(o, "\"%s\" = d.\"%s\"::jsonb, \"db_updated_at\" = now() FROM wdb_d_%s d ", r,
                      r, wdb_spec_name(s));
    /* The delete supersedes the version it was computed from and anything older; not a
     * row changed since (a newer version), nor one a poll saw after the listing began. */
    rc |= sbuf_printf(
        o,
        "WHERE d.seq >= $1 AND d.seq < $2 AND t.\"connection_id\" = d.\"connection_id\" "
        "AND t.\"id\" = d.\"id\" AND t.\"deleted_at\" IS NULL AND "
        "(t.\"source_updated_at\", " WDB_SQL_TS_OR_MIN(
            "t") ") <= "
                 "(d.\"source_updated_at\"::timestamptz, "
                 "coalesce(d.\"trackstar_updated_at\"::timestamptz, "
                 "'-infinity')) AND NOT coalesce(t.\"source\" = 'poll' AND t.\"observed_at\" > "
                 "d.\"deleted_at\"::timestamptz, false) RETURNING t.\"connection_id\", t.\"id\")");
    /* A deleted record has no child rows: its content is gone (a comeback inserts them). */
    for (int c = 0; c < s->nchildren; c++)
        rc |= sbuf_printf(o,
                          ", c%d AS (DELETE FROM \"%s\" x USING del WHERE x.\"connection_id\" = "
                          "del.\"connection_id\" AND x.\"%s\" = del.\"id\")",
                          c, s->children[c].table, s->children[c].parent_col);
    rc |= sbuf_printf(o, " SELECT \"connection_id\", \"id\" FROM del");
    return rc ? -1 : 0;
}

int wdb_sql_stored(const wdb_spec *s, sbuf *o) {
    return sbuf_printf(
        o,
        "SELECT t.\"connection_id\", t.\"id\", t.\"%s\"::text, t.\"deleted_at\" IS NOT NULL "
        "FROM \"%s\" t JOIN unnest($1::text[], $2::text[]) AS k(c, i) "
        "ON t.\"connection_id\" = k.c AND t.\"id\" = k.i",
        s->record_col, wdb_spec_table(s));
}

int wdb_sql_clear_changed(const wdb_spec *s, sbuf *o) {
    const char *sn = wdb_spec_name(s);
    return sbuf_printf(o, "DELETE FROM wdb_c_%s", sn);
}

/* Child row t of the target and staged row s are the same row (the parent's key and
 * the position columns, or unique_col where there are none) and, with content set, hold
 * the same content. Positions by equality (NOT NULL integers or map keys: the primary
 * key's columns), the data columns as one row compared with IS NOT DISTINCT FROM;
 * numeric and jsonb compare as their text: 25 = 25.0 as numbers, but a kept row must
 * print what the new version says. */
static int child_same(const wdb_child *ch, int content, sbuf *o) {
    int rc = sbuf_printf(o, "s.\"connection_id\" = t.\"connection_id\" AND s.\"%s\" = t.\"%s\"",
                         ch->parent_col, ch->parent_col);
    for (int l = 0; l < ch->depth; l++) {
        const char *oc = ch->levels[l].ord_col;
        if (!oc) continue;
        rc |= sbuf_printf(o, " AND s.\"%s\"%s = t.\"%s\"", oc,
                          ch->levels[l].is_map ? "" : "::integer", oc);
    }
    if (!content) {
        if (ch->unique_col)
            rc |= sbuf_printf(o, " AND s.\"%s\" IS NOT DISTINCT FROM t.\"%s\"", ch->unique_col,
                              ch->unique_col);
        return rc ? -1 : 0;
    }
    /* ROW(): one column (or none) is still a row */
    rc |= sbuf_printf(o, " AND ROW(");
    for (int i = 0; i < ch->ncols; i++) {
        int as_text = ch->cols[i].type == WDB_NUM || ch->cols[i].type == WDB_JSON;
        rc |= sbuf_printf(o, "%st.\"%s\"%s", i ? ", " : "", ch->cols[i].name,
                          as_text ? "::text" : "");
    }
    rc |= sbuf_printf(o, ") IS NOT DISTINCT FROM ROW(");
    for (int i = 0; i < ch->ncols; i++) {
        int as_text = ch->cols[i].type == WDB_NUM || ch->cols[i].type == WDB_JSON;
        rc |= sbuf_printf(o, "%ss.\"%s\"%s%s", i ? ", " : "", ch->cols[i].name,
                          wdb_sql_cast(ch->cols[i].type), as_text ? "::text" : "");
    }
    rc |= sbuf_printf(o, ")");
    return rc ? -1 : 0;
}

int wdb_sql_child_delete(const wdb_spec *s, int c, int lo, int hi, sbuf *o) {
    const char *sn = wdb_spec_name(s);
    const wdb_child *ch = &s->children[c];
    /* Only the rows the new version no longer has as they are: an update that leaves
     * most line items alone rewrites none of them (no dead tuple, no index entry). */
    int rc = sbuf_printf(
        o,
        "DELETE FROM \"%s\" t USING wdb_c_%s c WHERE t.\"connection_id\" = c.connection_id "
        "AND t.\"%s\" = c.id AND c.existed AND NOT EXISTS (SELECT 1 FROM wdb_s_%s s WHERE "
        "s.pseq >= %d AND s.pseq < %d AND ",
        ch->table, sn, ch->parent_col, ch->table, lo, hi);
    rc |= child_same(ch, 1, o);
    rc |= sbuf_printf(o, ")");
    return rc ? -1 : 0;
}

int wdb_sql_child_insert(const wdb_spec *s, int c, sbuf *o) {
    const char *sn = wdb_spec_name(s);
    const wdb_child *ch = &s->children[c];
    int rc = sbuf_printf(o, "INSERT INTO \"%s\" (", ch->table);
    rc |= child_cols(ch, o, "", 0, "");
    rc |= sbuf_printf(o, ") SELECT ");
    rc |= child_cols(ch, o, "s.", 1, "");
    /* After the delete a parent that existed keeps exactly its rows the new version has
     * unchanged, so a stored row with a staged row's key is that row: insert the others
     * (a key probe, no content compared). A parent the merge inserted has none. */
    rc |= sbuf_printf(o,
                      " FROM wdb_s_%s s JOIN wdb_c_%s c ON c.connection_id = s.\"connection_id\" "
                      "AND c.id = s.\"%s\" WHERE s.pseq >= $1 AND s.pseq < $2 AND (NOT "
                      "c.existed OR NOT EXISTS (SELECT 1 FROM \"%s\" t WHERE ",
                      ch->table, sn, ch->parent_col, ch->table);
    rc |= child_same(ch, 0, o);
    rc |= sbuf_printf(o, "))");
    return rc ? -1 : 0;
}
