/* gw_workers.h - a fixed set of threads taking jobs from a bounded queue. The gateway
 * uses it for the slow, blocking downloads of truncated events so they never run on an
 * HTTP thread. A full queue refuses the job at once (the caller answers 503) instead of
 * waiting.
 */
#ifndef GW_WORKERS_H
#define GW_WORKERS_H

typedef void (*gw_job_fn)(void *job, void *arg);

typedef struct gw_workers gw_workers;

/* nthreads >= 1 threads run fn(job, arg) for each pushed job; at most queue_max jobs
 * wait. Returns NULL on failure. */
gw_workers *gw_workers_new(int nthreads, int queue_max, gw_job_fn fn, void *arg);

/* Queue a job. Returns 0, or -1 when the queue is full or the pool is stopping (the
 * job was not taken: the caller still owns it). */
int gw_workers_push(gw_workers *w, void *job);

/* Jobs waiting to run. */
int gw_workers_pending(gw_workers *w);

/* Stop taking jobs, run the ones already queued, join the threads and free the pool. */
void gw_workers_stop(gw_workers *w);

#endif
