/* test_values.c - the shared value rules (common/values.c), edge by edge: timestamps
 * (leap years, zone offsets, fractions, year bounds, leap seconds, the canonical form the
 * writer accepts), decimals, text (overlong forms, surrogates, NUL), base64 (padding and
 * garbage), URL escaping, and origins (IDN and percent forms, userinfo tricks).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "values.h"

/* ---------------------------------------------------------------- timestamps */

static void test_time_norm_table(void **state) {
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
        {"2026-01-05T10:00:00-00:00", "2026-01-05T10:00:00Z"},
        {"2026-01-05T10:00:00+23:59", "2026-01-04T10:01:00Z"},
        {"2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"}, /* across a year */
        {"2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00Z"}, /* into a leap day */
        {"2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"},      /* leap years */
        {"2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"},
        {"1600-02-29", "1600-02-29T00:00:00Z"},
        {"2026-01-05T10:00:00.1Z", "2026-01-05T10:00:00.100Z"},
        {"2026-01-05T10:00:00.123Z", "2026-01-05T10:00:00.123Z"},
        {"2026-01-05T10:00:00.999999999Z", "2026-01-05T10:00:00.999Z"}, /* truncated */
        {"2026-01-05T10:00:00.000Z", "2026-01-05T10:00:00.000Z"},       /* fraction kept */
        {"2026-01-05T10:00:00,5+00:00", "2026-01-05T10:00:00.500Z"},
        {"2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"}, /* leap second */
        {"2016-12-31T23:59:60.5Z", "2017-01-01T00:00:00.500Z"},
        {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"}, /* the year bounds */
        {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
        {"9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"},
        {"0001-01-01T00:30:00+00:30", "0001-01-01T00:00:00Z"},
        {"1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z"}, /* before the epoch */
        {"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
        {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
    };
    static const char *bad[] = {
        "",
        "yesterday",
        "2026-1-05",
        "2026-01-5",
        "2026-01-05T",
        "2026-01-05T10",
        "2026-01-05T1:00",
        "2026-13-01",
        "2026-00-01",
        "2026-01-00",
        "2026-02-29", /* not leap years */
        "1900-02-29",
        "2100-02-29T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-02-30T23:59:60Z", /* a leap second does not make a day exist */
        "2026-01-05T24:00:00Z",
        "2026-01-05T10:60:00Z",
        "2026-01-05T10:00:61Z",
        "2026-01-05T10:00:00.Z",
        "2026-01-05T10:00.5Z", /* a fraction needs seconds */
        "2026-01-05T10:00:00+24:00",
        "2026-01-05T10:00:00+01:60",
        "2026-01-05T10:00:00+0a:00",
        "2026-01-05T10:00:00+1",
        "2026-01-05T10:00:00+01:0",
        "2026-01-05T10:00:00Z junk",
        "2026-01-05T10:00:00ZZ",
        "2026-01-05Z", /* a zone needs a time */
        "2026-01-05+02:00",
        "2026-01-05T10:00:00 Z",
        " 2026-01-05T10:00:00Z",
        "0000-01-01T00:00:00Z", /* outside the years 0001..9999 */
        "0001-01-01T00:00:00+01:00",
        "0000-12-31T23:00:00-01:00",
        "9999-12-31T23:00:00-01:00",
        "+2026-01-05",
        "-2026-01-05",
        "20260105T100000Z",
        "2026-01-05T10:00:00\xef\xbc\xba", /* a full-width Z */
    };
    char out[VAL_TIME_LEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (val_time_norm(ok[i].in, out) != 0) fail_msg("rejected %s", ok[i].in);
        if (strcmp(out, ok[i].want) != 0) fail_msg("%s: %s, want %s", ok[i].in, out, ok[i].want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        if (val_time_norm(bad[i], out) == 0) fail_msg("accepted %s as %s", bad[i], out);
        if (val_time_parse(bad[i], &ms, NULL) == 0) fail_msg("parsed %s", bad[i]);
    }
    assert_int_equal(val_time_norm(NULL, out), -1);
    assert_string_equal(out, "");
}

static void test_time_parse_values(void **state) {
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
        int frac;
    } t[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-01-05T10:00:00Z", 1767607200000LL, 0},
        {"2026-01-05T10:00:00.123Z", 1767607200123LL, 1},
        {"2026-01-05T10:00:00.123456Z", 1767607200123LL, 1},
        {"2026-01-05T12:00:00+02:00", 1767607200000LL, 0},
        {"2026-01-05T05:00:00-0500", 1767607200000LL, 0},
        {"2026-01-05 10:00:00", 1767607200000LL, 0},
        {"2026-01-05", 1767571200000LL, 0},
        {"1969-12-31T23:59:59Z", -1000LL, 0},
        {"1969-12-31T23:59:59.999Z", -1LL, 1},
        {"0001-01-01T00:00:00Z", VAL_TIME_MIN_MS, 0},
        {"9999-12-31T23:59:59.999Z", VAL_TIME_MAX_MS, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t ms = 42;
        int frac = -1;
        if (val_time_parse(t[i].in, &ms, &frac) != 0) fail_msg("rejected %s", t[i].in);
        if (ms != t[i].ms || frac != t[i].frac)
            fail_msg("%s: %lld frac %d", t[i].in, (long long)ms, frac);
    }
    int64_t ms;
    assert_int_equal(val_time_parse(NULL, &ms, NULL), -1);
}

static void test_time_format(void **state) {
    (void)state;
    char out[VAL_TIME_LEN];
    assert_int_equal(val_time_format(1767607200123LL, 1, out), 0);
    assert_string_equal(out, "2026-01-05T10:00:00.123Z");
    assert_int_equal(val_time_format(1767607200123LL, 0, out), 0);
    assert_string_equal(out, "2026-01-05T10:00:00Z");
    assert_int_equal(val_time_format(-1, 1, out), 0); /* floors before the epoch */
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(val_time_format(-1, 0, out), 0);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    assert_int_equal(val_time_format(VAL_TIME_MIN_MS, 1, out), 0);
    assert_string_equal(out, "0001-01-01T00:00:00.000Z");
    assert_int_equal(val_time_format(VAL_TIME_MAX_MS, 1, out), 0);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    assert_int_equal(val_time_format(VAL_TIME_MIN_MS - 1, 1, out), -1);
    assert_string_equal(out, "");
    assert_int_equal(val_time_format(VAL_TIME_MAX_MS + 1, 0, out), -1);
    assert_int_equal(val_time_format(INT64_MIN, 0, out), -1);
    assert_int_equal(val_time_format(INT64_MAX, 0, out), -1);
}

/* The writer accepts exactly what the normalizer writes. */
static void test_time_canonical(void **state) {
    (void)state;
    static const char *ok[] = {"2026-01-05T10:00:00Z", "2026-01-05T10:00:00.120Z",
                               "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z",
                               "1969-12-31T23:59:59.999Z"};
    static const char *bad[] = {
        "2026-01-05T10:00:00+00:00",
        "2026-01-05T12:00:00+02:00",
        "2026-01-05T10:00:00.12Z",
        "2026-01-05T10:00:00.1234Z",
        "2026-01-05T10:00:00.123456Z",
        "2026-01-05t10:00:00Z",
        "2026-01-05T10:00:00z",
        "2026-01-05 10:00:00Z",
        "2026-01-05T10:00:00",
        "2026-01-05T10:00Z",
        "2026-01-05",
        "2016-12-31T23:59:60Z",
        "2026-02-29T00:00:00Z",
        "2026-01-05T10:00:00,500Z",
        "",
        "infinity",
    };
    int64_t ms;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (val_time_canonical(ok[i], &ms) != 0) fail_msg("refused %s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (val_time_canonical(bad[i], &ms) == 0) fail_msg("accepted %s", bad[i]);
    assert_int_equal(val_time_canonical("2026-01-05T10:00:00.123Z", &ms), 0);
    assert_int_equal(ms, 1767607200123LL);

    /* The definition, val_time_norm(s) == s, on mutants of canonical and other forms:
     * val_time_canonical reads the shape directly and must agree with it everywhere. */
    static const char *tpl[] = {
        "2026-01-05T10:00:00Z",      "2026-01-05T10:00:00.123Z",  "2016-12-31T23:59:59Z",
        "2024-02-29T00:00:00.000Z",  "0001-01-01T00:00:00Z",      "9999-12-31T23:59:59.999Z",
        "2026-01-05T10:00:00+02:00", "2026-01-05 10:00:00.5",     "2026-01-05T10:00:00,123Z",
        "2016-12-31T23:59:60Z",      "2026-01-05T10:00:00.12+1Z", "2026-01-05T10:00-01:00Z"};
    static const char alphabet[] = "0123456789-:T tZz+.,6";
    uint64_t r = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < 300000; i++) {
        char s[40], norm[VAL_TIME_LEN];
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        strcpy(s, tpl[r % (sizeof tpl / sizeof tpl[0])]);
        for (int m = 0; m < 1 + (int)(r >> 60 & 1); m++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            size_t len = strlen(s), at = (size_t)(r >> 8) % (len + 1);
            char ch = alphabet[(r >> 32) % (sizeof alphabet - 1)];
            if (r % 3 == 0 && at < len) {
                s[at] = ch;
            } else if (r % 3 == 1 && at < len) {
                memmove(s + at, s + at + 1, len - at);
            } else if (len < sizeof s - 2) {
                memmove(s + at + 1, s + at, len - at + 1);
                s[at] = ch;
            }
        }
        int definition = val_time_norm(s, norm) == 0 && strcmp(norm, s) == 0;
        if ((val_time_canonical(s, &ms) == 0) != definition)
            fail_msg("'%s': val_time_canonical disagrees with val_time_norm (%d)", s, definition);
    }

    /* Every instant of the range, formatted with and without its fraction, is accepted
     * as the same instant, and normalises to itself. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t t =
            VAL_TIME_MIN_MS + (int64_t)(x % (uint64_t)(VAL_TIME_MAX_MS - VAL_TIME_MIN_MS + 1));
        int with_ms = (int)(x >> 63);
        char s[VAL_TIME_LEN], again[VAL_TIME_LEN];
        assert_int_equal(val_time_format(t, with_ms, s), 0);
        int64_t back;
        if (val_time_canonical(s, &back) != 0) fail_msg("refused its own %s", s);
        assert_int_equal(back, with_ms ? t : t - ((t % 1000) + 1000) % 1000);
        assert_int_equal(val_time_norm(s, again), 0);
        assert_string_equal(again, s);
    }
}

/* ---------------------------------------------------------------- integers */

static void test_int_exact(void **state) {
    (void)state;
    static const struct {
        double d;
        int ok;
        int64_t want;
    } t[] = {
        {0, 1, 0},
        {-0.0, 1, 0},
        {42, 1, 42},
        {-42, 1, -42},
        {9007199254740991.0, 1, 9007199254740991LL}, /* 2^53 - 1 */
        {-9007199254740991.0, 1, -9007199254740991LL},
        {9007199254740992.0, 0, 0}, /* 2^53: 2^53 + 1 in the text parses to it */
        {-9007199254740992.0, 0, 0},
        {1e300, 0, 0},
        {0.5, 0, 0},
        {-1.000001, 0, 0},
        {INFINITY, 0, 0},
        {-INFINITY, 0, 0},
        {NAN, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t n = -7;
        int rc = val_int_exact(t[i].d, &n);
        if ((rc == 0) != t[i].ok) fail_msg("%.17g: rc %d", t[i].d, rc);
        if (t[i].ok) assert_int_equal(n, t[i].want);
    }
}

/* ---------------------------------------------------------------- decimals */

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
    char out[VAL_DEC_LEN];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(val_dec_from_double(t[i].in, out), 0);
        assert_string_equal(out, t[i].want);
    }
    /* The extremes fit the buffer and read back exactly. */
    assert_int_equal(val_dec_from_double(1.7976931348623157e308, out), 0);
    assert_int_equal(strlen(out), 309);
    assert_true(strtod(out, NULL) == 1.7976931348623157e308);
    assert_true(val_dec_canonical(out));
    assert_int_equal(val_dec_from_double(4.9406564584124654e-324, out), 0);
    assert_true(strtod(out, NULL) == 4.9406564584124654e-324);
    assert_null(strchr(out, 'e'));
    assert_true(val_dec_canonical(out));
    assert_int_equal(val_dec_from_double(strtod("inf", NULL), out), -1);
    assert_int_equal(val_dec_from_double(strtod("nan", NULL), out), -1);
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
    char out[VAL_DEC_LEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (val_dec_from_text(ok[i].in, out) != 0) fail_msg("rejected %s", ok[i].in);
        assert_string_equal(out, ok[i].want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (val_dec_from_text(bad[i], out) == 0) fail_msg("accepted '%s' as %s", bad[i], out);
    /* Too long for the bound: rejected, not truncated. */
    char big[VAL_DEC_LEN + 10];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(val_dec_from_text(big, out), -1);
    assert_int_equal(val_dec_from_text(NULL, out), -1);
}

/* The shortest %.*e precision that reads back as v: the rule the fast path must keep. */
static int shortest_digits(double v) {
    char e[64];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (strtod(e, NULL) == v) return prec + 1;
    }
    return 17;
}

/* Significant digits of plain decimal text: leading and trailing zeros do not count. */
static int sig_digits(const char *s) {
    char d[VAL_DEC_LEN];
    int n = 0;
    for (; *s; s++)
        if (*s >= '0' && *s <= '9' && (n || *s != '0')) d[n++] = *s;
    while (n > 0 && d[n - 1] == '0')
        n--;
    return n;
}

static void test_decimal_fast_path_agrees(void **state) {
    (void)state;
    char out[VAL_DEC_LEN], txt[64];
    unsigned seed = 12345;
    /* Short decimals of every scale (prices, weights), and the edges of the fast path. */
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        long m = (long)(seed >> 8) % 100000000L;
        int k = (int)(seed % 17);
        snprintf(txt, sizeof txt, "%s%ld.%0*ld", (seed & 4) ? "-" : "", m / 1000, 3, m % 1000);
        double v = strtod(txt, NULL) / (double)(k ? (1L << k) : 1) * (k % 3 ? 10.0 : 0.1);
        if (v == 0) continue;
        assert_int_equal(val_dec_from_double(v, out), 0);
        assert_null(strchr(out, 'e'));
        if (strtod(out, NULL) != v || sig_digits(out) != shortest_digits(v))
            fail_msg("%.17g printed as %s", v, out);
    }
    static const double edges[] = {
        1099511627775.5, 1099511627776.25, 109951162777.55,    0.000001,
        1e-15,           1.5e-16,          4503599627370495.5, 0.1 + 0.2};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        assert_int_equal(val_dec_from_double(edges[i], out), 0);
        if (strtod(out, NULL) != edges[i] || sig_digits(out) != shortest_digits(edges[i]))
            fail_msg("%.17g printed as %s", edges[i], out);
    }
}

/* The writer accepts exactly what the normalizer writes. */
static void test_decimal_canonical(void **state) {
    (void)state;
    static const char *ok[] = {"0", "7", "-7", "4.2", "0.02", "-0.5", "1000", "12345678901234.5"};
    static const char *bad[] = {"",   "-0", "007", "4.20", "1.0",  "1e5", "1E5",
                                "+1", ".5", "1.",  "0.0",  " 1",   "1 ",  "NaN",
                                "-",  "00", "-00", "1,5",  "0x10", "٣"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!val_dec_canonical(ok[i])) fail_msg("refused %s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (val_dec_canonical(bad[i])) fail_msg("accepted %s", bad[i]);
    assert_false(val_dec_canonical(NULL));
    /* Whatever val_dec_from_double writes is canonical and reads back as the double. */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        if (i % 2) {
            memcpy(&d, &x, sizeof d); /* any bit pattern */
        } else {
            d = (double)(int64_t)(x % 10000000) / 100.0; /* prices */
        }
        char out[VAL_DEC_LEN];
        if (val_dec_from_double(d, out) != 0) {
            assert_false(isfinite(d));
            continue;
        }
        if (!val_dec_canonical(out)) fail_msg("%.17g gave %s, not canonical", d, out);
        assert_true(strtod(out, NULL) == d);
    }
}

/* ---------------------------------------------------------------- text */

static void test_text_valid(void **state) {
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        int valid;
    } t[] = {
        {"plain", 5, 1},
        {"", 0, 1},
        {"\xc3\x89mile", 6, 1},             /* É */
        {"\xe2\x82\xac", 3, 1},             /* € */
        {"\xf0\x9f\x93\xa6", 4, 1},         /* 📦 */
        {"\xc2\x80", 2, 1},                 /* U+0080, the first two-byte */
        {"\xdf\xbf", 2, 1},                 /* U+07FF */
        {"\xe0\xa0\x80", 3, 1},             /* U+0800 */
        {"\xed\x9f\xbf", 3, 1},             /* U+D7FF, before the surrogates */
        {"\xee\x80\x80", 3, 1},             /* U+E000, after them */
        {"\xef\xbf\xbf", 3, 1},             /* U+FFFF */
        {"\xf0\x90\x80\x80", 4, 1},         /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, 1},         /* U+10FFFF, the last */
        {"\xef\xbb\xbf{}", 5, 1},           /* a BOM is text */
        {"a\0b", 3, 0},                     /* NUL */
        {"\0", 1, 0},                       /* NUL alone */
        {"\xc3", 1, 0},                     /* truncated */
        {"\xe2\x82", 2, 0},                 /* truncated */
        {"\xf0\x9f\x93", 3, 0},             /* truncated */
        {"\xc0\xaf", 2, 0},                 /* overlong '/' */
        {"\xc1\xbf", 2, 0},                 /* overlong */
        {"\xc0\x80", 2, 0},                 /* overlong NUL ("modified UTF-8") */
        {"\xe0\x80\xaf", 3, 0},             /* overlong, three bytes */
        {"\xe0\x9f\xbf", 3, 0},             /* overlong U+07FF */
        {"\xf0\x80\x80\xaf", 4, 0},         /* overlong, four bytes */
        {"\xf0\x8f\xbf\xbf", 4, 0},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 3, 0},             /* surrogate U+D800 */
        {"\xed\xbf\xbf", 3, 0},             /* surrogate U+DFFF */
        {"\xed\xa0\xbd\xed\xb3\xa6", 6, 0}, /* a pair in CESU-8 */
        {"\xf4\x90\x80\x80", 4, 0},         /* > U+10FFFF */
        {"\xf5\x80\x80\x80", 4, 0},         /* F5 never starts */
        {"\xf8\x88\x80\x80\x80", 5, 0},     /* five-byte form */
        {"\xff", 1, 0},                     /* */
        {"\xfe", 1, 0},                     /* */
        {"ok\x80", 3, 0},                   /* stray continuation */
        {"\xc3\x28", 2, 0},                 /* lead without continuation */
        {"\xe2\x28\xa1", 3, 0},             /* */
        {"aaaaaaa\xe2\x82\xac"
         "aaaaaaaaa\xe2\x82",
         21, 0}, /* truncated after the fast path */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (val_text_valid(t[i].s, t[i].n) != t[i].valid) fail_msg("case %zu", i);
    /* The 8-bytes-at-a-time path: one NUL, bad byte, truncated or good sequence at every
     * offset of a longer text. */
    for (size_t pos = 0; pos < 30; pos++) {
        char s[32];
        memset(s, 'a', sizeof s);
        s[pos] = '\0';
        assert_false(val_text_valid(s, sizeof s));
        s[pos] = '\x7f';
        assert_true(val_text_valid(s, sizeof s));
        s[pos] = '\xff';
        assert_false(val_text_valid(s, sizeof s));
        s[pos] = '\xc3';
        assert_false(val_text_valid(s, sizeof s));
        s[pos + 1] = '\xa9';
        assert_true(val_text_valid(s, sizeof s));
    }
}

static void test_utf8_put(void **state) {
    (void)state;
    static const struct {
        unsigned long cp;
        const char *want;
    } t[] = {{0x41, "A"},
             {0x7F, "\x7f"},
             {0x80, "\xc2\x80"},
             {0xE9, "\xc3\xa9"},
             {0x7FF, "\xdf\xbf"},
             {0x800, "\xe0\xa0\x80"},
             {0x20AC, "\xe2\x82\xac"},
             {0xFFFF, "\xef\xbf\xbf"},
             {0x10000, "\xf0\x90\x80\x80"},
             {0x1F4E6, "\xf0\x9f\x93\xa6"},
             {0x10FFFF, "\xf4\x8f\xbf\xbf"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        unsigned char out[4];
        size_t n = val_utf8_put(t[i].cp, out);
        assert_int_equal(n, strlen(t[i].want));
        assert_memory_equal(out, t[i].want, n);
        assert_true(val_text_valid((const char *)out, n));
    }
}

/* ---------------------------------------------------------------- base64 */

static void test_b64_round_trip(void **state) {
    (void)state;
    static const struct {
        const char *bytes, *text;
    } t[] = {{"", ""},
             {"f", "Zg=="},
             {"fo", "Zm8="},
             {"foo", "Zm9v"},
             {"foob", "Zm9vYg=="},
             {"fooba", "Zm9vYmE="},
             {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = strlen(t[i].bytes);
        char text[16];
        unsigned char back[16];
        assert_int_equal(val_b64_encode(t[i].bytes, n, text), (int)strlen(t[i].text));
        assert_string_equal(text, t[i].text);
        assert_int_equal(val_b64_decode(text, strlen(text), back, sizeof back), (int)n);
        assert_memory_equal(back, t[i].bytes, n);
    }
    /* Every byte value, at every length up to 70. */
    unsigned char bytes[70], back[70];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 37 + 200);
    for (size_t n = 0; n <= sizeof bytes; n++) {
        char text[VAL_B64_LEN(70) + 1];
        assert_int_equal(val_b64_encode(bytes, n, text), (int)VAL_B64_LEN(n));
        assert_int_equal(val_b64_decode(text, strlen(text), back, sizeof back), (int)n);
        assert_memory_equal(back, bytes, n);
    }
}

static void test_b64_refuses(void **state) {
    (void)state;
    static const char *bad[] = {
        "Zg",                    /* padding missing */
        "Zg=",                   /* */
        "Zm9",                   /* */
        "Z===",                  /* too much padding */
        "Zg==Zg==",              /* padding inside */
        "Zh==",                  /* non-zero pad bits (Zg== is the encoding) */
        "Zm9=",                  /* */
        "=Zm9",                  /* '=' first */
        "Zm=v",                  /* '=' inside a quantum */
        "Zm9vYg====",   " Zm9v", /* blanks and line breaks */
        "Zm9v ",        "Zm9v\n", "Zm 9v", "Zm9v\r\n", "Zm9*", /* outside the alphabet */
        "_-__",                                                /* the URL-safe alphabet */
        "Zm9v\xc3\xa9",
    };
    unsigned char out[32];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (val_b64_decode(bad[i], strlen(bad[i]), out, sizeof out) != -1)
            fail_msg("accepted '%s'", bad[i]);
    /* A NUL inside the length given is not text. */
    assert_int_equal(val_b64_decode("Zm\0v", 4, out, sizeof out), -1);
    /* Good text whose bytes do not fit. */
    assert_int_equal(val_b64_decode("Zm9vYmFy", 8, out, 5), -1);
    assert_int_equal(val_b64_decode("Zm9vYmFy", 8, out, 6), 6);
    assert_int_equal(val_b64_decode(NULL, 4, out, sizeof out), -1);
}

/* ---------------------------------------------------------------- URLs */

static void test_url_escape(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } t[] = {
        {"a b/c?d=1&e", "a%20b%2Fc%3Fd%3D1%26e"},
        {"AZaz09-._~", "AZaz09-._~"},
        {"", ""},
        {"%", "%25"},
        {"+", "%2B"},
        {"\xc3\xa9", "%C3%A9"},
        {"2026-01-05T10:00:00Z", "2026-01-05T10%3A00%3A00Z"},
        {"a|b\r\n", "a%7Cb%0D%0A"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sbuf b = {0};
        assert_int_equal(val_url_escape(&b, t[i].in), 0);
        assert_string_equal(b.p ? b.p : "", t[i].want);
        sbuf_free(&b);
    }
    sbuf b = {0};
    assert_int_equal(sbuf_append(&b, "x=", 2), 0);
    assert_int_equal(val_url_escape(&b, "1 2"), 0); /* appends */
    assert_string_equal(b.p, "x=1%202");
    sbuf_free(&b);
}

static const struct {
    const char *base, *url;
    int same;
} origin_cases[] = {
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com/webhooks/data/1", 1},
    {"https://production.trackstarhq.com/", "https://PRODUCTION.trackstarhq.com:443/x", 1},
    {"HTTPS://production.trackstarhq.com", "https://production.trackstarhq.com?x=1", 1},
    {"https://production.trackstarhq.com/api/v1", "https://production.trackstarhq.com/other", 1},
    {"http://127.0.0.1:32050", "http://127.0.0.1:32050/data/1", 1},
    {"http://127.0.0.1", "http://127.0.0.1:80/data/1", 1},
    {"http://[::1]:8080", "http://[::1]:8080/x", 1},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com:0443/x", 1},
    /* percent forms: the host libcurl reads (and would connect to) is compared */
    {"https://trackstar.com", "https://%74rackstar.com/x", 1},
    {"https://trackstar.com", "https://%65vil.com/x", 0},
    /* numeric forms of one IPv4 address */
    {"http://127.0.0.1:8090", "http://2130706433:8090/x", 1},
    {"http://127.0.0.1:8090", "http://0x7f.1:8090/x", 1},
    /* another scheme, host or port */
    {"https://production.trackstarhq.com", "http://production.trackstarhq.com/x", 0},
    {"https://production.trackstarhq.com", "https://evil.example/x", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com.evil.example/x", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com./x", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com:8443/x", 0},
    {"https://production.trackstarhq.com", "ftp://production.trackstarhq.com/x", 0},
    {"ftp://production.trackstarhq.com", "ftp://production.trackstarhq.com/x", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com:99999/x", 0},
    /* userinfo tricks */
    {"https://trackstar.com", "https://trackstar.com@evil.com/", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com@evil.example/x", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com\\@evil/x", 0},
    {"https://trackstar.com", "https://user:pw@trackstar.com/x", 0}, /* ours, but refused */
    {"https://trackstar.com", "https://@trackstar.com/x", 0},
    {"https://trackstar.com", "https://evil.com#@trackstar.com/", 0},
    {"https://trackstar.com", "https://evil.com?@trackstar.com/", 0},
    {"https://trackstar.com", "https://evil.com\\.trackstar.com/", 0},
    /* IDN: a look-alike is another host; a Unicode host libcurl cannot convert refuses */
    {"https://trackstar.com",
     "https://tr\xc3\xa1"
     "ckstar.com/x",
     0},
    {"https://trackstar.com", "https://xn--trckstar-bza.com/x", 0},
    {"https://trackstar.com", "https://trackst\xd0\xb0r.com/x", 0}, /* Cyrillic a */
    /* not absolute, or not a URL */
    {"https://production.trackstarhq.com", "/relative", 0},
    {"https://production.trackstarhq.com", "//production.trackstarhq.com/x", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com/a b", 0},
    {"https://production.trackstarhq.com", "https://production.trackstarhq.com\t/x", 0},
    {"https://production.trackstarhq.com", "", 0},
    {"", "https://production.trackstarhq.com/x", 0},
    {"/relative", "/relative", 0},
};

static void test_same_origin(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof origin_cases / sizeof origin_cases[0]; i++) {
        int got = val_same_origin(origin_cases[i].base, origin_cases[i].url);
        if (got != origin_cases[i].same)
            fail_msg("'%s' vs '%s': got %d", origin_cases[i].base, origin_cases[i].url, got);
    }
    assert_int_equal(val_same_origin(NULL, "https://x"), 0);
    assert_int_equal(val_same_origin("https://x", NULL), 0);
}

static void test_url_resolve(void **state) {
    (void)state;
    static const struct {
        const char *base, *ref, *want; /* want NULL: refused */
    } t[] = {
        {"http://127.0.0.1:8090", "/data/1", "http://127.0.0.1:8090/data/1"},
        {"http://127.0.0.1:8090/", "/data/1?x=1", "http://127.0.0.1:8090/data/1?x=1"},
        {"https://api.example/v1/", "data/2", "https://api.example/v1/data/2"},
        {"https://api.example/v1", "https://cdn.example/f.json", "https://cdn.example/f.json"},
        {"https://api.example", "//other.example/x", "https://other.example/x"},
        {"https://api.example", "ftp://api.example/x", NULL},
        /* libcurl resolves a relative reference as it follows a redirect: escaped */
        {"https://api.example", "/a b", "https://api.example/a%20b"},
        {"https://api.example", "https://api.example/a b", NULL},
        {"https://api.example", "", NULL},
        {"ftp://api.example", "/x", NULL},
        {"/relative", "/x", NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[128] = "untouched";
        int rc = val_url_resolve(t[i].base, t[i].ref, out, sizeof out);
        if (!t[i].want) {
            if (rc != -1) fail_msg("%s + %s: accepted as %s", t[i].base, t[i].ref, out);
            continue;
        }
        if (rc != 0) fail_msg("%s + %s: refused", t[i].base, t[i].ref);
        assert_string_equal(out, t[i].want);
    }
    char small[10];
    assert_int_equal(val_url_resolve("http://127.0.0.1:8090", "/data/1", small, sizeof small), -1);
    char out[64];
    assert_int_equal(val_url_resolve(NULL, "/x", out, sizeof out), -1);
    assert_int_equal(val_url_resolve("http://a", NULL, out, sizeof out), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_norm_table),   cmocka_unit_test(test_time_parse_values),
        cmocka_unit_test(test_time_format),       cmocka_unit_test(test_int_exact),
        cmocka_unit_test(test_time_canonical),    cmocka_unit_test(test_decimal_from_double),
        cmocka_unit_test(test_decimal_from_text), cmocka_unit_test(test_decimal_fast_path_agrees),
        cmocka_unit_test(test_decimal_canonical), cmocka_unit_test(test_text_valid),
        cmocka_unit_test(test_utf8_put),          cmocka_unit_test(test_b64_round_trip),
        cmocka_unit_test(test_b64_refuses),       cmocka_unit_test(test_url_escape),
        cmocka_unit_test(test_same_origin),       cmocka_unit_test(test_url_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
