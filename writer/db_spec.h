/* db_spec.h - how a canonical record maps onto tables: one table-driven spec per record
 * kind (parent table, its columns and their JSON paths, its child tables). The engine in
 * db_stage.c/db_sql.c turns a spec into staging tables, COPY rows and merge statements,
 * so adding a field is one line here and one ALTER TABLE in a migration.
 *
 * Column and table names are compile-time constants: SQL is built from them, never from
 * record values (those only travel as COPY data or bound parameters).
 */
#ifndef WRITER_DB_SPEC_H
#define WRITER_DB_SPEC_H

#include <stddef.h>

#include "entities.h"
#include "topics.h"

#define WDB_MAX_DEPTH 3        /* nesting of child arrays: shipments -> packages -> line_items */
#define WDB_MAX_KEYS 2         /* key columns of a parent table */
#define WDB_MAX_CHILD_TABLES 6 /* child tables of one spec */

typedef enum wdb_coltype {
    WDB_TEXT,    /* JSON string (numbers and bools are printed) */
    WDB_INT,     /* JSON integer -> bigint / int */
    WDB_NUM,     /* decimal: JSON string "59.5" (canonical) or number -> numeric */
    WDB_BOOL,    /* JSON true/false -> boolean */
    WDB_TS,      /* RFC 3339 string -> timestamptz (PostgreSQL parses it) */
    WDB_JSON,    /* any JSON value -> jsonb (JSON null -> SQL NULL) */
    WDB_FIRST_OF /* text: the first non-null string among '|'-separated paths, else "" */
} wdb_coltype;

typedef struct wdb_col {
    const char *name; /* target column */
    const char *path; /* dot path inside the JSON element; NULL = the column's name */
    wdb_coltype type;
    int up; /* 0: the innermost element; k: k levels up (k = depth: the record) */
} wdb_col;

/* One nesting level of a child table: an array (rows get the 0-based index in ord_col)
 * or an object used as a map (rows get the member name in ord_col). ord_col NULL (only
 * for the innermost array level): no position column, the rows are keyed by unique_col. */
typedef struct wdb_level {
    const char *path;    /* dot path inside the enclosing element */
    const char *ord_col; /* column receiving the index / member name, or NULL */
    int is_map;
} wdb_level;

typedef struct wdb_child {
    const char *table;
    const char *parent_col; /* e.g. "order_id": the parent's id */
    wdb_level levels[WDB_MAX_DEPTH];
    int depth;
    const wdb_col *cols; /* data columns after the ordinals */
    int ncols;
    /* When the natural key of an array row is one of its columns (not its index), the
     * column that must be unique per parent; checked in C so that a duplicate becomes a
     * rejected record instead of a unique violation. NULL when not needed. */
    const char *unique_col;
} wdb_child;

/* A record kind's spec. For an entity of the registry (common/entities.h) the spec is
 * wdb_spec_<name> and leaves name, topic, entity and table unset: the registry gives
 * them (wdb_spec_name, wdb_spec_table). The connection events' specs set them. */
typedef struct wdb_spec {
    const char *name;   /* short name for reasons and statement names */
    const char *topic;  /* canonical topic, e.g. "wms.connection_events.v1" */
    const char *entity; /* envelope "entity" value */
    const char *const
        *kinds; /* connection events: the "kind" values routed here; NULL-terminated */
    const char *table;
    int nkeys;           /* key columns: the first nkeys entries of cols */
    const wdb_col *cols; /* every column filled from the record, keys first */
    int ncols;
    /* The monotonic guard: one of cols, type WDB_TS. Its value is also parsed in C, so
     * that in-batch duplicates are reduced with the same order PostgreSQL applies. */
    const char *version_col;
    const char *record_col; /* jsonb column receiving the whole record */
    const wdb_child *children;
    int nchildren;
} wdb_spec;

/* Every spec, in the order their statements run: the registry's entities in its order
 * (index = ts_entity_id), then the connection events'. */
extern const wdb_spec *const wdb_specs[];
extern const int wdb_nspecs;
/* The connection events' specs after the entities' in wdb_specs (db_specs.c checks the
 * count at compile time), so that per-spec arrays are sized by the registry. */
#define WDB_NCONN_SPECS 6
#define WDB_MAX_SPECS (TS_ENTITY_COUNT + WDB_NCONN_SPECS)

