/* fx_res.h - the WMS resources the fetcher polls: their names on the wire (header
 * "resource", Trackstar function, list path, historical-sync name), default schedule,
 * and how a run over them works (incremental by cursor, whole snapshot, or per warehouse).
 * A static table; nothing here allocates.
 */
#ifndef FX_RES_H
#define FX_RES_H

typedef enum fx_res {
    FX_RES_ORDERS = 0,
    FX_RES_INVENTORY,
    FX_RES_PRODUCTS,
    FX_RES_WAREHOUSES,
    FX_RES_WAREHOUSE_LOCATIONS,
    FX_RES_SHIPPING_METHODS,
    FX_RES_RETURNS,
    FX_RES_INBOUND_SHIPMENTS,
    FX_RES_BILLS,
    FX_RES_COUNT
} fx_res;

typedef enum fx_res_kind {
    FX_KIND_INCREMENTAL = 0, /* cursor on a date field, gte with overlap */
    FX_KIND_SNAPSHOT,        /* fetched whole every run, no cursor: a complete listing */
    FX_KIND_PER_WAREHOUSE    /* locations: every warehouse's whole list: a complete listing */
} fx_res_kind;

typedef struct fx_res_info {
    const char *name;       /* "orders": the raw-topic resource header and our table key */
    const char *function;   /* "get_orders": available_actions, functions_to_sync */
    const char *path;       /* "/wms/orders"; per warehouse: "/wms/warehouses/%s/locations" */
    const char *env;        /* "FETCHER_INTERVAL_ORDERS_S" */
    int default_interval_s; /* reference §6.2 */
    fx_res_kind kind;
    /* Complete listings (every kind but FX_KIND_INCREMENTAL): the writer's table of the
     * entity. A record it holds as live that a complete, successful run no longer lists
     * is published as "<name>.gone" (fx_run.c, infer_gone). NULL for incremental resources. */
    const char *table;
} fx_res_info;

extern const fx_res_info fx_res_infos[FX_RES_COUNT];

/* The resource with this header name; also accepts the aliases Trackstar's texts use
 * for data.resource of connection.historical-sync-completed ("inbound-shipments",
 * "billing", "locations", ...) and function names ("get_orders"). -1 when unknown. */
int fx_res_lookup(const char *name);

#endif
