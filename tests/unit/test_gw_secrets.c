/* test_gw_secrets.c - access tokens sealed in the body before webhook-gw publishes it:
 * connection.created's data.access_token becomes data.access_token_sealed that opens
 * to the token for that connection only; every other byte is kept; names and tokens
 * written with escapes, nested and repeated names, a name that only appears inside a
 * value, null and "" tokens; a token of another type and an incoming
 * access_token_sealed are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook-gw/gw_secrets.h"

#define KEY_A "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static seal_ring ring;
static char err[200];

static int setup(void **state) {
    (void)state;
    return seal_ring_parse(KEY_A, NULL, &ring, err, sizeof err);
}

static gw_secrets_result run(const char *body, char **out, size_t *olen, int *n) {
    return gw_secrets_seal(&ring, "conn_1", body, strlen(body), out, olen, n, err, sizeof err);
}

/* The sealed text of the first access_token_sealed in out, opened for conn_1. */
static char *open_first(const char *out) {
    const char *p = strstr(out, "\"access_token_sealed\":\"");
    assert_non_null(p);
    p += strlen("\"access_token_sealed\":\"");
    const char *q = strchr(p, '"');
    char sealed[1024];
    snprintf(sealed, sizeof sealed, "%.*s", (int)(q - p), p);
    return seal_open(&ring, "conn_1", sealed, err, sizeof err);
}

static void connection_created(void **state) {
    (void)state;
    const char *b = "{\"connection_id\":\"conn_1\",\"event_type\":\"connection.created\","
                    "\"integration_name\":\"sandbox\",\"integration_type\":\"general\","
                    "\"data\":{\"created_date\":\"2026-01-05T10:00:00Z\","
                    "\"access_token\" : \"at_live_123456\"},\"n\":1.50}";
    char *out;
    size_t olen;
    int n;
    assert_int_equal(run(b, &out, &olen, &n), GW_SECRETS_SEALED);
    assert_int_equal(n, 1);
    assert_int_equal(olen, strlen(out));
    assert_null(strstr(out, "at_live_123456"));
    assert_null(strstr(out, "\"access_token\""));
    /* every other byte as received: the prefix, and the tail with its 1.50 */
    const char *cut = strstr(b, "\"access_token\"");
    assert_memory_equal(out, b, (size_t)(cut - b));
    assert_non_null(strstr(out, "\"},\"n\":1.50}"));
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    cJSON_Delete(j);
    char *tok = open_first(out);
    assert_string_equal(tok, "at_live_123456");
    seal_free_secret(tok);
    /* sealed for conn_1 only */
    const char *p = strstr(out, "v2.");
    char sealed[1024];
    snprintf(sealed, sizeof sealed, "%.*s", (int)(strchr(p, '"') - p), p);
    assert_null(seal_open(&ring, "conn_2", sealed, err, sizeof err));
    free(out);
}

static void nothing_to_seal(void **state) {
    (void)state;
    char *out = NULL;
    size_t olen;
    int n;
    static const char *const bodies[] = {
        "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o1\"}}",
        /* the name inside a value, even looking like a member */
        "{\"data\":{\"note\":\"\\\"access_token\\\": \\\"x\\\"\",\"s\":\"access_token\"}}",
        "{\"data\":{\"access_token\":null}}",
        "{\"data\":{\"access_token\":\"\"}}",
        "{\"data\":{\"tags\":[\"access_token\",\"b\"]}}",
        "{\"data\":{\"access_tokens\":\"x\",\"my_access_token\":\"y\"}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal(run(bodies[i], &out, &olen, &n), GW_SECRETS_NONE);
        assert_null(out);
    }
}

static void escapes_and_depth(void **state) {
    (void)state;
    char *out;
    size_t olen;
    int n;
    /* a name spelled with an escape, a token with escapes, a nested and a repeated one */
    const char *b = "{\"data\":{\"access\\u005ftoken\":\"a\\/b\\\"c\\u00e9\","
                    "\"inner\":{\"x\":[{\"access_token\":\"tok_two\"}]},"
                    "\"access_token\":\"tok_three\"},\"previous_attributes\":{}}";
    assert_int_equal(run(b, &out, &olen, &n), GW_SECRETS_SEALED);
    assert_int_equal(n, 3);
    assert_null(strstr(out, "tok_two"));
    assert_null(strstr(out, "tok_three"));
    assert_null(strstr(out, "a\\/b"));
    char *tok = open_first(out);
    assert_string_equal(tok, "a/b\"c\xc3\xa9");
    seal_free_secret(tok);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    cJSON *inner = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "inner"), "x"), 0);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(inner, "access_token_sealed")));
    cJSON_Delete(j);
    free(out);
}

static void refused(void **state) {
    (void)state;
    char *out = NULL;
    size_t olen;
    int n;
    assert_int_equal(run("{\"data\":{\"access_token\":12345678}}", &out, &olen, &n),
                     GW_SECRETS_BAD);
    assert_null(strstr(err, "12345678"));
    assert_int_equal(run("{\"data\":{\"access_token\":{\"v\":\"x\"}}}", &out, &olen, &n),
                     GW_SECRETS_BAD);
    /* only the gateway writes access_token_sealed: one arriving from outside is refused */
    assert_int_equal(
        run("{\"data\":{\"access_token_sealed\":\"v2.00000000.AAAA\"}}", &out, &olen, &n),
        GW_SECRETS_BAD);
    assert_non_null(strstr(err, "access_token_sealed"));
    assert_null(out);
}

static void sealing_failure_never_publishes(void **state) {
    (void)state;
    seal_ring empty = {0}; /* no sealing key: seal_seal fails */
    char *out = NULL;
    size_t olen;
    int n;
    const char *b = "{\"data\":{\"access_token\":\"tok\"}}";
    assert_int_equal(
        gw_secrets_seal(&empty, "conn_1", b, strlen(b), &out, &olen, &n, err, sizeof err),
        GW_SECRETS_FAILED);
    assert_null(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connection_created),
        cmocka_unit_test(nothing_to_seal),
        cmocka_unit_test(escapes_and_depth),
        cmocka_unit_test(refused),
        cmocka_unit_test(sealing_failure_never_publishes),
    };
    return cmocka_run_group_tests_name("gw_secrets", tests, setup, NULL);
}
