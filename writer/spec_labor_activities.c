/* spec_labor_activities.c - how a canonical labor activity (wms.labor_activities.v1)
 * lands in labor_activities. */
#include "writer/db_spec.h"

static const wdb_col labor_activities_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"user_id", NULL, WDB_TEXT, 0},
    {"user_first_name", NULL, WDB_TEXT, 0},
    {"user_last_name", NULL, WDB_TEXT, 0},
    {"warehouse_id", NULL, WDB_TEXT, 0},
    {"activity_type", NULL, WDB_TEXT, 0},
    {"activity_start_time", NULL, WDB_TS, 0},
    {"activity_end_time", NULL, WDB_TS, 0},
    {"associated_object_type", NULL, WDB_TEXT, 0},
    {"associated_object_id", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_labor_activities = {
    .nkeys = 2,
    .cols = labor_activities_cols,
    .ncols = WDB_NELEM(labor_activities_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};
