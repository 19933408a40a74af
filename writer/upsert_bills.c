/* upsert_bills.c - how a canonical bill (wms.bills.v1) lands in bills. */
#include "writer/db_spec.h"

static const wdb_col bill_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"object_id", NULL, WDB_TEXT, 0},
    {"object_type", NULL, WDB_TEXT, 0},
    {"charge_type", NULL, WDB_TEXT, 0},
    {"amount", NULL, WDB_NUM, 0},
    {"currency", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_bills = {
    .name = "bills",
    .topic = TOPIC_CANON_PUBLIC(bills),
    .entity = "bill",
    .table = "bills",
    .nkeys = 2,
    .cols = bill_cols,
    .ncols = WDB_NELEM(bill_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
    .lifecycle = 1,
};
