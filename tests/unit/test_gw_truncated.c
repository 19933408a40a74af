/* test_gw_truncated.c - webhook-gw's download of truncated events against two in-process
 * HTTP servers: "api" (TRACKSTAR_BASE_URL, answers data_url) and "cdn" (another origin,
 * serves download_url). Checks the happy path, that the API key reaches only the api
 * origin, the size limit, the time budget, redirects, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "webhook-gw/gw_truncated.h"

#define KEY "test-api-key-123"
#define BIG_BYTES 5000
#define LIMIT 4096

static struct MHD_Daemon *api, *cdn;
static int api_port, cdn_port;
static atomic_int cdn_requests, cdn_saw_key, api_requests;

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *body,
                                 const char *location) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (location) MHD_add_response_header(r, "Location", location);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_api(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
    atomic_fetch_add(&api_requests, 1);
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-trackstar-api-key");
    if (!key || strcmp(key, KEY) != 0) return send_text(c, 401, "{\"error\":\"bad key\"}", NULL);
    char body[256];
    if (strcmp(url, "/data/ok") == 0) {
        snprintf(body, sizeof body, "{\"download_url\":\"http://127.0.0.1:%d/dl/ok?sig=abc\"}",
                 cdn_port);
        return send_text(c, 200, body, NULL);
    }
    if (strcmp(url, "/data/nested") == 0) {
        snprintf(body, sizeof body, "{\"data\":{\"download_url\":\"http://127.0.0.1:%d/dl/ok\"}}",
                 cdn_port);
        return send_text(c, 200, body, NULL);
    }
    if (strcmp(url, "/data/big") == 0) {
        snprintf(body, sizeof body, "{\"download_url\":\"http://127.0.0.1:%d/dl/big\"}", cdn_port);
        return send_text(c, 200, body, NULL);
    }
    if (strcmp(url, "/data/slow") == 0) {
        snprintf(body, sizeof body, "{\"download_url\":\"http://127.0.0.1:%d/dl/slow\"}", cdn_port);
        return send_text(c, 200, body, NULL);
    }
    if (strcmp(url, "/data/redirect") == 0) {
        snprintf(body, sizeof body, "http://127.0.0.1:%d/steal", cdn_port);
        return send_text(c, 302, "", body);
    }
    if (strcmp(url, "/data/nolink") == 0) return send_text(c, 200, "{}", NULL);
    if (strcmp(url, "/data/gone") == 0) return send_text(c, 404, "{\"error\":\"gone\"}", NULL);
    return send_text(c, 404, "{}", NULL);
}

static enum MHD_Result on_cdn(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
    atomic_fetch_add(&cdn_requests, 1);
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-trackstar-api-key"))
        atomic_fetch_add(&cdn_saw_key, 1);
    if (strcmp(url, "/dl/ok") == 0)
        return send_text(
            c, 200,
            "{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o1\"}}",
            NULL);
    if (strcmp(url, "/dl/big") == 0) {
        static char big[BIG_BYTES + 1];
        memset(big, 'x', BIG_BYTES);
        return send_text(c, 200, big, NULL);
    }
    if (strcmp(url, "/dl/slow") == 0) {
        struct timespec ts = {1, 500000000L};
        nanosleep(&ts, NULL);
        return send_text(c, 200, "{}", NULL);
    }
    return send_text(c, 404, "{}", NULL);
}

static struct MHD_Daemon *start(MHD_AccessHandlerCallback fn, int *port) {
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                         NULL, fn, NULL, MHD_OPTION_END);
    assert_non_null(d);
    *port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return d;
}

static int setup(void **state) {
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    api = start(on_api, &api_port);
    cdn = start(on_cdn, &cdn_port);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    MHD_stop_daemon(api);
    MHD_stop_daemon(cdn);
    curl_global_cleanup();
    return 0;
}

static int fetch(const char *data_url, const char *key, long timeout_ms, sbuf *out, char *err,
                 size_t errlen) {
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", api_port);
    gw_truncated_cfg cfg = {base, key, LIMIT};
    return gw_truncated_download(&cfg, data_url, timeout_ms, out, err, errlen);
}

static void test_happy_path_key_only_to_api(void **state) {
    (void)state;
    atomic_store(&cdn_saw_key, 0);
    const char *paths[] = {"/data/ok", "/data/nested"};
    for (int i = 0; i < 2; i++) {
        char url[128], err[256] = "";
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", api_port, paths[i]);
        sbuf out = {0};
        assert_int_equal(fetch(url, KEY, 3000, &out, err, sizeof err), 0);
        assert_non_null(strstr(out.p, "\"id\":\"o1\""));
        sbuf_free(&out);
    }
    assert_int_equal(atomic_load(&cdn_saw_key), 0);
}

static void test_relative_data_url(void **state) {
    (void)state;
    sbuf out = {0};
    char err[256];
    assert_int_equal(fetch("/data/ok", KEY, 3000, &out, err, sizeof err), 0);
    sbuf_free(&out);
}

static void test_foreign_origin_refused_without_request(void **state) {
    (void)state;
    int before = atomic_load(&cdn_requests);
    char url[128], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data/ok", cdn_port); /* not the API's port */
    sbuf out = {0};
    assert_int_equal(fetch(url, KEY, 3000, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "origin"));
    assert_int_equal(atomic_load(&cdn_requests), before); /* nothing was sent there */
    assert_null(strstr(err, KEY));
    /* the API's address as userinfo in front of another host, and a scheme-relative link */
    snprintf(url, sizeof url, "http://127.0.0.1:%d@127.0.0.1:%d/data/ok", api_port, cdn_port);
    assert_int_equal(fetch(url, KEY, 3000, &out, err, sizeof err), -1);
    snprintf(url, sizeof url, "//localhost:%d/data/ok", cdn_port);
    assert_int_equal(fetch(url, KEY, 3000, &out, err, sizeof err), -1);
    assert_int_equal(atomic_load(&cdn_requests), before);
    sbuf_free(&out);
}

