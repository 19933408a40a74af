/* canon_inbound_shipment_supplier.c - the canonical supplier (Trackstar
 * InboundShipmentSupplierSchema, GET /wms/inbound-shipments/suppliers): who ships an
 * inbound shipment or supplies a product, named by their supplier_object.supplier_id.
 * Trackstar sends no webhooks for it: only polled. */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

static const canon_field inbound_shipment_supplier_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"name", "name", CANON_F_STR},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table inbound_shipment_supplier_tbl =
    CANON_TABLE(inbound_shipment_supplier_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_inbound_shipment_supplier = {&inbound_shipment_supplier_tbl};
