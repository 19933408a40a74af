/* ledger_drift.h - ledger drift evaluated in the database (017_ledger_drift.sql) every
 * WRITER_LEDGER_DRIFT_INTERVAL_MS, and counted for /metrics:
 *
 *   writer_ledger_windows_total        windows between two onhand snapshots evaluated
 *   writer_ledger_drifts_total         of those, windows whose onhand change differs from
 *                                      the sum of the ledger's movements
 *   writer_ledger_drift_units_total    the sum of those differences' absolute values
 *
 * Each window is evaluated once, by whichever writer replica gets to it first: sum the
 * counters over replicas. Per connection: sync_accuracy, sync_overview, tsctl status.
 */
#ifndef WRITER_LEDGER_DRIFT_H
#define WRITER_LEDGER_DRIFT_H

#include "writer/db.h"

/* Register the counters. */
void ledger_drift_init(void);
/* Evaluate the windows that are due; settle_ms: how long the ledger's poll status must
 * have been in the database. 0, or -1 with errstr. */
int ledger_drift_evaluate(wdb *db, long long settle_ms, char *errstr, size_t errlen);

#endif
