/* fx_ops.h - operator actions, reachable both as admin HTTP routes and as fetcher
 * subcommands (docs/fetcher.md):
 *
 *   POST /connections/exchange {"auth_code", "customer_id"?}   link exchange, stored sealed
 *   POST /sync     {"connection_id", "resources"?: [...]}        Trackstar sync + poll now
 *   POST /backfill {"connection_id", "resources"?, "start", "end"?}  re-read a date window
 *   GET  /requests?id=N                                          a request's progress
 *   GET  /streams[?connection_id=X]                              sync status per stream
 *   POST /connections/patch {"connection_id", "webhooks_disabled"?, "customer_id"?}
 *                                                                Trackstar's PATCH /connections
 *   POST /tokens/reseal                                          every stored token sealed
 *                                                                under the sealing key
 *
 * Manual work is written to fetcher_requests and carried out by whichever replica owns
 * the connection, so any replica (or the command line) can take it. Each action opens
 * its own database connection, on the admin worker thread (admin.h): never on the thread
 * that answers /healthz, and never in the loop. Every route needs the ADMIN_TOKEN bearer.
 */
#ifndef FX_OPS_H
#define FX_OPS_H

#include <stddef.h>

#include "seal.h"

typedef struct fx_ops {
    const char *db_url, *base_url, *api_key;
    seal_ring ring;
} fx_ops;

/* Each returns an HTTP status and sets *resp to a malloc'd JSON body. */
int fx_ops_request(const fx_ops *o, const char *kind, const char *body, size_t len, char **resp);
int fx_ops_exchange(const fx_ops *o, const char *body, size_t len, char **resp);
int fx_ops_request_status(const fx_ops *o, const char *query, char **resp);
int fx_ops_streams(const fx_ops *o, const char *query, char **resp);
/* PATCH /connections with the connection's own access token (decrypted here, never
 * answered or logged): webhooks_disabled (bool) and customer_id (string or null). */
int fx_ops_patch(const fx_ops *o, const char *body, size_t len, char **resp);
/* Key rotation: open every stored token with the ring and seal again under its sealing
 * key the ones sealed under another (or before key ids). 200 with the counts, or 500
 * when some token opens with no key of the ring (it stays as it was). */
int fx_ops_reseal(const fx_ops *o, char **resp);

/* Register the admin routes (o must live as long as the admin server). 0 or -1. */
int fx_ops_install(fx_ops *o);

#endif
