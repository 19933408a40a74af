/* spec_order_packs.c - how a canonical order packs record (wms.order_packs.v1) lands in
 * order_packs and its child tables: the packs (with measurements), their line items, and
 * the order's line items as the packs endpoint gives them. Children are keyed by their
 * position in the source arrays, as an order's (001_entities.sql, 018_order_packs.sql). */
#include "writer/db_spec.h"

static const wdb_col order_pack_cols[] = {
    WDB_ENVELOPE_COLS,
    {"order_id", NULL, WDB_TEXT, 0},
    {"carrier", NULL, WDB_TEXT, 0},
    {"carrier_id", NULL, WDB_TEXT, 0},
    {"carrier_name", NULL, WDB_TEXT, 0},
    {"scac", NULL, WDB_TEXT, 0},
    {"shipping_method", NULL, WDB_TEXT, 0},
    {"shipping_method_id", NULL, WDB_TEXT, 0},
    {"shipping_method_name", NULL, WDB_TEXT, 0},
    WDB_ADDRESS_COLS("ship_to_", "ship_to_address"),
    {"additional_fields", NULL, WDB_JSON, 0},
};

static const wdb_col pack_cols[] = {
    {"pack_id", NULL, WDB_TEXT, 0},
    WDB_MEASUREMENT_COLS,
};

static const wdb_col pack_line_cols[] = {
    {"pack_id", NULL, WDB_TEXT, 1},
    {"inventory_item_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
};

static const wdb_col order_line_cols[] = {
    {"product_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
};

static const wdb_child order_pack_children[] = {
    {.table = "order_pack_packs",
     .parent_col = "order_id",
     .levels = {{"packs", "pack_index", 0}},
     .depth = 1,
     .cols = pack_cols,
     .ncols = WDB_NELEM(pack_cols)},
    {.table = "order_pack_pack_line_items",
     .parent_col = "order_id",
     .levels = {{"packs", "pack_index", 0}, {"line_items", "line_number", 0}},
     .depth = 2,
     .cols = pack_line_cols,
     .ncols = WDB_NELEM(pack_line_cols)},
    {.table = "order_pack_order_line_items",
     .parent_col = "order_id",
     .levels = {{"order_line_items", "line_number", 0}},
     .depth = 1,
     .cols = order_line_cols,
     .ncols = WDB_NELEM(order_line_cols)},
};

const wdb_spec wdb_spec_order_packs = {
    .nkeys = 2,
    .cols = order_pack_cols,
    .ncols = WDB_NELEM(order_pack_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .children = order_pack_children,
    .nchildren = WDB_NELEM(order_pack_children),
};
