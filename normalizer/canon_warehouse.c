/* canon_warehouse.c - canonical warehouses (Trackstar WarehouseSchema) and warehouse
 * locations (WarehouseLocationSchema), which are listed per warehouse upstream but keyed
 * by their own id here.
 */
#include "normalizer/canon_internal.h"

#include <stddef.h>

static const canon_field warehouse_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"name", "name", CANON_F_STR},
    {"code", "code", CANON_F_STR},
    {"address", "address", CANON_F_OBJ, NULL, &canon_tbl_from_address},
    {"trackstar_tags", "trackstar_tags", CANON_F_RAW},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table warehouse_tbl = CANON_TABLE(warehouse_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_warehouse = {"warehouse", TOPIC_CANON_INTERNAL(warehouses),
                                             &warehouse_tbl};

static const canon_field location_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"name", "name", CANON_F_STR},
    {"type", "type", CANON_F_STR},
    {"measurements", "measurements", CANON_F_OBJ, NULL, &canon_tbl_measurements},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table location_tbl = CANON_TABLE(location_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_warehouse_location = {
    "warehouse_location", TOPIC_CANON_INTERNAL(warehouse_locations), &location_tbl};
