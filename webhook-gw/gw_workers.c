/* gw_workers.c - bounded job queue (a ring) served by a fixed thread pool. */
#include "gw_workers.h"

#include <pthread.h>
#include <stdlib.h>

#define GW_WORKERS_MAX_THREADS 64

struct gw_workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void **ring;
    int cap, head, n;
    int stopping;
    gw_job_fn fn;
    void *arg;
    pthread_t threads[GW_WORKERS_MAX_THREADS];
    int nthreads;
};

static void *worker_main(void *p) {
    gw_workers *w = p;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->n == 0 && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->n == 0) break; /* stopping and nothing left */
        void *job = w->ring[w->head];
        w->head = (w->head + 1) % w->cap;
        w->n--;
        pthread_mutex_unlock(&w->mu);
        w->fn(job, w->arg);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

gw_workers *gw_workers_new(int nthreads, int queue_max, gw_job_fn fn, void *arg) {
    if (nthreads < 1 || nthreads > GW_WORKERS_MAX_THREADS || queue_max < 1 || !fn) return NULL;
    gw_workers *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->ring = calloc((size_t)queue_max, sizeof *w->ring);
    if (!w->ring) goto fail;
    w->cap = queue_max;
    w->fn = fn;
    w->arg = arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    for (; w->nthreads < nthreads; w->nthreads++)
        if (pthread_create(&w->threads[w->nthreads], NULL, worker_main, w) != 0) {
            gw_workers_stop(w); /* joins the ones already running */
            return NULL;
        }
    return w;
fail:
    free(w->ring);
    free(w);
    return NULL;
}

int gw_workers_push(gw_workers *w, void *job) {
    int rc = -1;
    pthread_mutex_lock(&w->mu);
    if (!w->stopping && w->n < w->cap) {
        w->ring[(w->head + w->n) % w->cap] = job;
        w->n++;
        pthread_cond_signal(&w->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int gw_workers_pending(gw_workers *w) {
    pthread_mutex_lock(&w->mu);
    int n = w->n;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void gw_workers_stop(gw_workers *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->ring);
    free(w);
}
