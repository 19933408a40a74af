/* canon_order_channel.c - the canonical order channel (Trackstar OrderChannelSchema, GET
 * /wms/orders/channels): a sales channel orders come in by, named by an order's
 * channel_object.channel_id. Trackstar sends no webhooks for it: only polled. */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

static const canon_field order_channel_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"name", "name", CANON_F_STR},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table order_channel_tbl =
    CANON_TABLE(order_channel_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_order_channel = {&order_channel_tbl};
