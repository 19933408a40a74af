/* values.c - the shared value rules (see values.h): RFC 3339 timestamps on proleptic
 * Gregorian civil dates, canonical decimals, text validation, base64 through OpenSSL, and
 * URL escaping and origins through libcurl.
 */
#include "values.h"

#include "crypto_err.h"

#include <curl/curl.h>
#include <limits.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- civil dates */

static int is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms:
 * exact for every year, no time_t or time zone involved). */
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

int val_time_parse(const char *s, int64_t *ms_out, int *has_frac_out) {
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
        /* A zone only after a time: "2026-01-05+02:00" is no ISO 8601 form. */
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
    if (Y < 1 || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    /* Plain arithmetic, so second 60 carries into the next minute. */
    int64_t t =
        (days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - off_min * 60) * 1000 + ms;
    if (t < VAL_TIME_MIN_MS || t > VAL_TIME_MAX_MS) return -1;
    *ms_out = t;
    if (has_frac_out) *has_frac_out = has_frac;
    return 0;
}

int val_time_format(int64_t ms, int with_ms, char out[VAL_TIME_LEN]) {
    out[0] = '\0';
    if (ms < VAL_TIME_MIN_MS || ms > VAL_TIME_MAX_MS) return -1;
    /* Floor division: before the epoch, -1 ms is 1969-12-31T23:59:59.999Z. */
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
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
    if (with_ms) {
        *z++ = '.';
        put_digits(z, frac, 3);
        z += 3;
    }
    z[0] = 'Z';
    z[1] = '\0';
    return 0;
}

int val_time_norm(const char *s, char out[VAL_TIME_LEN]) {
    int64_t ms;
    int has_frac;
    out[0] = '\0';
    if (val_time_parse(s, &ms, &has_frac) < 0) return -1;
    return val_time_format(ms, has_frac, out);
}

int val_time_canonical(const char *s, int64_t *ms) {
    /* The definition is val_time_norm(s) == s; test_values checks this against it. Read
     * directly, for the cost of one parse: among the texts val_time_parse accepts, those
     * of 20 bytes with 'T' and a final 'Z' can only be "YYYY-MM-DDTHH:MM:SSZ", and those
     * of 24 with a '.' at 19 only "YYYY-MM-DDTHH:MM:SS.mmmZ"; each formats back to itself
     * but for second 60, which carries into the next minute. */
    size_t n = s ? strnlen(s, 25) : 0;
    if (!(n == 20 || (n == 24 && s[19] == '.')) || s[10] != 'T' || s[n - 1] != 'Z' || s[17] == '6')
        return -1;
    return val_time_parse(s, ms, NULL);
}

/* ---------------------------------------------------------------- integers */

int val_int_exact(double d, int64_t *out) {
    if (!isfinite(d) || d != floor(d) || fabs(d) >= VAL_INT_LIMIT) return -1;
    *out = (int64_t)d;
    return 0;
}

/* ---------------------------------------------------------------- decimals */

/* Write sign, the significant digits dig[0..nd) and the position of the decimal point
 * (pos digits before it; <= 0 means leading zeros after "0.") as plain text. */
static int plain_decimal(int neg, const char *dig, int nd, int pos, char out[VAL_DEC_LEN]) {
    size_t o = 0;
    /* Bound check once: sign + "0." + zeros + digits + zeros + NUL. */
    long need = 3 + nd + (pos < 0 ? -pos : pos) + 2;
    if (need >= VAL_DEC_LEN) return -1;
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

/* Fast path of val_dec_from_double for the common case (prices, weights: few digits,
 * moderate size): the smallest k (0..DEC_FAST_K) such that the integer m nearest to
 * |v| * 10^k gives back v as m / 10^k. Both operations are exact or correctly rounded
 * (m < 2^53, 10^k <= 10^22), so m / 10^k == v is the same test as strtod of the digits;
 * and with |v| * 10^k below 2^DEC_FAST_BITS the rounding error of the product is far
 * below 1/2, so m is the correctly rounded k-decimal value of v - the digits %.*e gives -
 * and no shorter candidate was missed. Returns nd > 0 with the digits of m in dig (most
 * significant first) and *pos as plain_decimal takes it, or 0: use the general path. */
#define DEC_FAST_K 15
#define DEC_FAST_BITS 40
static int dec_fast(double a, char dig[24], int *pos) {
    static const double p10[DEC_FAST_K + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                               1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const double limit = (double)(1LL << DEC_FAST_BITS);
    for (int k = 0; k <= DEC_FAST_K; k++) {
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

int val_dec_from_double(double v, char out[VAL_DEC_LEN]) {
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

int val_dec_from_text(const char *s, char out[VAL_DEC_LEN]) {
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
        return val_dec_from_double(strtod(s, NULL), out);
    }
    if (*p != '\0' || int_len + frac_len + 3 >= VAL_DEC_LEN) return -1;
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

int val_dec_canonical(const char *s) {
    char again[VAL_DEC_LEN];
    /* No exponent: val_dec_from_text would rewrite it, but through a double. */
    return s && !strpbrk(s, "eE") && val_dec_from_text(s, again) == 0 && strcmp(again, s) == 0;
}

/* ---------------------------------------------------------------- text */

#define BYTES8(c) (0x0101010101010101ull * (unsigned char)(c)) /* c in each byte of a word */

int val_text_valid(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* Records are mostly ASCII: 8 bytes at a time while none is NUL or above 0x7F
         * (x - 0x01.. sets a byte's top bit where that byte was 0). */
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (!((x | ((x - BYTES8(1)) & ~x)) & BYTES8(0x80))) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        /* The lead bytes that can start a shortest form: C0, C1 and F5..FF never do. */
        size_t len;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

size_t val_utf8_put(unsigned long cp, unsigned char *o) {
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---------------------------------------------------------------- base64 */

int val_b64_encode(const void *in, size_t n, char *out) {
    if (n > (size_t)INT_MAX / 4 * 3) return -1;
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    if (len < 0 || (size_t)len != VAL_B64_LEN(n)) {
        crypto_failed("base64"); /* encoding has no bad input: the library failed */
        return -1;
    }
    return len;
}

int val_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap) {
    /* EVP_DecodeBlock alone is lenient: it skips blanks around the text, and decodes '='
     * anywhere as zero bits and stray pad bits as data. So the bytes it gives are encoded
     * again, and the text is accepted only when that gives it back exactly. */
    if (!s || n % 4 != 0 || n > (size_t)INT_MAX) return -1;
    if (n == 0) return 0;
    size_t raw_len = n / 4 * 3;
    unsigned char *raw = malloc(raw_len);
    char *again = malloc(n + 1);
    int rc = -1;
    if (!raw || !again) goto done;
    int len = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)n);
    if (len < 0 || (size_t)len != raw_len) goto done;
    /* EVP_DecodeBlock counts the padding as zero bytes: take them back off. */
    size_t bytes = raw_len - (s[n - 1] == '=') - (s[n - 2] == '=');
    if (val_b64_encode(raw, bytes, again) != (int)n || CRYPTO_memcmp(again, s, n) != 0) goto done;
    if (bytes > cap) goto done;
    memcpy(out, raw, bytes);
    rc = (int)bytes;
done:
    if (raw) OPENSSL_cleanse(raw, raw_len);
    if (again) OPENSSL_cleanse(again, n + 1);
    free(raw);
    free(again);
    return rc;
}

/* ---------------------------------------------------------------- URLs */

int val_url_escape(sbuf *out, const char *s) {
    size_t n = strlen(s);
    if (n == 0) return 0;
    if (n > INT_MAX) return -1;
    /* The handle argument is ignored since libcurl 7.82. */
    char *e = curl_easy_escape(NULL, s, (int)n);
    if (!e) return -1;
    int rc = sbuf_append(out, e, strlen(e));
    curl_free(e);
    return rc;
}

/* 1 when the URL in h is http or https (libcurl gives the scheme in lower case). */
static int is_http(CURLU *h) {
    char *scheme = NULL;
    int yes = curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    curl_free(scheme);
    return yes;
}

/* A handle holding url parsed as an absolute http(s) URL, or NULL. */
static CURLU *parse_http_url(const char *url) {
    CURLU *h = curl_url();
    if (h && url && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK && is_http(h)) return h;
    curl_url_cleanup(h);
    return NULL;
}

int val_url_resolve(const char *base, const char *ref, char *out, size_t len) {
    CURLU *h = parse_http_url(base);
    char *url = NULL;
    int rc = -1;
    /* Set on a handle that holds a URL, a relative reference is resolved against it. */
    if (h && ref && *ref && curl_url_set(h, CURLUPART_URL, ref, 0) == CURLUE_OK && is_http(h) &&
        curl_url_get(h, CURLUPART_URL, &url, 0) == CURLUE_OK && strlen(url) < len) {
        memcpy(out, url, strlen(url) + 1);
        rc = 0;
    }
    curl_free(url);
    curl_url_cleanup(h);
    return rc;
}

/* The parts of an origin, as libcurl gives them. */
typedef struct origin {
    char *scheme, *host, *port;
} origin;

static void origin_free(origin *o) {
    curl_free(o->scheme);
    curl_free(o->host);
    curl_free(o->port);
}

/* 0 with o filled (origin_free it either way), or -1. */
static int origin_of(const char *url, int refuse_userinfo, origin *o) {
    CURLU *h = parse_http_url(url);
    int rc = -1;
    memset(o, 0, sizeof *o);
    if (!h) return -1;
    if (refuse_userinfo) {
        char *part = NULL;
        /* Any userinfo, even empty ("https://@host"), is refused: CURLUE_NO_USER is the
         * only answer that means there is none. */
        CURLUcode u = curl_url_get(h, CURLUPART_USER, &part, 0);
        curl_free(part);
        part = NULL;
        CURLUcode pw = curl_url_get(h, CURLUPART_PASSWORD, &part, 0);
        curl_free(part);
        if (u != CURLUE_NO_USER || pw != CURLUE_NO_PASSWORD) goto done;
    }
    /* CURLU_PUNYCODE: an IDN host as its ASCII form; when libcurl cannot convert it, the
     * call fails and so does the check. */
    if (curl_url_get(h, CURLUPART_SCHEME, &o->scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &o->host, CURLU_PUNYCODE) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto done;
    rc = 0;
done:
    curl_url_cleanup(h);
    return rc;
}

int val_same_origin(const char *base, const char *url) {
    origin a = {0}, b = {0};
    int same = origin_of(base, 0, &a) == 0 && origin_of(url, 1, &b) == 0 &&
               strcmp(a.scheme, b.scheme) == 0 && strcasecmp(a.host, b.host) == 0 &&
               strcmp(a.port, b.port) == 0;
    origin_free(&a);
    origin_free(&b);
    return same;
}
