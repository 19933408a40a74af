/* test_gw_http_parse.c - webhook-gw's HTTP parser: request heads (what is accepted,
 * what each refusal answers), framing and connection rules, and the chunked decoder fed
 * whole and one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook-gw/gw_http_parse.h"

#define MAX_HEAD 8192

/* Parse a copy of text (the parser writes into its buffer). */
static int parse(const char *text, gw_http_head *h, size_t *hl, char **keep) {
    size_t n = strlen(text);
    char *buf = malloc(n + 1);
    memcpy(buf, text, n + 1);
    *keep = buf;
    return gw_http_parse_head(buf, n, MAX_HEAD, h, hl);
}

typedef struct {
    const char *text;
    int want; /* 0, GW_HTTP_INCOMPLETE or a status */
} head_case;

static const head_case head_cases[] = {
    {"POST /w HTTP/1.1\r\nHost: x\r\n\r\n", 0},
    {"\r\n\r\nPOST /w HTTP/1.1\r\nHost: x\r\n\r\n", 0}, /* empty lines before: skipped */
    {"POST /w HTTP/1.1\r\nHost: x\r\n", GW_HTTP_INCOMPLETE},
    {"POST /w HTTP/1.1\r\nHo", GW_HTTP_INCOMPLETE},
    {"", GW_HTTP_INCOMPLETE},
    {"POST /w HTTP/1.0\r\n\r\n", 0},                         /* 1.0 needs no Host */
    {"POST /w HTTP/1.1\r\n\r\n", 400},                       /* 1.1 without Host */
    {"POST /w HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400}, /* two Hosts */
    {"POST /w HTTP/2.0\r\nHost: x\r\n\r\n", 505},
    {"POST /w HTTP/1.1x\r\nHost: x\r\n\r\n", 400},
    {"POST /w http/1.1\r\nHost: x\r\n\r\n", 400},
    {"POST  /w HTTP/1.1\r\nHost: x\r\n\r\n", 400}, /* two spaces */
    {"POST w HTTP/1.1\r\nHost: x\r\n\r\n", 400},   /* not origin-form */
    {"PO(ST /w HTTP/1.1\r\nHost: x\r\n\r\n", 400}, /* not a token */
    {"\x16\x03\x01 hello\r\n\r\n", 400},           /* TLS to a plain port */
    {"POST /w HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nName : 1\r\n\r\n", 400}, /* blank before ':' */
    {"POST /w HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nA: 1\r\n folded\r\n\r\n", 400},
    {"POST /w HTTP/1.1\nHost: x\r\n\r\n", 400},                   /* bare LF */
    {"POST /w HTTP/1.1\r\nHost: x\rY\r\n\r\n", 400},              /* bare CR */
    {"POST /w HTTP/1.1\r\nHost: x\r\nA: \x01\r\n\r\n", 400},      /* control byte */
    {"POST /w HTTP/1.1\r\nHost: x\r\nA: caf\xc3\xa9\r\n\r\n", 0}, /* obs-text is fine */
    {"POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 12a\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0},
    {"POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
    {"POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
     "chunked\r\n\r\n",
     501},
    {"POST /w HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"POST /w HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", 0},
    {"POST /w HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417},
};

static void test_head_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0]; i++) {
        gw_http_head h;
        size_t hl = 0;
        char *buf;
        int got = parse(head_cases[i].text, &h, &hl, &buf);
        if (got != head_cases[i].want) {
            print_error("case %zu: got %d, want %d\n", i, got, head_cases[i].want);
            fail();
        }
        if (got == 0 && hl != strlen(head_cases[i].text)) {
            print_error("case %zu: head length %zu of %zu\n", i, hl, strlen(head_cases[i].text));
            fail();
        }
        free(buf);
    }
}

static void test_head_fields(void **state) {
    (void)state;
    gw_http_head h;
    size_t hl;
    char *buf;
    const char *text = "POST /webhooks/trackstar?x=1 HTTP/1.1\r\nHost: gw\r\n"
                       "svix-id:msg_1\r\nSVIX-Signature:   v1,abc   \r\nContent-Length: 17\r\n\r\n"
                       "{\"body\":\"here\"}..";
    assert_int_equal(parse(text, &h, &hl, &buf), 0);
    assert_int_equal(hl, strstr(text, "\r\n\r\n") + 4 - text); /* the body is not part of it */
    assert_string_equal(h.method, "POST");
    assert_string_equal(h.path, "/webhooks/trackstar"); /* the query is cut off */
    assert_int_equal(h.minor, 1);
    assert_string_equal(gw_http_head_get(&h, "Svix-Id"), "msg_1");
    assert_string_equal(gw_http_head_get(&h, "svix-signature"), "v1,abc"); /* blanks trimmed */
    assert_null(gw_http_head_get(&h, "svix-timestamp"));
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 17);
    assert_false(h.chunked);
    assert_true(h.keep_alive);
    free(buf);

    /* a length that does not fit is kept as "too large", not refused */
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", &h,
              &hl, &buf),
        0);
    assert_int_equal(h.content_length, UINT64_MAX);
    free(buf);
}

