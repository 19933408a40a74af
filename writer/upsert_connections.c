/* upsert_connections.c - connection-level events (wms.connection_events.v1): which kind
 * lands in which table. connection_created and connection_deleted are two specs on the
 * same connections row with separate columns and separate guards, so they commute.
 */
#include "writer/db_spec.h"

#define CONN_EVENT_TOPIC TOPIC_CONNECTION_EVENTS
#define CONN_EVENT_ENTITY "connection_event"

static const char *const created_kinds[] = {"connection_created", NULL};
static const wdb_col created_cols[] = {
    {"connection_id", NULL, WDB_TEXT, 0},
    {"integration_name", NULL, WDB_TEXT, 0},
    {"created_at", NULL, WDB_TS, 0},
    {"access_token_present", NULL, WDB_BOOL, 0},
    {"created_version", "source_updated_at", WDB_TS, 0},
    {"created_event_id", "event_id", WDB_TEXT, 0},
};
const wdb_spec wdb_spec_conn_created = {
    .name = "conn_created",
    .topic = CONN_EVENT_TOPIC,
    .entity = CONN_EVENT_ENTITY,
    .kinds = created_kinds,
    .table = "connections",
    .nkeys = 1,
    .cols = created_cols,
    .ncols = WDB_NELEM(created_cols),
    .version_col = "created_version",
    .record_col = "created_record",
};

static const char *const deleted_kinds[] = {"connection_deleted", NULL};
static const wdb_col deleted_cols[] = {
    {"connection_id", NULL, WDB_TEXT, 0},
    {"integration_name", NULL, WDB_TEXT, 0},
    {"deleted_at", NULL, WDB_TS, 0},
    {"deleted_version", "source_updated_at", WDB_TS, 0},
    {"deleted_event_id", "event_id", WDB_TEXT, 0},
};
const wdb_spec wdb_spec_conn_deleted = {
    .name = "conn_deleted",
    .topic = CONN_EVENT_TOPIC,
    .entity = CONN_EVENT_ENTITY,
    .kinds = deleted_kinds,
    .table = "connections",
    .nkeys = 1,
    .cols = deleted_cols,
    .ncols = WDB_NELEM(deleted_cols),
    .version_col = "deleted_version",
    .record_col = "deleted_record",
};

/* Trackstar gives connection errors no id; created/updated/deleted of one error share
 * its failed_url (OpenAPI shape) or resource / error_type (the guide's shape). */
static const char *const error_kinds[] = {"connection_error_created", "connection_error_updated",
                                          "connection_error_deleted", NULL};
static const wdb_col error_cols[] = {
    {"connection_id", NULL, WDB_TEXT, 0},
    {"error_key", "failed_url|resource|error_type", WDB_FIRST_OF, 0},
    {"integration_name", NULL, WDB_TEXT, 0},
    {"source", NULL, WDB_TEXT, 0},
    {"event_id", NULL, WDB_TEXT, 0},
    {"event_type", NULL, WDB_TEXT, 0},
    {"kind", NULL, WDB_TEXT, 0},
    {"source_updated_at", NULL, WDB_TS, 0},
    {"observed_at", NULL, WDB_TS, 0},
    {"resource", NULL, WDB_TEXT, 0},
    {"failed_url", NULL, WDB_TEXT, 0},
    {"error_message", NULL, WDB_TEXT, 0},
    {"error_type", NULL, WDB_TEXT, 0},
    {"affected_endpoints", NULL, WDB_JSON, 0},
    {"created_at", NULL, WDB_TS, 0},
    {"last_seen_at", NULL, WDB_TS, 0},
};
const wdb_spec wdb_spec_conn_errors = {
    .name = "conn_errors",
    .topic = CONN_EVENT_TOPIC,
    .entity = CONN_EVENT_ENTITY,
    .kinds = error_kinds,
    .table = "connection_errors",
    .nkeys = 2,
    .cols = error_cols,
    .ncols = WDB_NELEM(error_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};

static const char *const sync_kinds[] = {"sync_status", NULL};
static const wdb_col sync_cols[] = {
    {"connection_id", NULL, WDB_TEXT, 0},
    {"resource", NULL, WDB_TEXT, 0},
    {"integration_name", NULL, WDB_TEXT, 0},
    {"source", NULL, WDB_TEXT, 0},
    {"event_id", NULL, WDB_TEXT, 0},
    {"event_type", NULL, WDB_TEXT, 0},
    {"source_updated_at", NULL, WDB_TS, 0},
    {"observed_at", NULL, WDB_TS, 0},
    {"state", NULL, WDB_TEXT, 0},
    {"last_started_at", NULL, WDB_TS, 0},
    {"last_success_at", NULL, WDB_TS, 0},
    {"records_seen", NULL, WDB_INT, 0},
    {"last_error", NULL, WDB_TEXT, 0},
};
const wdb_spec wdb_spec_sync_status = {
    .name = "sync_status",
    .topic = CONN_EVENT_TOPIC,
    .entity = CONN_EVENT_ENTITY,
    .kinds = sync_kinds,
    .table = "sync_status",
    .nkeys = 2,
    .cols = sync_cols,
    .ncols = WDB_NELEM(sync_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};

static const char *const historical_kinds[] = {"historical_sync_completed", NULL};
static const wdb_col historical_cols[] = {
    {"connection_id", NULL, WDB_TEXT, 0},    {"resource", NULL, WDB_TEXT, 0},
    {"integration_name", NULL, WDB_TEXT, 0}, {"source", NULL, WDB_TEXT, 0},
    {"event_id", NULL, WDB_TEXT, 0},         {"event_type", NULL, WDB_TEXT, 0},
    {"source_updated_at", NULL, WDB_TS, 0},  {"observed_at", NULL, WDB_TS, 0},
    {"oldest_data_date", NULL, WDB_TS, 0},   {"newest_data_date", NULL, WDB_TS, 0},
};
const wdb_spec wdb_spec_historical_syncs = {
    .name = "historical_syncs",
    .topic = CONN_EVENT_TOPIC,
    .entity = CONN_EVENT_ENTITY,
    .kinds = historical_kinds,
    .table = "historical_syncs",
    .nkeys = 2,
    .cols = historical_cols,
    .ncols = WDB_NELEM(historical_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};
