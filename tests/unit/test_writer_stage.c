/* test_writer_stage.c - the writer's C-side checks, without PostgreSQL: timestamp parsing,
 * UTF-8, COPY escaping, the invariants of every table spec, and the staging rows of one
 * record (what db.c COPYs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "writer/db_spec.h"
#include "writer/db_sql.h"
#include "writer/db_stage.h"

static void test_timestamps(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int ok;
        int64_t us;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 1, 0},
        {"2026-01-06T09:00:00Z", 1, 1767690000000000LL},
        {"2026-01-06T09:00:01.123Z", 1, 1767690001123000LL},
        {"2026-01-06T09:00:01.123456Z", 1, 1767690001123456LL},
        {"2026-01-06T11:00:00+02:00", 1, 1767690000000000LL},
        {"2026-01-06T04:00:00-05:00", 1, 1767690000000000LL},
        {"2024-02-29T00:00:00Z", 1, 1709164800000000LL},
        {"1969-12-31T23:59:59Z", 1, -1000000LL},
        {"2026-02-29T00:00:00Z", 0, 0}, /* not a leap year */
        {"2026-13-01T00:00:00Z", 0, 0},
        {"2026-01-06T24:00:00Z", 0, 0},
        {"2026-01-06T09:00:60Z", 0, 0},
        {"2026-01-06T09:00:00", 0, 0}, /* no zone */
        {"2026-01-06 09:00:00Z", 0, 0},
        {"2026-01-06T09:00:00.Z", 0, 0},
        {"2026-01-06T09:00:00.1234567Z", 0, 0},
        {"2026-01-06T09:00:00Zjunk", 0, 0},
        {"now", 0, 0},
        {"infinity", 0, 0},
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = -42;
        int rc = wdb_parse_ts(cases[i].s, &us);
        if ((rc == 0) != cases[i].ok) fail_msg("%s: rc %d", cases[i].s, rc);
        if (cases[i].ok && us != cases[i].us) fail_msg("%s: %lld", cases[i].s, (long long)us);
    }
    assert_int_equal(wdb_parse_ts(NULL, &(int64_t){0}), -1);
}

