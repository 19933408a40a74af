/* canon_misc.c - the two small reference entities: shipping methods (Trackstar
 * ShippingMethodSchema) and bills (BillSchema, the warehouse's charges).
 */
#include "normalizer/canon_internal.h"

#include <stddef.h>

static const canon_field shipping_method_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"name", "name", CANON_F_STR},
    {"carrier", "carrier", CANON_F_STR},
    {"carrier_id", "carrier_id", CANON_F_STR},
    {"carrier_name", "carrier_name", CANON_F_STR},
    {"scac", "scac", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table shipping_method_tbl =
    CANON_TABLE(shipping_method_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_shipping_method = {
    "shipping_method", TOPIC_CANON_INTERNAL(shipping_methods), &shipping_method_tbl};

static const canon_field bill_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"object_id", "object_id", CANON_F_STR},
    {"object_type", "object_type", CANON_F_STR},
    {"charge_type", "charge_type", CANON_F_STR},
    {"amount", "amount", CANON_F_DEC},
    {"currency", "currency_code", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table bill_tbl = CANON_TABLE(bill_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_bill = {"bill", TOPIC_CANON_INTERNAL(bills), &bill_tbl};
