/* test_common.c - the shared modules: configuration table, time parsing and
 * formatting, JSON string escaping, Prometheus rendering, the arena JSON parser's
 * memory reuse (its grammar is tested through the normalizer's tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "json_arena.h"
#include "log.h"
#include "metrics.h"
#include "entities.h"
#include "pq_conn.h"
#include "strmap.h"
#include "topics.h"
#include "util.h"
#include "tests/unit/stderr_capture.h"

static char *s_val;
static long long i_val;
static int b_val;
static const cfg_var table[] = {
    {"TEST_STR", CFG_STR, "dflt", 0, 0, 0, "a string", &s_val},
    {"TEST_INT", CFG_INT, "5", 1, 10, 0, "an int", &i_val},
    {"TEST_BOOL", CFG_BOOL, "false", 0, 0, 0, "a bool", &b_val},
};

static void cfg_defaults_and_overrides(void **state) {
    (void)state;
    char err[256];
    unsetenv("TEST_STR");
    unsetenv("TEST_INT");
    unsetenv("TEST_BOOL");
    assert_int_equal(cfg_load(table, 3, err, sizeof err), 0);
    assert_string_equal(s_val, "dflt");
    assert_int_equal(i_val, 5);
    assert_int_equal(b_val, 0);
    setenv("TEST_INT", "10", 1);
    setenv("TEST_BOOL", "yes", 1);
    setenv("TEST_STR", "", 1); /* an explicitly empty string stays empty */
    assert_int_equal(cfg_load(table, 3, err, sizeof err), 0);
    assert_int_equal(i_val, 10);
    assert_int_equal(b_val, 1);
    assert_string_equal(s_val, "");
}

static void cfg_bad_values_name_the_variable(void **state) {
    (void)state;
    char err[256];
    unsetenv("TEST_BOOL");
    const char *bad_ints[] = {"11", "0", "abc", "5x", " "};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
        setenv("TEST_INT", bad_ints[i], 1);
        assert_int_equal(cfg_load(table, 3, err, sizeof err), -1);
        assert_non_null(strstr(err, "TEST_INT"));
    }
    setenv("TEST_INT", "3", 1);
    setenv("TEST_BOOL", "maybe", 1);
    assert_int_equal(cfg_load(table, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "TEST_BOOL"));
    unsetenv("TEST_BOOL");
}

static void cfg_required_missing(void **state) {
    (void)state;
    char *v, err[256];
    cfg_var req[] = {{"TEST_REQ", CFG_STR, NULL, 0, 0, CFG_REQUIRED, "needed", &v}};
    unsetenv("TEST_REQ");
    assert_int_equal(cfg_load(req, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "TEST_REQ"));
}

static void i64_digits_match_printf(void **state) {
    (void)state;
    const int64_t cases[] = {0,   1,          -1,         9,         10,        -10,          99,
                             100, 1234567890, -987654321, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[UTIL_I64_BUF], want[32];
        char *p = util_i64_digits(cases[i], buf);
        snprintf(want, sizeof want, "%lld", (long long)cases[i]);
        assert_int_equal(buf + UTIL_I64_BUF - p, strlen(want));
        assert_memory_equal(p, want, strlen(want));
    }
}

static void json_escaping(void **state) {
    (void)state;
    sbuf b = {0};
    const char s[] = "a\"b\\c\n\x01 d";
    sbuf_json_str(&b, s, sizeof s - 1);
    assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\u0001 d\"");
    sbuf_free(&b);
}

static void metrics_grouped_by_name(void **state) {
    (void)state;
    metric_add(metric_counter("t_requests_total", "requests", "code", "200"), 3);
    metric_inc(metric_counter("t_other_total", "other", NULL, NULL));
    metric_inc(metric_counter("t_requests_total", "requests", "code", "401"));
    metric_inc(metric_counter("t_requests_total", "requests", "code", "200"));
    char *text = metrics_render();
    const char *want = "# HELP t_requests_total requests\n# TYPE t_requests_total counter\n"
                       "t_requests_total{code=\"200\"} 4\nt_requests_total{code=\"401\"} 1\n";
    assert_non_null(strstr(text, want));
    free(text);
}