static void test_utf8(void **state) {
    (void)state;
    assert_true(wdb_utf8_valid("plain", 5));
    assert_true(wdb_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6", 14));
    assert_false(wdb_utf8_valid("a\0b", 3));
    assert_false(wdb_utf8_valid("\xc3", 1));             /* truncated */
    assert_false(wdb_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(wdb_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(wdb_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(wdb_utf8_valid("\xff", 1));
    /* the 8-bytes-at-a-time ASCII path: one NUL, bad byte, truncated or good sequence at
     * every offset of a longer text */
    for (size_t pos = 0; pos < 30; pos++) {
        char t[32];
        memset(t, 'a', sizeof t);
        t[pos] = '\0';
        assert_false(wdb_utf8_valid(t, sizeof t));
        t[pos] = '\x7f';
        assert_true(wdb_utf8_valid(t, sizeof t));
        t[pos] = '\xff';
        assert_false(wdb_utf8_valid(t, sizeof t));
        t[pos] = '\xc3';
        assert_false(wdb_utf8_valid(t, sizeof t));
        t[pos + 1] = '\xa9';
        assert_true(wdb_utf8_valid(t, sizeof t));
    }
}

static void test_copy_escape(void **state) {
    (void)state;
    sbuf b = {0};
    assert_int_equal(wdb_copy_escape(&b, "a\tb\nc\rd\\e", 10), 0);
    assert_string_equal(b.p, "a\\tb\\nc\\rd\\\\e");
    sbuf_free(&b);
    /* the 8-bytes-at-a-time path: every special byte (and near-misses such as 11, 12,
     * 0x5d, 0xdc) at every offset of texts of every length up to 40, against a byte loop */
    static const unsigned char probe[] = {'\\', '\n', '\r', '\t', 0x0b,
                                          0x0c, 0x5d, 0xdc, 0x0e, 0x08};
    for (size_t len = 1; len <= 40; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t k = 0; k < sizeof probe; k++) {
                char in[41], want[82];
                size_t w = 0;
                for (size_t i = 0; i < len; i++)
                    in[i] = (char)(i == pos ? probe[k] : 'a' + i % 26);
                for (size_t i = 0; i < len; i++) {
                    char c = in[i], e = c == '\\'   ? '\\'
                                        : c == '\n' ? 'n'
                                        : c == '\r' ? 'r'
                                        : c == '\t' ? 't'
                                                    : 0;
                    if (e)
                        want[w++] = '\\', want[w++] = e;
                    else
                        want[w++] = c;
                }
                b.len = 0;
                assert_int_equal(wdb_copy_escape(&b, in, len), 0);
                assert_int_equal(b.len, w);
                assert_memory_equal(b.p, want, w);
            }
        }
    }
    sbuf_free(&b);
}

static void test_every_spec_is_consistent(void **state) {
    (void)state;
    char err[256];
    for (int i = 0; i < wdb_nspecs; i++) {
        if (wdb_sql_check(wdb_specs[i], err, sizeof err)) fail_msg("%s", err);
        sbuf s = {0};
        assert_int_equal(wdb_sql_merge(wdb_specs[i], &s), 0);
        /* the monotonic guard, built from db_version.h's rule, is in every merge */
        sbuf g = {0};
        assert_int_equal(wdb_version_sql_guard(wdb_specs[i], &g), 0);
        assert_non_null(strstr(s.p, g.p));
        assert_non_null(strstr(s.p, "IS DISTINCT FROM"));
        sbuf_free(&g);
        sbuf_free(&s);
    }
    assert_int_equal(wdb_spec_find("wms.orders.v1", "order", NULL), 0);
    assert_true(wdb_spec_find("wms.connection_events.v1", "connection_event",
                              "connection_error_deleted") >= 0);
    assert_int_equal(wdb_spec_find("wms.connection_events.v1", "connection_event", NULL), -1);
    assert_int_equal(wdb_spec_find("wms.orders.v1", "product", NULL), -1);
}

static void test_rows_of_one_order(void **state) {
    (void)state;
    const char *raw =
        "{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":\"c\",\"id\":\"o\\t1\","
        "\"source_updated_at\":\"2026-01-06T09:00:00Z\",\"total_price\":\"59.5\",\"status\":"
        "\"open\","
        "\"line_items\":[{\"line_number\":0,\"sku\":\"A\",\"quantity\":2},{\"line_number\":1,"
        "\"sku\":\"B\",\"quantity\":3}],"
        "\"shipments\":[{\"shipment_id\":\"s1\",\"packages\":[{\"package_id\":\"p1\",\"line_"
        "items\":[{\"quantity\":1}]},"
        "{\"package_id\":\"p2\",\"line_items\":[]}],\"line_items\":[]}]}";
    int oi = wdb_spec_find("wms.orders.v1", "order", NULL);
    const wdb_spec *sp = wdb_specs[oi];
    cJSON *rec = cJSON_Parse(raw);
    char *key = NULL, reason[256];
    wdb_version ver;
    assert_int_equal(wdb_stage_key(sp, rec, &key, &ver, reason, sizeof reason), 0);
    assert_string_equal(key, "1:c3:o\t1");
    assert_int_equal(ver.source_us, 1767690000000000LL);
    assert_true(ver.trackstar_us == WDB_VERSION_NULL); /* absent: the 2025 API */
    assert_int_equal(ver.poll, 0);
    sbuf bufs[1 + WDB_MAX_CHILD_TABLES] = {{0}};
    int oom;
    assert_int_equal(
        wdb_stage_rows(sp, rec, raw, strlen(raw), 7, bufs, &oom, reason, sizeof reason), 0);
    assert_true(strncmp(bufs[0].p, "7\tc\to\\t1\t", 9) == 0); /* seq, keys, escaped tab */
    assert_non_null(strstr(bufs[0].p, "\t59.5\t"));
    /* line items: pseq, keys, line_number, product_id (null), sku, quantity, unit_price,
     * is_picked, discount_amount */
    assert_string_equal(bufs[1].p, "7\tc\to\\t1\t0\t\\N\tA\t2\t\\N\t\\N\t\\N\n"
                                   "7\tc\to\\t1\t1\t\\N\tB\t3\t\\N\t\\N\t\\N\n");
    /* order_packages (child 3): two packages of shipment 0, shipment_id taken from one level up */
    assert_true(strncmp(bufs[4].p, "7\tc\to\\t1\t0\t0\ts1\tp1\t", 17) == 0);
    assert_non_null(strstr(bufs[4].p, "\n7\tc\to\\t1\t0\t1\ts1\tp2\t"));
    /* a type error leaves every buffer as it was */
    size_t lens[1 + WDB_MAX_CHILD_TABLES];
    for (int t = 0; t < 1 + sp->nchildren; t++)
        lens[t] = bufs[t].len;
    cJSON *bad = cJSON_Parse(raw);
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(bad, "line_items"), 1),
                              "quantity", cJSON_CreateString("3"));
    assert_int_equal(
        wdb_stage_rows(sp, bad, raw, strlen(raw), 8, bufs, &oom, reason, sizeof reason), -1);
    assert_int_equal(oom, 0);
    assert_string_equal(reason, "order_line_items.quantity: expected an integer");
    for (int t = 0; t < 1 + sp->nchildren; t++)
        assert_int_equal(bufs[t].len, lens[t]);
    for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
        sbuf_free(&bufs[t]);
    cJSON_Delete(bad);
    cJSON_Delete(rec);
    free(key);
}

