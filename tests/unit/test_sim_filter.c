/* test_sim_filter.c - the list-endpoint query language: validation (422 cases), matching
 * semantics, and page tokens bound to the filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tests/simulator/sim_filter.h"

enum { K_STATUS, K_SKU, K_UPDATED, K_ACTIVE, K_ORDER_NUMBER, K_TAGS };

static const sim_fdef defs[] = {
    {"status", SIM_FK_STR, SIM_OPS_STR, K_STATUS},
    {"sku", SIM_FK_STR, SIM_OPS_SKU, K_SKU},
    {"updated_date", SIM_FK_DATE, SIM_OPS_DATE, K_UPDATED},
    {"active", SIM_FK_BOOL, SIM_OPB(SIM_OP_EQ), K_ACTIVE},
    {"order_number", SIM_FK_STR, SIM_OPS_STR_I, K_ORDER_NUMBER},
    {"trackstar_tags", SIM_FK_TAGS, SIM_OPS_TAGS, K_TAGS},
};
#define NDEFS ((int)(sizeof defs / sizeof defs[0]))

typedef struct rec {
    const char *status, *sku, *order_number; /* NULL = null */
    int64_t updated;
    int active;
} rec;

static int get(const void *r_, const void *ctx, int key, char *buf, size_t len, const char **str,
               int64_t *date, int *bval) {
    (void)ctx;
    (void)buf;
    (void)len;
    const rec *r = r_;
    switch (key) {
    case K_STATUS: *str = r->status; return r->status != NULL;
    case K_SKU: *str = r->sku; return r->sku != NULL;
    case K_ORDER_NUMBER: *str = r->order_number; return r->order_number != NULL;
    case K_UPDATED: *date = r->updated; return 1;
    case K_ACTIVE: *bval = r->active; return 1;
    default: return 0;
    }
}

/* Parse a "k=v&k=v" line (no URL decoding needed in these cases). */
static int parse(const char *qs, sim_query *q, sim_qerr *e) {
    static char copy[8192];
    static sim_kv kv[SIM_MAX_ARGS + 8];
    snprintf(copy, sizeof copy, "%s", qs);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');
        *eq = 0;
        kv[n].key = t;
        kv[n].value = eq + 1;
        n++;
    }
    return sim_query_parse(defs, NDEFS, kv, n, NULL, q, e);
}

static void expect_422(const char *qs, const char *param) {
    sim_query q;
    sim_qerr e;
    assert_int_equal(parse(qs, &q, &e), -1);
    assert_string_equal(e.param, param);
    assert_true(strlen(e.msg) > 0);
}

static void test_rejects(void **state) {
    (void)state;
    expect_422("colour=red", "colour");              /* unknown field */
    expect_422("status[like]=open", "status[like]"); /* unknown operator */
    expect_422("sku[neq]=A", "sku[neq]");            /* operator not allowed for sku */
    expect_422("status[eq-insensitive]=x",
               "status[eq-insensitive]");        /* only order_number/reference_id */
    expect_422("status[gt]=open", "status[gt]"); /* range ops are for dates */
    expect_422("updated_date[gte]=2026-01-05", "updated_date[gte]");
    expect_422("updated_date[gte]=2026-01-05T10:00:00+00:00", "updated_date[gte]");
    expect_422("updated_date[gte]=2026-01-05T10:00:00.000Z", "updated_date[gte]");
    expect_422("updated_date[gte]=2026-02-31T10:00:00Z", "updated_date[gte]");
    expect_422("updated_date=2026-13-01T00:00:00Z", "updated_date");
    expect_422("active=yes", "active");
    expect_422("limit=1001", "limit");
    expect_422("limit=0", "limit");
    expect_422("limit=ten", "limit");
    expect_422("page_token=garbage", "page_token");
    expect_422("status[=x", "status[");
    expect_422("status[eq=x", "status[eq");
}

