/* canon_inventory.c - the canonical inventory item (Trackstar InventorySchema): totals,
 * the per-warehouse breakdown (the map inventory_by_warehouse_id turned into a list
 * sorted by warehouse id, so the output does not depend on the source's key order),
 * per-location quantities and lots.
 */
#include "normalizer/canon.h"
#include "normalizer/canon_mappers.h"

#include <stdlib.h>
#include <string.h>

/* Every quantity InventoryInWarehouse lists, in its order. */
static const canon_field wh_qty_fields[] = {
    {"awaiting", "awaiting", CANON_F_INT},       {"onhand", "onhand", CANON_F_INT},
    {"committed", "committed", CANON_F_INT},     {"unfulfillable", "unfulfillable", CANON_F_INT},
    {"fulfillable", "fulfillable", CANON_F_INT}, {"unsellable", "unsellable", CANON_F_INT},
    {"sellable", "sellable", CANON_F_INT},
};
static const canon_table wh_qty_tbl = CANON_TABLE(wh_qty_fields, 0, NULL);

typedef struct wh_entry {
    const cJSON *item;
    size_t index; /* source position: the tie-break that keeps the sort deterministic */
} wh_entry;

static int wh_cmp(const void *a, const void *b) {
    const wh_entry *x = a, *y = b;
    int r = strcmp(x->item->string, y->item->string);
    return r ? r : (x->index < y->index ? -1 : x->index > y->index);
}

/* "warehouses": [{warehouse_id, awaiting, onhand, ...}] from inventory_by_warehouse_id. */
static int map_warehouses(canon_ctx *c, const cJSON *src, const char *key) {
    const cJSON *map =
        src ? cJSON_GetObjectItemCaseSensitive(src, "inventory_by_warehouse_id") : NULL;
    wh_entry *ents = NULL;
    size_t n = 0;

    if (map && !cJSON_IsNull(map) && !cJSON_IsObject(map)) {
        if (canon_change(c, "inventory_by_warehouse_id", "nulled", "wrong type, want object") < 0)
            return -1;
        map = NULL;
    }
    size_t top = canon_path_push(c, "inventory_by_warehouse_id");
    if (c->failed) return -1;
    n = cJSON_IsObject(map) ? (size_t)cJSON_GetArraySize(map) : 0;
    if (n) {
        ents = calloc(n, sizeof *ents);
        if (!ents) return canon_fail(c, "out of memory");
        size_t i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, map) {
            if (i < n) {
                ents[i].item = e;
                ents[i].index = i;
                i++;
            }
        }
        n = i;
        qsort(ents, n, sizeof *ents, wh_cmp);
    }
    canon_w_key(c, key);
    canon_w_open(c, '[');
    for (size_t i = 0; i < n; i++) {
        const cJSON *w = ents[i].item;
        size_t idlen = strlen(w->string);
        if (idlen == 0 || idlen > CANON_MAX_ID) {
            canon_fail(c, "warehouse id in %s is empty or too long", c->path);
            goto fail;
        }
        /* Two entries for one warehouse would become two rows with one primary key. */
        if (i > 0 && strcmp(ents[i - 1].item->string, w->string) == 0) {
            canon_fail(c, "duplicate warehouse id in %s", c->path);
            goto fail;
        }
        size_t old = canon_path_push_key(c, w->string);
        if (c->failed) goto fail;
        /* The warehouse is known by its key: its quantities are null, and say why. */
        if (!cJSON_IsNull(w) && !cJSON_IsObject(w) &&
            canon_change(c, NULL, "nulled", "wrong type, want object") < 0)
            goto fail;
        canon_w_elem(c);
        canon_w_open(c, '{');
        canon_w_key(c, "warehouse_id");
        canon_w_strn(c, w->string, idlen);
        if (canon_map_table(c, &wh_qty_tbl, cJSON_IsObject(w) ? w : NULL, -1) < 0) goto fail;
        canon_w_close(c, '}');
        canon_path_pop(c, old);
    }
    canon_w_close(c, ']');
    canon_path_pop(c, top);
    free(ents);
    return c->failed ? -1 : 0;
fail:
    free(ents);
    return -1;
}

static const canon_field location_fields[] = {
    {"location_id", "location_id", CANON_F_STR},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"quantity", "quantity", CANON_F_INT},
};
static const canon_table location_tbl = CANON_TABLE(location_fields, 1, NULL);

static const canon_field lot_fields[] = {
    {"lot_id", "lot_id", CANON_F_STR},
    {"warehouse_id", "warehouse_id", CANON_F_STR},
    {"onhand", "onhand", CANON_F_INT},
    {"expiration_date", "expiration_date", CANON_F_TIME},
};
static const canon_table lot_tbl = CANON_TABLE(lot_fields, 0, NULL);

static const char *const inventory_consumed[] = {"id", "updated_date", "trackstar_updated_date",
                                                 "inventory_by_warehouse_id", NULL};

static const canon_field inventory_fields[] = {
    {"created_at", "created_date", CANON_F_TIME},
    {"warehouse_customer_id", "warehouse_customer_id", CANON_F_STR},
    {"name", "name", CANON_F_STR},
    {"sku", "sku", CANON_F_STR},
    {"unit_cost", "unit_cost", CANON_F_DEC},
    {"active", "active", CANON_F_BOOL},
    {"awaiting", "awaiting", CANON_F_INT},
    {"onhand", "onhand", CANON_F_INT},
    {"committed", "committed", CANON_F_INT},
    {"unfulfillable", "unfulfillable", CANON_F_INT},
    {"fulfillable", "fulfillable", CANON_F_INT},
    {"unsellable", "unsellable", CANON_F_INT},
    {"sellable", "sellable", CANON_F_INT},
    {"substitute_skus", "substitute_skus", CANON_F_STRARR},
    {"warehouses", NULL, CANON_F_CUSTOM, NULL, NULL, map_warehouses},
    {"locations", "locations", CANON_F_ARR, NULL, &location_tbl},
    {"lots", "lots", CANON_F_ARR, NULL, &lot_tbl},
    {"measurements", "measurements", CANON_F_OBJ, NULL, &canon_tbl_measurements},
    {"trackstar_tags", "trackstar_tags", CANON_F_RAW},
    {"external_system_url", "external_system_url", CANON_F_STR},
    {"additional_fields", "additional_fields", CANON_F_RAWOBJ},
};
static const canon_table inventory_tbl = CANON_TABLE(inventory_fields, 0, inventory_consumed);

const canon_entity canon_entity_inventory_item = {&inventory_tbl};
