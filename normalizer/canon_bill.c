/* canon_bill.c - the canonical bill (Trackstar BillSchema): one of the warehouse's
 * charges, with the object that caused it. */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

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

const canon_entity canon_entity_bill = {&bill_tbl};
