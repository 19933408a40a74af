/* fx_res.c - the table of polled resources (see fx_res.h). */
#include "fx_res.h"

#include <string.h>

const fx_res_info fx_res_infos[FX_RES_COUNT] = {
    [FX_RES_ORDERS] = {"orders", "get_orders", "/wms/orders", "FETCHER_INTERVAL_ORDERS_S", 3600,
                       FX_KIND_INCREMENTAL},
    [FX_RES_INVENTORY] = {"inventory", "get_inventory", "/wms/inventory",
                          "FETCHER_INTERVAL_INVENTORY_S", 3600, FX_KIND_SNAPSHOT,
                          "inventory_items"},
    [FX_RES_PRODUCTS] = {"products", "get_products", "/wms/products", "FETCHER_INTERVAL_PRODUCTS_S",
                         3600, FX_KIND_INCREMENTAL},
    /* Small reference lists, read whole every run (every 12 h by default): a record
     * deleted in the WMS is noticed by its absence. */
    [FX_RES_WAREHOUSES] = {"warehouses", "get_warehouses", "/wms/warehouses",
                           "FETCHER_INTERVAL_WAREHOUSES_S", 43200, FX_KIND_SNAPSHOT, "warehouses"},
    [FX_RES_WAREHOUSE_LOCATIONS] = {"warehouse_locations", "get_warehouse_locations",
                                    "/wms/warehouses/%s/locations",
                                    "FETCHER_INTERVAL_WAREHOUSE_LOCATIONS_S", 43200,
                                    FX_KIND_PER_WAREHOUSE, "warehouse_locations"},
    [FX_RES_SHIPPING_METHODS] = {"shipping_methods", "get_shipping_methods",
                                 "/wms/shipping-methods", "FETCHER_INTERVAL_SHIPPING_METHODS_S",
                                 43200, FX_KIND_SNAPSHOT, "shipping_methods"},
    [FX_RES_RETURNS] = {"returns", "get_returns", "/wms/returns", "FETCHER_INTERVAL_RETURNS_S",
                        3600, FX_KIND_INCREMENTAL},
    [FX_RES_INBOUND_SHIPMENTS] = {"inbound_shipments", "get_inbound_shipments",
                                  "/wms/inbound-shipments", "FETCHER_INTERVAL_INBOUND_SHIPMENTS_S",
                                  3600, FX_KIND_INCREMENTAL},
    [FX_RES_BILLS] = {"bills", "get_bills", "/wms/billing", "FETCHER_INTERVAL_BILLS_S", 3600,
                      FX_KIND_INCREMENTAL},
};

static const struct {
    const char *alias;
    fx_res res;
} aliases[] = {
    {"inbound-shipments", FX_RES_INBOUND_SHIPMENTS},
    {"inbound_shipment", FX_RES_INBOUND_SHIPMENTS},
    {"shipping-methods", FX_RES_SHIPPING_METHODS},
    {"billing", FX_RES_BILLS},
    {"warehouse-locations", FX_RES_WAREHOUSE_LOCATIONS},
    {"locations", FX_RES_WAREHOUSE_LOCATIONS},
    {"order", FX_RES_ORDERS},
    {"product", FX_RES_PRODUCTS},
    {"return", FX_RES_RETURNS},
    {"bill", FX_RES_BILLS},
    {"warehouse", FX_RES_WAREHOUSES},
};

int fx_res_lookup(const char *name) {
    if (!name) return -1;
    for (int r = 0; r < FX_RES_COUNT; r++)
        if (strcmp(name, fx_res_infos[r].name) == 0 || strcmp(name, fx_res_infos[r].function) == 0)
            return r;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(name, aliases[i].alias) == 0) return (int)aliases[i].res;
    return -1;
}