static void topics_include_every_canonical_entity(void **state) {
    (void)state;
    char buf[128];
    assert_string_equal(topic_name("acme.", TOPIC_RAW, buf, sizeof buf), "acme.trackstar.raw.v1");
    int canon = 0;
    for (int i = 0; i < topic_all_count; i++)
        canon += strncmp(topic_all[i], "wms.", 4) == 0;
    assert_int_equal(canon, TS_ENTITY_COUNT + 1); /* the entities + connection events */
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        int found = 0, internal = 0;
        for (int i = 0; i < topic_all_count; i++) {
            found += strcmp(topic_all[i], ts_entities[e].topic) == 0;
            internal += strcmp(topic_all[i], ts_entities[e].topic_internal) == 0;
        }
        assert_int_equal(found, 1);
        assert_int_equal(internal, 1);
        assert_string_equal(topic_public_of(ts_entities[e].topic_internal), ts_entities[e].topic);
    }
    assert_null(topic_public_of(TOPIC_RAW));
    for (int i = 0; i < topic_all_count; i++) /* the dev broker refuses a topic twice */
        for (int j = i + 1; j < topic_all_count; j++)
            assert_string_not_equal(topic_all[i], topic_all[j]);
}

/* Trees of many parses live together; after a reset the kept memory serves the next
 * parses, and a bigger text than any before still gets room. */
static void json_arena_parses_reset_and_reuse(void **state) {
    (void)state;
    json_arena a = {0};
    const char *end;
    char big[20000];
    for (int round = 0; round < 3; round++) {
        const cJSON *t[200];
        for (int i = 0; i < 200; i++) {
            char doc[64];
            int n = snprintf(doc, sizeof doc, "{\"k\":%d,\"s\":\"v%d\"}", i + round, i);
            t[i] = json_arena_parse(&a, doc, (size_t)n, &end);
            assert_non_null(t[i]);
        }
        for (int i = 0; i < 200; i++) {
            assert_int_equal(cJSON_GetObjectItem(t[i], "k")->valueint, i + round);
            char want[16];
            snprintf(want, sizeof want, "v%d", i);
            assert_string_equal(cJSON_GetObjectItem(t[i], "s")->valuestring, want);
        }
        size_t n = 0;
        n += (size_t)snprintf(big, sizeof big, "[\"");
        memset(big + n, 'x', sizeof big - n - 3);
        memcpy(big + sizeof big - 3, "\"]", 3);
        const cJSON *b = json_arena_parse(&a, big, sizeof big - 1, &end);
        assert_non_null(b);
        assert_int_equal(strlen(b->child->valuestring), sizeof big - 5);
        json_arena_reset(&a, round == 1 ? 0 : 1u << 20);
    }
    assert_null(json_arena_parse(&a, "[\"a\\u0000\"]", 11, &end));
    assert_true(a.nul);
    json_arena_free(&a);
}

/* A flood of lines is cut to the burst per window; the next line that gets through says
 * how many were dropped, so the count is never lost. */
static void log_limited_samples_and_counts_the_rest(void **state) {
    (void)state;
    log_init("test", LOG_INFO);
    log_limiter l = LOG_LIMITER_INIT(3, 300);
    capture_start();
    for (int i = 0; i < 10; i++)
        log_limited(&l, LOG_INFO, "webhook rejected", "reason", "bad_signature", NULL);
    log_limited(&l, LOG_DEBUG, "below the level: neither written nor counted", NULL);
    char *first = capture_end();
    assert_int_equal(count_of(first, "\"msg\":\"webhook rejected\""), 3);
    assert_null(strstr(first, "suppressed"));
    free(first);
    usleep(350 * 1000); /* the next window */
    capture_start();
    log_limited(&l, LOG_WARN, "webhook rejected", "reason", "stale_timestamp", NULL);
    log_limited(&l, LOG_WARN, "webhook rejected", "reason", "stale_timestamp", NULL);
    char *next = capture_end();
    assert_int_equal(count_of(next, "\"msg\":\"webhook rejected\""), 2);
    assert_non_null(strstr(next, "\"reason\":\"stale_timestamp\",\"suppressed\":\"7\"}"));
    assert_int_equal(count_of(next, "suppressed"), 1); /* said once */
    free(next);
}

