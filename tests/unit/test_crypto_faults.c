/* test_crypto_faults.c - every OpenSSL call the project makes, forced to fail, must
 * refuse: no Svix signature verifies (not even the right one, nor the all-zero forgery
 * that used to pass), no token is sealed or opened, and each failure is counted in
 * crypto_failures_total{operation} and logged.
 *
 * The faults come from link-time wrapping (the Makefile links this test with
 * -Wl,--wrap=<call> for each call below): __wrap_X fails the nth call of X when asked
 * to, and otherwise calls the real X. The test first counts how often each operation
 * makes each call, then fails each of those calls in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_err.h"
#include "log.h"
#include "seal.h"
#include "svix.h"
#include "tests/unit/stderr_capture.h"

/* ---- the fault switch --------------------------------------------------------------- */

enum {
    F_MAC_FETCH,
    F_MAC_CTX_NEW,
    F_MAC_INIT,
    F_MAC_UPDATE,
    F_MAC_FINAL,
    F_ENCODE_BLOCK,
    F_RAND_BYTES,
    F_CIPHER_CTX_NEW,
    F_ENCRYPT_INIT,
    F_CIPHER_CTRL,
    F_ENCRYPT_UPDATE,
    F_ENCRYPT_FINAL,
    F_DECRYPT_INIT,
    F_DECRYPT_UPDATE,
    F_DECRYPT_FINAL,
    F_COUNT
};
static const char *const fn_name[F_COUNT] = {
    "EVP_MAC_fetch",      "EVP_MAC_CTX_new",     "EVP_MAC_init",        "EVP_MAC_update",
    "EVP_MAC_final",      "EVP_EncodeBlock",     "RAND_bytes",          "EVP_CIPHER_CTX_new",
    "EVP_EncryptInit_ex", "EVP_CIPHER_CTX_ctrl", "EVP_EncryptUpdate",   "EVP_EncryptFinal_ex",
    "EVP_DecryptInit_ex", "EVP_DecryptUpdate",   "EVP_DecryptFinal_ex",
};

static int calls[F_COUNT]; /* calls seen since the last reset */
static int fail_fn = -1;   /* the call to fail, or -1 */
static int fail_nth;       /* ... on its nth call (0-based) */
static int paused;         /* calls made by the test's own checks: neither counted nor failed */

static void faults_reset(int fn, int nth) {
    memset(calls, 0, sizeof calls);
    fail_fn = fn;
    fail_nth = nth;
}

static int fault(int fn) {
    if (paused) return 0;
    return calls[fn]++ == fail_nth && fn == fail_fn;
}

/* ---- the wrappers ------------------------------------------------------------------- */

EVP_MAC *__real_EVP_MAC_fetch(OSSL_LIB_CTX *, const char *, const char *);
EVP_MAC *__wrap_EVP_MAC_fetch(OSSL_LIB_CTX *l, const char *a, const char *p) {
    return fault(F_MAC_FETCH) ? NULL : __real_EVP_MAC_fetch(l, a, p);
}
EVP_MAC_CTX *__real_EVP_MAC_CTX_new(EVP_MAC *);
EVP_MAC_CTX *__wrap_EVP_MAC_CTX_new(EVP_MAC *m) {
    return fault(F_MAC_CTX_NEW) ? NULL : __real_EVP_MAC_CTX_new(m);
}
int __real_EVP_MAC_init(EVP_MAC_CTX *, const unsigned char *, size_t, const OSSL_PARAM[]);
int __wrap_EVP_MAC_init(EVP_MAC_CTX *c, const unsigned char *k, size_t n, const OSSL_PARAM p[]) {
    return fault(F_MAC_INIT) ? 0 : __real_EVP_MAC_init(c, k, n, p);
}
int __real_EVP_MAC_update(EVP_MAC_CTX *, const unsigned char *, size_t);
int __wrap_EVP_MAC_update(EVP_MAC_CTX *c, const unsigned char *d, size_t n) {
    return fault(F_MAC_UPDATE) ? 0 : __real_EVP_MAC_update(c, d, n);
}
int __real_EVP_MAC_final(EVP_MAC_CTX *, unsigned char *, size_t *, size_t);
int __wrap_EVP_MAC_final(EVP_MAC_CTX *c, unsigned char *o, size_t *ol, size_t n) {
    return fault(F_MAC_FINAL) ? 0 : __real_EVP_MAC_final(c, o, ol, n);
}
int __real_EVP_EncodeBlock(unsigned char *, const unsigned char *, int);
int __wrap_EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n) {
    return fault(F_ENCODE_BLOCK) ? 0 : __real_EVP_EncodeBlock(t, f, n); /* wrote nothing */
}
int __real_RAND_bytes(unsigned char *, int);
int __wrap_RAND_bytes(unsigned char *b, int n) {
    return fault(F_RAND_BYTES) ? 0 : __real_RAND_bytes(b, n);
}
EVP_CIPHER_CTX *__real_EVP_CIPHER_CTX_new(void);
EVP_CIPHER_CTX *__wrap_EVP_CIPHER_CTX_new(void) {
    return fault(F_CIPHER_CTX_NEW) ? NULL : __real_EVP_CIPHER_CTX_new();
}
int __real_EVP_EncryptInit_ex(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,
                              const unsigned char *);
