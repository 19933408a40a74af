/* test_cli_table.c - what tsctl prints for people: table layout (alignment, widths,
 * NULL cells, truncation by code points, control characters), key/value lines,
 * progress bars, durations, and the small formatters around them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tsctl/cli_db.h"
#include "tools/tsctl/cli_dlq.h"
#include "tools/tsctl/cli_http.h"
#include "tools/tsctl/cli_out.h"
#include "tools/tsctl/cli_table.h"

/* Render t into a malloc'd string. */
static char *render(const cli_table *t) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_table_render(t, f);
    fclose(f);
    return buf;
}

static void test_layout(void **state) {
    (void)state;
    static const char *const heads[] = {"RESOURCE", "RECORDS", "LAST ERROR"};
    cli_table t;
    assert_int_equal(cli_table_init(&t, 3, heads), 0);
    cli_table_align_right(&t, 1);
    cli_table_row(&t);
    cli_table_cell(&t, 0, "orders");
    cli_table_cellf(&t, 1, "%d", 1200);
    cli_table_cell(&t, 2, NULL);
    cli_table_row(&t);
    cli_table_cell(&t, 0, "warehouse_locations");
    cli_table_cell(&t, 1, "7");
    cli_table_cell(&t, 2, "HTTP 501");
    char *s = render(&t);
    assert_string_equal(s, "RESOURCE             RECORDS  LAST ERROR\n"
                           "orders                  1200  -\n"
                           "warehouse_locations        7  HTTP 501\n");
    free(s);
    cli_table_free(&t);
}

static void test_empty_and_errors(void **state) {
    (void)state;
    static const char *const heads[] = {"A", "B"};
    cli_table t;
    assert_int_equal(cli_table_init(&t, 2, heads), 0);
    assert_int_equal(cli_table_cell(&t, 0, "x"), -1); /* no row yet */
    char *s = render(&t);
    assert_string_equal(s, "A  B\n(none)\n");
    free(s);
    cli_table_row(&t);
    assert_int_equal(cli_table_cell(&t, 2, "x"), -1); /* no such column */
    cli_table_free(&t);
    assert_int_equal(cli_table_init(&t, 0, heads), -1);
    assert_int_equal(cli_table_init(&t, CLI_TABLE_MAX_COLS + 1, heads), -1);
}

static void test_sanitise_and_truncate(void **state) {
    (void)state;
    static const char *const heads[] = {"MSG", "N"};
    cli_table t;
    assert_int_equal(cli_table_init(&t, 2, heads), 0);
    cli_table_width(&t, 0, 10);
    cli_table_row(&t);
    cli_table_cell(&t, 0, "line one\nline two\tend");
    cli_table_cell(&t, 1, "1");
    cli_table_row(&t);
    cli_table_cell(&t, 0,
                   "Montr\xc3\xa9"
                   "al"); /* 8 code points, 9 bytes */
    cli_table_cell(&t, 1, "2");
    char *s = render(&t);
    /* cut to 10 code points with "...", newline and tab replaced; the accented row
     * pads by code points, so both second columns line up */
    assert_string_equal(s, "MSG         N\n"
                           "line on...  1\n"
                           "Montr\xc3\xa9"
                           "al    2\n");
    free(s);
    cli_table_free(&t);
    char out[64];
    assert_string_equal(cli_text_fit("abc", 10, out, sizeof out), "abc");
    assert_string_equal(cli_text_fit("abcdefghijk", 10, out, sizeof out), "abcdefg...");
    assert_string_equal(cli_text_fit(NULL, 10, out, sizeof out), "-");
    assert_int_equal(cli_text_width("\xc3\xa9\xe2\x82\xac"
                                    "x"),
                     3);
    /* a multi-byte code point is never split by the cut */
    assert_string_equal(cli_text_fit("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
                                     4, out, sizeof out),
                        "\xe2\x82\xac...");
}

