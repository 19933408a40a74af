/* metrics.c - a fixed-size registry of counters, gauges and histograms with atomic
 * updates, rendered in the Prometheus text format (version 0.0.4), plus the process
 * metrics read from /proc at render time. Registration takes a mutex; updates do not. */
#include "metrics.h"

#include "util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A writer consuming 10 topics of 64 partitions has 640 lag series; room for that and
 * every stage's own series. */
#define METRICS_MAX 4096
#define METRIC_MAX_BUCKETS 32

#ifndef TS_VERSION
#define TS_VERSION "dev"
#endif
#ifndef TS_REVISION
#define TS_REVISION "unknown"
#endif

typedef enum metric_kind { MK_COUNTER, MK_GAUGE, MK_HISTOGRAM } metric_kind;

struct metric {
    char *name, *help, *labels; /* labels: rendered k="v",... or NULL */
    metric_kind kind;
    double divisor; /* rendered value = value / divisor (0 or 1: as is) */
    _Atomic int64_t value;
    /* histograms */
    int nb;
    double bounds[METRIC_MAX_BUCKETS];
    _Atomic int64_t *buckets;  /* nb + 1 (the last is +Inf), not cumulative */
    _Atomic uint64_t sum_bits; /* a double, updated by compare-and-swap */
};

static struct metric registry[METRICS_MAX];
static _Atomic int registry_n;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static char build_stage[64] = "unknown";

