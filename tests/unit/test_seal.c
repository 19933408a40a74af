/* test_seal.c - the sealing key ring (common/seal.h): round trip in the v2 envelope with
 * its key id, a fresh nonce per seal, every way opening must fail (unknown key id, wrong
 * connection, a changed byte, a swapped header, a cut text), rotation (seal with A,
 * then B seals and A still opens, then A retired), texts sealed before key ids (v1)
 * still opening, and the parsing of TOKEN_ENCRYPTION_KEY / TOKEN_DECRYPTION_KEYS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

#define KEY_A "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" /* "0123456789abcdef" x2 */
#define KEY_B "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
#define KEY_C "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
#define TOKEN "at_live_9f8e7d6c5b4a"
/* Sealed by the fetcher's AES-256-GCM code before key ids existed (KEY_A, "conn_1"). */
#define V1_TEXT "v1.wVEeRPZaFmYEkJIcdQc1Ki+W1h8vdjFVgi7Hx7QvXB6RwNBDu8dMCcNoNO7neOB8"

static seal_ring ring(const char *sealing, const char *older) {
    seal_ring r;
    char err[160];
    assert_int_equal(seal_ring_parse(sealing, older, &r, err, sizeof err), 0);
    return r;
}

static void round_trip_v2(void **state) {
    (void)state;
    seal_ring a = ring(KEY_A, NULL);
    char err[160], kid[SEAL_KID_LEN + 1];
    char *s = seal_seal(&a, "conn_1", TOKEN, err, sizeof err);
    assert_non_null(s);
    assert_null(strstr(s, TOKEN));
    char want[32];
    snprintf(want, sizeof want, "v2.%s.", a.keys[0].kid);
    assert_true(strncmp(s, want, strlen(want)) == 0);
    assert_int_equal(seal_kid_of(s, kid), 0);
    assert_string_equal(kid, a.keys[0].kid);
    assert_int_equal(strlen(kid), SEAL_KID_LEN);
    assert_true(seal_is_current(&a, s));
    char *p = seal_open(&a, "conn_1", s, err, sizeof err);
    assert_non_null(p);
    assert_string_equal(p, TOKEN);
    seal_free_secret(p);
    char *s2 = seal_seal(&a, "conn_1", TOKEN, err, sizeof err);
    assert_string_not_equal(s, s2); /* random nonce */
    free(s);
    free(s2);
}

static void key_ids_differ_and_are_stable(void **state) {
    (void)state;
    seal_ring a = ring(KEY_A, NULL), a2 = ring(KEY_A, NULL), b = ring(KEY_B, NULL);
    assert_string_equal(a.keys[0].kid, a2.keys[0].kid);
    assert_string_not_equal(a.keys[0].kid, b.keys[0].kid);
    for (const char *p = a.keys[0].kid; *p; p++)
        assert_non_null(strchr("0123456789abcdef", *p));
}

static void unknown_key_id_fails_naming_it(void **state) {
    (void)state;
    seal_ring a = ring(KEY_A, NULL), b = ring(KEY_B, NULL);
    char err[160];
    char *s = seal_seal(&a, "conn_1", TOKEN, err, sizeof err);
    assert_null(seal_open(&b, "conn_1", s, err, sizeof err));
    assert_non_null(strstr(err, a.keys[0].kid));
    assert_non_null(strstr(err, SEAL_ENV_OLD));
    assert_null(strstr(err, TOKEN));
    free(s);
}

static void wrong_connection_fails(void **state) {
    (void)state;
    seal_ring a = ring(KEY_A, NULL);
    char err[160];
    char *s = seal_seal(&a, "conn_1", TOKEN, err, sizeof err);
    assert_null(seal_open(&a, "conn_2", s, err, sizeof err));
    assert_null(seal_open(&a, "", s, err, sizeof err));
    free(s);
}

