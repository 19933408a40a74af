/* canon_json.c - the value rules of the canonical model: timestamps to RFC 3339 UTC,
 * decimals to shortest round-trip strings, integers checked for exactness, UTF-8
 * validation, and the typed converters that apply them to one cJSON value.
 */
#include "normalizer/canon_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- timestamps */

/* Exactly n ASCII digits at s into *out. */
static int take_digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* v (0 <= v < 10^n) as exactly n digits, zero-padded, at out. */
static void put_digits(char *out, int v, int n) {
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static int is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int canon_time_norm(const char *s, char out[CANON_TS_LEN]) {
    int Y, M, D, h = 0, mi = 0, sec = 0, ms = 0, has_frac = 0, off_min = 0;
    const char *p = s;

    if (!s) return -1;
    if (take_digits(p, 4, &Y) || p[4] != '-' || take_digits(p + 5, 2, &M) || p[7] != '-' ||
        take_digits(p + 8, 2, &D))
        return -1;
    p += 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (take_digits(p, 2, &h) || p[2] != ':' || take_digits(p + 3, 2, &mi)) return -1;
        p += 5;
        if (*p == ':') {
            if (take_digits(p + 1, 2, &sec)) return -1;
            p += 3;
            if (*p == '.' || *p == ',') {
                int nd = 0;
                p++;
                /* Keep the first three digits (truncation, not rounding: a
                 * timestamp must never move into the next second). */
                while (*p >= '0' && *p <= '9') {
                    if (nd < 3) ms = ms * 10 + (*p - '0');
                    nd++;
                    p++;
                }
                if (nd == 0) return -1;
                for (int i = nd; i < 3; i++)
                    ms *= 10;
                has_frac = 1;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (take_digits(p, 2, &oh)) return -1;
            p += 2;
            if (*p == ':') p++;
            if (*p >= '0' && *p <= '9') {
                if (take_digits(p, 2, &om)) return -1;
                p += 2;
            }
            if (oh > 23 || om > 59) return -1;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (*p != '\0') return -1;
    /* Second 60 is a leap second: accepted, and carried into the next minute below. */
    if (Y < 1 || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 ||
        sec > 60)
        return -1;

    int64_t t = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - off_min * 60;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) return -1;
    /* Written by hand: snprintf was a visible part of mapping a record. */
    put_digits(out, (int)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, (int)(rem / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (int)(rem / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (int)(rem % 60), 2);
    char *z = out + 19;
    if (has_frac) {
        *z++ = '.';
        put_digits(z, ms, 3);
        z += 3;
    }
    z[0] = 'Z';
    z[1] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- decimals */

/* Write sign, the significant digits dig[0..nd) and the position of the decimal point
 * (pos digits before it; <= 0 means leading zeros after "0.") as plain text. */
static int plain_decimal(int neg, const char *dig, int nd, int pos, char out[CANON_DEC_LEN]) {
    size_t o = 0;
    /* Bound check once: sign + "0." + zeros + digits + zeros + NUL. */
    long need = 3 + nd + (pos < 0 ? -pos : pos) + 2;
    if (need >= CANON_DEC_LEN) return -1;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    if (nd == 1 && dig[0] == '0') {
        strcpy(out, "0"); /* "-0" is zero */
        return 0;
    }
    if (neg) out[o++] = '-';
    if (pos <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -pos; i++)
            out[o++] = '0';
        memcpy(out + o, dig, (size_t)nd);
        o += (size_t)nd;
    } else if (pos >= nd) {
        memcpy(out + o, dig, (size_t)nd);
        o += (size_t)nd;
        for (int i = nd; i < pos; i++)
            out[o++] = '0';
    } else {
        memcpy(out + o, dig, (size_t)pos);
        o += (size_t)pos;
        out[o++] = '.';
        memcpy(out + o, dig + pos, (size_t)(nd - pos));
        o += (size_t)(nd - pos);
    }
    out[o] = '\0';
    return 0;
}

/* Fast path of canon_dec_from_double for the common case (prices, weights: few digits,
 * moderate size): the smallest k (0..CANON_DEC_FAST_K) such that the integer m nearest to
 * |v| * 10^k gives back v as m / 10^k. Both operations are exact or correctly rounded
 * (m < 2^53, 10^k <= 10^22), so m / 10^k == v is the same test as strtod of the digits;
 * and with |v| * 10^k below 2^CANON_DEC_FAST_BITS the rounding error of the product is far
 * below 1/2, so m is the correctly rounded k-decimal value of v - the digits %.*e gives -
 * and no shorter candidate was missed. Returns nd > 0 with the digits of m in dig (most
 * significant first) and *pos as plain_decimal takes it, or 0: use the general path. */
#define CANON_DEC_FAST_K 15
#define CANON_DEC_FAST_BITS 40
static int dec_fast(double a, char dig[24], int *pos) {
    static const double p10[CANON_DEC_FAST_K + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const double limit = (double)(1LL << CANON_DEC_FAST_BITS);
    for (int k = 0; k <= CANON_DEC_FAST_K; k++) {
        double x = a * p10[k];
        if (x >= limit) return 0;
        double m = nearbyint(x);
        if (m == 0 || m / p10[k] != a) continue;
        char buf[24];
        char *p = buf + sizeof buf;
        uint64_t u = (uint64_t)m;
        while (u) {
            *--p = (char)('0' + u % 10);
            u /= 10;
        }
        int nd = (int)(buf + sizeof buf - p);
        memcpy(dig, p, (size_t)nd);
        *pos = nd - k;
        return nd;
    }
    return 0;
}

int canon_dec_from_double(double v, char out[CANON_DEC_LEN]) {
    char e[64], dig[24];
    int nd = 0, neg = 0;

    if (!isfinite(v)) return -1;
    if (v == 0) {
        strcpy(out, "0");
        return 0;
    }
    int pos;
    nd = dec_fast(fabs(v), dig, &pos);
    if (nd > 0) return plain_decimal(v < 0, dig, nd, pos, out);
    /* The shortest %e precision that reads back as the same double (17 always does). */
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (strtod(e, NULL) == v) break;
    }
    const char *q = e;
    if (*q == '-') {
        neg = 1;
        q++;
    }
    for (; *q && *q != 'e' && nd < (int)sizeof dig; q++)
        if (*q >= '0' && *q <= '9') dig[nd++] = *q;
    if (*q != 'e') return -1;
    int exp10 = atoi(q + 1);
    return plain_decimal(neg, dig, nd, exp10 + 1, out);
}

int canon_dec_from_text(const char *s, char out[CANON_DEC_LEN]) {
    const char *p = s, *int_start, *frac_start = NULL;
    size_t int_len, frac_len = 0;
    int neg = 0;

    if (!s) return -1;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    int_start = p;
    while (*p >= '0' && *p <= '9')
        p++;
    int_len = (size_t)(p - int_start);
    if (int_len == 0) return -1;
    if (*p == '.') {
        frac_start = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        frac_len = (size_t)(p - frac_start);
        if (frac_len == 0) return -1;
    }
    if (*p == 'e' || *p == 'E') {
        /* Exponent forms are rare in WMS text; the double path is exact enough for them. */
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return -1;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p != '\0' || (size_t)(p - s) > 64) return -1;
        return canon_dec_from_double(strtod(s, NULL), out);
    }
    if (*p != '\0' || int_len + frac_len + 3 >= CANON_DEC_LEN) return -1;
    while (int_len > 1 && *int_start == '0') {
        int_start++;
        int_len--;
    }
    while (frac_len > 0 && frac_start[frac_len - 1] == '0')
        frac_len--;
    if (int_len == 1 && *int_start == '0' && frac_len == 0) {
        strcpy(out, "0");
        return 0;
    }
    size_t o = 0;
    if (neg) out[o++] = '-';
    memcpy(out + o, int_start, int_len);
    o += int_len;
    if (frac_len) {
        out[o++] = '.';
        memcpy(out + o, frac_start, frac_len);
        o += frac_len;
    }
    out[o] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- UTF-8 */

int canon_utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        /* Eight ASCII bytes at a time: almost every body is mostly ASCII. */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, sizeof w);
            if (w & 0x8080808080808080ull) break;
            p += 8;
        }
        if (p == end) break;
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        int len;
        unsigned cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (end - p < len) return 0;
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        p += len;
    }
    return 1;
}

