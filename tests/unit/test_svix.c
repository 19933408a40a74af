/* test_svix.c - Svix signature scheme: the published vector, wrong secret, stale and
 * future timestamps, several signatures in one header, rotation, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "svix.h"

/* Svix's published example (reference §7.5). */
#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS "1614265330"
#define VEC_TS_N 1614265330LL
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static svix_key key_of(const char *secret) {
    svix_key k;
    char err[128];
    assert_int_equal(svix_key_parse(secret, &k, err, sizeof err), 0);
    return k;
}

static svix_result verify(const svix_key *k, int n, const char *sig, long long now) {
    return svix_verify(k, n, VEC_ID, VEC_TS, sig, VEC_BODY, strlen(VEC_BODY), now);
}

static void published_vector_verifies(void **state) {
    (void)state;
    svix_key k = key_of(VEC_SECRET);
    assert_int_equal(k.len, 24);
    assert_int_equal(verify(&k, 1, VEC_SIG, VEC_TS_N), SVIX_OK);
}

static void signing_reproduces_vector(void **state) {
    (void)state;
    svix_key k = key_of(VEC_SECRET);
    char sig[SVIX_SIG_B64_LEN + 1];
    assert_int_equal(svix_sign(&k, VEC_ID, VEC_TS_N, VEC_BODY, strlen(VEC_BODY), sig), 0);
    assert_string_equal(sig, VEC_SIG + 3);
}

static void wrong_secret_rejected(void **state) {
    (void)state;
    svix_key k = key_of("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(verify(&k, 1, VEC_SIG, VEC_TS_N), SVIX_NO_MATCH);
}

static void tampered_body_rejected(void **state) {
    (void)state;
    svix_key k = key_of(VEC_SECRET);
    const char *body = "{\"test\": 2432232315}";
    assert_int_equal(svix_verify(&k, 1, VEC_ID, VEC_TS, VEC_SIG, body, strlen(body), VEC_TS_N),
                     SVIX_NO_MATCH);
}

static void tolerance_is_five_minutes_both_ways(void **state) {
    (void)state;
    svix_key k = key_of(VEC_SECRET);
    assert_int_equal(verify(&k, 1, VEC_SIG, VEC_TS_N + 300), SVIX_OK);
    assert_int_equal(verify(&k, 1, VEC_SIG, VEC_TS_N - 300), SVIX_OK);
    assert_int_equal(verify(&k, 1, VEC_SIG, VEC_TS_N + 301), SVIX_STALE);
    assert_int_equal(verify(&k, 1, VEC_SIG, VEC_TS_N - 301), SVIX_STALE);
}

static void several_signatures_in_one_header(void **state) {
    (void)state;
    svix_key k = key_of(VEC_SECRET);
    const char *hdr = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " VEC_SIG
                      " v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert_int_equal(verify(&k, 1, hdr, VEC_TS_N), SVIX_OK);
    /* Only v1 entries count: the right signature under another version is ignored. */
    assert_int_equal(verify(&k, 1, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VEC_TS_N),
                     SVIX_NO_MATCH);
}

static void rotation_accepts_either_secret(void **state) {
    (void)state;
    svix_key keys[SVIX_MAX_SECRETS];
    int n;
    char err[128];
    assert_int_equal(svix_keys_parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA," VEC_SECRET, keys,
                                     SVIX_MAX_SECRETS, &n, err, sizeof err),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(verify(keys, n, VEC_SIG, VEC_TS_N), SVIX_OK);
    assert_int_equal(verify(keys, 1, VEC_SIG, VEC_TS_N), SVIX_NO_MATCH);
}

static void missing_and_malformed_headers(void **state) {
    (void)state;
    svix_key k = key_of(VEC_SECRET);
    const char *b = VEC_BODY;
    assert_int_equal(svix_verify(&k, 1, "", VEC_TS, VEC_SIG, b, strlen(b), VEC_TS_N),
                     SVIX_MISSING_HEADER);
    assert_int_equal(svix_verify(&k, 1, VEC_ID, NULL, VEC_SIG, b, strlen(b), VEC_TS_N),
                     SVIX_MISSING_HEADER);
    assert_int_equal(svix_verify(&k, 1, VEC_ID, VEC_TS, "", b, strlen(b), VEC_TS_N),
                     SVIX_MISSING_HEADER);
    assert_int_equal(svix_verify(&k, 1, VEC_ID, "16142x", VEC_SIG, b, strlen(b), VEC_TS_N),
                     SVIX_BAD_TIMESTAMP);
    assert_int_equal(verify(&k, 1, "v1,", VEC_TS_N), SVIX_NO_MATCH);
    assert_int_equal(verify(&k, 1, "v1,g0hM9SsE", VEC_TS_N), SVIX_NO_MATCH);
}

static void bad_secrets_rejected(void **state) {
    (void)state;
    svix_key k;
    char err[128];
    assert_int_equal(svix_key_parse("whsec_", &k, err, sizeof err), -1);
    assert_int_equal(svix_key_parse("whsec_not*base64!!", &k, err, sizeof err), -1);
    assert_null(strstr(err, "not*base64")); /* the secret never lands in the message */
    int n;
    svix_key keys[2];
    assert_int_equal(svix_keys_parse("", keys, 2, &n, err, sizeof err), -1);
    assert_int_equal(
        svix_keys_parse(VEC_SECRET "," VEC_SECRET "," VEC_SECRET, keys, 2, &n, err, sizeof err),
        -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_vector_verifies),
        cmocka_unit_test(signing_reproduces_vector),
        cmocka_unit_test(wrong_secret_rejected),
        cmocka_unit_test(tampered_body_rejected),
        cmocka_unit_test(tolerance_is_five_minutes_both_ways),
        cmocka_unit_test(several_signatures_in_one_header),
        cmocka_unit_test(rotation_accepts_either_secret),
        cmocka_unit_test(missing_and_malformed_headers),
        cmocka_unit_test(bad_secrets_rejected),
    };
    return cmocka_run_group_tests_name("svix", tests, NULL, NULL);
}
