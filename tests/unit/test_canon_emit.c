/* test_canon_emit.c - the writer that replaced building and printing a cJSON tree: every
 * kept value must come out byte for byte as cJSON_PrintUnformatted prints it (numbers,
 * escapes, nesting), the first value of a duplicate key must win however many keys
 * `extra` holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "normalizer/canon_internal.h"
#include "tests/unit/canon_test_util.h"

#define EMIT_KEYS 200 /* unknown keys: well past the first sizes of the key set */
#define EMIT_BODY (64 * 1024)

/* One unknown value per key, cycling through the shapes cJSON prints differently. */
static const char *const shapes[] = {
    "0.30000000000000004",
    "1e300",
    "-5",
    "3000000000",
    "-2147483649",
    "0.1",
    "123456789.123456789",
    "[1,[2,{}]]",
    "{\"a\":{\"b\":[true,false,null]}}",
    "\"ctl \\u0001\\u001f \\b\\f\\n\\r\\t \\\" \\\\ / \\u00e9 \\ud83d\\udce6\"",
    "[]",
    "{}",
    "1E-7",
    "-0",
    "5e-324",
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void test_extra_matches_cjson(void **state) {
    (void)state;
    char *body = malloc(EMIT_BODY);
    assert_non_null(body);
    int n = snprintf(body, EMIT_BODY,
                     "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{"
                     "\"id\":\"o\",\"updated_date\":\"2026-01-06T09:00:00Z\"");
    for (int i = 0; i < EMIT_KEYS; i++)
        n += snprintf(body + n, (size_t)(EMIT_BODY - n), ",\"k%d\\u0002\":%s", i,
                      shapes[i % NSHAPES]);
    /* Later duplicates: the first value must stay. */
    n += snprintf(body + n, (size_t)(EMIT_BODY - n), ",\"k7\\u0002\":\"late\",\"k150\\u0002\":1}}");
    assert_true(n < EMIT_BODY);

    /* What the old code printed: a duplicate of each first value in an object. */
    cJSON *root = cJSON_Parse(body);
    assert_non_null(root);
    cJSON *want = cJSON_CreateObject(), *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "data")) {
        if (strcmp(e->string, "id") == 0 || strcmp(e->string, "updated_date") == 0 ||
            cJSON_GetObjectItemCaseSensitive(want, e->string))
            continue;
        cJSON_AddItemToObject(want, e->string, cJSON_Duplicate(e, 1));
    }
    char *want_s = cJSON_PrintUnformatted(want);

    canon_raw in = ct_webhook(body, (size_t)n, "order.updated", "e1");
    canon_out out;
    char err[256];
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    assert_int_equal(out.n, 1);
    const char *x = strstr(out.msg[0].value, ",\"extra\":{\"k0");
    assert_non_null(x);
    x += strlen(",\"extra\":");
    size_t xlen = strlen(x);
    assert_int_equal(xlen, strlen(want_s) + 1); /* plus the record's closing brace */
    assert_memory_equal(x, want_s, strlen(want_s));
    assert_string_equal(x + strlen(want_s), "}");

    canon_out_free(&out);
    cJSON_free(want_s);
    cJSON_Delete(want);
    cJSON_Delete(root);
    free(body);
}

/* Nested unknown keys are "path.key", escaped as one string. */
static void test_extra_nested_key_escaped(void **state) {
    (void)state;
    const char *body =
        "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o\","
        "\"updated_date\":\"2026-01-06T09:00:00Z\",\"line_items\":[{},{\"q\\\"\\u0003\":[1.5]}]}}";
    canon_raw in = ct_webhook(body, strlen(body), "order.updated", "e1");
    canon_out out;
    char err[256];
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    assert_non_null(strstr(out.msg[0].value, ",\"extra\":{\"line_items.1.q\\\"\\u0003\":[1.5]}}"));
    canon_out_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extra_matches_cjson),
        cmocka_unit_test(test_extra_nested_key_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