static void tampering_fails(void **state) {
    (void)state;
    seal_ring a = ring(KEY_A, NULL);
    char err[160];
    char *s = seal_seal(&a, "conn_1", TOKEN, err, sizeof err);
    size_t n = strlen(s), body = 3 + SEAL_KID_LEN + 1;
    for (size_t i = body; i + 4 < n; i += 5) { /* not the last group: padding bits */
        char saved = s[i];
        s[i] = s[i] == 'A' ? 'B' : 'A';
        assert_null(seal_open(&a, "conn_1", s, err, sizeof err));
        s[i] = saved;
    }
    char *p = seal_open(&a, "conn_1", s, err, sizeof err); /* restored: opens again */
    assert_string_equal(p, TOKEN);
    seal_free_secret(p);
    s[n - 8] = '\0'; /* cut */
    assert_null(seal_open(&a, "conn_1", s, err, sizeof err));
    static const char *const junk[] = {"",
                                       "v2.",
                                       "v1.",
                                       "v3.abcdefgh.AAAA",
                                       "v2.ABCDEFGH.AAAA",
                                       "v2.abcdefg.AAAA",
                                       "v2.abcdefgh",
                                       TOKEN,
                                       "v2.abcdefgh.!!!!"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_null(seal_open(&a, "conn_1", junk[i], err, sizeof err));
    assert_null(seal_open(&a, "conn_1", NULL, err, sizeof err));
    free(s);
}

/* The key id is authenticated: the same ciphertext under another key's id never opens,
 * even when the ring holds both keys. */
static void swapped_header_fails(void **state) {
    (void)state;
    seal_ring ab = ring(KEY_A, KEY_B);
    char err[160];
    char *s = seal_seal(&ab, "conn_1", TOKEN, err, sizeof err);
    memcpy(s + 3, ab.keys[1].kid, SEAL_KID_LEN);
    assert_null(seal_open(&ab, "conn_1", s, err, sizeof err));
    /* and the v2 body presented as v1 (no header in the AAD) neither */
    char v1[1024];
    snprintf(v1, sizeof v1, "v1.%s", s + 3 + SEAL_KID_LEN + 1);
    assert_null(seal_open(&ab, "conn_1", v1, err, sizeof err));
    free(s);
}

static void rotation(void **state) {
    (void)state;
    char err[160];
    seal_ring a = ring(KEY_A, NULL);
    char *old = seal_seal(&a, "conn_1", TOKEN, err, sizeof err);
    /* B seals, A still opens */
    seal_ring ba = ring(KEY_B, KEY_A);
    assert_int_equal(ba.n, 2);
    assert_false(seal_is_current(&ba, old));
    char *p = seal_open(&ba, "conn_1", old, err, sizeof err);
    assert_string_equal(p, TOKEN);
    char *resealed = seal_seal(&ba, "conn_1", p, err, sizeof err);
    seal_free_secret(p);
    assert_true(seal_is_current(&ba, resealed));
    /* A retired: only the re-sealed text opens */
    seal_ring b = ring(KEY_B, NULL);
    p = seal_open(&b, "conn_1", resealed, err, sizeof err);
    assert_string_equal(p, TOKEN);
    seal_free_secret(p);
    assert_null(seal_open(&b, "conn_1", old, err, sizeof err));
    free(old);
    free(resealed);
}

static void v1_texts_still_open(void **state) {
    (void)state;
    char err[160], kid[SEAL_KID_LEN + 1];
    assert_int_equal(seal_kid_of(V1_TEXT, kid), 0);
    assert_string_equal(kid, "");
    seal_ring ca = ring(KEY_C, KEY_A); /* A is not the sealing key: v1 tries every key */
    assert_false(seal_is_current(&ca, V1_TEXT));
    char *p = seal_open(&ca, "conn_1", V1_TEXT, err, sizeof err);
    assert_non_null(p);
    assert_string_equal(p, TOKEN);
    seal_free_secret(p);
    assert_null(seal_open(&ca, "conn_2", V1_TEXT, err, sizeof err));
    seal_ring c = ring(KEY_C, NULL);
    assert_null(seal_open(&c, "conn_1", V1_TEXT, err, sizeof err));
}

static void ring_parsing(void **state) {
    (void)state;
    seal_ring r;
    char err[160], kids[128];
    assert_int_equal(seal_ring_parse("", NULL, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, SEAL_ENV_KEY));
    assert_int_equal(seal_ring_parse(NULL, NULL, &r, err, sizeof err), -1);
    assert_int_equal(seal_ring_parse("c2hvcnQ=", NULL, &r, err, sizeof err), -1); /* 5 bytes */
    assert_int_equal(seal_ring_parse("not base64!", NULL, &r, err, sizeof err), -1);
    assert_int_equal(
        seal_ring_parse("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWZY", NULL, &r, err, sizeof err),
        -1); /* 33 bytes */
    assert_int_equal(seal_ring_parse(KEY_A, KEY_B ",c2hvcnQ=", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, SEAL_ENV_OLD));
    assert_non_null(strstr(err, "#2"));
    assert_null(strstr(err, KEY_B));
    /* spaces and empty entries are fine; a key listed twice (or the sealing key again)
     * counts once */
    assert_int_equal(
        seal_ring_parse(KEY_A, " " KEY_B " ,, " KEY_A "," KEY_B ",", &r, err, sizeof err), 0);
    assert_int_equal(r.n, 2);
    assert_memory_equal(r.keys[0].k, "0123456789abcdef0123456789abcdef", 32);
    seal_ring_kids(&r, kids, sizeof kids);
    char want[64];
    snprintf(want, sizeof want, "%s,%s", r.keys[0].kid, r.keys[1].kid);
    assert_string_equal(kids, want);
    /* at most SEAL_MAX_KEYS keys */
    char many[2048] = "";
    for (int i = 0; i < SEAL_MAX_KEYS; i++) {
        char k[33], b64[64];
        snprintf(k, sizeof k, "%031d%c", i, 'k');
        /* base64 of 32 bytes without OpenSSL in the test: hand-made table below */
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t o = 0;
        for (int j = 0; j < 30; j += 3) {
            unsigned v =
                (unsigned char)k[j] << 16 | (unsigned char)k[j + 1] << 8 | (unsigned char)k[j + 2];
            b64[o++] = al[v >> 18 & 63], b64[o++] = al[v >> 12 & 63];
            b64[o++] = al[v >> 6 & 63], b64[o++] = al[v & 63];
        }
        unsigned v = (unsigned char)k[30] << 16 | (unsigned char)k[31] << 8;
        b64[o++] = al[v >> 18 & 63], b64[o++] = al[v >> 12 & 63], b64[o++] = al[v >> 6 & 63];
        b64[o++] = '=';
        b64[o] = '\0';
        strcat(many, i ? "," : "");
        strcat(many, b64);
    }
    assert_int_equal(seal_ring_parse(KEY_A, many, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
    seal_ring_wipe(&r);
    assert_int_equal(r.n, 0);
}

static void empty_or_huge_secret_refused(void **state) {
    (void)state;
    seal_ring a = ring(KEY_A, NULL);
    char err[160];
    assert_null(seal_seal(&a, "c", "", err, sizeof err));
    assert_null(seal_seal(&a, "c", NULL, err, sizeof err));
    char *big = malloc(SEAL_SECRET_MAX + 2);
    memset(big, 'x', SEAL_SECRET_MAX + 1);
    big[SEAL_SECRET_MAX + 1] = '\0';
    assert_null(seal_seal(&a, "c", big, err, sizeof err));
    big[SEAL_SECRET_MAX] = '\0'; /* exactly the maximum is fine */
    char *s = seal_seal(&a, "c", big, err, sizeof err);
    assert_non_null(s);
    char *p = seal_open(&a, "c", s, err, sizeof err);
    assert_string_equal(p, big);
    seal_free_secret(p);
    free(s);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_v2),
        cmocka_unit_test(key_ids_differ_and_are_stable),
        cmocka_unit_test(unknown_key_id_fails_naming_it),
        cmocka_unit_test(wrong_connection_fails),
        cmocka_unit_test(tampering_fails),
        cmocka_unit_test(swapped_header_fails),
        cmocka_unit_test(rotation),
        cmocka_unit_test(v1_texts_still_open),
        cmocka_unit_test(ring_parsing),
        cmocka_unit_test(empty_or_huge_secret_refused),
    };
    return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
