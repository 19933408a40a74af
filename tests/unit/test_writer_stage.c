/* test_writer_stage.c - the writer's C-side checks, without PostgreSQL: canonical
 * timestamps and decimals only, COPY escaping, the invariants of every table spec, and the staging
 * rows of one record (what db.c COPYs). */
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

/* The writer takes timestamps and decimal text exactly in the form the normalizer writes
 * them (common/values.h), the version included; anything else is refused with a reason. */
static void test_canonical_values_only(void **state) {
    (void)state;
    static const struct {
        const char *version, *created_at, *total_price;
        const char *reason; /* NULL: staged */
        int64_t us;
    } cases[] = {
        {"2026-01-06T09:00:00Z", "2026-01-05T10:00:00.120Z", "59.5", NULL, 1767690000000000LL},
        {"2026-01-06T09:00:01.123Z", NULL, "-0.25", NULL, 1767690001123000LL},
        {"1969-12-31T23:59:59Z", NULL, "0", NULL, -1000000LL},
        {"2026-01-06T11:00:00+02:00", NULL, NULL, "source_updated_at (canonical", 0},
        {"2026-01-06T09:00:01.123456Z", NULL, NULL, "source_updated_at (canonical", 0},
        {"2026-01-06T09:00:01.1Z", NULL, NULL, "source_updated_at (canonical", 0},
        {"2026-01-06 09:00:00Z", NULL, NULL, "source_updated_at (canonical", 0},
        {"2026-01-06T09:00:00", NULL, NULL, "source_updated_at (canonical", 0},
        {"2016-12-31T23:59:60Z", NULL, NULL, "source_updated_at (canonical", 0},
        {"2026-02-29T00:00:00Z", NULL, NULL, "source_updated_at (canonical", 0},
        {"infinity", NULL, NULL, "source_updated_at (canonical", 0},
        {"2026-01-06T09:00:00Z", "2026-01-05T10:00:00+00:00", NULL,
         "created_at: expected a canonical RFC 3339 timestamp", 1767690000000000LL},
        {"2026-01-06T09:00:00Z", "now", NULL, "created_at: expected a canonical",
         1767690000000000LL},
        {"2026-01-06T09:00:00Z", NULL, "59.50", "total_price: expected a decimal",
         1767690000000000LL},
        {"2026-01-06T09:00:00Z", NULL, "007", "total_price: expected a decimal",
         1767690000000000LL},
        {"2026-01-06T09:00:00Z", NULL, "1e5", "total_price: expected a decimal",
         1767690000000000LL},
        {"2026-01-06T09:00:00Z", NULL, "-0", "total_price: expected a decimal", 1767690000000000LL},
        {"2026-01-06T09:00:00Z", NULL, "NaN", "total_price: expected a decimal",
         1767690000000000LL},
    };
    const wdb_spec *sp = wdb_specs[wdb_spec_find("wms.orders.v1", "order", NULL)];
    /* Integers: below 2^53 in magnitude, as the normalizer writes them. */
    static const struct {
        double q;
        int ok;
    } ints[] = {{9007199254740991.0, 1}, {-3, 1}, {9007199254740992.0, 0}, {2.5, 0}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        cJSON *rec = cJSON_Parse("{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":"
                                 "\"c\",\"id\":\"o1\",\"source_updated_at\":"
                                 "\"2026-01-06T09:00:00Z\",\"line_items\":[{}]}");
        cJSON_AddNumberToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "line_items"), 0),
                                "quantity", ints[i].q);
        char *raw = cJSON_PrintUnformatted(rec), reason[256] = "";
        sbuf bufs[1 + WDB_MAX_CHILD_TABLES] = {{0}};
        int oom = 0;
        int rc = wdb_stage_rows(sp, rec, raw, strlen(raw), 1, bufs, &oom, reason, sizeof reason);
        if ((rc == 0) != ints[i].ok) fail_msg("quantity %.17g: rc %d (%s)", ints[i].q, rc, reason);
        if (!ints[i].ok)
            assert_string_equal(reason, "order_line_items.quantity: expected an integer");
        for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
            sbuf_free(&bufs[t]);
        free(raw);
        cJSON_Delete(rec);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *rec = cJSON_Parse("{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":"
                                 "\"c\",\"id\":\"o1\"}");
        cJSON_AddStringToObject(rec, "source_updated_at", cases[i].version);
        if (cases[i].created_at) cJSON_AddStringToObject(rec, "created_at", cases[i].created_at);
        if (cases[i].total_price) cJSON_AddStringToObject(rec, "total_price", cases[i].total_price);
        char *raw = cJSON_PrintUnformatted(rec), *key = NULL, reason[256] = "";
        wdb_version ver = {0};
        sbuf bufs[1 + WDB_MAX_CHILD_TABLES] = {{0}};
        int oom = 0;
        int rc = wdb_stage_key(sp, rec, &key, &ver, reason, sizeof reason);
        if (rc == 0) {
            assert_int_equal(ver.source_us, cases[i].us);
            rc = wdb_stage_rows(sp, rec, raw, strlen(raw), 1, bufs, &oom, reason, sizeof reason);
        }
        if (!cases[i].reason && rc != 0) fail_msg("case %zu refused: %s", i, reason);
        if (cases[i].reason && (rc == 0 || !strstr(reason, cases[i].reason)))
            fail_msg("case %zu: rc %d, reason '%s', want '%s'", i, rc, reason, cases[i].reason);
        assert_int_equal(oom, 0);
        for (int t = 0; t < 1 + WDB_MAX_CHILD_TABLES; t++)
            sbuf_free(&bufs[t]);
        free(key);
        free(raw);
        cJSON_Delete(rec);
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
        cmocka_unit_test(test_canonical_values_only),
        cmocka_unit_test(test_copy_escape),
        cmocka_unit_test(test_every_spec_is_consistent),
        cmocka_unit_test(test_rows_of_one_order),
        cmocka_unit_test(test_duplicate_names_first_wins),
        cmocka_unit_test(test_json_columns_print_like_cjson),
        cmocka_unit_test(test_numbers_print_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