/* ---------------------------------------------------------------- converters */

static const char *type_name(const cJSON *v) {
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    return "other";
}

static int wrong_type(canon_ctx *c, const cJSON *v, const char *name, const char *want) {
    return canon_fail(c, "wrong type at %s: %s, want %s", canon_here(c, name, NULL), type_name(v),
                      want);
}

static int is_absent(const cJSON *v) {
    return v == NULL || cJSON_IsNull(v);
}

static int put_null(canon_ctx *c) {
    canon_w_lit(c, "null");
    return 0;
}

int canon_conv_str(canon_ctx *c, const cJSON *v, const char *name) {
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (!cJSON_IsString(v)) return wrong_type(c, v, name, "string");
    canon_w_str(c, v->valuestring);
    return 0;
}

int canon_conv_time(canon_ctx *c, const cJSON *v, const char *name) {
    char ts[CANON_TS_LEN];
    if (c->failed) return -1;
    /* An empty string is how some WMSs say "no date"; it means the same as null. */
    if (is_absent(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0')) return put_null(c);
    if (!cJSON_IsString(v)) return wrong_type(c, v, name, "timestamp string");
    if (canon_time_norm(v->valuestring, ts) < 0)
        return canon_fail(c, "bad timestamp at %s", canon_here(c, name, NULL));
    /* Normalised: digits and -T:.Z only, nothing to escape. */
    canon_w_ch(c, '"');
    canon_w_mem(c, ts, strlen(ts));
    canon_w_ch(c, '"');
    return 0;
}

int canon_conv_dec(canon_ctx *c, const cJSON *v, const char *name) {
    char dec[CANON_DEC_LEN];
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (cJSON_IsNumber(v)) {
        if (canon_dec_from_double(v->valuedouble, dec) < 0)
            return canon_fail(c, "non-finite number at %s", canon_here(c, name, NULL));
    } else if (cJSON_IsString(v)) {
        if (canon_dec_from_text(v->valuestring, dec) < 0)
            return canon_fail(c, "non-numeric text at %s", canon_here(c, name, NULL));
    } else {
        return wrong_type(c, v, name, "number");
    }
    /* Digits, '-' and '.' only, nothing to escape. */
    canon_w_ch(c, '"');
    canon_w_mem(c, dec, strlen(dec));
    canon_w_ch(c, '"');
    return 0;
}

int canon_int_value(const cJSON *v, int64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    /* 2^53 itself is refused too: 2^53 + 1 in the source parses to it, so a value
     * there may already have lost its last digit. */
    if (!isfinite(d) || d != floor(d) || fabs(d) >= CANON_MAX_SAFE_INT) return -1;
    *out = (int64_t)d;
    return 0;
}

int canon_conv_int(canon_ctx *c, const cJSON *v, const char *name) {
    int64_t n;
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (!cJSON_IsNumber(v)) return wrong_type(c, v, name, "integer");
    if (canon_int_value(v, &n) < 0)
        return canon_fail(c, "not an exact integer at %s", canon_here(c, name, NULL));
    /* Our own digits, so that a large quantity is never printed in exponent form. */
    canon_w_i64(c, n);
    return 0;
}

int canon_conv_bool(canon_ctx *c, const cJSON *v, const char *name) {
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (!cJSON_IsBool(v)) return wrong_type(c, v, name, "boolean");
    if (cJSON_IsTrue(v))
        canon_w_lit(c, "true");
    else
        canon_w_lit(c, "false");
    return 0;
}
