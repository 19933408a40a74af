/* upsert_returns.c - how a canonical return (wms.returns.v1) lands in returns and its
 * children: line items, return shipments, their line items and receiving details.
 */
#include "writer/db_spec.h"

static const wdb_col return_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"status", NULL, WDB_TEXT, 0},
    {"raw_status", NULL, WDB_TEXT, 0},
    {"order_id", NULL, WDB_TEXT, 0},
    {"notes", NULL, WDB_JSON, 0},
    {"trackstar_tags", NULL, WDB_JSON, 0},
    {"external_system_url", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

static const wdb_col line_cols[] = {
    {"inventory_item_id", NULL, WDB_TEXT, 0}, {"sku", NULL, WDB_TEXT, 0},
    {"expected_quantity", NULL, WDB_INT, 0},  {"received_quantity", NULL, WDB_INT, 0},
    {"restocked_quantity", NULL, WDB_INT, 0}, {"return_reason", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},           {"warehouse_id", NULL, WDB_TEXT, 0},
    {"returned_at", NULL, WDB_TS, 0},
};

static const wdb_col shipment_cols[] = {
    {"tracking_number", NULL, WDB_TEXT, 0}, {"shipped_at", NULL, WDB_TS, 0},
    {"arrived_at", NULL, WDB_TS, 0},        {"warehouse_id", NULL, WDB_TEXT, 0},
    {"carrier", NULL, WDB_TEXT, 0},         {"carrier_id", NULL, WDB_TEXT, 0},
    {"carrier_name", NULL, WDB_TEXT, 0},    {"scac", NULL, WDB_TEXT, 0},
    {"shipping_cost", NULL, WDB_NUM, 0},    WDB_MEASUREMENT_COLS,
};

static const wdb_col shipment_line_cols[] = {
    {"inventory_item_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
};

static const wdb_col receiving_cols[] = {
    {"inventory_item_id", NULL, WDB_TEXT, 1}, {"sku", NULL, WDB_TEXT, 1},
    {"quantity", NULL, WDB_INT, 0},           {"condition", NULL, WDB_TEXT, 0},
    {"disposition", NULL, WDB_TEXT, 0},
};

static const wdb_child return_children[] = {
    {.table = "return_line_items",
     .parent_col = "return_id",
     .levels = {{"line_items", "line_number", 0}},
     .depth = 1,
     .cols = line_cols,
     .ncols = WDB_NELEM(line_cols)},
    {.table = "return_shipments",
     .parent_col = "return_id",
     .levels = {{"shipments", "shipment_index", 0}},
     .depth = 1,
     .cols = shipment_cols,
     .ncols = WDB_NELEM(shipment_cols)},
    {.table = "return_shipment_line_items",
     .parent_col = "return_id",
     .levels = {{"shipments", "shipment_index", 0}, {"line_items", "line_number", 0}},
     .depth = 2,
     .cols = shipment_line_cols,
     .ncols = WDB_NELEM(shipment_line_cols)},
    {.table = "return_receiving_details",
     .parent_col = "return_id",
     .levels = {{"shipments", "shipment_index", 0},
                {"line_items", "line_number", 0},
                {"receiving_details", "detail_index", 0}},
     .depth = 3,
     .cols = receiving_cols,
     .ncols = WDB_NELEM(receiving_cols)},
};

const wdb_spec wdb_spec_returns = {
    .name = "returns",
    .topic = TOPIC_CANON_PUBLIC(returns),
    .entity = "return",
    .table = "returns",
    .nkeys = 2,
    .cols = return_cols,
    .ncols = WDB_NELEM(return_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .children = return_children,
    .nchildren = WDB_NELEM(return_children),
    .lifecycle = 1,
};
