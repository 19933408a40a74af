/* conn_errors.c - connection-error gauges from the database (see conn_errors.h). */
#include "writer/conn_errors.h"

#include "metrics.h"
#include "writer/db_conn.h"

#include <stdio.h>
#include <stdlib.h>

static metric *m_open, *m_blocking, *m_conns;

void conn_errors_init(void) {
    m_open = metric_gauge("writer_connection_errors_open",
                          "Trackstar connection errors not yet resolved", NULL, NULL);
    m_blocking = metric_gauge("writer_connection_errors_blocking",
                              "open connection errors that prevent a sync", NULL, NULL);
    m_conns =
        metric_gauge("writer_connections_blocked",
                     "connections with at least one open error that prevents a sync", NULL, NULL);
}

int conn_errors_refresh(wdb *db, char *errstr, size_t errlen) {
    PGconn *c = wdb_ok(db) ? wdb_conn(db) : NULL;
    if (!c) {
        snprintf(errstr, errlen, "not connected");
        return -1;
    }
    /* connection_errors_active_idx covers the active rows: a small scan. */
    PGresult *r = PQexec(c, "SELECT count(*), count(*) FILTER (WHERE preventing_sync),"
                            " count(DISTINCT connection_id) FILTER (WHERE preventing_sync)"
                            " FROM connection_errors WHERE active");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        snprintf(errstr, errlen, "connection_errors: %s", PQerrorMessage(c));
        PQclear(r);
        return -1;
    }
    metric_set(m_open, strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    metric_set(m_blocking, strtoll(PQgetvalue(r, 0, 1), NULL, 10));
    metric_set(m_conns, strtoll(PQgetvalue(r, 0, 2), NULL, 10));
    PQclear(r);
    return 0;
}