int __wrap_EVP_EncryptInit_ex(EVP_CIPHER_CTX *c, const EVP_CIPHER *t, ENGINE *e,
                              const unsigned char *k, const unsigned char *iv) {
    return fault(F_ENCRYPT_INIT) ? 0 : __real_EVP_EncryptInit_ex(c, t, e, k, iv);
}
int __real_EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *, int, int, void *);
int __wrap_EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *c, int type, int arg, void *ptr) {
    return fault(F_CIPHER_CTRL) ? 0 : __real_EVP_CIPHER_CTX_ctrl(c, type, arg, ptr);
}
int __real_EVP_EncryptUpdate(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
int __wrap_EVP_EncryptUpdate(EVP_CIPHER_CTX *c, unsigned char *o, int *ol, const unsigned char *i,
                             int n) {
    return fault(F_ENCRYPT_UPDATE) ? 0 : __real_EVP_EncryptUpdate(c, o, ol, i, n);
}
int __real_EVP_EncryptFinal_ex(EVP_CIPHER_CTX *, unsigned char *, int *);
int __wrap_EVP_EncryptFinal_ex(EVP_CIPHER_CTX *c, unsigned char *o, int *ol) {
    return fault(F_ENCRYPT_FINAL) ? 0 : __real_EVP_EncryptFinal_ex(c, o, ol);
}
int __real_EVP_DecryptInit_ex(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,
                              const unsigned char *);
int __wrap_EVP_DecryptInit_ex(EVP_CIPHER_CTX *c, const EVP_CIPHER *t, ENGINE *e,
                              const unsigned char *k, const unsigned char *iv) {
    return fault(F_DECRYPT_INIT) ? 0 : __real_EVP_DecryptInit_ex(c, t, e, k, iv);
}
int __real_EVP_DecryptUpdate(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
int __wrap_EVP_DecryptUpdate(EVP_CIPHER_CTX *c, unsigned char *o, int *ol, const unsigned char *i,
                             int n) {
    return fault(F_DECRYPT_UPDATE) ? 0 : __real_EVP_DecryptUpdate(c, o, ol, i, n);
}
int __real_EVP_DecryptFinal_ex(EVP_CIPHER_CTX *, unsigned char *, int *);
int __wrap_EVP_DecryptFinal_ex(EVP_CIPHER_CTX *c, unsigned char *o, int *ol) {
    return fault(F_DECRYPT_FINAL) ? 0 : __real_EVP_DecryptFinal_ex(c, o, ol);
}

/* ---- the operations under test ------------------------------------------------------ */

#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS "1614265330"
#define VEC_TS_N 1614265330LL
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* What a zeroed MAC encodes to: the forgery that passed while svix.c failed open. */
#define ZERO_SIG "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define TOKEN_KEY "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define TOKEN "at_live_9f8e7d6c5b4a"

static svix_key svix_k;
static seal_ring token_ring;
static char *sealed; /* TOKEN sealed without faults, for the open operation */

/* Each operation returns 1 when it succeeded (a match, a seal, an opened token). */
static int op_verify_right(void) {
    return svix_verify(&svix_k, 1, VEC_ID, VEC_TS, VEC_SIG " " ZERO_SIG, VEC_BODY, strlen(VEC_BODY),
                       VEC_TS_N) == SVIX_OK;
}
static int op_verify_zero_forgery(void) {
    /* Never a match, faults or not: it counts as a success only if it verifies. */
    return svix_verify(&svix_k, 1, VEC_ID, VEC_TS, ZERO_SIG, VEC_BODY, strlen(VEC_BODY),
                       VEC_TS_N) == SVIX_OK;
}
static int op_sign(void) {
    char sig[SVIX_SIG_B64_LEN + 1];
    int rc = svix_sign(&svix_k, VEC_ID, VEC_TS_N, VEC_BODY, strlen(VEC_BODY), sig);
    if (rc == 0) return strcmp(sig, VEC_SIG + 3) == 0;
    for (size_t i = 0; i < sizeof sig; i++)
        assert_int_equal(sig[i], 0); /* a refused signature leaves nothing usable */
    return 0;
}
static int op_seal(void) {
    char err[256] = "";
    char *s = seal_seal(&token_ring, "conn_1", TOKEN, err, sizeof err);
    if (!s) {
        assert_true(err[0] != '\0');
        assert_null(strstr(err, TOKEN));
        return 0;
    }
    /* A seal that "succeeds" must open to the token and must not hold it in the clear. */
    assert_null(strstr(s, TOKEN));
    paused = 1;
    char *p = seal_open(&token_ring, "conn_1", s, err, sizeof err);
    paused = 0;
    int ok = p && strcmp(p, TOKEN) == 0;
    seal_free_secret(p);
    free(s);
    return ok;
}
static int op_open(void) {
    char err[256] = "";
    char *p = seal_open(&token_ring, "conn_1", sealed, err, sizeof err);
    int ok = p && strcmp(p, TOKEN) == 0;
    if (!p) assert_true(err[0] != '\0');
    seal_free_secret(p);
    return ok;
}

typedef struct op {
    const char *name;
    int (*run)(void);
    int ok_without_faults; /* what the operation gives with no fault */
    const char *metric;    /* crypto_failures_total{operation} it must count under */
} op;

static const op ops[] = {
    {"verify (right signature)", op_verify_right, 1, "svix_hmac|base64"},
    {"verify (all-zero forgery)", op_verify_zero_forgery, 0, "svix_hmac|base64"},
    {"sign", op_sign, 1, "svix_hmac|base64"},
    {"seal", op_seal, 1, "token_seal|token_seal_nonce|base64"},
    {"open", op_open, 1, "token_open|base64"},
};

static int64_t failures_of(const char *alternatives) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", alternatives);
    int64_t sum = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
        sum += crypto_failures(t);
    return sum;
}

/* ---- tests -------------------------------------------------------------------------- */

/* Runs first, before any verification cached the HMAC algorithm: a failed fetch refuses,
 * and is not remembered (it used to zero every MAC for the life of the process). */
static void failed_fetch_refuses_then_recovers(void **state) {
    (void)state;
    int64_t before = crypto_failures("svix_hmac");
    faults_reset(F_MAC_FETCH, 0);
    capture_start();
    svix_result r = svix_verify(&svix_k, 1, VEC_ID, VEC_TS, ZERO_SIG " " VEC_SIG, VEC_BODY,
                                strlen(VEC_BODY), VEC_TS_N);
    char *log = capture_end();
    assert_int_equal(r, SVIX_CRYPTO_ERROR);
    assert_int_equal(crypto_failures("svix_hmac"), before + 1);
    assert_non_null(strstr(log, "\"msg\":\"crypto operation failed: refused\""));
    assert_non_null(strstr(log, "\"operation\":\"svix_hmac\""));
    assert_null(strstr(log, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); /* never the secret */
    free(log);
    faults_reset(-1, 0);
    assert_int_equal(op_verify_right(), 1);
    assert_int_equal(op_verify_zero_forgery(), 0);
}

/* Every call each operation makes, failed in turn: refused, counted, logged. */
static void every_call_fails_closed(void **state) {
    (void)state;
    int tried = 0;
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        faults_reset(-1, 0);
        assert_int_equal(ops[o].run(), ops[o].ok_without_faults);
        int seen[F_COUNT];
        memcpy(seen, calls, sizeof seen);
        for (int fn = 0; fn < F_COUNT; fn++) {
            for (int nth = 0; nth < seen[fn]; nth++) {
                int64_t before = failures_of(ops[o].metric);
                faults_reset(fn, nth);
                capture_start();
                int ok = ops[o].run();
                char *log = capture_end();
                int tag_check = fn == F_DECRYPT_FINAL; /* a refused tag, not a library fault */
                if (ok)
                    fail_msg("%s succeeded with %s call #%d failing", ops[o].name, fn_name[fn],
                             nth);
                if (!tag_check) {
                    if (failures_of(ops[o].metric) != before + 1)
                        fail_msg("%s with %s call #%d failing: not counted in "
                                 "crypto_failures_total",
                                 ops[o].name, fn_name[fn], nth);
                    if (!strstr(log, "crypto operation failed: refused"))
                        fail_msg("%s with %s call #%d failing: nothing logged", ops[o].name,
                                 fn_name[fn], nth);
                }
                assert_null(strstr(log, TOKEN));
                free(log);
                tried++;
            }
        }
    }
    faults_reset(-1, 0);
    assert_true(tried >= 30); /* every wrapped call of every operation was reached */
    printf("  %d OpenSSL calls failed in turn, each refused\n", tried);
}

static int setup(void **state) {
    (void)state;
    char err[128];
    log_init("test", LOG_INFO);
    crypto_err_log.burst = INT_MAX; /* see every line */
    assert_int_equal(svix_key_parse(VEC_SECRET, &svix_k, err, sizeof err), 0);
    assert_int_equal(seal_ring_parse(TOKEN_KEY, NULL, &token_ring, err, sizeof err), 0);
    return 0;
}

static int make_sealed(void **state) {
    (void)state;
    char err[128];
    faults_reset(-1, 0);
    sealed = seal_seal(&token_ring, "conn_1", TOKEN, err, sizeof err);
    return sealed ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    free(sealed);
    seal_ring_wipe(&token_ring);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(failed_fetch_refuses_then_recovers, setup),
        cmocka_unit_test_setup(every_call_fails_closed, make_sealed),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
