/* canon_inventory_ledger_entry.c - the canonical inventory ledger entry (Trackstar
 * InventoryLedgerSchema): one signed movement of an inventory item's stock, with the
 * event that caused it. Entries are immutable events; Trackstar enables the ledger only
 * on request. */
#include "normalizer/canon_mappers.h"

#include <stddef.h>

static const canon_field inventory_ledger_entry_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"entry_date", "entry_date", CANON_F_TIME},
    {"inventory_item_id", "inventory_item_id", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
    {"raw_event_type", "raw_event_type", CANON_F_STR},
    {"ledger_event_type", "event_type", CANON_F_STR},
    {"reason", "reason", CANON_F_STR},
    {"object_id", "object_id", CANON_F_STR},
    {"object_type", "object_type", CANON_F_STR},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"location_id", "location_id", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table inventory_ledger_entry_tbl =
    CANON_TABLE(inventory_ledger_entry_fields, 0, canon_envelope_keys);

const canon_entity canon_entity_inventory_ledger_entry = {&inventory_ledger_entry_tbl};
