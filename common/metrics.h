/* metrics.h - process-wide counters and gauges, rendered as Prometheus text.
 *
 * A metric is registered once at start-up (name, help, optional single label pair)
 * and then updated lock-free with atomics from any thread. The admin server renders
 * every registered metric on GET /metrics.
 */
#ifndef TS_METRICS_H
#define TS_METRICS_H

#include <stdint.h>

typedef struct metric metric;

/* Register a counter or gauge. label_key/label_val may be NULL. Names, helps and
 * labels are copied. Returns the same handle for the same (name, label) pair.
 * Registering after the admin server started is allowed. */
metric *metric_counter(const char *name, const char *help, const char *label_key,
                       const char *label_val);
metric *metric_gauge(const char *name, const char *help, const char *label_key,
                     const char *label_val);

void metric_add(metric *m, int64_t v);
void metric_inc(metric *m);
void metric_set(metric *m, int64_t v);
int64_t metric_get(const metric *m);

/* Render all metrics into a malloc'd string (caller frees). */
char *metrics_render(void);

#endif
