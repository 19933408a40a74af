/* spec_inventory_ledger.c - how a canonical inventory ledger entry
 * (wms.inventory_ledger.v1) lands in inventory_ledger. */
#include "writer/db_spec.h"

static const wdb_col inventory_ledger_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"entry_date", NULL, WDB_TS, 0},
    {"inventory_item_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
    {"raw_event_type", NULL, WDB_TEXT, 0},
    {"ledger_event_type", NULL, WDB_TEXT, 0},
    {"reason", NULL, WDB_TEXT, 0},
    {"object_id", NULL, WDB_TEXT, 0},
    {"object_type", NULL, WDB_TEXT, 0},
    {"warehouse_id", NULL, WDB_TEXT, 0},
    {"location_id", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_inventory_ledger = {
    .nkeys = 2,
    .cols = inventory_ledger_cols,
    .ncols = WDB_NELEM(inventory_ledger_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};
