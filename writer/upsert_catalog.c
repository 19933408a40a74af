/* upsert_catalog.c - the slowly changing reference records: products (with the
 * inventory items they are made of and their supplier products), warehouses, warehouse
 * locations and shipping methods.
 */
#include "writer/db_spec.h"

/* ------------------------------------------------------------------ products */
static const wdb_col product_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"gtin", NULL, WDB_TEXT, 0},
    {"unit_price", NULL, WDB_NUM, 0},
    {"is_kit", NULL, WDB_BOOL, 0},
    {"active", NULL, WDB_BOOL, 0},
    {"supplier", NULL, WDB_TEXT, 0},
    {"supplier_id", NULL, WDB_TEXT, 0},
    {"supplier_name", NULL, WDB_TEXT, 0},
    {"country_of_origin", NULL, WDB_TEXT, 0},
    {"harmonized_code", NULL, WDB_TEXT, 0},
    {"trackstar_tags", NULL, WDB_JSON, 0},
    {"external_system_url", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

static const wdb_col product_item_cols[] = {
    {"inventory_item_id", NULL, WDB_TEXT, 0},
    {"sku", NULL, WDB_TEXT, 0},
    {"unit_quantity", NULL, WDB_INT, 0},
};

static const wdb_col supplier_product_cols[] = {
    {"supplier_id", NULL, WDB_TEXT, 0},
    {"supplier_name", NULL, WDB_TEXT, 0},
    {"external_id", NULL, WDB_TEXT, 0},
    {"unit_cost", NULL, WDB_NUM, 0},
};

static const wdb_child product_children[] = {
    {.table = "product_inventory_items",
     .parent_col = "product_id",
     .levels = {{"inventory_items", "line_number", 0}},
     .depth = 1,
     .cols = product_item_cols,
     .ncols = WDB_NELEM(product_item_cols)},
    {.table = "product_supplier_products",
     .parent_col = "product_id",
     .levels = {{"supplier_products", "line_number", 0}},
     .depth = 1,
     .cols = supplier_product_cols,
     .ncols = WDB_NELEM(supplier_product_cols)},
};

const wdb_spec wdb_spec_products = {
    .name = "products",
    .topic = TOPIC_CANON_PUBLIC(products),
    .entity = "product",
    .table = "products",
    .nkeys = 2,
    .cols = product_cols,
    .ncols = WDB_NELEM(product_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .children = product_children,
    .nchildren = WDB_NELEM(product_children),
    .lifecycle = 1,
};

/* ------------------------------------------------------------------ warehouses */
static const wdb_col warehouse_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"code", NULL, WDB_TEXT, 0},
    WDB_FROM_ADDRESS_COLS("", "address"),
    {"trackstar_tags", NULL, WDB_JSON, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_warehouses = {
    .name = "warehouses",
    .topic = TOPIC_CANON_PUBLIC(warehouses),
    .entity = "warehouse",
    .table = "warehouses",
    .nkeys = 2,
    .cols = warehouse_cols,
    .ncols = WDB_NELEM(warehouse_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .lifecycle = 1,
};

/* ------------------------------------------------------------------ warehouse locations */
static const wdb_col location_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"warehouse_id", NULL, WDB_TEXT, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"type", NULL, WDB_TEXT, 0},
    WDB_MEASUREMENT_COLS,
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_warehouse_locations = {
    .name = "warehouse_locations",
    .topic = TOPIC_CANON_PUBLIC(warehouse_locations),
    .entity = "warehouse_location",
    .table = "warehouse_locations",
    .nkeys = 2,
    .cols = location_cols,
    .ncols = WDB_NELEM(location_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .lifecycle = 1,
};

/* ------------------------------------------------------------------ shipping methods */
static const wdb_col shipping_method_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"carrier", NULL, WDB_TEXT, 0},
    {"carrier_id", NULL, WDB_TEXT, 0},
    {"carrier_name", NULL, WDB_TEXT, 0},
    {"scac", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_shipping_methods = {
    .name = "shipping_methods",
    .topic = TOPIC_CANON_PUBLIC(shipping_methods),
    .entity = "shipping_method",
    .table = "shipping_methods",
    .nkeys = 2,
    .cols = shipping_method_cols,
    .ncols = WDB_NELEM(shipping_method_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .lifecycle = 1,
};
