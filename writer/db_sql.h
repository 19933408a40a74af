/* db_sql.h - the SQL text built from a wdb_spec: session-local staging tables, the COPY
 * target of each, the guarded merge into the parent table, and the replacement of child
 * rows for parents that changed. Built once per connection and prepared; identifiers
 * come only from the compile-time specs, values only from COPY data or $1/$2 (a range
 * of staging sequence numbers).
 *
 * Naming: wdb_s_<spec name> stages parents, wdb_s_<child table> stages children,
 * wdb_c_<spec name> collects the keys of parents the last merge inserted or updated, and
 * whether each existed before.
 */
#ifndef WRITER_DB_SQL_H
#define WRITER_DB_SQL_H

#include "util.h"
#include "writer/db_spec.h"

/* The SQL cast from staged text to a column of type t ("::bigint"...; "" for text). */
const char *wdb_sql_cast(wdb_coltype t);

/* Check a spec's invariants (keys first and text, version column a timestamp, children
 * only under (connection_id, id), levels within bounds, ...). 0 or -1 with errstr. */
int wdb_sql_check(const wdb_spec *s, char *errstr, size_t errlen);

/* Every CREATE TEMP TABLE IF NOT EXISTS for the spec's staging tables, their storage
 * settings and one ANALYZE of them (empty), as one multi-statement string. Appends to
 * out; 0 or -1 (ENOMEM). */
int wdb_sql_staging_ddl(const wdb_spec *s, sbuf *out);

/* What empties the spec's staging tables before a transaction that used them commits:
 * a DELETE of each, or with truncate set one TRUNCATE of them all. Appends to out; 0 or
 * -1 (ENOMEM).
 *
 * The tables were ON COMMIT DELETE ROWS, and PostgreSQL then truncates every such table
 * of the session at each commit that touched any temporary table: a table, its TOAST
 * table and their indexes (3.4-4.8 ms a transaction for seven tables of 50 rows; a
 * writer fed every topic has ~50 tables). A DELETE costs little for a few rows, but a
 * deleted row's space comes back only with a VACUUM (temporary tables are not
 * autovacuumed) and the merges scan their staging tables whole: without one the same
 * transactions took 18 ms; with a VACUUM every ten of them, between two transactions,
 * 2.3 ms. For large batches the DELETE and VACUUM cost more than a TRUNCATE in the
 * transaction (seven tables of 2,000 rows of 2 KB: 74 ms against 57 ms), and at 500
 * rows the same (15.5 ms). So db.c deletes a batch of fewer than
 * WDB_STAGE_TRUNCATE_BATCH records, truncates a larger one, and vacuums once
 * WDB_STAGE_VACUUM_RECORDS deleted rows are in the tables. */
int wdb_sql_staging_clear(const wdb_spec *s, int truncate, sbuf *out);
#define WDB_STAGE_TRUNCATE_BATCH 1000
#define WDB_STAGE_VACUUM_RECORDS 500

/* The spec's staging tables as "a, b, ..." (for one VACUUM of several specs' tables).
 * Appends to out; 0 or -1 (ENOMEM). */
int wdb_sql_staging_names(const wdb_spec *s, sbuf *out);

/* Name of staging table t of the spec (0 = parent, 1 + c = child c) into buf. */
void wdb_sql_stage_name(const wdb_spec *s, int t, char *buf, size_t len);

/* The merge: INSERT ... SELECT FROM staging WHERE seq in [$1, $2) ON CONFLICT DO UPDATE
 * ... WHERE the stored version is older (or equal with a different record); when the spec
 * has children, the keys of changed rows go into wdb_c_<name>. */
int wdb_sql_merge(const wdb_spec *s, sbuf *out);

/* Lifecycle specs (s->lifecycle). The merge above also brings a deleted row back (only
 * with a strictly newer (source_updated_at, trackstar_updated_at), or seen by a poll after
 * the delete's listing began) and RETURNs the keys it applied.
 *
 * The staging spec of delete records (wdb_d_<name>: key, envelope, superseded version,
 * deleted_at, record), filled in *out from s. */
void wdb_sql_delete_spec(const wdb_spec *s, wdb_spec *out);
/* Apply the staged deletes with seq in [$1, $2): set deleted_at and the record (the
 * delete record), remove the child rows; RETURNs the keys deleted. */
int wdb_sql_delete(const wdb_spec *s, sbuf *out);
/* The stored rows of keys ($1 connection ids, $2 ids, text arrays): connection_id, id,
 * the record as text, deleted (bool). */
int wdb_sql_stored(const wdb_spec *s, sbuf *out);

/* DELETE FROM wdb_c_<name>: run after the children of a merge, so that the next merge
 * of the spec finds it empty. */
int wdb_sql_clear_changed(const wdb_spec *s, sbuf *out);

/* Child c, for the changed parents whose seq is in [lo, hi) (the delete: literal bounds,
 * it is sent as text; the insert: $1, $2): delete the rows of those that existed before
 * the merge (a parent the merge inserted has none: no delete, no index probe) unless the
 * new version has the same row, content and position; then insert the staged rows not
 * already there. A row the update left alone is not rewritten. */
int wdb_sql_child_delete(const wdb_spec *s, int c, int lo, int hi, sbuf *out);
int wdb_sql_child_insert(const wdb_spec *s, int c, sbuf *out);

#endif