static int same(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* k="v",k2="v2" with \, " and newline escaped as the text format wants. */
static char *render_labels(const char *const *kv) {
    if (!kv || !kv[0]) return NULL;
    sbuf b = {0};
    for (int i = 0; kv[i] && kv[i + 1] && i < 8; i += 2) {
        sbuf_printf(&b, "%s%s=\"", i ? "," : "", kv[i]);
        for (const char *p = kv[i + 1]; *p; p++) {
            if (*p == '\\' || *p == '"')
                sbuf_printf(&b, "\\%c", *p);
            else if (*p == '\n')
                sbuf_append(&b, "\\n", 2);
            else
                sbuf_append(&b, p, 1);
        }
        sbuf_append(&b, "\"", 1);
    }
    return b.p;
}

static metric *metric_register(const char *name, const char *help, const char *const *kv,
                               metric_kind kind, const double *bounds, int nb, double divisor) {
    static struct metric overflow; /* beyond METRICS_MAX: counted nowhere, never NULL */
    static _Atomic int64_t overflow_buckets[METRIC_MAX_BUCKETS + 1];
    char *labels = render_labels(kv);
    pthread_mutex_lock(&registry_lock);
    int n = atomic_load(&registry_n);
    for (int i = 0; i < n; i++)
        if (strcmp(registry[i].name, name) == 0 && same(registry[i].labels, labels)) {
            pthread_mutex_unlock(&registry_lock);
            free(labels);
            return &registry[i];
        }
    metric *m = &registry[n];
    if (n == METRICS_MAX || nb > METRIC_MAX_BUCKETS ||
        (kind == MK_HISTOGRAM && !(m->buckets = calloc((size_t)nb + 1, sizeof *m->buckets)))) {
        pthread_mutex_unlock(&registry_lock);
        free(labels);
        overflow.buckets = overflow_buckets;
        overflow.nb = 0;
        return &overflow;
    }
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->labels = labels;
    m->kind = kind;
    m->nb = nb;
    m->divisor = divisor;
    for (int i = 0; i < nb; i++)
        m->bounds[i] = bounds[i];
    atomic_store(&m->value, 0);
    atomic_store(&registry_n, n + 1);
    pthread_mutex_unlock(&registry_lock);
    return m;
}

metric *metric_counter(const char *name, const char *help, const char *lk, const char *lv) {
    const char *const kv[] = {lk, lv, NULL};
    return metric_register(name, help, lk ? kv : NULL, MK_COUNTER, NULL, 0, 1);
}
metric *metric_gauge(const char *name, const char *help, const char *lk, const char *lv) {
    const char *const kv[] = {lk, lv, NULL};
    return metric_register(name, help, lk ? kv : NULL, MK_GAUGE, NULL, 0, 1);
}
metric *metric_counter_labels(const char *name, const char *help, const char *const *labels) {
    return metric_register(name, help, labels, MK_COUNTER, NULL, 0, 1);
}
metric *metric_gauge_labels(const char *name, const char *help, const char *const *labels,
                            double divisor) {
    return metric_register(name, help, labels, MK_GAUGE, NULL, 0, divisor);
}
metric *metric_histogram(const char *name, const char *help, const double *bounds, int n) {
    return metric_register(name, help, NULL, MK_HISTOGRAM, bounds, n, 1);
}
metric *metric_histogram_labels(const char *name, const char *help, const char *const *labels,
                                const double *bounds, int n) {
    return metric_register(name, help, labels, MK_HISTOGRAM, bounds, n, 1);
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

static double bits_to_double(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
static uint64_t double_to_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

void metric_observe(metric *m, double v) {
    if (!m->buckets) return;
    int i = 0;
    while (i < m->nb && v > m->bounds[i])
        i++;
    atomic_fetch_add(&m->buckets[i], 1);
    uint64_t old = atomic_load(&m->sum_bits);
    while (!atomic_compare_exchange_weak(&m->sum_bits, &old,
                                         double_to_bits(bits_to_double(old) + v))) {
    }
}

int64_t metric_histogram_count(const metric *m) {
    int64_t n = 0;
    for (int i = 0; m->buckets && i <= m->nb; i++)
        n += atomic_load(&((metric *)m)->buckets[i]);
    return n;
}

void metrics_set_build_info(const char *stage) {
    snprintf(build_stage, sizeof build_stage, "%s", stage);
}

static void render_histogram(sbuf *b, const metric *m) {
    int64_t cum = 0;
    const char *l = m->labels ? m->labels : "", *sep = m->labels ? "," : "";
    for (int i = 0; i <= m->nb; i++) {
        cum += atomic_load(&((metric *)m)->buckets[i]);
        if (i < m->nb)
            sbuf_printf(b, "%s_bucket{%s%sle=\"%g\"} %lld\n", m->name, l, sep, m->bounds[i],
                        (long long)cum);
        else
            sbuf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %lld\n", m->name, l, sep, (long long)cum);
    }
    sbuf_printf(b, "%s_sum%s%s%s %.17g\n%s_count%s%s%s %lld\n", m->name, m->labels ? "{" : "", l,
                m->labels ? "}" : "", bits_to_double(atomic_load(&((metric *)m)->sum_bits)),
                m->name, m->labels ? "{" : "", l, m->labels ? "}" : "", (long long)cum);
}

/* process_* as the Prometheus client libraries name them, from /proc/self. */
static void render_process(sbuf *b) {
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces: find its closing ')'. */
    const char *p = strrchr(buf, ')');
    unsigned long long utime = 0, stime = 0, start = 0, rss = 0;
    if (p && tick > 0 &&
        sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %*u %llu",
               &utime, &stime, &start, &rss) == 4) {
        sbuf_printf(b,
                    "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                    "seconds.\n# TYPE process_cpu_seconds_total counter\n"
                    "process_cpu_seconds_total %.2f\n",
                    (double)(utime + stime) / (double)tick);
        sbuf_printf(b,
                    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                    "# TYPE process_resident_memory_bytes gauge\n"
                    "process_resident_memory_bytes %llu\n",
                    rss * (unsigned long long)page);
        unsigned long long btime = 0;
        FILE *s = fopen("/proc/stat", "r");
        char line[256];
        while (s && fgets(line, sizeof line, s))
            if (sscanf(line, "btime %llu", &btime) == 1) break;
        if (s) fclose(s);
        if (btime)
            sbuf_printf(b,
                        "# HELP process_start_time_seconds Start time of the process since unix "
                        "epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
                        "process_start_time_seconds %.2f\n",
                        (double)btime + (double)start / (double)tick);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int fds = -1; /* the directory's own descriptor is not the process's */
        for (struct dirent *e; (e = readdir(d)) != NULL;)
            if (e->d_name[0] != '.') fds++;
        closedir(d);
        sbuf_printf(b,
                    "# HELP process_open_fds Number of open file descriptors.\n"
                    "# TYPE process_open_fds gauge\nprocess_open_fds %d\n",
                    fds);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        sbuf_printf(b,
                    "# HELP process_max_fds Maximum number of open file descriptors.\n"
                    "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                    (unsigned long long)rl.rlim_cur);
}

char *metrics_render(void) {
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
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
                    type_names[m->kind]);
        for (int j = i; j < n; j++) {
            const metric *s = &registry[j];
            if (strcmp(s->name, m->name) != 0) continue;
            if (s->kind == MK_HISTOGRAM)
                render_histogram(&b, s);
            else if (s->divisor > 1)
                sbuf_printf(&b, "%s%s%s%s %.9g\n", s->name, s->labels ? "{" : "",
                            s->labels ? s->labels : "", s->labels ? "}" : "",
                            (double)metric_get(s) / s->divisor);
            else if (s->labels)
                sbuf_printf(&b, "%s{%s} %lld\n", s->name, s->labels, (long long)metric_get(s));
            else
                sbuf_printf(&b, "%s %lld\n", s->name, (long long)metric_get(s));
        }
    }
    render_process(&b);
    sbuf_printf(&b,
                "# HELP trackstar_build_info The binary's version and git revision (always 1).\n"
                "# TYPE trackstar_build_info gauge\n"
                "trackstar_build_info{stage=\"%s\",version=\"%s\",revision=\"%s\"} 1\n",
                build_stage, TS_VERSION, TS_REVISION);
    return b.p;
}
