/* canon_return.c - the canonical return (Trackstar ReturnSchema): expected, received and
 * restocked quantities per line, and the inbound parcels with what was received in them.
 */
#include "normalizer/canon_internal.h"

#include <stddef.h>

static const canon_field return_line_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"expected_quantity", "expected_quantity", CANON_F_INT},
    {"received_quantity", "received_quantity", CANON_F_INT},
    {"restocked_quantity", "restocked_quantity", CANON_F_INT},
    {"return_reason", "return_reason", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"returned_at", "returned_date", CANON_F_TIME},
};
static const canon_table return_line_tbl = CANON_TABLE(return_line_fields, 1, NULL);

static const canon_field receiving_detail_fields[] = {
    {"quantity", "quantity", CANON_F_INT},
    {"condition", "condition", CANON_F_STR},
    {"disposition", "disposition", CANON_F_STR},
};
static const canon_table receiving_detail_tbl = CANON_TABLE(receiving_detail_fields, 1, NULL);

static const canon_field shipment_line_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
    {"receiving_details", "receiving_details", CANON_F_ARR, NULL, &receiving_detail_tbl},
};
static const canon_table shipment_line_tbl = CANON_TABLE(shipment_line_fields, 1, NULL);

static const canon_field shipment_fields[] = {
    {"tracking_number", "tracking_number", CANON_F_STR},
    {"shipped_at", "shipped_date", CANON_F_TIME},
    {"arrived_at", "arrived_date", CANON_F_TIME},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"carrier", "carrier", CANON_F_STR},
    {"carrier_id", "carrier_id", CANON_F_STR},
    {"carrier_name", "carrier_name", CANON_F_STR},
    {"scac", "scac", CANON_F_STR},
    {"shipping_cost", "shipping_cost", CANON_F_DEC},
    {"measurements", "measurements", CANON_F_OBJ, NULL, &canon_tbl_measurements},
    {"line_items", "line_items", CANON_F_ARR, NULL, &shipment_line_tbl},
};
/* Return shipments have no id upstream: they are numbered like line items. */
static const canon_table shipment_tbl = CANON_TABLE(shipment_fields, 1, NULL);

static const canon_field return_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"status", "status", CANON_F_STR},
    {"raw_status", "raw_status", CANON_F_STR},
    {"order_id", "order_id", CANON_F_STR},
    {"notes", "notes", CANON_F_STRARR},
    {"line_items", "line_items", CANON_F_ARR, NULL, &return_line_tbl},
    {"shipments", "shipments", CANON_F_ARR, NULL, &shipment_tbl},
    {"trackstar_tags", "trackstar_tags", CANON_F_RAW},
    {"external_system_url", "external_system_url", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table return_tbl = CANON_TABLE(return_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_return = {"return", TOPIC_CANON_INTERNAL(returns), &return_tbl};
