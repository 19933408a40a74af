/* bench_pct.h - nearest-rank percentiles of latency samples, for the single-file bench
 * programs that keep their own samples (loadgen.c, bench_kafka_probe.c). */
#ifndef BENCH_PCT_H
#define BENCH_PCT_H

#include <math.h>
#include <stdint.h>

/* qsort comparator: int64_t ascending. */
static inline int bench_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The p-quantile (0 < p <= 1) of v[0..n), sorted ascending: the smallest sample with at
 * least p * n samples at or below it. 0 when there are none. */
static inline double bench_pct(const int64_t *v, long n, double p) {
    if (n <= 0) return 0;
    long k = (long)ceil(p * (double)n) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    return (double)v[k];
}

#endif
