/* pq_conn.h - what to say when a PostgreSQL connection cannot be made.
 *
 * libpq's own message can quote the connection string: a malformed DATABASE_URL comes
 * back as `invalid percent-encoded token: "S3cr%t"`, the password included. Every stage,
 * tool and admin answer that reports a failed connection uses this fixed, secret-free
 * text instead, chosen from the failure's kind; libpq's text is only looked at, never
 * copied. (Errors of statements on an open connection are the server's and hold no part
 * of the connection string.)
 */
#ifndef TS_PQ_CONN_H
#define TS_PQ_CONN_H

#if defined(__has_include) && __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif

/* conninfo: the URL or key=value string the connection was made from (NULL when only
 * conn is known, e.g. after PQreset); conn: the failed connection (may be NULL).
 * Returns a static string naming the kind of failure and DATABASE_URL. */
const char *pq_conn_failure(const char *conninfo, const PGconn *conn);

#endif
