/* canon_shipping_method.c - the canonical shipping method (Trackstar
 * ShippingMethodSchema): a carrier service a warehouse ships with. */
#include "normalizer/canon_mappers.h"

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

const canon_entity canon_entity_shipping_method = {&shipping_method_tbl};
