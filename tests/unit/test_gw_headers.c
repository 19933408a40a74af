/* test_gw_headers.c - webhook-gw: which signature headers are read (svix-* or
 * webhook-*) and the Content-Type rule. (The same-origin rule that guards the API key is
 * common/values.c's: tests/unit/test_values.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <strings.h>

#include "webhook-gw/gw_headers.h"

/* A request's headers as name/value pairs; lookup is case-insensitive like MHD's. */
typedef struct {
    const char *kv[16];
} hdrs;

static const char *lookup(void *ctx, const char *name) {
    const hdrs *h = ctx;
    for (int i = 0; h->kv[i]; i += 2)
        if (strcasecmp(h->kv[i], name) == 0) return h->kv[i + 1];
    return NULL;
}

typedef struct {
    hdrs in;
    const char *prefix, *id, *ts, *sig;
} pick_case;

static const pick_case pick_cases[] = {
    /* the plain svix set */
    {{{"svix-id", "msg_1", "svix-timestamp", "10", "svix-signature", "v1,a", NULL}},
     "svix",
     "msg_1",
     "10",
     "v1,a"},
    /* header names are case-insensitive */
    {{{"Svix-Id", "msg_1", "SVIX-TIMESTAMP", "10", "svix-Signature", "v1,a", NULL}},
     "svix",
     "msg_1",
     "10",
     "v1,a"},
    /* the white-labelled set */
    {{{"webhook-id", "msg_2", "webhook-timestamp", "20", "webhook-signature", "v1,b", NULL}},
     "webhook",
     "msg_2",
     "20",
     "v1,b"},
    /* both complete: svix wins, as in Svix's libraries */
    {{{"svix-id", "msg_1", "svix-timestamp", "10", "svix-signature", "v1,a", "webhook-id", "msg_2",
       "webhook-timestamp", "20", "webhook-signature", "v1,b", NULL}},
     "svix",
     "msg_1",
     "10",
     "v1,a"},
    /* svix incomplete: the whole webhook set is used, never a mix */
    {{{"svix-id", "msg_1", "webhook-id", "msg_2", "webhook-timestamp", "20", "webhook-signature",
       "v1,b", NULL}},
     "webhook",
     "msg_2",
     "20",
     "v1,b"},
    /* an empty svix header counts as absent */
    {{{"svix-id", "msg_1", "svix-timestamp", "", "svix-signature", "v1,a", NULL}},
     "webhook",
     NULL,
     NULL,
     NULL},
    /* nothing: webhook set with NULLs (svix_verify then says missing) */
    {{{NULL}}, "webhook", NULL, NULL, NULL},
};

static void check_str(const char *got, const char *want) {
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

static void test_pick_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof pick_cases / sizeof pick_cases[0]; i++) {
        const pick_case *c = &pick_cases[i];
        gw_sig_headers s;
        gw_sig_headers_pick(lookup, (void *)&c->in, &s);
        assert_string_equal(s.prefix, c->prefix);
        check_str(s.id, c->id);
        check_str(s.timestamp, c->ts);
        check_str(s.signature, c->sig);
    }
}

static const struct {
    const char *ct;
    int ok;
} ct_cases[] = {
    {"application/json", 1},
    {"Application/JSON", 1},
    {"  application/json  ", 1},
    {"application/json; charset=utf-8", 1},
    {"application/json;charset=UTF-8", 1},
    {"application/json; charset=\"utf-8\"", 1},
    {"application/json; charset=utf8", 1},
    {"application/json; foo=bar; charset=utf-8", 1},
    {"application/json;", 1},
    {"application/json; charset=iso-8859-1", 0},
    {"application/json; charset=\"utf-8", 0},
    {"application/json; charset", 0},
    {"application/json garbage", 0},
    {"application/jsonx", 0},
    {"application/json-patch+json", 0},
    {"text/json", 0},
    {"text/plain", 0},
    {"application/x-www-form-urlencoded", 0},
    {"multipart/form-data; boundary=x", 0},
    {"", 0},
    {NULL, 0},
};

static void test_content_type_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof ct_cases / sizeof ct_cases[0]; i++) {
        int got = gw_content_type_ok(ct_cases[i].ct);
        if (got != ct_cases[i].ok) {
            print_error("'%s': got %d want %d\n", ct_cases[i].ct ? ct_cases[i].ct : "(null)", got,
                        ct_cases[i].ok);
            fail();
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_table),
        cmocka_unit_test(test_content_type_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
