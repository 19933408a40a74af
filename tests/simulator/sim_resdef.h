/* sim_resdef.h - which query filters each list endpoint accepts, and how to read a
 * filterable field out of a stored record (the sim_filter getter). */
#ifndef SIM_RESDEF_H
#define SIM_RESDEF_H

#include "sim_filter.h"
#include "sim_store.h"

/* Getter context: the record's connection and resource. */
typedef struct sim_resctx {
    const sim_conn *c;
    sim_res r;
} sim_resctx;

/* The filter table of resource r's list endpoint. With trackstar_dates off, the newer
 * trackstar_created_date / trackstar_updated_date / trackstar_tags filters are unknown
 * (422), as on the 2025 API. */
const sim_fdef *sim_resdef_fields(sim_res r, int trackstar_dates, int *n);

/* sim_getter for every resource; ctx is a const sim_resctx *. */
int sim_resdef_get(const void *rec, const void *ctx, int key, char *buf, size_t buflen,
                   const char **str, int64_t *date, int *bval);

#endif