/* libpq quotes a malformed connection string back (with the password in it); the
 * message we log and answer is fixed text naming DATABASE_URL, never any of it. */
static void pq_conn_failure_never_quotes_the_url(void **state) {
    (void)state;
    const char *bad[] = {"postgresql://trackstar:S3cr%t@127.0.0.1:1/x",
                         "host=127.0.0.1 password='S3cr%t", "postgresql://u:S3cr%t@[::1/x"};
    int libpq_quoted = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PGconn *c = PQconnectdb(bad[i]);
        assert_int_equal(PQstatus(c), CONNECTION_BAD);
        libpq_quoted += strstr(PQerrorMessage(c), "S3cr") != NULL; /* what used to be logged */
        const char *says = pq_conn_failure(bad[i], c);
        assert_null(strstr(says, "S3cr"));
        assert_non_null(strstr(says, "DATABASE_URL is malformed"));
        PQfinish(c);
    }
    assert_int_equal(libpq_quoted, 2); /* both URLs: the case this guards against */
    /* Well-formed, with a password, nobody listening: the kind, not the text. */
    const char *url = "postgresql://trackstar:S3cr3tPw@127.0.0.1:1/x?connect_timeout=2";
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    const char *says = pq_conn_failure(url, c);
    assert_null(strstr(says, "S3cr3tPw"));
    assert_string_equal(
        says, "cannot reach the database server (check the host and port in DATABASE_URL)");
    assert_non_null(strstr(pq_conn_failure(NULL, c), "cannot reach"));
    PQfinish(c);
}

static void strmap_sets_gets_and_walks(void **state) {
    (void)state;
    strmap *m = strmap_new();
    assert_non_null(m);
    char k[32];
    for (int i = 0; i < 5000; i++) { /* grows several times */
        snprintf(k, sizeof k, "conn_1|inv_%d", i);
        assert_int_equal(strmap_put(m, k, i), 0);
    }
    assert_int_equal(strmap_put(m, "conn_1|inv_7", -1), 0); /* replaces */
    assert_int_equal((int)strmap_count(m), 5000);
    int v = 0;
    assert_int_equal(strmap_get(m, "conn_1|inv_7", &v), 1);
    assert_int_equal(v, -1);
    assert_int_equal(strmap_get(m, "conn_1|inv_4999", &v), 1);
    assert_int_equal(v, 4999);
    assert_int_equal(strmap_get(m, "conn_1|inv_5000", NULL), 0);
    assert_int_equal(strmap_get(m, "", NULL), 0);
    size_t pos = 0, seen = 0;
    long long sum = 0;
    const char *key;
    while (strmap_next(m, &pos, &key, &v)) {
        seen++;
        sum += v;
        assert_int_equal(strncmp(key, "conn_1|inv_", 11), 0);
    }
    assert_int_equal((int)seen, 5000);
    assert_true(sum == 4999LL * 5000 / 2 - 8);
    strmap_free(m);
    strmap_free(NULL);
}

/* A new map costs a few hundred bytes, not a table sized for thousands: the fetcher holds
 * one per complete listing in progress, thousands at once (common/strmap.c). */
static void strmap_starts_small(void **state) {
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan's allocator does not report through mallinfo2 */
#endif
    size_t before = mallinfo2().uordblks;
    strmap *m = strmap_new();
    assert_non_null(m);
    size_t used = mallinfo2().uordblks - before;
    assert_true(used < 1024);
    assert_int_equal(strmap_put(m, "a", 1), 0);
    strmap_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cfg_defaults_and_overrides),
        cmocka_unit_test(cfg_bad_values_name_the_variable),
        cmocka_unit_test(cfg_required_missing),
        cmocka_unit_test(i64_digits_match_printf),
        cmocka_unit_test(json_escaping),
        cmocka_unit_test(json_arena_parses_reset_and_reuse),
        cmocka_unit_test(metrics_grouped_by_name),
        cmocka_unit_test(topics_include_every_canonical_entity),
        cmocka_unit_test(log_limited_samples_and_counts_the_rest),
        cmocka_unit_test(pq_conn_failure_never_quotes_the_url),
        cmocka_unit_test(strmap_sets_gets_and_walks),
        cmocka_unit_test(strmap_starts_small),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
