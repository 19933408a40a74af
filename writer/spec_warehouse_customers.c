/* spec_warehouse_customers.c - how a canonical warehouse customer
 * (wms.warehouse_customers.v1) lands in warehouse_customers. */
#include "writer/db_spec.h"

static const wdb_col warehouse_customer_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"email", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_warehouse_customers = {
    .nkeys = 2,
    .cols = warehouse_customer_cols,
    .ncols = WDB_NELEM(warehouse_customer_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};
