/* spec_order_channels.c - how a canonical order channel (wms.order_channels.v1) lands in
 * order_channels. */
#include "writer/db_spec.h"

static const wdb_col order_channel_cols[] = {
    WDB_ENVELOPE_COLS,
    {"created_at", NULL, WDB_TS, 0},
    {"name", NULL, WDB_TEXT, 0},
    {"warehouse_customer_id", NULL, WDB_TEXT, 0},
    {"additional_fields", NULL, WDB_JSON, 0},
};

const wdb_spec wdb_spec_order_channels = {
    .nkeys = 2,
    .cols = order_channel_cols,
    .ncols = WDB_NELEM(order_channel_cols),
    .version_col = "source_updated_at",
    .record_col = "record",
};
