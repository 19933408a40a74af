/* upsert_inbound.c - how a canonical inbound shipment / ASN (wms.inbound_shipments.v1)
 * lands in inbound_shipments with its line items, receipts and receipt line items.
 */
#include "writer/db_spec.h"

static const wdb_col asn_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"purchase_order_number", NULL, WDB_TEXT, 0},
    {"status", NULL, WDB_TEXT, 0},
    {"raw_status", NULL, WDB_TEXT, 0},
    {"supplier", NULL, WDB_TEXT, 0},
    {"supplier_id", NULL, WDB_TEXT, 0},
    {"supplier_name", NULL, WDB_TEXT, 0},
    {"expected_arrival_date", NULL, WDB_TS, 0},
    {"warehouse_id", NULL, WDB_TEXT, 0},
    {"expected_quantity_total", NULL, WDB_INT, 0},
    {"received_quantity_total", NULL, WDB_INT, 0},
    WDB_FROM_ADDRESS_COLS("ship_from_", "ship_from_address"),
    {"tracking_numbers", NULL, WDB_JSON, 0},
    {"notes", NULL, WDB_JSON, 0},
    {"trackstar_tags", NULL, WDB_JSON, 0},
    {"external_system_url", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

static const wdb_col line_cols[] = {
    {"inventory_item_id", NULL, WDB_TEXT, 0}, {"sku", NULL, WDB_TEXT, 0},
    {"expected_quantity", NULL, WDB_INT, 0},  {"received_quantity", NULL, WDB_INT, 0},
    {"unit_cost", NULL, WDB_NUM, 0},          {"external_id", NULL, WDB_TEXT, 0},
};

static const wdb_col receipt_cols[] = {
    {"receipt_id", NULL, WDB_TEXT, 0},
    {"arrived_at", NULL, WDB_TS, 0},
};

static const wdb_col receipt_line_cols[] = {
    {"receipt_id", NULL, WDB_TEXT, 1},
    {"inventory_item_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
};

static const wdb_child asn_children[] = {
    {.table = "inbound_shipment_line_items",
     .parent_col = "inbound_shipment_id",
     .levels = {{"line_items", "line_number", 0}},
     .depth = 1,
     .cols = line_cols,
     .ncols = WDB_NELEM(line_cols)},
    {.table = "inbound_shipment_receipts",
     .parent_col = "inbound_shipment_id",
     .levels = {{"receipts", "receipt_index", 0}},
     .depth = 1,
     .cols = receipt_cols,
     .ncols = WDB_NELEM(receipt_cols)},
    {.table = "inbound_shipment_receipt_line_items",
     .parent_col = "inbound_shipment_id",
     .levels = {{"receipts", "receipt_index", 0}, {"line_items", "line_number", 0}},
     .depth = 2,
     .cols = receipt_line_cols,
     .ncols = WDB_NELEM(receipt_line_cols)},
};

const wdb_spec wdb_spec_inbound_shipments = {
    .name = "inbound_shipments",
    .topic = TOPIC_CANON_PUBLIC(inbound_shipments),
    .entity = "inbound_shipment",
    .table = "inbound_shipments",
    .nkeys = 2,
    .cols = asn_cols,
    .ncols = WDB_NELEM(asn_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .children = asn_children,
    .nchildren = WDB_NELEM(asn_children),
    .lifecycle = 1,
};
