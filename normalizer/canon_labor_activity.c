/* canon_labor_activity.c - the canonical labor activity (Trackstar LaborActivitySchema):
 * one piece of warehouse work (pick, pack, put_away, transfer, receive) a user did in a
 * warehouse, with its start and end (null while in progress) and the order, inbound
 * shipment, return or inventory item it was for. An activity in progress is updated when
 * it ends. */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

static const canon_field labor_activity_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"user_id", "user_id", CANON_F_STR},
    {"user_first_name", "user_first_name", CANON_F_STR},
    {"user_last_name", "user_last_name", CANON_F_STR},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"activity_type", "activity_type", CANON_F_STR},
    {"activity_start_time", "activity_start_time", CANON_F_TIME},
    {"activity_end_time", "activity_end_time", CANON_F_TIME},
    {"associated_object_type", "associated_object_type", CANON_F_STR},
    {"associated_object_id", "associated_object_id", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table labor_activity_tbl =
    CANON_TABLE(labor_activity_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_labor_activity = {&labor_activity_tbl};
