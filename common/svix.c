/* svix.c - Svix webhook signatures: key decoding, signing, constant-time verification.
 * See svix.h for the scheme. OpenSSL provides HMAC-SHA256, common/values.c base64. */
#include "svix.h"

#include "values.h"
#include "crypto_err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <ctype.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_PREFIX "whsec_"

int svix_key_parse(const char *secret, svix_key *out, char *errstr, size_t errlen) {
    if (!secret) secret = "";
    while (isspace((unsigned char)*secret))
        secret++;
    if (strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0) secret += strlen(SECRET_PREFIX);
    size_t n = strlen(secret);
    while (n > 0 && isspace((unsigned char)secret[n - 1]))
        n--;
    int len = val_b64_decode(secret, n, out->key, sizeof out->key);
    if (len <= 0) {
        snprintf(errstr, errlen, "secret is not whsec_ followed by base64 of 1..%d bytes",
                 SVIX_KEY_MAX);
        return -1;
    }
    out->len = (size_t)len;
    return 0;
}

int svix_keys_parse(const char *list, svix_key *keys, int max, int *n, char *errstr,
                    size_t errlen) {
    *n = 0;
    const char *p = list ? list : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[256];
        if (len >= sizeof one) {
            snprintf(errstr, errlen, "secret #%d is too long", *n + 1);
            return -1;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        if (*n == max) {
            snprintf(errstr, errlen, "more than %d secrets", max);
            return -1;
        }
        char why[128];
        int rc = svix_key_parse(one, &keys[*n], why, sizeof why);
        OPENSSL_cleanse(one, sizeof one);
        if (rc != 0) {
            snprintf(errstr, errlen, "secret #%d: %s", *n + 1, why);
            return -1;
        }
        (*n)++;
        p = comma ? comma + 1 : p + len;
    }
    if (*n == 0) {
        snprintf(errstr, errlen, "no secret given");
        return -1;
    }
    return 0;
}

/* The HMAC algorithm object is fetched once: fetching per call would dominate the
 * cost of a verification. EVP_MAC objects are safe to share between threads. A failed
 * fetch is not remembered: the next call tries again, so a passing fault (a provider
 * not loaded yet) costs refusals while it lasts, never the life of the process. */
static EVP_MAC *_Atomic hmac_alg;

static EVP_MAC *hmac(void) {
    EVP_MAC *m = atomic_load(&hmac_alg);
    if (m) return m;
    m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!m) return NULL;
    EVP_MAC *none = NULL;
    if (!atomic_compare_exchange_strong(&hmac_alg, &none, m)) {
        EVP_MAC_free(m); /* another thread stored one first */
        m = none;
    }
    return m;
}

/* HMAC-SHA256 of id "." ts "." body. Returns 0, or -1 after crypto_failed(): every
 * OpenSSL call is checked, so a failure can never leave a MAC to compare against. */
static int sign_raw(const svix_key *key, const char *msg_id, const char *ts, const void *body,
                    size_t body_len, unsigned char mac[SVIX_MAC_LEN]) {
    EVP_MAC *alg = hmac();
    EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t mac_len = 0;
    int ok = ctx && EVP_MAC_init(ctx, key->key, key->len, params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)msg_id, strlen(msg_id)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1 &&
             EVP_MAC_final(ctx, mac, &mac_len, SVIX_MAC_LEN) == 1 && mac_len == SVIX_MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(mac, SVIX_MAC_LEN);
        crypto_failed("svix_hmac");
        return -1;
    }
    return 0;
}

/* base64 of a MAC: 0, or -1 after crypto_failed(). */
static int mac_b64(const unsigned char mac[SVIX_MAC_LEN], char out[SVIX_SIG_B64_LEN + 1]) {
    if (val_b64_encode(mac, SVIX_MAC_LEN, out) != SVIX_SIG_B64_LEN) {
        memset(out, 0, SVIX_SIG_B64_LEN + 1); /* val_b64_encode counted it */
        return -1;
    }
    return 0;
}

