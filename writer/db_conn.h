/* db_conn.h - for the writer's own modules (migrate.c): the libpq connection behind a
 * wdb. Borrowed: the wdb keeps owning it. */
#ifndef WRITER_DB_CONN_H
#define WRITER_DB_CONN_H

/* Debian installs libpq's header under postgresql/; elsewhere it is often top-level. */
#if defined(__has_include) && __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif

#include "writer/db.h"

/* The session's statement timeout: a stuck statement becomes a retry, not a hang. */
#define WDB_STATEMENT_TIMEOUT "60s"

/* The session's work_mem: the merge sorts a batch by key (WRITER_BATCH_MAX records). */
#define WDB_WORK_MEM "32MB"

PGconn *wdb_conn(wdb *db);

#endif
