/* sim_reqstats.c - the request counters behind GET /_sim/requests/stats. */
#include "sim_reqstats.h"

#include <pthread.h>
#include <string.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static sim_reqstats g_st;

void sim_reqstats_add(sim_scope scope, int status) {
    if (scope <= SIM_SCOPE_NONE || scope >= SIM_SCOPE_COUNT) return;
    pthread_mutex_lock(&g_mu);
    sim_reqcount *c = &g_st.scope[scope];
    c->total++;
    if (status == 0)
        c->dropped++;
    else if (status >= 200 && status < 300)
        c->ok++;
    else if (status == 429)
        c->http_429++;
    else if (status >= 400 && status < 500)
        c->other_4xx++;
    else if (status >= 500)
        c->http_5xx++;
    pthread_mutex_unlock(&g_mu);
}

void sim_reqstats_get(sim_reqstats *out) {
    pthread_mutex_lock(&g_mu);
    *out = g_st;
    pthread_mutex_unlock(&g_mu);
}

void sim_reqstats_reset(int64_t now_ms) {
    pthread_mutex_lock(&g_mu);
    memset(&g_st, 0, sizeof g_st);
    g_st.since_ms = now_ms;
    pthread_mutex_unlock(&g_mu);
}
