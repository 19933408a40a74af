/* pq_conn.c - fixed, secret-free descriptions of failed PostgreSQL connections (see
 * pq_conn.h). */
#include "pq_conn.h"

#include <string.h>

/* libpq's text -> our text. Matched in order; the first hit decides. */
static const struct {
    const char *needle, *says;
} kinds[] = {
    {"password authentication failed",
     "database authentication failed (check the user and password in DATABASE_URL)"},
    {"authentication failed",
     "database authentication failed (check the user and password in DATABASE_URL)"},
    {"no password supplied", "the database server asks for a password and DATABASE_URL has none"},
    {"does not exist", "the database or user named in DATABASE_URL does not exist"},
    {"too many connections", "the database server has no free connection slot; retrying"},
    {"starting up", "the database server is starting up; retrying"},
    {"shutting down", "the database server is shutting down; retrying"},
    {"in recovery", "the database server is in recovery; retrying"},
    {"could not translate host name",
     "cannot resolve the database host (check the host in DATABASE_URL)"},
    {"SSL", "TLS with the database server failed (check sslmode in DATABASE_URL)"},
    {"Connection refused",
     "cannot reach the database server (check the host and port in DATABASE_URL)"},
    {"timeout expired",
     "cannot reach the database server (check the host and port in DATABASE_URL)"},
    {"could not connect",
     "cannot reach the database server (check the host and port in DATABASE_URL)"},
};

const char *pq_conn_failure(const char *conninfo, const PGconn *conn) {
    if (conninfo) {
        char *err = NULL;
        PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
        if (!opts) {
            /* err quotes the bad fragment, which may be the password: wipe it. */
            if (err) {
                explicit_bzero(err, strlen(err));
                PQfreemem(err);
            }
            return "DATABASE_URL is malformed (not shown: it may hold a password)";
        }
        PQconninfoFree(opts);
    }
    if (!conn) return "cannot allocate a database connection (out of memory)";
    if (PQconnectionNeedsPassword(conn))
        return "the database server asks for a password and DATABASE_URL has none";
    const char *m = PQerrorMessage(conn);
    for (size_t i = 0; m && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strstr(m, kinds[i].needle)) return kinds[i].says;
    return "database connection failed (check DATABASE_URL)";
}