static void test_redirect_not_followed_with_key(void **state) {
    (void)state;
    atomic_store(&cdn_saw_key, 0);
    char url[128], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data/redirect", api_port);
    sbuf out = {0};
    assert_int_equal(fetch(url, KEY, 3000, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "302"));
    assert_int_equal(atomic_load(&cdn_saw_key), 0);
    sbuf_free(&out);
}

static void test_failures(void **state) {
    (void)state;
    static const struct {
        const char *path, *key, *err_part;
    } cases[] = {
        {"/data/ok", "wrong-key", "401"},      {"/data/ok", "", "TRACKSTAR_API_KEY"},
        {"/data/nolink", KEY, "download_url"}, {"/data/gone", KEY, "404"},
        {"/data/big", KEY, "larger than"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[128], err[256] = "";
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", api_port, cases[i].path);
        sbuf out = {0};
        assert_int_equal(fetch(url, cases[i].key, 3000, &out, err, sizeof err), -1);
        if (!strstr(err, cases[i].err_part)) {
            print_error("%s: error '%s' lacks '%s'\n", cases[i].path, err, cases[i].err_part);
            fail();
        }
        assert_null(strstr(err, KEY));
        sbuf_free(&out);
    }
}

static void test_time_budget(void **state) {
    (void)state;
    char url[128], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data/slow", api_port);
    sbuf out = {0};
    int64_t t0 = util_mono_ms();
    assert_int_equal(fetch(url, KEY, 400, &out, err, sizeof err), -1);
    int64_t took = util_mono_ms() - t0;
    assert_true(took < 1200); /* the download alone would take 1.5 s */
    sbuf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path_key_only_to_api),
        cmocka_unit_test(test_relative_data_url),
        cmocka_unit_test(test_foreign_origin_refused_without_request),
        cmocka_unit_test(test_redirect_not_followed_with_key),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_time_budget),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
