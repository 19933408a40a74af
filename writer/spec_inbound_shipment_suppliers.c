/* spec_inbound_shipment_suppliers.c - how a canonical supplier
 * (wms.inbound_shipment_suppliers.v1) lands in inbound_shipment_suppliers. */
#include "writer/db_spec.h"

static const wdb_col inbound_shipment_supplier_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_inbound_shipment_suppliers = {
    .nkeys = 2,
    .cols = inbound_shipment_supplier_cols,
    .ncols = WDB_NELEM(inbound_shipment_supplier_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};
