/* canon_order_channel.c - the canonical order channel (Trackstar OrderChannelSchema, GET
 * /wms/orders/channels): a sales channel orders come in by, named by an order's
 * channel_object.channel_id; and the canonical supplier (InboundShipmentSupplierSchema,
 * GET /wms/inbound-shipments/suppliers), named by inbound shipments' and products'
 * supplier_object.supplier_id. The OpenAPI gives the two one shape, so they share one
 * field table. Trackstar sends no webhooks for either: only polled. */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

static const canon_field named_list_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"name", "name", CANON_F_STR},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table named_list_tbl = CANON_TABLE(named_list_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_order_channel = {&named_list_tbl};
const canon_entity canon_entity_inbound_shipment_supplier = {&named_list_tbl};
