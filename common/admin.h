/* admin.h - the admin HTTP port every binary serves: /healthz, /readyz, /metrics.
 *
 * It runs on libmicrohttpd's own thread. /healthz answers 200 while the process runs;
 * /readyz calls the binary's readiness callback (dependencies reachable) and answers
 * 200 or 503 with the reason; /metrics renders metrics.h. A binary can add routes
 * (e.g. the fetcher's manual sync) through admin_route().
 */
#ifndef TS_ADMIN_H
#define TS_ADMIN_H

#include <stddef.h>

/* Returns 1 when ready; otherwise 0 and a short reason in why. Called from the
 * admin thread, so it must only read state that is safe to read concurrently. */
typedef int (*admin_ready_fn)(void *arg, char *why, size_t whylen);

/* A custom route: method and path must match exactly. The handler gets the query
 * arguments rebuilt as "k=v&k=v" (decoded; "" when none) and the body; it returns an HTTP status
 * and writes a malloc'd JSON body into *resp (or leaves it NULL). */
typedef int (*admin_route_fn)(void *arg, const char *query, const char *body, size_t body_len,
                              char **resp);

int admin_route(const char *method, const char *path, admin_route_fn fn, void *arg);

/* Start listening on 127.0.0.1/0.0.0.0 (bind_addr) port. Returns 0 or -1. */
int admin_start(const char *bind_addr, int port, admin_ready_fn ready, void *arg, char *errstr,
                size_t errlen);
void admin_stop(void);

#endif
