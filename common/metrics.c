/* metrics.c - a fixed-size registry of counters and gauges with atomic updates,
 * rendered in the Prometheus text format. Registration takes a mutex; updates do not. */
#include "metrics.h"

#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX 512

struct metric {
    char *name, *help, *lkey, *lval;
    int gauge;
    _Atomic int64_t value;
};

static struct metric registry[METRICS_MAX];
static _Atomic int registry_n;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static int same(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static metric *metric_register(const char *name, const char *help, const char *lkey,
                               const char *lval, int gauge) {
    static struct metric overflow; /* beyond METRICS_MAX: counted nowhere, never NULL */
    pthread_mutex_lock(&registry_lock);
    int n = atomic_load(&registry_n);
    for (int i = 0; i < n; i++)
        if (strcmp(registry[i].name, name) == 0 && same(registry[i].lkey, lkey) &&
            same(registry[i].lval, lval)) {
            pthread_mutex_unlock(&registry_lock);
            return &registry[i];
        }
    if (n == METRICS_MAX) {
        pthread_mutex_unlock(&registry_lock);
        return &overflow;
    }
    metric *m = &registry[n];
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->lkey = lkey ? strdup(lkey) : NULL;
    m->lval = lval ? strdup(lval) : NULL;
    m->gauge = gauge;
    atomic_store(&m->value, 0);
    atomic_store(&registry_n, n + 1);
    pthread_mutex_unlock(&registry_lock);
    return m;
}

metric *metric_counter(const char *name, const char *help, const char *lk, const char *lv) {
    return metric_register(name, help, lk, lv, 0);
}
metric *metric_gauge(const char *name, const char *help, const char *lk, const char *lv) {
    return metric_register(name, help, lk, lv, 1);
}
void metric_add(metric *m, int64_t v) {
    atomic_fetch_add(&m->value, v);
}
void metric_inc(metric *m) {
    atomic_fetch_add(&m->value, 1);
}
void metric_set(metric *m, int64_t v) {
    atomic_store(&m->value, v);
}
int64_t metric_get(const metric *m) {
    return atomic_load(&((metric *)m)->value);
}

char *metrics_render(void) {
    sbuf b = {0};
    int n = atomic_load(&registry_n);
    /* Prometheus wants every sample of one name together, under one HELP/TYPE. */
    for (int i = 0; i < n; i++) {
        const metric *m = &registry[i];
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(registry[j].name, m->name) == 0;
        if (seen) continue;
        sbuf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                    m->gauge ? "gauge" : "counter");
        for (int j = i; j < n; j++) {
            const metric *s = &registry[j];
            if (strcmp(s->name, m->name) != 0) continue;
            if (s->lkey)
                sbuf_printf(&b, "%s{%s=\"%s\"} %lld\n", s->name, s->lkey, s->lval,
                            (long long)metric_get(s));
            else
                sbuf_printf(&b, "%s %lld\n", s->name, (long long)metric_get(s));
        }
    }
    if (!b.p) sbuf_append(&b, "", 0);
    return b.p;
}
