/* admin.h - the admin HTTP port every binary serves: /healthz, /readyz, /metrics, and
 * the routes a binary adds (e.g. the fetcher's manual sync).
 *
 * It runs on libmicrohttpd's own thread, which therefore never waits on anything slow:
 *  - /healthz answers 200 while the binary's main loop beats (admin_heartbeat) and 503
 *    once the last beat is older than the stale limit, so a stuck loop gets restarted;
 *  - /readyz calls the binary's readiness callback (dependencies reachable) and answers
 *    200 or 503 with the reason; /metrics renders metrics.h;
 *  - an added route needs "Authorization: Bearer <ADMIN_TOKEN>" (401 without, 403 when
 *    no token is configured: routes are off then), and its handler runs on a worker
 *    thread with a bounded queue: a full queue answers 503 at once, a handler still
 *    running after ADMIN_JOB_TIMEOUT_MS answers 503, and the health endpoints keep
 *    answering meanwhile (a slow database cannot get the pod restarted).
 */
#ifndef TS_ADMIN_H
#define TS_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#define ADMIN_TOKEN_MIN 16         /* shortest bearer token accepted */
#define ADMIN_TOKEN_MAX 256        /* longest */
#define ADMIN_JOB_QUEUE 16         /* route requests waiting for the worker */
#define ADMIN_JOB_TIMEOUT_MS 15000 /* a route request unanswered by then gets 503 */

/* Returns 1 when ready; otherwise 0 and a short reason in why. Called from the
 * admin thread, so it must only read state that is safe to read concurrently. */
typedef int (*admin_ready_fn)(void *arg, char *why, size_t whylen);

/* A custom route: method and path must match exactly. The handler runs on the admin
 * worker thread (it may block, e.g. on PostgreSQL). It gets the query arguments rebuilt
 * as "k=v&k=v" (decoded; "" when none) and the body; it returns an HTTP status and
 * writes a malloc'd JSON body into *resp (or leaves it NULL). Routes are registered
 * before admin_start. */
typedef int (*admin_route_fn)(void *arg, const char *query, const char *body, size_t body_len,
                              char **resp);

int admin_route(const char *method, const char *path, admin_route_fn fn, void *arg);

/* The bearer token the routes require (copied). "" leaves the routes off (403). Returns
 * 0, or -1 with the reason in err when the token is too short, too long or holds
 * anything but visible ASCII (the token itself is never put in err). */
int admin_set_token(const char *token, char *err, size_t errlen);

/* Start listening on bind_addr:port. healthz_stale_s: the heartbeat age at which
 * /healthz turns 503 (the clock starts now). Returns 0 or -1. */
int admin_start(const char *bind_addr, int port, int healthz_stale_s, admin_ready_fn ready,
                void *arg, char *errstr, size_t errlen);
void admin_stop(void);

/* The main loop is alive: call once per turn, and in every wait of a retry loop. */
void admin_heartbeat(void);

/* For tests: the current heartbeat age in ms, and whether /healthz would answer 200. */
int64_t admin_heartbeat_age_ms(void);
int admin_healthy(void);

#endif
