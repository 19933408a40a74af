/* upsert_inventory.c - how a canonical inventory item (wms.inventory.v1) lands in
 * inventory_items with its per-warehouse breakdown (inventory_levels), per-location
 * quantities (inventory_location_levels) and lots (inventory_lots). The item's SKU is
 * copied into every child row so that "SKU x warehouse" needs no join.
 */
#include "writer/db_spec.h"

static const wdb_col item_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"unit_cost", NULL, WDB_NUM, 0},
    {"active", NULL, WDB_BOOL, 0},
    {"awaiting", NULL, WDB_INT, 0},
    {"onhand", NULL, WDB_INT, 0},
    {"committed", NULL, WDB_INT, 0},
    {"unfulfillable", NULL, WDB_INT, 0},
    {"fulfillable", NULL, WDB_INT, 0},
    {"unsellable", NULL, WDB_INT, 0},
    {"sellable", NULL, WDB_INT, 0},
    {"substitute_skus", NULL, WDB_JSON, 0},
    WDB_MEASUREMENT_COLS,
    {"trackstar_tags", NULL, WDB_JSON, 0},
    {"external_system_url", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

/* warehouse_id is the level's key column (unique per item, checked in C). */
static const wdb_col level_cols[] = {
    {"warehouse_id", NULL, WDB_TEXT, 0}, {"sku", NULL, WDB_TEXT, 1},
    {"awaiting", NULL, WDB_INT, 0},      {"onhand", NULL, WDB_INT, 0},
    {"committed", NULL, WDB_INT, 0},     {"unfulfillable", NULL, WDB_INT, 0},
    {"fulfillable", NULL, WDB_INT, 0},   {"unsellable", NULL, WDB_INT, 0},
    {"sellable", NULL, WDB_INT, 0},
};

static const wdb_col location_cols[] = {
    {"location_id", NULL, WDB_TEXT, 0},
    {"warehouse_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 1},
    {"quantity", NULL, WDB_INT, 0},
};

static const wdb_col lot_cols[] = {
    {"lot_id", NULL, WDB_TEXT, 0}, {"warehouse_id", NULL, WDB_TEXT, 0},  {"sku", NULL, WDB_TEXT, 1},
    {"onhand", NULL, WDB_INT, 0},  {"expiration_date", NULL, WDB_TS, 0},
};

/* inventory_levels has no ordinal: its rows are keyed by warehouse_id. An empty ord_col
 * tells the engine not to emit the array index for that level. */
static const wdb_child item_children[] = {
    {.table = "inventory_levels",
     .parent_col = "inventory_item_id",
     .levels = {{"warehouses", NULL, 0}},
     .depth = 1,
     .cols = level_cols,
     .ncols = WDB_NELEM(level_cols),
     .unique_col = "warehouse_id"},
    {.table = "inventory_location_levels",
     .parent_col = "inventory_item_id",
     .levels = {{"locations", "line_number", 0}},
     .depth = 1,
     .cols = location_cols,
     .ncols = WDB_NELEM(location_cols)},
    {.table = "inventory_lots",
     .parent_col = "inventory_item_id",
     .levels = {{"lots", "lot_index", 0}},
     .depth = 1,
     .cols = lot_cols,
     .ncols = WDB_NELEM(lot_cols)},
};

const wdb_spec wdb_spec_inventory = {
    .name = "inventory",
    .topic = TOPIC_CANON_PUBLIC(inventory),
    .entity = "inventory_item",
    .table = "inventory_items",
    .nkeys = 2,
    .cols = item_cols,
    .ncols = WDB_NELEM(item_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .children = item_children,
    .nchildren = WDB_NELEM(item_children),
    .lifecycle = 1,
};
