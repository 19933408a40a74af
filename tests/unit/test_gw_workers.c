/* test_gw_workers.c - webhook-gw's download worker pool: a full queue refuses a job at
 * once (the request then gets 503) and stopping runs what was already queued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "webhook-gw/gw_workers.h"

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int release; /* jobs block until this is set */
    atomic_int ran;
} pool_state;

static void job_fn(void *job, void *arg) {
    (void)job;
    pool_state *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->release)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_add(&s->ran, 1);
}

static void test_workers_bounded_queue(void **state) {
    (void)state;
    pool_state s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    assert_null(gw_workers_new(0, 1, job_fn, &s));
    assert_null(gw_workers_new(1, 0, job_fn, &s));
    gw_workers *w = gw_workers_new(1, 2, job_fn, &s);
    assert_non_null(w);
    int accepted = 0;
    /* One job runs (blocked), two wait, the rest are refused at once. */
    for (int i = 0; i < 10; i++) {
        if (gw_workers_push(w, &s) == 0) accepted++;
        if (i == 0) { /* let the thread take the first job off the queue */
            for (int t = 0; t < 1000 && gw_workers_pending(w) > 0; t++) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
        }
    }
    assert_int_equal(accepted, 3);
    assert_int_equal(gw_workers_pending(w), 2);
    pthread_mutex_lock(&s.mu);
    s.release = 1;
    pthread_cond_broadcast(&s.cv);
    pthread_mutex_unlock(&s.mu);
    gw_workers_stop(w); /* runs what was queued, then joins */
    assert_int_equal(atomic_load(&s.ran), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workers_bounded_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
