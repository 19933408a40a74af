/* sim_catalog.c - a handful of integrations with different capability sets, so tests can
 * exercise 501 (missing endpoint) and the bills-off-by-default case. Every one can keep an
 * inventory ledger, but only on request (SIM_ON_REQUEST: not in the default actions). */
#include "sim_catalog.h"

#include <string.h>

#include "sim_store.h"

#define R(x) (1u << (x))
#define ALL_READS (R(SIM_RES_COUNT) - 1u)
#define NO_BILLS (ALL_READS & ~R(SIM_RES_BILLS))

static const char *const w_full[] = {"create_order",
                                     "update_order",
                                     "cancel_order",
                                     "create_product",
                                     "update_product",
                                     "create_kit",
                                     "create_inbound_shipment",
                                     "update_inbound_shipment",
                                     "create_return",
                                     NULL};
static const char *const w_small[] = {"create_order", "update_order", NULL};
static const char *const w_none[] = {NULL};

const sim_integration sim_integrations[] = {
    {"sandbox", "Sandbox", "input", ALL_READS, w_full},
    {"shipbob", "ShipBob", "oauth", NO_BILLS, w_full},
    {"extensiv-3pl-central", "Extensiv 3PL Central", "input", ALL_READS, w_small},
    /* a WMS without returns, bills, warehouse customers or labor activities: 501 on those */
    {"cool-wms", "Cool WMS", "input",
     NO_BILLS & ~R(SIM_RES_RETURNS) & ~R(SIM_RES_WAREHOUSE_CUSTOMERS) & ~R(SIM_RES_LABOR), w_none},
};
const int sim_integration_count = (int)(sizeof sim_integrations / sizeof sim_integrations[0]);

const sim_integration *sim_integration_find(const char *name) {
    for (int i = 0; name && i < sim_integration_count; i++)
        if (strcmp(sim_integrations[i].name, name) == 0) return &sim_integrations[i];
    return NULL;
}