static void test_bar_duration(void **state) {
    (void)state;
    char b[64];
    assert_string_equal(cli_bar(0.5, 10, b, sizeof b), "[#####.....]  50%");
    assert_string_equal(cli_bar(0, 4, b, sizeof b), "[....]   0%");
    assert_string_equal(cli_bar(1.7, 4, b, sizeof b), "[####] 100%");
    assert_string_equal(cli_bar(-1, 4, b, sizeof b), "[....]   0%");
    assert_string_equal(cli_duration(0, b, sizeof b), "0s");
    assert_string_equal(cli_duration(59, b, sizeof b), "59s");
    assert_string_equal(cli_duration(725, b, sizeof b), "12m05s");
    assert_string_equal(cli_duration(12000, b, sizeof b), "3h20m");
    assert_string_equal(cli_duration(187200, b, sizeof b), "2d04h");
    assert_string_equal(cli_duration(-1, b, sizeof b), "-");
}

static void test_kv(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_kv(f, "connection", "c1");
    cli_kv(f, "integration", NULL);
    fclose(f);
    assert_string_equal(buf, "connection:              c1\nintegration:             -\n");
    free(buf);
}

static void test_formatters(void **state) {
    (void)state;
    char t[64], err[256];
    assert_string_equal(cli_db_time("2026-01-05 10:00:00.123+00", t, sizeof t),
                        "2026-01-05 10:00:00Z");
    assert_string_equal(cli_db_time("2026-01-05T10:00:00+00:00", t, sizeof t),
                        "2026-01-05 10:00:00Z");
    assert_string_equal(cli_db_time("2026-01-05T10:00:00Z", t, sizeof t), "2026-01-05 10:00:00Z");
    assert_string_equal(cli_db_time("yesterday", t, sizeof t), "yesterday");
    int32_t p;
    int64_t o;
    assert_int_equal(cli_dlq_parse_ref("3:1042", &p, &o), 0);
    assert_int_equal(p, 3);
    assert_int_equal(o, 1042);
    assert_int_equal(cli_dlq_parse_ref("3", &p, &o), -1);
    assert_int_equal(cli_dlq_parse_ref("3:", &p, &o), -1);
    assert_int_equal(cli_dlq_parse_ref("x:1", &p, &o), -1);
    assert_int_equal(cli_dlq_parse_ref("-1:1", &p, &o), -1);
    assert_int_equal(cli_dlq_parse_ref("1:2x", &p, &o), -1);
    cJSON *l = cli_res_list("inventory,get_orders,orders", err, sizeof err);
    assert_non_null(l);
    char *s = cJSON_PrintUnformatted(l);
    assert_string_equal(s, "[\"orders\",\"inventory\"]"); /* deduplicated, table order */
    free(s);
    cJSON_Delete(l);
    assert_null(cli_res_list("orders,labor", err, sizeof err));
    assert_non_null(strstr(err, "'labor'"));
    int64_t ms;
    assert_int_equal(cli_parse_date("2026-01-05", 0, &ms), 0);
    assert_int_equal(ms, 1767571200000LL);
    assert_int_equal(cli_parse_date("2026-01-05T10:00:00Z", 0, &ms), 0);
    assert_int_equal(ms, 1767571200000LL + 36000000LL);
    assert_int_equal(cli_parse_date("now", 42, &ms), 0);
    assert_int_equal(ms, 42);
    assert_int_equal(cli_parse_date("soon", 0, &ms), -1);
    char *u = cli_url_path("/x/", "a b/c?d=1&e");
    assert_string_equal(u, "/x/a%20b%2Fc%3Fd%3D1%26e");
    free(u);
    /* never cut short: a long id is the whole id (the old fixed buffers truncated it) */
    char id[2001];
    memset(id, '/', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    u = cli_url_path("/connections/", id);
    assert_int_equal(strlen(u), strlen("/connections/") + 3 * 2000);
    assert_string_equal(u + strlen(u) - 3, "%2F");
    free(u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_empty_and_errors),
        cmocka_unit_test(test_sanitise_and_truncate),
        cmocka_unit_test(test_bar_duration),
        cmocka_unit_test(test_kv),
        cmocka_unit_test(test_formatters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
