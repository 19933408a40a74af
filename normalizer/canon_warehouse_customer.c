/* canon_warehouse_customer.c - the canonical warehouse customer (Trackstar
 * WarehouseCustomerSchema): the merchant that owns inventory, products, orders, inbound
 * shipments and returns in a 3PL's WMS, named by warehouse_customer_id elsewhere. */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

static const canon_field warehouse_customer_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"name", "name", CANON_F_STR},
    {"email", "email", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table warehouse_customer_tbl =
    CANON_TABLE(warehouse_customer_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_warehouse_customer = {&warehouse_customer_tbl};
