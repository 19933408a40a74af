/* fx_api.h - Trackstar's management API as the fetcher uses it: which resources an
 * integration or connection can read (GET /integrations/wms, GET /connections/{id}),
 * whose first sync is done, and the link exchange that turns an auth code into a
 * stored, encrypted connection. Parsers are pure (unit-tested); the exchange blocks.
 */
#ifndef FX_API_H
#define FX_API_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"
#include "fx_db.h"

#define FX_MAX_INTEGRATIONS 512

typedef struct fx_integ {
    char name[FX_ID_MAX];
    uint32_t reads; /* bit per fx_res the integration implements */
} fx_integ;

/* {"data":[{"integration_name":..,"available_actions":[..]},..]}: up to max entries.
 * 0 or -1 (malformed). */
int fx_api_parse_integrations(const char *body, size_t len, fx_integ *out, int max, int *n);

typedef struct fx_conn_info {
    uint32_t hist_done; /* bit per fx_res whose first sync is complete */
    uint32_t actions;   /* bit per fx_res in available_actions */
    int actions_known;
    char integration[FX_ID_MAX];
} fx_conn_info;

/* GET /connections/{id}: accepts {"data":{...}} and {"data":[{...}]} (the reference
 * leaves the live shape open). A first sync counts as done when
 * historical_sync_completed[get_x] is true or, without that map, when the schedule's
 * sync_status is not first_sync_in_progress. 0 or -1. */
int fx_api_parse_connection(const char *body, size_t len, fx_conn_info *out);

/* POST /link/exchange's answer. *token is malloc'd (free with seal_free_secret);
 * customer_id gets the answer's customer_id ("" when null or absent). */
int fx_api_parse_exchange(const char *body, size_t len, char conn_id[FX_ID_MAX],
                          char integration[FX_ID_MAX], char customer_id[FX_ID_MAX], char **token);

/* Seal token (under the ring's sealing key, for conn_id) and store the connection as
 * created at event_ms (fx_db_conn_put; 0 = time unknown). 1 stored, 0 older than what
 * is stored (nothing changed), -1 with errstr. */
int fx_api_store_connection(PGconn *db, const seal_ring *ring, const char *conn_id,
                            const char *integration, const char *token, const char *customer_id,
                            int64_t event_ms, char *errstr, size_t errlen);

/* POST /link/exchange {auth_code[, customer_id]} with the API key, then store the
 * connection (with the customer_id of the answer). Fills conn_id and integration.
 * Blocking. 0 or -1 with errstr. */
int fx_api_link_exchange(const char *base_url, const char *api_key, const char *auth_code,
                         const char *customer_id, PGconn *db, const seal_ring *ring,
                         char conn_id[FX_ID_MAX], char integration[FX_ID_MAX], char *errstr,
                         size_t errlen);

#endif
