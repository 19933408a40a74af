/* fx_api.h - Trackstar's management API as the fetcher uses it: which resources an
 * integration or connection can read (GET /integrations/wms, GET /connections/{id}),
 * whose first sync is done, and the link exchange that turns an auth code into a
 * stored, encrypted connection. Parsers are pure (unit-tested); the exchange blocks.
 */
#ifndef FX_API_H
#define FX_API_H

#include <stddef.h>
#include <stdint.h>

#include "fx_cursor.h"
#include "seal.h"
#include "fx_db.h"

#define FX_MAX_INTEGRATIONS 512

typedef struct fx_integ {
    char name[FX_ID_MAX];
    uint32_t reads; /* bit per ts_entity_id the integration implements */
} fx_integ;

/* {"data":[{"integration_name":..,"available_actions":[..]},..]}: up to max entries.
 * 0 or -1 (malformed). */
int fx_api_parse_integrations(const char *body, size_t len, fx_integ *out, int max, int *n);

/* One resource's sync schedule (Connection.sync_schedules[]). */
typedef struct fx_schedule {
    int known;                            /* the connection lists it */
    int64_t frequency_ms;                 /* sync_frequency; 0 = not given */
    int64_t crawl_start_ms, crawl_end_ms; /* last_crawl_start / _end; 0 = null */
    int running;                          /* sync_status sync_in_progress (or in_progress) */
    int error;                            /* sync_status error: Trackstar cannot crawl */
} fx_schedule;

typedef struct fx_conn_info {
    uint32_t hist_done; /* bit per ts_entity_id whose first sync is complete */
    uint32_t actions;   /* bit per ts_entity_id in available_actions */
    int actions_known;
    int webhooks_disabled; /* -1 unknown */
    char integration[FX_ID_MAX];
    fx_schedule sched[TS_ENTITY_COUNT];
} fx_conn_info;

/* GET /connections/{id}: accepts {"data":{...}} and {"data":[{...}]} (the reference
 * leaves the live shape open). A first sync counts as done when
 * historical_sync_completed[get_x] is true or, without that map, when the schedule's
 * sync_status is not first_sync_in_progress. Every schedule's frequency and crawl times
 * are read too. When obj is not NULL, *obj and *objlen get the connection object's bytes
 * as served. 0 or -1. */
int fx_api_parse_connection(const char *body, size_t len, fx_conn_info *out, const char **obj,
                            size_t *objlen);

/* One connection object as served (an element of a page of GET /connections, handed over
 * by the replica that listed it): what fx_api_parse_connection reads from it. 0 or -1. */
int fx_api_parse_connection_object(const char *obj, size_t len, fx_conn_info *out);

/* One page of GET /connections ({"data":[Connection...],"next_token":...}): each(arg, id,
 * the object's bytes as served, what it says) for every element naming a connection_id
 * (others are skipped), and the next page's token into next ("" on the last page). 0, or
 * -1 when the envelope is malformed (elements before the fault may have been handed). */
typedef void (*fx_conn_page_fn)(void *arg, const char *id, const char *obj, size_t len,
                                const fx_conn_info *info);
int fx_api_parse_connection_page(const char *body, size_t len, fx_conn_page_fn each, void *arg,
                                 char *next, size_t nextlen);

/* The promise of a schedule (fx_cursor.h): its last crawl counts only when it has ended
 * (start <= end and no crawl in progress); prev keeps the newest ended crawl seen
 * before, for the times a crawl is in progress. */
void fx_schedule_promise(const fx_schedule *s, fx_promise *prev);

/* An on-demand sync job {id, status, ...}: its id and status ("open", "completed",
 * "cancelled", "stuck"). 0 or -1. */
int fx_api_parse_job(const char *body, size_t len, char id[FX_ID_MAX], char *status, size_t slen);

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
