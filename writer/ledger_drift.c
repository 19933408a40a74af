/* ledger_drift.c - ledger drift from the database (see ledger_drift.h). */
#include "writer/ledger_drift.h"

#include "metrics.h"
#include "writer/db_conn.h"

#include <stdio.h>
#include <stdlib.h>

/* Windows per call: one statement stays short; a backlog takes a few calls. */
#define LEDGER_DRIFT_BATCH 5000
#define LEDGER_DRIFT_MAX_CALLS 20

static metric *m_windows, *m_drifts, *m_units;

void ledger_drift_init(void) {
    m_windows = metric_counter("writer_ledger_windows_total",
                               "inventory windows held against the ledger's movements", NULL, NULL);
    m_drifts = metric_counter("writer_ledger_drifts_total",
                              "inventory windows whose onhand change differs from the ledger's "
                              "movements",
                              NULL, NULL);
    m_units = metric_counter("writer_ledger_drift_units_total",
                             "units of onhand change the ledger does not account for", NULL, NULL);
}

int ledger_drift_evaluate(wdb *db, long long settle_ms, char *errstr, size_t errlen) {
    PGconn *c = wdb_ok(db) ? wdb_conn(db) : NULL;
    if (!c) {
        snprintf(errstr, errlen, "not connected");
        return -1;
    }
    char settle[32], limit[16];
    snprintf(settle, sizeof settle, "%lld milliseconds", settle_ms);
    snprintf(limit, sizeof limit, "%d", LEDGER_DRIFT_BATCH);
    const char *params[2] = {settle, limit};
    for (int call = 0; call < LEDGER_DRIFT_MAX_CALLS; call++) {
        PGresult *r = PQexecParams(c,
                                   "SELECT windows, drifts, units FROM "
                                   "trackstar_evaluate_ledger_drift($1::interval, $2::int)",
                                   2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            snprintf(errstr, errlen, "ledger drift: %s", PQerrorMessage(c));
            PQclear(r);
            return -1;
        }
        long long windows = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        metric_add(m_windows, windows);
        metric_add(m_drifts, strtoll(PQgetvalue(r, 0, 1), NULL, 10));
        metric_add(m_units, strtoll(PQgetvalue(r, 0, 2), NULL, 10));
        PQclear(r);
        /* A first snapshot is evaluated without being a window: a short count may stop
         * one call early, and the next interval goes on. */
        if (windows < LEDGER_DRIFT_BATCH) break;
    }
    return 0;
}