/* Members are found through a hash index in large objects and by a scan in small ones;
 * either way, as with cJSON, the first member of a duplicated name wins. */
static void test_duplicate_names_first_wins(void **state) {
    (void)state;
    const char *raw =
        "{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":\"c\",\"id\":\"o1\","
        "\"source_updated_at\":\"2026-01-06T09:00:00Z\",\"status\":\"first\",\"type\":\"d2c\","
        "\"currency\":\"USD\","
        "\"status\":\"second\",\"line_items\":[{\"sku\":\"A\",\"sku\":\"Z\",\"quantity\":2}]}";
    const wdb_spec *sp = wdb_specs[wdb_spec_find("wms.orders.v1", "order", NULL)];
    cJSON *rec = cJSON_Parse(raw);
    char reason[256];
    sbuf bufs[1 + WDB_MAX_CHILD_TABLES] = {{0}};
    int oom;
    assert_int_equal(
        wdb_stage_rows(sp, rec, raw, strlen(raw), 1, bufs, &oom, reason, sizeof reason), 0);
    assert_non_null(strstr(bufs[0].p, "\tfirst\t"));
    assert_null(strstr(bufs[0].p, "\tsecond\t"));
    assert_string_equal(bufs[1].p, "1\tc\to1\t0\t\\N\tA\t2\t\\N\t\\N\t\\N\n");
    for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
        sbuf_free(&bufs[t]);
    cJSON_Delete(rec);
}

/* The field of column name in the first row of b (COPY text), NUL-terminated in out. */
static void row_field(const wdb_spec *sp, const sbuf *b, const char *name, char *out, size_t len) {
    int col = -1;
    for (int i = 0; i < sp->ncols; i++)
        if (strcmp(sp->cols[i].name, name) == 0) col = i;
    assert_true(col >= 0);
    const char *f = b->p; /* field 0 is seq */
    for (int i = 0; i <= col; i++)
        f = strchr(f, '\t') + 1;
    size_t n = strcspn(f, "\t\n");
    assert_true(n < len);
    memcpy(out, f, n);
    out[n] = '\0';
}