int svix_sign(const svix_key *key, const char *msg_id, long long timestamp, const void *body,
              size_t body_len, char out[SVIX_SIG_B64_LEN + 1]) {
    char ts[24];
    unsigned char mac[SVIX_MAC_LEN];
    snprintf(ts, sizeof ts, "%lld", timestamp);
    if (sign_raw(key, msg_id, ts, body, body_len, mac) != 0) {
        memset(out, 0, SVIX_SIG_B64_LEN + 1);
        return -1;
    }
    return mac_b64(mac, out);
}

static int parse_ts(const char *s, long long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || end == s) return -1;
    *out = v;
    return 0;
}

static int is_b64(char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/' || ch == '=';
}

/* The next space-separated entry of the header at *p: its start and length. */
static size_t next_entry(const char **p) {
    while (**p == ' ')
        (*p)++;
    const char *end = strchr(*p, ' ');
    return end ? (size_t)(end - *p) : strlen(*p);
}

svix_result svix_check_headers(const char *msg_id, const char *timestamp, const char *sig_header,
                               long long now) {
    if (!msg_id || !*msg_id || !timestamp || !*timestamp || !sig_header || !*sig_header)
        return SVIX_MISSING_HEADER;
    long long ts;
    if (parse_ts(timestamp, &ts) != 0) return SVIX_BAD_TIMESTAMP;
    if (ts < now - SVIX_TOLERANCE_S || ts > now + SVIX_TOLERANCE_S) return SVIX_STALE;
    for (const char *p = sig_header; *p;) {
        size_t len = next_entry(&p);
        if (len == 3 + SVIX_SIG_B64_LEN && strncmp(p, "v1,", 3) == 0) {
            size_t i = 3;
            while (i < len && is_b64(p[i]))
                i++;
            if (i == len) return SVIX_OK;
        }
        p += len;
    }
    return SVIX_NO_MATCH;
}

svix_result svix_verify(const svix_key *keys, int nkeys, const char *msg_id, const char *timestamp,
                        const char *sig_header, const void *body, size_t body_len, long long now) {
    svix_result pre = svix_check_headers(msg_id, timestamp, sig_header, now);
    if (pre != SVIX_OK) return pre;

    /* Compute every key's expected signature once, then compare each v1 entry. */
    char expected[SVIX_MAX_SECRETS][SVIX_SIG_B64_LEN + 1];
    if (nkeys > SVIX_MAX_SECRETS) nkeys = SVIX_MAX_SECRETS;
    for (int k = 0; k < nkeys; k++) {
        unsigned char mac[SVIX_MAC_LEN];
        if (sign_raw(&keys[k], msg_id, timestamp, body, body_len, mac) != 0 ||
            mac_b64(mac, expected[k]) != 0)
            return SVIX_CRYPTO_ERROR; /* fail closed: nothing to compare against */
    }
    int match = 0;
    for (const char *p = sig_header; *p;) {
        size_t len = next_entry(&p);
        if (len == 3 + SVIX_SIG_B64_LEN && strncmp(p, "v1,", 3) == 0) {
            for (int k = 0; k < nkeys; k++)
                match |= CRYPTO_memcmp(p + 3, expected[k], SVIX_SIG_B64_LEN) == 0;
        }
        p += len;
    }
    return match ? SVIX_OK : SVIX_NO_MATCH;
}

const char *svix_result_name(svix_result r) {
    switch (r) {
    case SVIX_OK: return "ok";
    case SVIX_MISSING_HEADER: return "missing_signature_header";
    case SVIX_BAD_TIMESTAMP: return "bad_timestamp";
    case SVIX_STALE: return "stale_timestamp";
    case SVIX_NO_MATCH: return "bad_signature";
    case SVIX_CRYPTO_ERROR: return "crypto_error";
    }
    return "unknown";
}
