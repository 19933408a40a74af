/* canon_order_pack.c - the canonical order packs (Trackstar OrderPackSchema, GET
 * /wms/orders/{order_id}/packs): how an order was packed, one record per order. The
 * response has no id or date of its own: the fetcher adds the order's id (as id and
 * order_id) and the updated_date of the order version it read the packs for
 * (docs/canonical-model.md). Trackstar sends no webhooks for it: only polled.
 *
 * Packs and their line items become child rows like an order's packages (spec_orders.c),
 * so that the two can be joined and queried the same way; the array positions number
 * them (pack_index, line_number). */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

static const canon_field pack_line_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
};
static const canon_table pack_line_tbl = CANON_TABLE(pack_line_fields, 1, NULL);

static const canon_field pack_fields[] = {
    {"pack_id", "pack_id", CANON_F_STR},
    {"measurements", "measurements", CANON_F_OBJ, NULL, &canon_tbl_measurements},
    {"line_items", "line_items", CANON_F_ARR, NULL, &pack_line_tbl},
};
/* Packs have their own id (pack_id): no line_number. */
static const canon_table pack_tbl = CANON_TABLE(pack_fields, 0, NULL);

static const canon_field order_line_fields[] = {
    {"product_id", "product_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
};
static const canon_table order_line_tbl = CANON_TABLE(order_line_fields, 1, NULL);

static const canon_field order_pack_fields[] = {
    {"order_id", "order_id", CANON_F_STR},
    {"carrier", "carrier", CANON_F_STR},
    {"carrier_id", "carrier_id", CANON_F_STR},
    {"carrier_name", "carrier_name", CANON_F_STR},
    {"scac", "scac", CANON_F_STR},
    {"shipping_method", "shipping_method", CANON_F_STR},
    {"shipping_method_id", "shipping_method_id", CANON_F_STR},
    {"shipping_method_name", "shipping_method_name", CANON_F_STR},
    {"ship_to_address", "ship_to_address", CANON_F_OBJ, NULL, &canon_tbl_address},
    {"packs", "packs", CANON_F_ARR, NULL, &pack_tbl},
    {"order_line_items", "order_line_items", CANON_F_ARR, NULL, &order_line_tbl},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table order_pack_tbl = CANON_TABLE(order_pack_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_order_pack = {&order_pack_tbl};
