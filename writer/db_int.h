/* db_int.h - what db.c (the batch apply) and db_pub.c (what a batch publishes, the
 * partition fence, purged connections) share: the wdb handle and the publish list
 * under construction. Not an interface: nothing outside writer/db*.c includes it.
 */
#ifndef WRITER_DB_INT_H
#define WRITER_DB_INT_H

#include "json_arena.h"
#include "util.h"
#include "writer/db.h"
#include "writer/db_conn.h"
#include "writer/db_spec.h"

/* A message to publish while the list is built: offsets into wdb.pubtext, because the
 * buffer may move as it grows (turned into wdb_pub pointers once the batch commits). */
typedef struct wdb_pub_int {
    int spec;
    size_t key_off, key_len;
    int item;      /* >= 0: the value is items[item]'s record */
    int stored;    /* 1: the value is pubtext[val_off, val_off + val_len) */
    int tombstone; /* 1: no value */
    size_t val_off, val_len;
} wdb_pub_int;

struct wdb {
    PGconn *conn;
    int prepared;             /* session reset done and every spec checked */
    int ready[WDB_MAX_SPECS]; /* spec i's staging tables and statements exist */
    /* spec i's staging tables hold deleted rows not vacuumed yet, and how many records
     * (all specs) were deleted since the last VACUUM or TRUNCATE (db.c, clear_staging) */
    int dirty[WDB_MAX_SPECS];
    long deleted_since_vacuum;
    sbuf bufs[WDB_MAX_SPECS][1 + WDB_MAX_CHILD_TABLES];
    sbuf dbufs[WDB_MAX_SPECS]; /* staged delete records */
    sbuf multi_sql;   /* several statements sent as one message (copy_all, children_statements) */
    json_arena arena; /* the records of the current call; emptied when it ends */
    /* what the current (or last committed) batch publishes */
    wdb_pub_int *pi;
    int npi, cappi;
    sbuf pubtext;
    wdb_pub *pubs; /* built from pi after the commit */
    int npubs;
    char applied_at[40];
    /* accuracy (db_accuracy.c): an entity merge recorded versions in this transaction;
     * the versions of the last committed batch */
    int acc_dirty;
    struct wdb_acc_row *acc;
    int nacc, capacc;
    int purge_locked; /* this session holds the purge lock shared */
};

/* Run a utility command; 0 or -1 with errstr. */
int wdb_exec(wdb *db, const char *sql, char *errstr, size_t errlen);
/* "what: message (SQLSTATE x)" from a failed result into errstr. */
void wdb_res_err(wdb *db, const PGresult *res, char *errstr, size_t errlen, const char *what);

/* db_pub.c */
void wdb_pub_reset(wdb *db);
/* Append a message for spec's topic, key "conn|id"; item >= 0 borrows items[item]'s value,
 * else value/len are copied (value NULL = tombstone). 0 or -1 (ENOMEM). */
int wdb_pub_add(wdb *db, int spec, const char *conn, const char *id, int item, const char *value,
                size_t len);
/* Build db->pubs from the list (after the commit). 0 or -1 (ENOMEM). */
int wdb_pub_finish(wdb *db, const wdb_item *items);
/* In the batch's transaction: check and advance the fences, and read the transaction's
 * time into db->applied_at. 0, -1 (errstr), or -2 when a fence was lost. */
int wdb_fence_run(wdb *db, const char *group, wdb_fence *f, int nf, char *errstr, size_t errlen);
/* In the batch's transaction: which of conns[0..n) (distinct) were purged; purged[i] set
 * to 1 for those. 0 or -1. */
int wdb_purged(wdb *db, const char *const *conns, int n, int *purged, char *errstr, size_t errlen);
/* In the batch's transaction: publish the stored rows of keys (conns[k], ids[k]) of spec:
 * the record, and a tombstone after it when the row is deleted. 0 or -1. */
int wdb_pub_stored(wdb *db, int spec, const char *const *conns, const char *const *ids, int n,
                   char *errstr, size_t errlen);

#endif
