/* test_fx_json.c - the byte-exact page scanner: records come out exactly as served
 * (whitespace, escapes and key order kept), next_token null/absent/string, malformed
 * and truncated bodies refused, top-level members only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "fetcher/fx_json.h"

static const char PAGE[] =
    "{ \"data\" : [ "
    "{\"id\":\"ord_1\",\"updated_date\":\"2026-01-06T09:00:00Z\",\"x\":{\"id\":\"inner\"}} ,\n"
    "  {\"b\":[1,2.5e3,-0.1,true,false,null],\"id\":\"ord_\\\"2\\u00e9\",\"s\":\"a,]}\"} ],"
    " \"next_token\": \"tok_abc\", \"total_count\": 2 }";

static void elements_are_byte_exact(void **state) {
    (void)state;
    fx_page pg;
    char err[128];
    assert_int_equal(fx_json_page(PAGE, strlen(PAGE), &pg, err, sizeof err), 0);
    assert_true(pg.has_next);
    assert_string_equal(pg.next_token, "tok_abc");
    const char *it = pg.data, *end = pg.data + pg.data_len, *e;
    size_t len;
    assert_int_equal(fx_json_array_next(&it, end, &e, &len), 1);
    const char *r1 =
        "{\"id\":\"ord_1\",\"updated_date\":\"2026-01-06T09:00:00Z\",\"x\":{\"id\":\"inner\"}}";
    assert_int_equal(len, strlen(r1));
    assert_memory_equal(e, r1, len);
    char buf[64];
    assert_int_equal(fx_json_obj_str(e, len, "id", buf, sizeof buf), 1);
    assert_string_equal(buf, "ord_1");
    assert_int_equal(fx_json_array_next(&it, end, &e, &len), 1);
    const char *r2 =
        "{\"b\":[1,2.5e3,-0.1,true,false,null],\"id\":\"ord_\\\"2\\u00e9\",\"s\":\"a,]}\"}";
    assert_int_equal(len, strlen(r2));
    assert_memory_equal(e, r2, len);
    assert_int_equal(fx_json_obj_str(e, len, "id", buf, sizeof buf), 1);
    assert_string_equal(buf, "ord_\"2\xc3\xa9");
    assert_int_equal(fx_json_array_next(&it, end, &e, &len), 0);
}

static void nested_keys_are_not_top_level(void **state) {
    (void)state;
    const char *o = "{\"x\":{\"updated_date\":\"nested\"},\"y\":[{\"updated_date\":\"n2\"}]}";
    char buf[32];
    assert_int_equal(fx_json_obj_str(o, strlen(o), "updated_date", buf, sizeof buf), 0);
    const char *n = "{\"updated_date\":null,\"id\":7}";
    assert_int_equal(fx_json_obj_str(n, strlen(n), "updated_date", buf, sizeof buf), 0);
    assert_int_equal(fx_json_obj_str(n, strlen(n), "id", buf, sizeof buf), -1); /* not a string */
    const char *l = "{\"id\":\"0123456789\"}";
    assert_int_equal(fx_json_obj_str(l, strlen(l), "id", buf, 5), -1); /* too long */
}

static void last_page_and_empty_page(void **state) {
    (void)state;
    fx_page pg;
    char err[128];
    const char *a = "{\"data\":[],\"next_token\":null,\"total_count\":0}";
    assert_int_equal(fx_json_page(a, strlen(a), &pg, err, sizeof err), 0);
    assert_false(pg.has_next);
    const char *it = pg.data, *e;
    size_t len;
    assert_int_equal(fx_json_array_next(&it, pg.data + pg.data_len, &e, &len), 0);
    const char *b = "{\"data\":[{\"id\":\"a\"}]}"; /* next_token absent */
    assert_int_equal(fx_json_page(b, strlen(b), &pg, err, sizeof err), 0);
    assert_false(pg.has_next);
    const char *c = "{\"data\":[],\"next_token\":\"\"}"; /* empty string = no more */
    assert_int_equal(fx_json_page(c, strlen(c), &pg, err, sizeof err), 0);
    assert_false(pg.has_next);
}

static void malformed_bodies_refused(void **state) {
    (void)state;
    static const char *bad[] = {
        "",
        "[]",
        "{\"data\":[{\"id\":\"a\"}",     /* truncated */
        "{\"data\":[{\"id\":\"a\"},]}",  /* trailing comma */
        "{\"data\":[{\"id\":\"a\"}]} x", /* trailing garbage */
        "{\"next_token\":\"t\"}",        /* no data */
        "{\"data\":[\"a\\x\"]}",         /* bad escape */
        "{\"data\":[01]}",               /* leading zero */
        "{\"data\":[tru]}",
        "{\"data\":[],\"next_token\":5}", /* token not a string */
        "{\"data\":[\"\x01\"]}",          /* control character */
    };
    fx_page pg;
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fx_json_page(bad[i], strlen(bad[i]), &pg, err, sizeof err), -1);
}

/* A get-one response (an order's packs): data is one object, single set, no next page. */
static void single_object_data(void **state) {
    (void)state;
    fx_page pg;
    char err[128];
    const char *a = "{\"data\":{\"packs\":[],\"carrier\":null}}";
    assert_int_equal(fx_json_page(a, strlen(a), &pg, err, sizeof err), 0);
    assert_true(pg.single);
    assert_false(pg.has_next);
    assert_int_equal(pg.data_len, strlen("{\"packs\":[],\"carrier\":null}"));
    assert_int_equal(pg.data[0], '{');
    const char *b = "{\"data\":[]}";
    assert_int_equal(fx_json_page(b, strlen(b), &pg, err, sizeof err), 0);
    assert_false(pg.single);
    const char *c = "{\"data\":{\"packs\":[}}"; /* malformed inside */
    assert_int_equal(fx_json_page(c, strlen(c), &pg, err, sizeof err), -1);
    const char *d = "{\"data\":\"x\"}"; /* neither */
    assert_int_equal(fx_json_page(d, strlen(d), &pg, err, sizeof err), -1);
}

static void depth_is_bounded(void **state) {
    (void)state;
    char body[1024] = "{\"data\":[";
    size_t n = strlen(body);
    for (int i = 0; i < FX_JSON_MAX_DEPTH + 5; i++)
        body[n++] = '[';
    for (int i = 0; i < FX_JSON_MAX_DEPTH + 5; i++)
        body[n++] = ']';
    memcpy(body + n, "]}", 3);
    fx_page pg;
    char err[128];
    assert_int_equal(fx_json_page(body, strlen(body), &pg, err, sizeof err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(elements_are_byte_exact),  cmocka_unit_test(nested_keys_are_not_top_level),
        cmocka_unit_test(last_page_and_empty_page), cmocka_unit_test(malformed_bodies_refused),
        cmocka_unit_test(depth_is_bounded),         cmocka_unit_test(single_object_data),
    };
    return cmocka_run_group_tests_name("fx_json", tests, NULL, NULL);
}
