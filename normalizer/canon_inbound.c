/* canon_inbound.c - the canonical inbound shipment / ASN (Trackstar InboundShipmentSchema):
 * expected vs received per line, the totals of both (so a consumer sees progress without
 * summing), and one receipt per receiving event.
 */
#include "normalizer/canon_internal.h"

/* Sum of an integer field over src.line_items. Elements of the wrong shape are skipped
 * here: the line_items field itself rejects them with a precise reason. */
static int sum_lines(canon_ctx *c, const cJSON *src, const char *key, const char *field) {
    const cJSON *lines = src ? cJSON_GetObjectItemCaseSensitive(src, "line_items") : NULL;
    int64_t total = 0, q;
    const cJSON *e;

    if (!cJSON_IsArray(lines)) lines = NULL;
    cJSON_ArrayForEach(e, lines) {
        if (!cJSON_IsObject(e) || canon_int_value(cJSON_GetObjectItemCaseSensitive(e, field), &q))
            continue;
        if (__builtin_add_overflow(total, q, &total)) return canon_fail(c, "%s overflows", key);
    }
    canon_w_key(c, key);
    canon_w_i64(c, total);
    return c->failed ? -1 : 0;
}

static int expected_total(canon_ctx *c, const cJSON *src, const char *key) {
    return sum_lines(c, src, key, "expected_quantity");
}

static int received_total(canon_ctx *c, const cJSON *src, const char *key) {
    return sum_lines(c, src, key, "received_quantity");
}

static const canon_field inbound_line_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"expected_quantity", "expected_quantity", CANON_F_INT},
    {"received_quantity", "received_quantity", CANON_F_INT},
    {"unit_cost", "unit_cost", CANON_F_DEC},
    {"external_id", "external_id", CANON_F_STR},
};
static const canon_table inbound_line_tbl = CANON_TABLE(inbound_line_fields, 1, NULL);

static const canon_field receipt_line_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
};
static const canon_table receipt_line_tbl = CANON_TABLE(receipt_line_fields, 1, NULL);

static const canon_field receipt_fields[] = {
    {"receipt_id", "id", CANON_F_STR},
    {"arrived_at", "arrived_date", CANON_F_TIME},
    {"line_items", "line_items", CANON_F_ARR, NULL, &receipt_line_tbl},
};
static const canon_table receipt_tbl = CANON_TABLE(receipt_fields, 0, NULL);

static const canon_field inbound_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"purchase_order_number", "purchase_order_number", CANON_F_STR},
    {"status", "status", CANON_F_STR},
    {"raw_status", "raw_status", CANON_F_STR},
    {"supplier", "supplier", CANON_F_STR},
    {"supplier_id", "supplier_object", CANON_F_FLAT, "supplier_id"},
    {"supplier_name", "supplier_object", CANON_F_FLAT, "supplier_name"},
    {"expected_arrival_date", "expected_arrival_date", CANON_F_TIME},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"expected_quantity_total", NULL, CANON_F_CUSTOM, NULL, NULL, expected_total},
    {"received_quantity_total", NULL, CANON_F_CUSTOM, NULL, NULL, received_total},
    {"line_items", "line_items", CANON_F_ARR, NULL, &inbound_line_tbl},
    {"receipts", "receipts", CANON_F_ARR, NULL, &receipt_tbl},
    {"ship_from_address", "ship_from_address", CANON_F_OBJ, NULL, &canon_tbl_from_address},
    {"tracking_numbers", "tracking_numbers", CANON_F_STRARR},
    {"notes", "notes", CANON_F_STRARR},
    {"trackstar_tags", "trackstar_tags", CANON_F_RAW},
    {"external_system_url", "external_system_url", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table inbound_tbl = CANON_TABLE(inbound_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_inbound_shipment = {
    "inbound_shipment", TOPIC_CANON_INTERNAL(inbound_shipments), &inbound_tbl};
