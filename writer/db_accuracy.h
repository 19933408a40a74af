/* db_accuracy.h - how fresh and how accurate the stored inventory is, per connection and
 * resource (issue "inventory accuracy is a number"; docs/operations.md, "Accuracy").
 *
 * Every entity merge (db_sql.c) puts one row per applied version into the session's
 * temporary table WDB_ACC_TABLE: its resource, connection, source, age at commit
 * (commit time minus Trackstar's updated_date) and whether it was a correction: a poll
 * that brought a version newer than the row held in the version order (db_version.h), so
 * a webhook had been missed or was late, the row stale since Trackstar had that version
 * (its trackstar_updated_date, else its updated_date). Before COMMIT,
 * wdb_acc_flush adds the batch's sums to sync_accuracy (one row per connection and
 * resource, in the batch's transaction, so a retried batch counts once) and keeps the
 * rows for the metrics, which the caller reads after the commit (wdb_accuracy).
 */
#ifndef WRITER_DB_ACCURACY_H
#define WRITER_DB_ACCURACY_H

#include "writer/db.h"

#define WDB_ACC_TABLE "wdb_acc"

/* Its DDL, with the staging tables of every lifecycle spec (emptied with them). */
extern const char wdb_acc_ddl[];

/* One applied version of the last committed batch. */
typedef struct wdb_acc_row {
    int spec;       /* index into wdb_specs */
    int poll;       /* source poll (else webhook) */
    int corrected;  /* a poll brought a version newer (in the version order) than the row */
    double lag_s;   /* commit time - source_updated_at (the freshness of the version) */
    double stale_s; /* commit time - when Trackstar had it (trackstar_updated_at, else
                       source_updated_at): for a correction, how long the row was stale */
} wdb_acc_row;

/* In the batch's transaction, after the merges: fold the applied versions into
 * sync_accuracy and keep them. A no-op when no entity was merged. 0 or -1 (errstr). */
int wdb_acc_flush(wdb *db, char *errstr, size_t errlen);

/* The applied versions of the last committed batch (none after a failed one). */
int wdb_accuracy(const wdb *db, const wdb_acc_row **rows);

#endif