/* The spec for a (topic, entity, kind) triple; kind may be NULL. Returns its index or -1. */
int wdb_spec_find(const char *topic, const char *entity, const char *kind);

/* A spec's short name, table, topic (an entity's public one) and envelope entity, from
 * the registry for an entity's spec. */
const char *wdb_spec_name(const wdb_spec *s);
const char *wdb_spec_table(const wdb_spec *s);
const char *wdb_spec_topic(const wdb_spec *s);
const char *wdb_spec_entity(const wdb_spec *s);
/* 1 when Trackstar sends webhooks for the spec's records (the registry's events; a
 * connection event's spec: 1), 0 for an entity without (TS_NONE). */
int wdb_spec_webhooks(const wdb_spec *s);

/* 1 for an entity's spec (keys connection_id, id; the envelope columns): every version
 * the merge applies is published on its topic, and the record can be deleted (a delete
 * record sets deleted_at; see db_sql.c for the order of deletes and versions). 0 for a
 * connection event's. */
int wdb_spec_lifecycle(const wdb_spec *s);

/* One spec per entity of the registry, wdb_spec_<name> (spec_*.c): a missing one fails
 * the link. */
#define WDB_SPEC_DECL(name, ...) extern const wdb_spec wdb_spec_##name;
TS_ENTITIES(WDB_SPEC_DECL)
#undef WDB_SPEC_DECL

/* The connection events' specs (spec_connections.c). */
extern const wdb_spec wdb_spec_conn_created;
extern const wdb_spec wdb_spec_conn_deleted;
extern const wdb_spec wdb_spec_conn_polled;
extern const wdb_spec wdb_spec_conn_errors;
extern const wdb_spec wdb_spec_sync_status;
extern const wdb_spec wdb_spec_historical_syncs;

/* Shared column groups. col is the column-name prefix, path the JSON object holding them.
 * An entity's row starts with the envelope and the value policy's changes (NULL: none). */
#define WDB_ENVELOPE_COLS                                                                          \
    {"connection_id", NULL, WDB_TEXT, 0}, {"id", NULL, WDB_TEXT, 0},                               \
        {"integration_name", NULL, WDB_TEXT, 0}, {"source", NULL, WDB_TEXT, 0},                    \
        {"event_id", NULL, WDB_TEXT, 0}, {"event_type", NULL, WDB_TEXT, 0},                        \
        {"source_updated_at", NULL, WDB_TS, 0}, {"trackstar_updated_at", NULL, WDB_TS, 0},         \
        {"observed_at", NULL, WDB_TS, 0}, {                                                        \
        "value_changes", NULL, WDB_JSON, 0                                                         \
    }

#define WDB_FROM_ADDRESS_COLS(col, path)                                                           \
    {col "address1", path ".address1", WDB_TEXT, 0},                                               \
        {col "address2", path ".address2", WDB_TEXT, 0},                                           \
        {col "address3", path ".address3", WDB_TEXT, 0}, {col "city", path ".city", WDB_TEXT, 0},  \
        {col "state", path ".state", WDB_TEXT, 0},                                                 \
        {col "postal_code", path ".postal_code", WDB_TEXT, 0}, {                                   \
        col "country", path ".country", WDB_TEXT, 0                                                \
    }

#define WDB_ADDRESS_COLS(col, path)                                                                \
    {col "full_name", path ".full_name", WDB_TEXT, 0},                                             \
        {col "company", path ".company", WDB_TEXT, 0}, WDB_FROM_ADDRESS_COLS(col, path),           \
        {col "phone_number", path ".phone_number", WDB_TEXT, 0}, {                                 \
        col "email_address", path ".email_address", WDB_TEXT, 0                                    \
    }

#define WDB_MEASUREMENT_COLS                                                                       \
    {"length", "measurements.length", WDB_NUM, 0}, {"width", "measurements.width", WDB_NUM, 0},    \
        {"height", "measurements.height", WDB_NUM, 0},                                             \
        {"dimension_unit", "measurements.unit", WDB_TEXT, 0},                                      \
        {"weight", "measurements.weight", WDB_NUM, 0}, {                                           \
        "weight_unit", "measurements.weight_unit", WDB_TEXT, 0                                     \
    }

#define WDB_NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif
