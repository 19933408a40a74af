/* conn_errors.h - the open Trackstar connection errors (table connection_errors) as
 * gauges, read from the database every WRITER_ERRORS_REFRESH_MS:
 *
 *   writer_connection_errors_open        errors not yet resolved (connection-error.deleted)
 *   writer_connection_errors_blocking    open errors with an endpoint preventing_sync
 *   writer_connections_blocked           connections with at least one blocking error
 *
 * Every writer replica reports the same database-wide values: alert on max(), not sum().
 */
#ifndef WRITER_CONN_ERRORS_H
#define WRITER_CONN_ERRORS_H

#include "writer/db.h"

/* Register the gauges. */
void conn_errors_init(void);
/* Read the counts and set the gauges. 0, or -1 with errstr (the gauges keep their values). */
int conn_errors_refresh(wdb *db, char *errstr, size_t errlen);

#endif