static void test_in_list_bound(void **state) {
    (void)state;
    char qs[4096] = "status[in]=";
    for (int i = 0; i < SIM_MAX_IN; i++)
        sprintf(qs + strlen(qs), "%sv%d", i ? "," : "", i);
    sim_query q;
    sim_qerr e;
    assert_int_equal(parse(qs, &q, &e), 0); /* exactly 100: fine */
    assert_int_equal(q.conds[0].nvals, SIM_MAX_IN);
    sim_query_free(&q);
    strcat(qs, ",one_more");
    expect_422(qs, "status[in]");
    char ids[4096] = "ids[in]=";
    for (int i = 0; i <= SIM_MAX_IN; i++)
        sprintf(ids + strlen(ids), "%sid%d", i ? "," : "", i);
    expect_422(ids, "ids[in]");
}

static void test_limit(void **state) {
    (void)state;
    sim_query q;
    sim_qerr e;
    assert_int_equal(parse("status=open", &q, &e), 0);
    assert_int_equal(q.limit, SIM_LIMIT_DEFAULT);
    sim_query_free(&q);
    assert_int_equal(parse("limit=1000", &q, &e), 0);
    assert_int_equal(q.limit, 1000);
    sim_query_free(&q);
    sim_filter_clamp_limit = 1;
    assert_int_equal(parse("limit=5000", &q, &e), 0);
    assert_int_equal(q.limit, SIM_LIMIT_MAX);
    sim_query_free(&q);
    sim_filter_clamp_limit = 0;
}

static int matches(const char *qs, const rec *r) {
    sim_query q;
    sim_qerr e;
    assert_int_equal(parse(qs, &q, &e), 0);
    int m = sim_query_match(&q, "ord_1", r, NULL, get);
    sim_query_free(&q);
    return m;
}

static void test_match(void **state) {
    (void)state;
    int64_t t;
    assert_int_equal(sim_parse_date("2026-01-05T10:00:00Z", &t), 0);
    assert_int_equal(t, 1767607200000LL);
    rec r = {"open", "TSH-00001", "#1001", t, 1};
    rec nul = {NULL, NULL, NULL, t, 0};
    assert_true(matches("status=open", &r));
    assert_false(matches("status[neq]=open", &r));
    assert_true(matches("status[in]=fulfilled,open", &r));
    assert_false(matches("status[nin]=fulfilled,open", &r));
    assert_true(matches("sku[contains]=TSH", &r));
    assert_false(matches("sku[not_contains]=TSH", &r));
    assert_true(matches("order_number[eq-insensitive]=#1001", &r));
    assert_false(matches("order_number=#100", &r));
    assert_true(matches("order_number[contains-insensitive]=100", &r));
    assert_true(matches("order_number[in-insensitive]=#1000,#1001", &r));
    assert_true(matches("updated_date=2026-01-05T10:00:00Z", &r));
    assert_true(matches("updated_date[gte]=2026-01-05T10:00:00Z", &r));
    assert_false(matches("updated_date[gt]=2026-01-05T10:00:00Z", &r));
    assert_true(matches(
        "updated_date[lte]=2026-01-05T10:00:00Z&updated_date[gt]=2026-01-05T09:59:59Z", &r));
    assert_false(matches("updated_date[lt]=2026-01-05T10:00:00Z", &r));
    assert_true(matches("updated_date[in]=2026-01-01T00:00:00Z,2026-01-05T10:00:00Z", &r));
    assert_true(matches("active=true", &r));
    assert_false(matches("active=false", &r));
    assert_true(matches("status=open&sku[contains]=TSH", &r));
    assert_false(matches("status=open&sku[contains]=MUG", &r));
    /* null values: fail positive tests, pass negative ones */
    assert_false(matches("status=open", &nul));
    assert_true(matches("status[neq]=open", &nul));
    assert_true(matches("status[nin]=open", &nul));
    assert_false(matches("sku[contains]=T", &nul));
    assert_true(matches("sku[not_contains]=T", &nul));
    assert_false(matches("trackstar_tags[contains]=vip", &r));
    assert_true(matches("trackstar_tags[not_contains]=vip,team:ops", &r));
    /* ids[in] overrides every other filter */
    assert_true(matches("status=shipped&ids[in]=ord_9,ord_1", &r));
    assert_false(matches("status=open&ids[in]=ord_9", &r));
}

