/* test_canon_values.c - the value rules of the canonical model, table by table:
 * timestamps (offsets to UTC, fractions truncated to ms, invalid dates), decimals
 * (shortest round-trip text, never an exponent), and UTF-8 validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "normalizer/canon_internal.h"

static void test_time_normalisation(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } ok[] = {
        {"2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z"},
        {"2026-01-05t10:00:00z", "2026-01-05T10:00:00Z"},
        {"2026-01-05 10:00:00", "2026-01-05T10:00:00Z"}, /* no zone: UTC */
        {"2026-01-05T10:00", "2026-01-05T10:00:00Z"},
        {"2026-01-05", "2026-01-05T00:00:00Z"},
        {"2026-01-05T10:00:00+02:00", "2026-01-05T08:00:00Z"},
        {"2026-01-05T10:00:00-0530", "2026-01-05T15:30:00Z"},
        {"2026-01-05T10:00:00+01", "2026-01-05T09:00:00Z"},
        {"2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"}, /* across a year */
        {"2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00Z"}, /* into a leap day */
        {"2026-01-05T10:00:00.1Z", "2026-01-05T10:00:00.100Z"},
        {"2026-01-05T10:00:00.123Z", "2026-01-05T10:00:00.123Z"},
        {"2026-01-05T10:00:00.999999999Z", "2026-01-05T10:00:00.999Z"}, /* truncated */
        {"2026-01-05T10:00:00.000Z", "2026-01-05T10:00:00.000Z"},       /* fraction kept */
        {"2026-01-05T10:00:00,5+00:00", "2026-01-05T10:00:00.500Z"},
        {"2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"}, /* leap second */
        {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
        {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
        {"1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z"}, /* before the epoch */
    };
    static const char *bad[] = {
        "",
        "yesterday",
        "2026-1-05",
        "2026-01-05T",
        "2026-01-05T10",
        "2026-13-01",
        "2026-02-29",
        "2026-02-30T00:00:00Z",
        "2026-01-05T24:00:00Z",
        "2026-01-05T10:60:00Z",
        "2026-01-05T10:00:00.Z",
        "2026-01-05T10:00:00+24:00",
        "2026-01-05T10:00:00+0a:00",
        "2026-01-05T10:00:00Z junk",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-01:00",
        "2026-01-05T10:00:00ZZ",
        "+2026-01-05",
    };
    char out[CANON_TS_LEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (canon_time_norm(ok[i].in, out) != 0) fail_msg("rejected %s", ok[i].in);
        assert_string_equal(out, ok[i].want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (canon_time_norm(bad[i], out) == 0) fail_msg("accepted %s as %s", bad[i], out);
    assert_int_equal(canon_time_norm(NULL, out), -1);
}

static void test_decimal_from_double(void **state) {
    (void)state;
    static const struct {
        double in;
        const char *want;
    } t[] = {
        {59.5, "59.5"},
        {0, "0"},
        {-0.0, "0"},
        {5, "5"},
        {19.99, "19.99"},
        {0.1, "0.1"},
        {7.1, "7.1"},
        {1e-7, "0.0000001"},
        {-3.25, "-3.25"},
        {1e21, "1000000000000000000000"},
        {123456789.125, "123456789.125"},
        {0.30000000000000004, "0.30000000000000004"},
        {2.5e-5, "0.000025"},
        {9007199254740993.0, "9007199254740992"},
    };
    char out[CANON_DEC_LEN];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(canon_dec_from_double(t[i].in, out), 0);
        assert_string_equal(out, t[i].want);
    }
    /* The extremes fit the buffer and read back exactly. */
    assert_int_equal(canon_dec_from_double(1.7976931348623157e308, out), 0);
    assert_int_equal(strlen(out), 309);
    assert_true(strtod(out, NULL) == 1.7976931348623157e308);
    assert_int_equal(canon_dec_from_double(4.9406564584124654e-324, out), 0);
    assert_true(strtod(out, NULL) == 4.9406564584124654e-324);
    assert_null(strchr(out, 'e'));
    assert_int_equal(canon_dec_from_double(strtod("inf", NULL), out), -1);
    assert_int_equal(canon_dec_from_double(strtod("nan", NULL), out), -1);
}

static void test_decimal_from_text(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } ok[] = {
        {"4.20", "4.2"},
        {"0", "0"},
        {"-0.000", "0"},
        {"007", "7"},
        {"1.0", "1"},
        {"-12.500", "-12.5"},
        {"1.5e3", "1500"},
        {"2E-2", "0.02"},
        /* plain text keeps digits a double would lose */
        {"12345678901234567890.123456789", "12345678901234567890.123456789"},
    };
    static const char *bad[] = {"",   "-",     "abc",  "4,20",  "1.",  ".5", "1e",  "1e+", " 1",
                                "1 ", "$4.20", "0x10", "1.2.3", "--1", "+1", "NaN", "inf"};
    char out[CANON_DEC_LEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (canon_dec_from_text(ok[i].in, out) != 0) fail_msg("rejected %s", ok[i].in);
        assert_string_equal(out, ok[i].want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (canon_dec_from_text(bad[i], out) == 0) fail_msg("accepted '%s' as %s", bad[i], out);
    /* Too long for the bound: rejected, not truncated. */
    char big[CANON_DEC_LEN + 10];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(canon_dec_from_text(big, out), -1);
}

static void test_utf8(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int valid;
    } t[] = {
        {"plain", 1},
        {"\xc3\x89mile", 1},     /* É */
        {"\xe2\x82\xac", 1},     /* € */
        {"\xf0\x9f\x93\xa6", 1}, /* 📦 */
        {"\xc3", 0},             /* truncated */
        {"\xc0\xaf", 0},         /* overlong */
        {"\xed\xa0\x80", 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 0}, /* > U+10FFFF */
        {"\xff", 0},
        {"ok\x80", 0}, /* stray continuation */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (canon_utf8_valid(t[i].s, strlen(t[i].s)) != t[i].valid) fail_msg("case %zu", i);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_normalisation),
        cmocka_unit_test(test_decimal_from_double),
        cmocka_unit_test(test_decimal_from_text),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
