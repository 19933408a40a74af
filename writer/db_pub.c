/* db_pub.c - what a batch publishes, and the statements that make publishing safe:
 *
 *  - the publish list: every version the batch's merges and deletes applied, in the
 *    order PostgreSQL applied them (db.c adds to it only after a savepoint holds), plus,
 *    for records flagged `recover`, their stored rows (see writer/main.c);
 *  - the partition fence (writer_partitions): a batch commits only under the epoch its
 *    writer claimed, and records its highest offset per partition in the same
 *    transaction, so that a successor knows which records may be committed but not
 *    published;
 *  - purged connections (purged_connections, keyed by the SHA-256 of the id): their
 *    late records are skipped, so a purge stays a purge;
 *  - the purge lock (common/purge.h).
 *
 * Values travel as parameters only; arrays as text[] literals built here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "purge.h"
#include "writer/db_int.h"
#include "writer/db_sql.h"

void wdb_pub_reset(wdb *db) {
    db->npi = 0;
    db->npubs = 0;
    db->pubtext.len = 0;
    db->applied_at[0] = '\0';
}

int wdb_pub_add(wdb *db, int spec, const char *conn, const char *id, int item, const char *value,
                size_t len) {
    if (db->npi == db->cappi) {
        int cap = db->cappi ? db->cappi * 2 : 256;
        wdb_pub_int *p = realloc(db->pi, (size_t)cap * sizeof *p);
        if (!p) return -1;
        db->pi = p;
        db->cappi = cap;
    }
    wdb_pub_int *p = &db->pi[db->npi];
    memset(p, 0, sizeof *p);
    p->spec = spec;
    p->item = item;
    p->key_off = db->pubtext.len;
    if (sbuf_printf(&db->pubtext, "%s|%s", conn, id)) return -1;
    p->key_len = db->pubtext.len - p->key_off;
    if (item < 0) {
        if (!value) {
            p->tombstone = 1;
        } else {
            p->stored = 1;
            p->val_off = db->pubtext.len;
            p->val_len = len;
            if (sbuf_append(&db->pubtext, value, len)) return -1;
        }
    }
    db->npi++;
    return 0;
}

int wdb_pub_finish(wdb *db, const wdb_item *items) {
    free(db->pubs);
    db->pubs = NULL;
    db->npubs = 0;
    if (db->npi == 0) return 0;
    db->pubs = calloc((size_t)db->npi, sizeof *db->pubs);
    if (!db->pubs) return -1;
    for (int i = 0; i < db->npi; i++) {
        const wdb_pub_int *p = &db->pi[i];
        wdb_pub *o = &db->pubs[i];
        o->topic = wdb_spec_topic(wdb_specs[p->spec]);
        o->key = db->pubtext.p + p->key_off;
        o->key_len = p->key_len;
        o->item = p->item;
        if (p->item >= 0) {
            o->value = items[p->item].value;
            o->value_len = items[p->item].value_len;
        } else if (p->stored) {
            o->value = db->pubtext.p + p->val_off;
            o->value_len = p->val_len;
        }
    }
    db->npubs = db->npi;
    return 0;
}

int wdb_published(wdb *db, const wdb_pub **out) {
    *out = db->pubs;
    return db->npubs;
}

const char *wdb_applied_at(wdb *db) {
    return db->applied_at;
}

void wdb_take_published(wdb *db, wdb_publist *out) {
    free(out->pubs);
    out->pubs = db->pubs;
    out->n = db->npubs;
    db->pubs = NULL;
    db->npubs = 0;
    sbuf text = out->text;
    out->text = db->pubtext;
    db->pubtext = text;
    db->pubtext.len = 0;
    db->npi = 0;
    snprintf(out->applied_at, sizeof out->applied_at, "%s", db->applied_at);
}

void wdb_publist_free(wdb_publist *l) {
    free(l->pubs);
    sbuf_free(&l->text);
    memset(l, 0, sizeof *l);
}

/* A PostgreSQL array literal {"a","b"} of v[0..n) (each quoted, " and \ escaped). */
static int text_array(sbuf *b, const char *const *v, int n) {
    int rc = sbuf_append(b, "{", 1);
    for (int i = 0; i < n && !rc; i++) {
        rc |= sbuf_append(b, i ? ",\"" : "\"", i ? 2 : 1);
        for (const char *p = v[i]; *p && !rc; p++) {
            if (*p == '"' || *p == '\\') rc |= sbuf_append(b, "\\", 1);
            rc |= sbuf_append(b, p, 1);
        }
        rc |= sbuf_append(b, "\"", 1);
    }
    rc |= sbuf_append(b, "}", 1);
    return rc ? -1 : 0;
}

