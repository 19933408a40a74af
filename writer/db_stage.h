/* db_stage.h - turning one canonical record into staging rows: its dedupe key and
 * version, and its parent and child rows in PostgreSQL's COPY text format. Pure C, no
 * I/O: every content problem found here becomes a rejected record with a reason naming
 * the field (never its value), before anything reaches the database.
 */
#ifndef WRITER_DB_STAGE_H
#define WRITER_DB_STAGE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "writer/db.h"
#include "writer/db_spec.h"
#include "writer/db_version.h"

#define WDB_MAX_KEY_BYTES 1024 /* one key value: ids are <= 512 (normalizer); btree limit ~2700 */

/* The record's dedupe key (malloc'd into *key: the key columns, length-prefixed) and
 * its version (db_version.h). Timestamps (the version too) must be in the canonical form
 * the normalizer writes (val_time_canonical), decimal text likewise (val_dec_canonical):
 * what C accepts PostgreSQL accepts and orders the same way. 0, or -1 with a reason
 * (missing id, bad version, ...); on -1 *key is NULL. */
int wdb_stage_key(const wdb_spec *spec, const cJSON *rec, char **key, wdb_version *version,
                  char *reason, size_t rlen);

/* Append the staging rows of one record with sequence number seq: the parent row to
 * bufs[0], the rows of child table c to bufs[1 + c]. raw is the record's own text,
 * staged for the jsonb record column. Returns 0; or -1 with a reason and every buffer
 * restored to its length on entry (*oom = 1 when the cause was memory, not content). */
int wdb_stage_rows(const wdb_spec *spec, const cJSON *rec, const char *raw, size_t raw_len, int seq,
                   sbuf *bufs, int *oom, char *reason, size_t rlen);

/* Append s[0..n) escaped for COPY text format (backslash, newline, CR, tab). 0 or -1. */
int wdb_copy_escape(sbuf *b, const char *s, size_t n);

#endif
