/* sim_catalog.h - the simulated integrations (WMS vendors) and what each implements.
 * The capability set drives available_actions, /integrations/wms and 501 answers. */
#ifndef SIM_CATALOG_H
#define SIM_CATALOG_H

#include <stdint.h>

typedef struct sim_integration {
    const char *name;          /* integration_name, e.g. "shipbob" */
    const char *display;       /* "ShipBob" */
    const char *install;       /* "input" | "oauth" */
    uint32_t reads;            /* bit per sim_res the integration can read */
    const char *const *writes; /* NULL-terminated write action names */
} sim_integration;

extern const sim_integration sim_integrations[];
extern const int sim_integration_count;

/* NULL when unknown. */
const sim_integration *sim_integration_find(const char *name);

#endif