static void test_updated_range(void **state) {
    (void)state;
    sim_query q;
    sim_qerr e;
    int64_t lo, hi;
    assert_int_equal(
        parse("updated_date[gte]=2026-01-05T10:00:00Z&updated_date[lt]=2026-01-06T00:00:00Z", &q,
              &e),
        0);
    sim_query_updated_range(&q, &lo, &hi);
    assert_int_equal(lo, 1767607200000LL);
    assert_int_equal(hi, 1767657600000LL - 1);
    sim_query_free(&q);
    assert_int_equal(parse("status=open", &q, &e), 0);
    sim_query_updated_range(&q, &lo, &hi);
    assert_true(lo == INT64_MIN && hi == INT64_MAX);
    sim_query_free(&q);
}

static void test_tokens(void **state) {
    (void)state;
    sim_ptoken t = {.res = 3,
                    .conn = 7,
                    .fhash = 0x1122334455667788ULL,
                    .last_updated_ms = 1767607200000LL,
                    .last_num = 4242};
    char enc[SIM_TOKEN_MAX], bad[SIM_TOKEN_MAX];
    sim_ptoken_encode(&t, enc);
    for (const char *p = enc; *p; p++) /* URL-safe: no escaping needed in a query */
        assert_true(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p) != NULL);
    sim_ptoken d;
    assert_int_equal(sim_ptoken_decode(enc, &d), 0);
    assert_int_equal(d.res, 3);
    assert_int_equal(d.conn, 7);
    assert_true(d.fhash == t.fhash);
    assert_true(d.last_updated_ms == t.last_updated_ms);
    assert_int_equal(d.last_num, 4242);
    /* every single-character change is detected */
    for (size_t i = 0; i < strlen(enc); i++) {
        strcpy(bad, enc);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(sim_ptoken_decode(bad, &d), -1);
    }
    strcpy(bad, enc);
    bad[strlen(bad) - 1] = 0;
    assert_int_equal(sim_ptoken_decode(bad, &d), -1);
    /* a token passes through the parser and keeps its cursor */
    char qs[256];
    sim_query q;
    sim_qerr e;
    snprintf(qs, sizeof qs, "status=open&page_token=%s&limit=5", enc);
    assert_int_equal(parse(qs, &q, &e), 0);
    assert_true(q.has_token);
    assert_int_equal(q.tok.last_num, 4242);
    assert_int_equal(q.limit, 5);
    sim_query_free(&q);
}

static uint64_t hash_of(const char *qs) {
    sim_query q;
    sim_qerr e;
    assert_int_equal(parse(qs, &q, &e), 0);
    uint64_t h = q.fhash;
    sim_query_free(&q);
    return h;
}

static void test_filter_hash(void **state) {
    (void)state;
    /* order-independent, blind to limit/page_token, sensitive to any filter change */
    assert_true(hash_of("status=open&sku=A") == hash_of("sku=A&status=open"));
    assert_true(hash_of("status=open&limit=5") == hash_of("status=open&limit=500"));
    assert_true(hash_of("status=open") != hash_of("status=opened"));
    assert_true(hash_of("status=open") != hash_of("status[neq]=open"));
    assert_true(hash_of("status=open") != hash_of("status=open&sku=A"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejects),       cmocka_unit_test(test_in_list_bound),
        cmocka_unit_test(test_limit),         cmocka_unit_test(test_match),
        cmocka_unit_test(test_updated_range), cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_filter_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
