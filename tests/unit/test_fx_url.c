/* test_fx_url.c - list URLs: path, limit, date filters rounded outwards, the page token
 * encoded, and the same filters on the first and every following page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fetcher/fx_url.h"
#include "util.h"

#define T_2026_01_05 1767571200000LL /* 2026-01-05T00:00:00Z */

static char *build(const char *path, const char *arg, const fx_query *q, const char *tok) {
    static char out[2048];
    sbuf b = {0};
    assert_int_equal(fx_url_list(&b, "http://h:1/", path, arg, q, tok), 0);
    snprintf(out, sizeof out, "%s", b.p);
    sbuf_free(&b);
    return out;
}

/* Per-order run: the packed-orders listing carries its status filter on every page, and
 * an order's packs are one get-one URL without any query. */
static void order_packs_urls(void **state) {
    (void)state;
    fx_query q = {"updated_date",
                  T_2026_01_05,
                  FX_NO_BOUND,
                  100,
                  "status[in]=packed,partially_fulfilled,fulfilled",
                  0};
    assert_string_equal(build("/wms/orders", NULL, &q, "tok"),
                        "http://h:1/wms/orders?limit=100&updated_date[gte]=2026-01-05T00%3A00%3A00Z"
                        "&status[in]=packed,partially_fulfilled,fulfilled&page_token=tok");
    fx_query one = {.date_field = NULL, .gte_ms = FX_NO_BOUND, .lte_ms = FX_NO_BOUND, .single = 1};
    assert_string_equal(build("/wms/orders/%s/packs", "ord 1/x", &one, NULL),
                        "http://h:1/wms/orders/ord%201%2Fx/packs");
}

static void plain_first_page(void **state) {
    (void)state;
    fx_query q = {NULL, FX_NO_BOUND, FX_NO_BOUND, 1000};
    assert_string_equal(build("/wms/inventory", NULL, &q, NULL),
                        "http://h:1/wms/inventory?limit=1000");
}

static void window_filters(void **state) {
    (void)state;
    fx_query q = {"updated_date", T_2026_01_05, T_2026_01_05 + 3600000, 500};
    assert_string_equal(build("/wms/orders", NULL, &q, NULL),
                        "http://h:1/wms/orders?limit=500&updated_date[gte]=2026-01-05T00%3A00%3A00Z"
                        "&updated_date[lte]=2026-01-05T01%3A00%3A00Z");
}

static void rounding_never_shrinks_the_window(void **state) {
    (void)state;
    /* gte floors, lte ceils: 10:00:00.600 .. 10:00:01.200 becomes 10:00:00 .. 10:00:02 */
    fx_query q = {"trackstar_updated_date", T_2026_01_05 + 600, T_2026_01_05 + 1200, 10};
    assert_string_equal(
        build("/wms/orders", NULL, &q, NULL),
        "http://h:1/wms/orders?limit=10&trackstar_updated_date[gte]=2026-01-05T00%3A00%3A00Z"
        "&trackstar_updated_date[lte]=2026-01-05T00%3A00%3A02Z");
    char d[32];
    fx_url_date(T_2026_01_05, 1, d); /* exact seconds stay */
    assert_string_equal(d, "2026-01-05T00:00:00Z");
    fx_url_date(-1, 0, d); /* before the epoch: still a floor */
    assert_string_equal(d, "1969-12-31T23:59:59Z");
}

static void filters_repeat_on_every_page(void **state) {
    (void)state;
    fx_query q = {"updated_date", T_2026_01_05, FX_NO_BOUND, 1000};
    char first[2048];
    snprintf(first, sizeof first, "%s", build("/wms/returns", NULL, &q, NULL));
    const char *next = build("/wms/returns", NULL, &q, "tok+/=&x");
    assert_true(strncmp(next, first, strlen(first)) == 0);
    assert_string_equal(next + strlen(first), "&page_token=tok%2B%2F%3D%26x");
    /* an empty token is the first page */
    assert_string_equal(build("/wms/returns", NULL, &q, ""), first);
}

static void warehouse_locations_path(void **state) {
    (void)state;
    fx_query q = {"updated_date", FX_NO_BOUND, FX_NO_BOUND, 1000};
    assert_string_equal(build("/wms/warehouses/%s/locations", "wh 1/a", &q, NULL),
                        "http://h:1/wms/warehouses/wh%201%2Fa/locations?limit=1000");
    sbuf b = {0};
    assert_int_equal(fx_url_list(&b, "http://h", "/wms/warehouses/%s/locations", NULL, &q, NULL),
                     -1);
    sbuf_free(&b);
}

static void limit_bounds(void **state) {
    (void)state;
    sbuf b = {0};
    fx_query q = {NULL, FX_NO_BOUND, FX_NO_BOUND, 0};
    assert_int_equal(fx_url_list(&b, "http://h", "/wms/orders", NULL, &q, NULL), -1);
    q.limit = FX_PAGE_LIMIT_MAX + 1;
    assert_int_equal(fx_url_list(&b, "http://h", "/wms/orders", NULL, &q, NULL), -1);
    q.limit = FX_PAGE_LIMIT_MAX;
    assert_int_equal(fx_url_list(&b, "http://h", "/wms/orders", NULL, &q, NULL), 0);
    sbuf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_first_page),
        cmocka_unit_test(order_packs_urls),
        cmocka_unit_test(window_filters),
        cmocka_unit_test(rounding_never_shrinks_the_window),
        cmocka_unit_test(filters_repeat_on_every_page),
        cmocka_unit_test(warehouse_locations_path),
        cmocka_unit_test(limit_bounds),
    };
    return cmocka_run_group_tests_name("fx_url", tests, NULL, NULL);
}
