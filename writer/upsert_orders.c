/* upsert_orders.c - how a canonical order (wms.orders.v1) lands in orders and its child
 * tables: line items, shipments, shipment line items, packages (with tracking) and package
 * line items. Children are keyed by their position in the source arrays (see 001_entities.sql).
 */
#include "writer/db_spec.h"

static const wdb_col order_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"warehouse_id", NULL, WDB_TEXT, 0},
    {"reference_id", NULL, WDB_TEXT, 0},
    {"order_number", NULL, WDB_TEXT, 0},
    {"status", NULL, WDB_TEXT, 0},
    {"raw_status", NULL, WDB_TEXT, 0},
    {"type", NULL, WDB_TEXT, 0},
    {"channel", NULL, WDB_TEXT, 0},
    {"channel_id", NULL, WDB_TEXT, 0},
    {"channel_name", NULL, WDB_TEXT, 0},
    {"trading_partner", NULL, WDB_TEXT, 0},
    {"service_level", NULL, WDB_TEXT, 0},
    {"shipping_method", NULL, WDB_TEXT, 0},
    {"shipping_method_id", NULL, WDB_TEXT, 0},
    {"shipping_method_name", NULL, WDB_TEXT, 0},
    {"carrier_id", NULL, WDB_TEXT, 0},
    {"carrier_name", NULL, WDB_TEXT, 0},
    {"scac", NULL, WDB_TEXT, 0},
    {"is_third_party_freight", NULL, WDB_BOOL, 0},
    {"third_party_freight_account_number", NULL, WDB_TEXT, 0},
    {"first_party_freight_account_number", NULL, WDB_TEXT, 0},
    {"currency", NULL, WDB_TEXT, 0},
    {"total_price", NULL, WDB_NUM, 0},
    {"total_tax", NULL, WDB_NUM, 0},
    {"total_discount", NULL, WDB_NUM, 0},
    {"total_shipping", NULL, WDB_NUM, 0},
    {"required_ship_date", NULL, WDB_TS, 0},
    {"saturday_delivery", NULL, WDB_BOOL, 0},
    {"signature_required", NULL, WDB_BOOL, 0},
    {"international_duty_paid_by", NULL, WDB_TEXT, 0},
    WDB_ADDRESS_COLS("ship_to_", "ship_to_address"),
    {"tags", NULL, WDB_JSON, 0},
    {"trackstar_tags", NULL, WDB_JSON, 0},
    {"external_system_url", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

static const wdb_col line_item_cols[] = {
    {"product_id", NULL, WDB_TEXT, 0}, {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},    {"unit_price", NULL, WDB_NUM, 0},
    {"is_picked", NULL, WDB_BOOL, 0},  {"discount_amount", NULL, WDB_NUM, 0},
};

static const wdb_col shipment_cols[] = {
    {"shipment_id", NULL, WDB_TEXT, 0},
    {"warehouse_id", NULL, WDB_TEXT, 0},
    {"status", NULL, WDB_TEXT, 0},
    {"raw_status", NULL, WDB_TEXT, 0},
    {"shipped_at", NULL, WDB_TS, 0},
    {"shipping_method", NULL, WDB_TEXT, 0},
    WDB_ADDRESS_COLS("ship_to_", "ship_to_address"),
    WDB_FROM_ADDRESS_COLS("ship_from_", "ship_from_address"),
};

static const wdb_col shipment_line_cols[] = {
    {"shipment_id", NULL, WDB_TEXT, 1},
    {"inventory_item_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
    {"parent_product_id", NULL, WDB_TEXT, 0},
};

static const wdb_col package_cols[] = {
    {"shipment_id", NULL, WDB_TEXT, 1},
    {"package_id", NULL, WDB_TEXT, 0},
    {"package_name", NULL, WDB_TEXT, 0},
    {"tracking_number", NULL, WDB_TEXT, 0},
    {"tracking_url", NULL, WDB_TEXT, 0},
    {"shipping_method", NULL, WDB_TEXT, 0},
    {"carrier", NULL, WDB_TEXT, 0},
    {"shipping_method_id", NULL, WDB_TEXT, 0},
    {"shipping_method_name", NULL, WDB_TEXT, 0},
    {"carrier_id", NULL, WDB_TEXT, 0},
    {"carrier_name", NULL, WDB_TEXT, 0},
    {"scac", NULL, WDB_TEXT, 0},
    {"shipping_cost", NULL, WDB_NUM, 0},
    WDB_MEASUREMENT_COLS,
};

static const wdb_col package_line_cols[] = {
    {"package_id", NULL, WDB_TEXT, 1},
    {"inventory_item_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"quantity", NULL, WDB_INT, 0},
    {"lot_id", NULL, WDB_TEXT, 0},
    {"expiration_date", NULL, WDB_TS, 0},
    {"parent_product_id", NULL, WDB_TEXT, 0},
};

static const wdb_child order_children[] = {
    {.table = "order_line_items",
     .parent_col = "order_id",
     .levels = {{"line_items", "line_number", 0}},
     .depth = 1,
     .cols = line_item_cols,
     .ncols = WDB_NELEM(line_item_cols)},
    {.table = "order_shipments",
     .parent_col = "order_id",
     .levels = {{"shipments", "shipment_index", 0}},
     .depth = 1,
     .cols = shipment_cols,
     .ncols = WDB_NELEM(shipment_cols)},
    {.table = "order_shipment_line_items",
     .parent_col = "order_id",
     .levels = {{"shipments", "shipment_index", 0}, {"line_items", "line_number", 0}},
     .depth = 2,
     .cols = shipment_line_cols,
     .ncols = WDB_NELEM(shipment_line_cols)},
    {.table = "order_packages",
     .parent_col = "order_id",
     .levels = {{"shipments", "shipment_index", 0}, {"packages", "package_index", 0}},
     .depth = 2,
     .cols = package_cols,
     .ncols = WDB_NELEM(package_cols)},
    {.table = "order_package_line_items",
     .parent_col = "order_id",
     .levels = {{"shipments", "shipment_index", 0},
                {"packages", "package_index", 0},
                {"line_items", "line_number", 0}},
     .depth = 3,
     .cols = package_line_cols,
     .ncols = WDB_NELEM(package_line_cols)},
};

const wdb_spec wdb_spec_orders = {
    .name = "orders",
    .topic = TOPIC_CANON_PUBLIC(orders),
    .entity = "order",
    .table = "orders",
    .nkeys = 2,
    .cols = order_cols,
    .ncols = WDB_NELEM(order_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .children = order_children,
    .nchildren = WDB_NELEM(order_children),
    .lifecycle = 1,
};