/* jsonb columns are printed straight into the COPY text: the same text as cJSON's
 * (for numbers that need at most 15 digits), COPY-escaped. */
static void test_json_columns_print_like_cjson(void **state) {
    (void)state;
    const char *tags =
        "{\"a\":[1,2.5,-3,1e300,0.1,true,false,null,\"x\\\"y\\\\z\\n\\t\\u0001\\u00e9\\/\"],"
        "\"b\":{},\"c\":[],\"q\\\"k\":{\"d\":[[]]}}";
    char raw[512];
    snprintf(raw, sizeof raw,
             "{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":\"c\",\"id\":\"o1\","
             "\"source_updated_at\":\"2026-01-06T09:00:00Z\",\"tags\":%s}",
             tags);
    const wdb_spec *sp = wdb_specs[wdb_spec_find("wms.orders.v1", "order", NULL)];
    cJSON *rec = cJSON_Parse(raw);
    assert_non_null(rec);
    char reason[256];
    sbuf bufs[1 + WDB_MAX_CHILD_TABLES] = {{0}};
    int oom;
    assert_int_equal(
        wdb_stage_rows(sp, rec, raw, strlen(raw), 1, bufs, &oom, reason, sizeof reason), 0);
    char got[512];
    row_field(sp, &bufs[0], "tags", got, sizeof got);
    char *txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(rec, "tags"));
    sbuf want = {0};
    assert_int_equal(wdb_copy_escape(&want, txt, strlen(txt)), 0);
    assert_string_equal(got, want.p);
    cJSON_free(txt);
    sbuf_free(&want);
    for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
        sbuf_free(&bufs[t]);
    cJSON_Delete(rec);
}

/* Numbers in text columns print as the shortest of %.15g..%.17g that reads back the same,
 * integers without printf; integer columns print their digits. */
static void test_numbers_print_shortest(void **state) {
    (void)state;
    static const char *const nums[] = {"0",
                                       "-0",
                                       "7",
                                       "-42",
                                       "123456789012345",
                                       "999999999999999",
                                       "1000000000000000",
                                       "-1e15",
                                       "9007199254740993",
                                       "2.5",
                                       "0.1",
                                       "1e-7",
                                       "1e300",
                                       "0.30000000000000004",
                                       "-123.456"};
    const wdb_spec *sp = wdb_specs[wdb_spec_find("wms.orders.v1", "order", NULL)];
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char raw[512], got[64], want[64], reason[256];
        snprintf(raw, sizeof raw,
                 "{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":\"c\",\"id\":\"o1\","
                 "\"source_updated_at\":\"2026-01-06T09:00:00Z\",\"order_number\":%s}",
                 nums[i]);
        cJSON *rec = cJSON_Parse(raw);
        assert_non_null(rec);
        double d = cJSON_GetObjectItem(rec, "order_number")->valuedouble;
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(want, sizeof want, "%.*g", prec, d);
            if (strtod(want, NULL) == d) break;
        }
        sbuf bufs[1 + WDB_MAX_CHILD_TABLES] = {{0}};
        int oom;
        assert_int_equal(
            wdb_stage_rows(sp, rec, raw, strlen(raw), 1, bufs, &oom, reason, sizeof reason), 0);
        row_field(sp, &bufs[0], "order_number", got, sizeof got);
        if (strcmp(got, want) != 0) fail_msg("%s: got %s, want %s", nums[i], got, want);
        for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
            sbuf_free(&bufs[t]);
        cJSON_Delete(rec);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_copy_escape),
        cmocka_unit_test(test_every_spec_is_consistent),
        cmocka_unit_test(test_rows_of_one_order),
        cmocka_unit_test(test_duplicate_names_first_wins),
        cmocka_unit_test(test_json_columns_print_like_cjson),
        cmocka_unit_test(test_numbers_print_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