/* Run a parameterised statement that returns rows; NULL with errstr on failure. */
static PGresult *query(wdb *db, const char *sql, int n, const char *const *vals, char *errstr,
                       size_t errlen, const char *what) {
    PGresult *r = PQexecParams(db->conn, sql, n, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        wdb_res_err(db, r, errstr, errlen, what);
        PQclear(r);
        return NULL;
    }
    return r;
}

int wdb_claim(wdb *db, const char *group, const char *topic, int partition, long long *epoch,
              long long *applied_offset, char *errstr, size_t errlen) {
    char part[16];
    snprintf(part, sizeof part, "%d", partition);
    const char *vals[] = {group, topic, part};
    PGresult *r = query(
        db,
        "INSERT INTO writer_partitions AS w (group_id, topic, partition, epoch, applied_offset) "
        "VALUES ($1, $2, $3::int, 1, -1) ON CONFLICT (group_id, topic, partition) "
        "DO UPDATE SET epoch = w.epoch + 1, claimed_at = now() RETURNING epoch, applied_offset",
        3, vals, errstr, errlen, "claim partition");
    if (!r) return -1;
    int ok = PQntuples(r) == 1;
    if (ok) {
        *epoch = atoll(PQgetvalue(r, 0, 0));
        *applied_offset = atoll(PQgetvalue(r, 0, 1));
    } else {
        snprintf(errstr, errlen, "claim partition: no row returned");
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int wdb_fence_run(wdb *db, const char *group, wdb_fence *f, int nf, char *errstr, size_t errlen) {
    sbuf topics = {0}, parts = {0}, epochs = {0}, offs = {0};
    int rc = -1, lost = 0;
    const char **names = calloc((size_t)(nf ? nf : 1), sizeof *names);
    if (!names) goto oom;
    for (int i = 0; i < nf; i++)
        names[i] = f[i].topic;
    if (text_array(&topics, names, nf) || sbuf_append(&parts, "{", 1) ||
        sbuf_append(&epochs, "{", 1) || sbuf_append(&offs, "{", 1))
        goto oom;
    for (int i = 0; i < nf; i++)
        if (sbuf_printf(&parts, "%s%d", i ? "," : "", f[i].partition) ||
            sbuf_printf(&epochs, "%s%lld", i ? "," : "", f[i].epoch) ||
            sbuf_printf(&offs, "%s%lld", i ? "," : "", f[i].offset))
            goto oom;
    if (sbuf_append(&parts, "}", 1) || sbuf_append(&epochs, "}", 1) || sbuf_append(&offs, "}", 1))
        goto oom;
    const char *vals[] = {group, topics.p, parts.p, epochs.p, offs.p};
    /* One round trip: advance every fence still held, report the ones that are not, and
     * the transaction's time (now() is fixed for the transaction: the commit's time as
     * far as a consumer can tell). The UPDATE's row locks serialise this batch with a
     * writer claiming the same partition. */
    PGresult *r = query(
        db,
        "WITH f AS (SELECT * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) "
        "AS f(topic, part, epoch, off)), u AS (UPDATE writer_partitions w SET applied_offset = "
        "greatest(w.applied_offset, f.off) FROM f WHERE w.group_id = $1 AND w.topic = f.topic AND "
        "w.partition = f.part AND w.epoch = f.epoch RETURNING w.topic, w.partition) "
        "SELECT f.topic, f.part, u.topic IS NOT NULL, "
        "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
        "FROM f LEFT JOIN u ON u.topic = f.topic AND u.partition = f.part "
        "UNION ALL SELECT NULL, NULL, true, "
        "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        5, vals, errstr, errlen, "partition fence");
    if (!r) goto done;
    for (int k = 0; k < PQntuples(r); k++) {
        snprintf(db->applied_at, sizeof db->applied_at, "%s", PQgetvalue(r, k, 3));
        if (PQgetisnull(r, k, 0) || strcmp(PQgetvalue(r, k, 2), "t") == 0) continue;
        for (int i = 0; i < nf; i++)
            if (strcmp(f[i].topic, PQgetvalue(r, k, 0)) == 0 &&
                f[i].partition == atoi(PQgetvalue(r, k, 1))) {
                f[i].lost = 1;
                lost = 1;
            }
    }
    PQclear(r);
    rc = lost ? -2 : 0;
    if (lost) snprintf(errstr, errlen, "partition claimed by another writer");
    goto done;
oom:
    snprintf(errstr, errlen, "out of memory");
done:
    free(names);
    sbuf_free(&topics);
    sbuf_free(&parts);
    sbuf_free(&epochs);
    sbuf_free(&offs);
    return rc;
}

int wdb_purged(wdb *db, const char *const *conns, int n, int *purged, char *errstr, size_t errlen) {
    sbuf arr = {0};
    for (int i = 0; i < n; i++)
        purged[i] = 0;
    if (n == 0) return 0;
    if (text_array(&arr, conns, n)) {
        sbuf_free(&arr);
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    const char *vals[] = {arr.p};
    /* The ordinality, not the id, comes back: an id could be anything. */
    PGresult *r = query(db,
                        "SELECT k.n FROM unnest($1::text[]) WITH ORDINALITY AS k(c, n) "
                        "JOIN purged_connections p ON p.connection_hash = purge_marker(k.c)",
                        1, vals, errstr, errlen, "purged connections");
    sbuf_free(&arr);
    if (!r) return -1;
    for (int k = 0; k < PQntuples(r); k++) {
        int i = atoi(PQgetvalue(r, k, 0)) - 1;
        if (i >= 0 && i < n) purged[i] = 1;
    }
    PQclear(r);
    return 0;
}

int wdb_pub_stored(wdb *db, int spec, const char *const *conns, const char *const *ids, int n,
                   char *errstr, size_t errlen) {
    sbuf sql = {0}, a = {0}, b = {0};
    int rc = -1;
    if (n == 0) return 0;
    if (wdb_sql_stored(wdb_specs[spec], &sql) || text_array(&a, conns, n) ||
        text_array(&b, ids, n)) {
        snprintf(errstr, errlen, "out of memory");
        goto done;
    }
    const char *vals[] = {a.p, b.p};
    PGresult *r = query(db, sql.p, 2, vals, errstr, errlen, "stored rows");
    if (!r) goto done;
    rc = 0;
    for (int k = 0; k < PQntuples(r) && rc == 0; k++) {
        const char *c = PQgetvalue(r, k, 0), *id = PQgetvalue(r, k, 1);
        if (wdb_pub_add(db, spec, c, id, -1, PQgetvalue(r, k, 2), (size_t)PQgetlength(r, k, 2)) ||
            (strcmp(PQgetvalue(r, k, 3), "t") == 0 && wdb_pub_add(db, spec, c, id, -1, NULL, 0))) {
            snprintf(errstr, errlen, "out of memory");
            rc = -1;
        }
    }
    PQclear(r);
done:
    sbuf_free(&sql);
    sbuf_free(&a);
    sbuf_free(&b);
    return rc;
}

int wdb_purge_lock(wdb *db, int lock, char *errstr, size_t errlen) {
    /* Unlocking a lock this session does not hold would only warn, and taking it twice
     * would need two unlocks: skip both. */
    if (lock == db->purge_locked) return 0;
    int rc =
        lock ? wdb_exec(db, "SELECT pg_advisory_lock_shared(" PURGE_LOCK_KEY ")", errstr, errlen)
             : wdb_exec(db, "SELECT pg_advisory_unlock_shared(" PURGE_LOCK_KEY ")", errstr, errlen);
    if (rc == 0) db->purge_locked = lock;
    return rc;
}

int wdb_purge_locked(const wdb *db) {
    return db->purge_locked;
}

int wdb_purge_waiting(wdb *db, int *waiting, char *errstr, size_t errlen) {
    /* An advisory lock on one bigint key: classid the high half, objid the low one,
     * objsubid 1. */
    PGresult *r = query(db,
                        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND "
                        "database = (SELECT oid FROM pg_database WHERE datname = "
                        "current_database()) AND classid = (" PURGE_LOCK_KEY
                        "::bigint >> 32)::oid AND objid = (" PURGE_LOCK_KEY
                        "::bigint & 4294967295)::oid AND objsubid = 1 AND mode = "
                        "'ExclusiveLock' AND NOT granted)",
                        0, NULL, errstr, errlen, "purge waiting");
    if (!r) return -1;
    *waiting = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}
