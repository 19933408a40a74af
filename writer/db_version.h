/* db_version.h - the one order of a record's versions (docs/consuming.md "Which version
 * wins"), written once and used twice: in C to reduce a batch's versions of one record,
 * and as the SQL guard of the merge (db_sql.c), so that both apply the same rule.
 *
 * A version is (source_updated_at, trackstar_updated_at), compared in that order; a null
 * trackstar_updated_at (the 2025 API) is older than any date. The newer version wins.
 * Two observations of one version with the same content are the same version: applying
 * one again changes nothing (no row rewrite). Different content under one version is
 * possible (the WMS's updated_date has whole seconds and some WMSs leave it alone on
 * quantity-only changes; without trackstar_updated_at nothing orders such versions):
 * then a poll replaces what is held, a webhook never does. A poll reads Trackstar's copy
 * as it is at that moment; a webhook may arrive late (Svix retries for hours, deliveries
 * are unordered), so only a poll may stand for "newer" when the version cannot tell, and
 * the fetcher's cursor rule (docs/fetcher.md) re-reads every record after its copy
 * changed, so that poll always comes. Webhooks in a stream of one version: the first
 * one stands; polls: the last one. The rule is a function of the canonical record alone
 * (no arrival time, no offsets), so every consumer that applies it in partition order
 * ends with the same state, and replays are no-ops.
 *
 * Specs whose columns include both trackstar_updated_at and source use this rule (every
 * entity); connection-level specs keep a plain one: newer source_updated_at wins, and on
 * equal versions a different record replaces the held one.
 */
#ifndef WRITER_DB_VERSION_H
#define WRITER_DB_VERSION_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "writer/db_spec.h"

#define WDB_VERSION_NULL INT64_MIN /* trackstar_updated_at absent: older than any date */

/* The envelope fields that say how a version was observed, not what it is: equal content
 * means equal records without them. */
#define WDB_OBSERVATION_KEYS "{source,event_id,event_type,observed_at}"

typedef struct wdb_version {
    int64_t source_us;    /* source_updated_at, microseconds since the epoch */
    int64_t trackstar_us; /* trackstar_updated_at, or WDB_VERSION_NULL */
    int poll;             /* observed by a poll (source "poll"), not a webhook */
} wdb_version;

/* 1 when spec s orders its versions by this rule (it has trackstar_updated_at and source
 * columns), 0 when it uses the plain one. */
int wdb_version_total(const wdb_spec *s);

/* The version of canonical record rec under spec s (its version column; with the total
 * order also trackstar_updated_at and source). 0, or -1 with a reason naming the field. */
int wdb_version_of(const wdb_spec *s, const cJSON *rec, wdb_version *v, char *reason, size_t rlen);

/* Compare two versions: < 0 when a is older than b, 0 when they are the same version,
 * > 0 when a is newer. */
int wdb_version_cmp(const wdb_version *a, const wdb_version *b);

/* 1 when incoming replaces held. content_differs: their records differ apart from the
 * observation keys (only consulted for the same version). */
int wdb_version_replaces(const wdb_version *incoming, const wdb_version *held, int content_differs);

/* For a batch's versions of one record: < 0 when a must be applied in preference to b
 * (the batch's outcome is the first in this order that PostgreSQL accepts), > 0 when b,
 * 0 never for distinct items. a_item / b_item: their positions in the batch. Newer
 * versions first; within one version, polls before webhooks, the last poll first, the
 * first webhook first - applying only that one gives what applying all in order would. */
int wdb_version_prefer(const wdb_version *a, int a_item, const wdb_version *b, int b_item);

/* Append the merge's WHERE condition for spec s: t is the held row, EXCLUDED the
 * incoming one. 0 or -1 (ENOMEM). */
int wdb_version_sql_guard(const wdb_spec *s, sbuf *o);

#endif
