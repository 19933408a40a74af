/* db_specs.c - the registry of record specs and the routing of a (topic, entity, kind)
 * to one of them. The order here is the order of statements inside a batch. */
#include "writer/db_spec.h"

#include <string.h>

const wdb_spec *const wdb_specs[] = {
    &wdb_spec_orders,       &wdb_spec_inventory,           &wdb_spec_products,
    &wdb_spec_warehouses,   &wdb_spec_warehouse_locations, &wdb_spec_shipping_methods,
    &wdb_spec_returns,      &wdb_spec_inbound_shipments,   &wdb_spec_bills,
    &wdb_spec_conn_created, &wdb_spec_conn_deleted,        &wdb_spec_conn_polled,
    &wdb_spec_conn_errors,  &wdb_spec_sync_status,         &wdb_spec_historical_syncs,
};
const int wdb_nspecs = WDB_NELEM(wdb_specs);

int wdb_spec_find(const char *topic, const char *entity, const char *kind) {
    if (!topic || !entity) return -1;
    for (int i = 0; i < wdb_nspecs; i++) {
        const wdb_spec *s = wdb_specs[i];
        if (strcmp(s->topic, topic) != 0 || strcmp(s->entity, entity) != 0) continue;
        if (!s->kinds) return i;
        if (!kind) continue;
        for (const char *const *k = s->kinds; *k; k++)
            if (strcmp(*k, kind) == 0) return i;
    }
    return -1;
}
