/* test_fx_crypto.c - access tokens at rest: round trip, a fresh nonce per seal, and
 * every way opening must fail: wrong key, wrong connection id, a changed byte, a cut
 * text; key parsing accepts exactly 32 bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher/fx_crypto.h"

#define KEY_A "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" /* "0123456789abcdef" x2 */
#define KEY_B "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
#define TOKEN "at_live_9f8e7d6c5b4a"

static fx_key key(const char *b64) {
    fx_key k;
    char err[128];
    assert_int_equal(fx_crypto_key_parse(b64, &k, err, sizeof err), 0);
    return k;
}

static void round_trip(void **state) {
    (void)state;
    fx_key k = key(KEY_A);
    char err[128];
    char *s = fx_crypto_seal(&k, "conn_1", TOKEN, err, sizeof err);
    assert_non_null(s);
    assert_null(strstr(s, TOKEN));
    assert_true(strncmp(s, "v1.", 3) == 0);
    char *p = fx_crypto_open(&k, "conn_1", s, err, sizeof err);
    assert_non_null(p);
    assert_string_equal(p, TOKEN);
    fx_crypto_free_secret(p);
    char *s2 = fx_crypto_seal(&k, "conn_1", TOKEN, err, sizeof err);
    assert_string_not_equal(s, s2); /* random nonce */
    free(s);
    free(s2);
}

static void wrong_key_fails(void **state) {
    (void)state;
    fx_key a = key(KEY_A), b = key(KEY_B);
    char err[128];
    char *s = fx_crypto_seal(&a, "conn_1", TOKEN, err, sizeof err);
    assert_null(fx_crypto_open(&b, "conn_1", s, err, sizeof err));
    assert_non_null(strstr(err, "TOKEN_ENCRYPTION_KEY"));
    assert_null(strstr(err, TOKEN));
    free(s);
}

static void wrong_connection_fails(void **state) {
    (void)state;
    fx_key a = key(KEY_A);
    char err[128];
    char *s = fx_crypto_seal(&a, "conn_1", TOKEN, err, sizeof err);
    assert_null(fx_crypto_open(&a, "conn_2", s, err, sizeof err));
    free(s);
}

static void tampering_fails(void **state) {
    (void)state;
    fx_key a = key(KEY_A);
    char err[128];
    char *s = fx_crypto_seal(&a, "conn_1", TOKEN, err, sizeof err);
    size_t n = strlen(s);
    for (size_t i = 3; i + 4 < n; i += 7) { /* not the last group: padding bits */
        char saved = s[i];
        s[i] = s[i] == 'A' ? 'B' : 'A';
        char *p = fx_crypto_open(&a, "conn_1", s, err, sizeof err);
        assert_null(p);
        s[i] = saved;
    }
    s[n - 8] = '\0'; /* cut */
    assert_null(fx_crypto_open(&a, "conn_1", s, err, sizeof err));
    assert_null(fx_crypto_open(&a, "conn_1", "v2.AAAA", err, sizeof err));
    assert_null(fx_crypto_open(&a, "conn_1", "v1.", err, sizeof err));
    free(s);
}

static void key_must_be_32_bytes(void **state) {
    (void)state;
    fx_key k;
    char err[128];
    assert_int_equal(fx_crypto_key_parse("", &k, err, sizeof err), -1);
    assert_int_equal(fx_crypto_key_parse("c2hvcnQ=", &k, err, sizeof err), -1); /* 5 bytes */
    assert_int_equal(fx_crypto_key_parse("not base64!", &k, err, sizeof err), -1);
    /* 33 bytes */
    assert_int_equal(
        fx_crypto_key_parse("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWZY", &k, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "TOKEN_ENCRYPTION_KEY"));
    assert_int_equal(fx_crypto_key_parse(KEY_A, &k, err, sizeof err), 0);
    assert_memory_equal(k.k, "0123456789abcdef0123456789abcdef", 32);
}

static void empty_or_huge_token_refused(void **state) {
    (void)state;
    fx_key a = key(KEY_A);
    char err[128];
    assert_null(fx_crypto_seal(&a, "c", "", err, sizeof err));
    char *big = malloc(FX_SECRET_MAX + 2);
    memset(big, 'x', FX_SECRET_MAX + 1);
    big[FX_SECRET_MAX + 1] = '\0';
    assert_null(fx_crypto_seal(&a, "c", big, err, sizeof err));
    big[FX_SECRET_MAX] = '\0'; /* exactly the maximum is fine */
    char *s = fx_crypto_seal(&a, "c", big, err, sizeof err);
    assert_non_null(s);
    char *p = fx_crypto_open(&a, "c", s, err, sizeof err);
    assert_string_equal(p, big);
    fx_crypto_free_secret(p);
    free(s);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(wrong_key_fails),
        cmocka_unit_test(wrong_connection_fails),
        cmocka_unit_test(tampering_fails),
        cmocka_unit_test(key_must_be_32_bytes),
        cmocka_unit_test(empty_or_huge_token_refused),
    };
    return cmocka_run_group_tests_name("fx_crypto", tests, NULL, NULL);
}
