/* metrics.h - process-wide counters, gauges and histograms, rendered as Prometheus text.
 *
 * A metric is registered once (name, help, optional labels) and then updated lock-free
 * with atomics from any thread. The admin server renders every registered metric on
 * GET /metrics, followed by the process metrics (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_start_time_seconds, process_open_fds,
 * process_max_fds) read from /proc at that moment, and trackstar_build_info.
 *
 * Labels: metric_counter/metric_gauge take one pair (key, value); the _labels variants
 * take a whole label set as alternating keys and values ending in NULL. Values are
 * escaped when rendered. Every distinct label set is one series held for the life of
 * the process: only bounded sets (topics, partitions, brokers, resources, reasons) may
 * be labels, never connection ids (docs/operations.md, "Metrics").
 */
#ifndef TS_METRICS_H
#define TS_METRICS_H

#include <stdint.h>

typedef struct metric metric;

/* Register a counter or gauge. label_key/label_val may be NULL. Names, helps and
 * labels are copied. Returns the same handle for the same (name, labels). Registering
 * after the admin server started is allowed. */
metric *metric_counter(const char *name, const char *help, const char *label_key,
                       const char *label_val);
metric *metric_gauge(const char *name, const char *help, const char *label_key,
                     const char *label_val);
/* labels: key, value, key, value, ..., NULL (at most 4 pairs). divisor: the value is
 * kept as an integer and rendered divided by it (1e6 for a value set in microseconds
 * and exposed in seconds); 1 for plain integers. */
metric *metric_gauge_labels(const char *name, const char *help, const char *const *labels,
                            double divisor);
metric *metric_counter_labels(const char *name, const char *help, const char *const *labels);

void metric_add(metric *m, int64_t v);
void metric_inc(metric *m);
void metric_set(metric *m, int64_t v);
int64_t metric_get(const metric *m);

/* A histogram in base units (seconds, bytes): bounds[0..n) are the upper bounds of the
 * buckets, ascending; +Inf is added. Rendered as name_bucket{le}, name_sum, name_count. */
metric *metric_histogram(const char *name, const char *help, const double *bounds, int n);
/* The same with a label set (as metric_gauge_labels); every set shares the bounds. */
metric *metric_histogram_labels(const char *name, const char *help, const char *const *labels,
                                const double *bounds, int n);
void metric_observe(metric *m, double v);
/* The count of observations (tests). */
int64_t metric_histogram_count(const metric *m);

/* The labels of trackstar_build_info (value 1): the stage's name; the version and git
 * revision are compiled in. Call once at start-up. */
void metrics_set_build_info(const char *stage);

/* Render all metrics into a malloc'd string (caller frees). */
char *metrics_render(void);

#endif
