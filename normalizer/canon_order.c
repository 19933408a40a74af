/* canon_order.c - the canonical order (Trackstar OrderSchema): the field tables for the
 * order, its line items, shipments, packages and their line items. The example record in
 * docs/canonical-model.md is exactly what these tables print.
 */
#include "normalizer/canon_internal.h"

#include <stddef.h>

static const canon_field order_line_fields[] = {
    {"product_id", "product_id", CANON_F_STR}, {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},     {"unit_price", "unit_price", CANON_F_DEC},
    {"is_picked", "is_picked", CANON_F_BOOL},  {"discount_amount", "discount_amount", CANON_F_DEC},
};
static const canon_table order_line_tbl = CANON_TABLE(order_line_fields, 1, NULL);

static const canon_field shipment_line_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
    {"parent_product_id", "parent_product_id", CANON_F_STR},
};
static const canon_table shipment_line_tbl = CANON_TABLE(shipment_line_fields, 1, NULL);

static const canon_field package_line_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
    {"lot_id", "lot_id", CANON_F_STR},
    {"expiration_date", "expiration_date", CANON_F_TIME},
    {"parent_product_id", "parent_product_id", CANON_F_STR},
};
static const canon_table package_line_tbl = CANON_TABLE(package_line_fields, 1, NULL);

static const canon_field package_fields[] = {
    {"package_id", "package_id", CANON_F_STR},
    {"package_name", "package_name", CANON_F_STR},
    {"tracking_number", "tracking_number", CANON_F_STR},
    {"tracking_url", "tracking_url", CANON_F_STR},
    {"shipping_method", "shipping_method", CANON_F_STR},
    {"carrier", "carrier", CANON_F_STR},
    {"shipping_method_id", "shipping_method_id", CANON_F_STR},
    {"shipping_method_name", "shipping_method_name", CANON_F_STR},
    {"carrier_id", "carrier_id", CANON_F_STR},
    {"carrier_name", "carrier_name", CANON_F_STR},
    {"scac", "scac", CANON_F_STR},
    {"shipping_cost", "shipping_cost", CANON_F_DEC},
    {"measurements", "measurements", CANON_F_OBJ, NULL, &canon_tbl_measurements},
    {"line_items", "line_items", CANON_F_ARR, NULL, &package_line_tbl},
};
/* Packages have their own id: no line_number. */
static const canon_table package_tbl = CANON_TABLE(package_fields, 0, NULL);

static const canon_field shipment_fields[] = {
    {"shipment_id", "shipment_id", CANON_F_STR},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"status", "status", CANON_F_STR},
    {"raw_status", "raw_status", CANON_F_STR},
    {"shipped_at", "shipped_date", CANON_F_TIME},
    {"shipping_method", "shipping_method", CANON_F_STR},
    {"ship_to_address", "ship_to_address", CANON_F_OBJ, NULL, &canon_tbl_address},
    {"ship_from_address", "ship_from_address", CANON_F_OBJ, NULL, &canon_tbl_from_address},
    {"line_items", "line_items", CANON_F_ARR, NULL, &shipment_line_tbl},
    {"packages", "packages", CANON_F_ARR, NULL, &package_tbl},
};
static const canon_table shipment_tbl = CANON_TABLE(shipment_fields, 0, NULL);

static const canon_field order_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"reference_id", "reference_id", CANON_F_STR},
    {"order_number", "order_number", CANON_F_STR},
    {"status", "status", CANON_F_STR},
    {"raw_status", "raw_status", CANON_F_STR},
    {"type", "type", CANON_F_STR},
    {"channel", "channel", CANON_F_STR},
    {"channel_id", "channel_object", CANON_F_FLAT, "channel_id"},
    {"channel_name", "channel_object", CANON_F_FLAT, "channel_name"},
    {"trading_partner", "trading_partner", CANON_F_STR},
    {"service_level", "service_level", CANON_F_STR},
    {"shipping_method", "shipping_method", CANON_F_STR},
    {"shipping_method_id", "shipping_method_id", CANON_F_STR},
    {"shipping_method_name", "shipping_method_name", CANON_F_STR},
    {"carrier_id", "carrier_id", CANON_F_STR},
    {"carrier_name", "carrier_name", CANON_F_STR},
    {"scac", "scac", CANON_F_STR},
    {"is_third_party_freight", "is_third_party_freight", CANON_F_BOOL},
    {"third_party_freight_account_number", "third_party_freight_account_number", CANON_F_STR},
    {"first_party_freight_account_number", "first_party_freight_account_number", CANON_F_STR},
    {"currency", "invoice_currency_code", CANON_F_STR},
    {"total_price", "total_price", CANON_F_DEC},
    {"total_tax", "total_tax", CANON_F_DEC},
    {"total_discount", "total_discount", CANON_F_DEC},
    {"total_shipping", "total_shipping", CANON_F_DEC},
    {"required_ship_date", "required_ship_date", CANON_F_TIME},
    {"saturday_delivery", "saturday_delivery", CANON_F_BOOL},
    {"signature_required", "signature_required", CANON_F_BOOL},
    {"international_duty_paid_by", "international_duty_paid_by", CANON_F_STR},
    {"ship_to_address", "ship_to_address", CANON_F_OBJ, NULL, &canon_tbl_address},
    {"line_items", "line_items", CANON_F_ARR, NULL, &order_line_tbl},
    {"shipments", "shipments", CANON_F_ARR, NULL, &shipment_tbl},
    {"tags", "tags", CANON_F_STRARR},
    {"trackstar_tags", "trackstar_tags", CANON_F_RAW},
    {"external_system_url", "external_system_url", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table order_tbl = CANON_TABLE(order_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_order = {"order", TOPIC_CANON_INTERNAL(orders), &order_tbl};
