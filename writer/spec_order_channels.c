/* spec_order_channels.c - how a canonical order channel (wms.order_channels.v1) lands in
 * order_channels, and a supplier (wms.inbound_shipment_suppliers.v1) in
 * inbound_shipment_suppliers: one shape in the OpenAPI, so one column list (016 creates
 * its table LIKE 015's). */
#include "writer/db_spec.h"

static const wdb_col named_list_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_order_channels = {
    .nkeys = 2,
    .cols = named_list_cols,
    .ncols = WDB_NELEM(named_list_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};

const wdb_spec wdb_spec_inbound_shipment_suppliers = {
    .nkeys = 2,
    .cols = named_list_cols,
    .ncols = WDB_NELEM(named_list_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};
