/* canon_product.c - the canonical product (Trackstar ProductSchema): a kit lists several
 * inventory items with their unit quantities; suppliers are flattened to ids and names.
 */
#include "normalizer/canon_internal.h"

#include <stddef.h>

static const canon_field product_item_fields[] = {
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"unit_quantity", "unit_quantity", CANON_F_INT},
};
static const canon_table product_item_tbl = CANON_TABLE(product_item_fields, 1, NULL);

static const canon_field supplier_product_fields[] = {
    {"supplier_id", "supplier_id", CANON_F_STR},
    {"supplier_name", "supplier_name", CANON_F_STR},
    {"external_id", "external_id", CANON_F_STR},
    /* Trackstar types this one as a string: non-numeric text is kept in extra. */
    {"unit_cost", "unit_cost", CANON_F_DECTEXT},
};
static const canon_table supplier_product_tbl = CANON_TABLE(supplier_product_fields, 1, NULL);

static const canon_field product_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"name", "name", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"gtin", "gtin", CANON_F_STR},
    {"unit_price", "unit_price", CANON_F_DEC},
    {"is_kit", "is_kit", CANON_F_BOOL},
    {"active", "active", CANON_F_BOOL},
    {"inventory_items", "inventory_items", CANON_F_ARR, NULL, &product_item_tbl},
    {"supplier", "supplier", CANON_F_STR},
    {"supplier_id", "supplier_object", CANON_F_FLAT, "supplier_id"},
    {"supplier_name", "supplier_object", CANON_F_FLAT, "supplier_name"},
    {"country_of_origin", "country_of_origin", CANON_F_STR},
    {"harmonized_code", "harmonized_code", CANON_F_STR},
    {"supplier_products", "supplier_products", CANON_F_ARR, NULL, &supplier_product_tbl},
    {"trackstar_tags", "trackstar_tags", CANON_F_RAW},
    {"external_system_url", "external_system_url", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table product_tbl = CANON_TABLE(product_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_product = {"product", TOPIC_CANON_INTERNAL(products), &product_tbl};
