/* test_fx_http.c - a request the fetcher starts goes out then (issue 24). The engine
 * counts each request against its rate budgets when it starts it; before, libcurl held
 * at most 64 connections to the API host and queued the rest, so with
 * FETCHER_MAX_INFLIGHT above 64 a request counted in one second could be sent in a later
 * one (the bench saw page 429s at 3,000 connections). Shown against a local server that
 * holds every request until all have arrived: all of them arrive, with none answered
 * yet, so none waited for another to finish.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fetcher/fx_http.h"
#include "util.h"

#define N_REQS 100 /* above the 64 connections libcurl was limited to */

typedef struct server {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    int arrived;
    int at_release; /* requests at the server when the first was answered */
    int release;
} server;

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_len, void **req_cls) {
    (void)url, (void)method, (void)version, (void)upload, (void)upload_len;
    server *s = cls;
    if (!*req_cls) { /* the headers: count it, then hold it until released */
        *req_cls = s;
        pthread_mutex_lock(&s->mu);
        s->arrived++;
        int64_t until = util_mono_ms() + 3000;
        while (!s->release && s->arrived < N_REQS && util_mono_ms() < until) {
            pthread_mutex_unlock(&s->mu);
            nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
            pthread_mutex_lock(&s->mu);
        }
        if (!s->release) s->at_release = s->arrived;
        s->release = 1;
        pthread_mutex_unlock(&s->mu);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

typedef struct done_count {
    int ok, failed;
} done_count;

static void on_done(void *arg, fx_http_resp *resp) {
    done_count *d = arg;
    if (resp->status == 200)
        d->ok++;
    else
        d->failed++;
}

static void started_requests_go_out_at_once(void **state) {
    (void)state;
    server s = {0};
    assert_int_equal(pthread_mutex_init(&s.mu, NULL), 0);
    s.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                           NULL, handler, &s, MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
    assert_non_null(s.d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", (unsigned)info->port);

    fx_http *h = fx_http_new(1 << 16, 20000, 5000, N_REQS);
    assert_non_null(h);
    done_count d = {0};
    for (int i = 0; i < N_REQS; i++)
        assert_non_null(fx_http_start(h, "GET", url, "key", NULL, NULL, on_done, &d));
    int64_t until = util_mono_ms() + 15000;
    while (fx_http_inflight(h) > 0 && util_mono_ms() < until)
        fx_http_run(h, 50);
    assert_int_equal(d.ok, N_REQS);
    assert_int_equal(d.failed, 0);
    /* every request was at the server before the first answer went back */
    assert_int_equal(s.at_release, N_REQS);
    fx_http_free(h);
    MHD_stop_daemon(s.d);
    pthread_mutex_destroy(&s.mu);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(started_requests_go_out_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