static void test_keep_alive(void **state) {
    (void)state;
    struct {
        const char *text;
        int keep_alive, expect;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\n\r\n", 1, 0},
        {"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, 0},
        {"POST / HTTP/1.1\r\nHost: x\r\nConnection: TE, Close\r\n\r\n", 0, 0},
        {"POST / HTTP/1.0\r\n\r\n", 0, 0},
        {"POST / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1, 0},
        {"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n", 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_http_head h;
        size_t hl;
        char *buf;
        assert_int_equal(parse(cases[i].text, &h, &hl, &buf), 0);
        assert_int_equal(h.keep_alive, cases[i].keep_alive);
        assert_int_equal(h.expect_continue, cases[i].expect);
        free(buf);
    }
}

static void test_head_limits(void **state) {
    (void)state;
    /* a head over the limit is 431, whether or not it has ended */
    size_t big = MAX_HEAD + 100;
    char *buf = malloc(big + 64);
    int n = snprintf(buf, 64, "POST / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(buf + n, 'a', big - (size_t)n);
    gw_http_head h;
    size_t hl;
    assert_int_equal(gw_http_parse_head(buf, big, MAX_HEAD, &h, &hl), 431);
    memcpy(buf + big - 4, "\r\n\r\n", 4);
    assert_int_equal(gw_http_parse_head(buf, big, MAX_HEAD, &h, &hl), 431);
    free(buf);

    /* more headers than GW_HTTP_MAX_HEADERS: 431 */
    char many[4096];
    size_t m = (size_t)snprintf(many, sizeof many, "POST / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < GW_HTTP_MAX_HEADERS; i++)
        m += (size_t)snprintf(many + m, sizeof many - m, "H%d: v\r\n", i);
    m += (size_t)snprintf(many + m, sizeof many - m, "\r\n");
    assert_int_equal(gw_http_parse_head(many, m, MAX_HEAD, &h, &hl), 431);

    /* a NUL or a bare LF is refused before the head ends */
    char nul[] = "POST / HTTP/1.1\r\nHost: x\0y";
    assert_int_equal(gw_http_parse_head(nul, sizeof nul - 1, MAX_HEAD, &h, &hl), 400);
    char lf[] = "POST / HTTP/1.1\nHost";
    assert_int_equal(gw_http_parse_head(lf, sizeof lf - 1, MAX_HEAD, &h, &hl), 400);
}

/* Decode a chunked body fed step pieces at a time; returns the final status and the
 * body in out. */
static int dechunk(const char *in, size_t n, size_t step, char *out, size_t *out_len,
                   size_t *consumed) {
    gw_http_chunked c;
    memset(&c, 0, sizeof c);
    size_t pos = 0;
    *out_len = 0;
    while (pos < n) {
        size_t avail = n - pos < step ? n - pos : step;
        size_t used = 0, dlen = 0;
        const char *data = NULL;
        int rc = gw_http_chunked_step(&c, in + pos, avail, &used, &data, &dlen);
        pos += used;
        if (rc == GW_CHUNK_DATA) {
            memcpy(out + *out_len, data, dlen);
            *out_len += dlen;
        } else if (rc != GW_CHUNK_MORE) {
            *consumed = pos;
            return rc;
        }
    }
    *consumed = pos;
    return GW_CHUNK_MORE;
}

static void test_chunked(void **state) {
    (void)state;
    const char body[] =
        "5\r\nhello\r\n1;ext=1\r\n \r\nA \r\n0123456789\r\n0\r\nTrailer: t\r\n\r\nNEXT";
    for (size_t step = 1; step <= sizeof body; step++) {
        char out[64];
        size_t olen, used;
        int rc = dechunk(body, sizeof body - 1, step, out, &olen, &used);
        assert_int_equal(rc, GW_CHUNK_DONE);
        assert_int_equal(olen, 16);
        assert_memory_equal(out, "hello 0123456789", 16);
        assert_int_equal(used, sizeof body - 1 - 4); /* "NEXT" is the next request's */
    }
    struct {
        const char *in;
        int want;
    } cases[] = {
        {"0\r\n\r\n", GW_CHUNK_DONE},
        {"00000\r\n\r\n", GW_CHUNK_DONE},
        {"5\r\nhel", GW_CHUNK_MORE},
        {"x\r\n", GW_CHUNK_BAD},                 /* not hex */
        {"\r\n", GW_CHUNK_BAD},                  /* no size */
        {"5\nhello\r\n0\r\n\r\n", GW_CHUNK_BAD}, /* bare LF */
        {"5\r\nhelloX\r\n", GW_CHUNK_BAD},       /* data longer than its size */
        {"1000000000000000\r\n", GW_CHUNK_BAD},  /* 16 hex digits: refused, no overflow */
        {"0\r\nTrailer\n\r\n", GW_CHUNK_BAD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t olen, used;
        int rc = dechunk(cases[i].in, strlen(cases[i].in), strlen(cases[i].in), out, &olen, &used);
        if (rc != cases[i].want) {
            print_error("chunked case %zu: got %d, want %d\n", i, rc, cases[i].want);
            fail();
        }
    }
    /* a NUL anywhere in an extension or a trailer line, its first byte included */
    const char nul_ext[] = "1;a\0b\r\nx\r\n0\r\n\r\n";
    const char nul_trailer[] = "0\r\n\0T: v\r\n\r\n";
    const char nul_inside[] = "0\r\nT: \0v\r\n\r\n";
    {
        char out[64];
        size_t olen, used;
        assert_int_equal(dechunk(nul_ext, sizeof nul_ext - 1, 64, out, &olen, &used), GW_CHUNK_BAD);
        assert_int_equal(dechunk(nul_trailer, sizeof nul_trailer - 1, 64, out, &olen, &used),
                         GW_CHUNK_BAD);
        assert_int_equal(dechunk(nul_inside, sizeof nul_inside - 1, 64, out, &olen, &used),
                         GW_CHUNK_BAD);
    }
    /* extensions and trailers are bounded */
    char ext[8192];
    size_t n = (size_t)snprintf(ext, sizeof ext, "1;");
    memset(ext + n, 'e', 5000);
    n += 5000;
    memcpy(ext + n, "\r\nx\r\n0\r\n\r\n", 10);
    n += 10;
    char out[64];
    size_t olen, used;
    assert_int_equal(dechunk(ext, n, n, out, &olen, &used), GW_CHUNK_BAD);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_table), cmocka_unit_test(test_head_fields),
        cmocka_unit_test(test_keep_alive), cmocka_unit_test(test_head_limits),
        cmocka_unit_test(test_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
