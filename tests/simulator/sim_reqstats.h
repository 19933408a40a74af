/* sim_reqstats.h - counts of the API requests the simulator answered, by rate-limit scope
 * (access token, or the organisation's API key) and by outcome, for benches and tests
 * that judge a client's cost: how many requests it made, how many were useful (2xx) and
 * how many were answered 429. /_sim/ control requests and requests that failed
 * authentication are not counted. Thread-safe (its own lock, not the store's).
 */
#ifndef SIM_REQSTATS_H
#define SIM_REQSTATS_H

#include <stdint.h>

typedef enum sim_scope {
    SIM_SCOPE_NONE = 0, /* not counted */
    SIM_SCOPE_TOKEN,    /* endpoints chosen by access token: its own budget */
    SIM_SCOPE_API_KEY,  /* API-key-only endpoints: the organisation's shared budget */
    SIM_SCOPE_COUNT
} sim_scope;

typedef struct sim_reqcount {
    long long total, ok, http_429, other_4xx, http_5xx, dropped;
} sim_reqcount;

typedef struct sim_reqstats {
    sim_reqcount scope[SIM_SCOPE_COUNT]; /* [SIM_SCOPE_NONE] unused */
    int64_t since_ms;                    /* start, or the last reset */
} sim_reqstats;

/* Count one answered request: status is the HTTP status, or 0 when the connection was
 * closed without an answer (an injected drop). */
void sim_reqstats_add(sim_scope scope, int status);
void sim_reqstats_get(sim_reqstats *out);
void sim_reqstats_reset(int64_t now_ms);

#endif
