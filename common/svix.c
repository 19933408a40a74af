/* svix.c - Svix webhook signatures: key decoding, signing, constant-time verification.
 * See svix.h for the scheme. OpenSSL provides HMAC-SHA256, common/values.c base64. */
#include "svix.h"

#include "values.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <ctype.h>
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
 * cost of a verification. EVP_MAC objects are safe to share between threads. */
static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static void hmac_fetch(void) {
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static void sign_raw(const svix_key *key, const char *msg_id, const char *ts, const void *body,
                     size_t body_len, unsigned char mac[32]) {
    pthread_once(&hmac_once, hmac_fetch);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_alg);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t mac_len = 0;
    memset(mac, 0, 32);
    if (ctx && EVP_MAC_init(ctx, key->key, key->len, params)) {
        EVP_MAC_update(ctx, (const unsigned char *)msg_id, strlen(msg_id));
        EVP_MAC_update(ctx, (const unsigned char *)".", 1);
        EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts));
        EVP_MAC_update(ctx, (const unsigned char *)".", 1);
        EVP_MAC_update(ctx, (const unsigned char *)body, body_len);
        EVP_MAC_final(ctx, mac, &mac_len, 32);
    }
    EVP_MAC_CTX_free(ctx);
}

void svix_sign(const svix_key *key, const char *msg_id, long long timestamp, const void *body,
               size_t body_len, char out[SVIX_SIG_B64_LEN + 1]) {
    char ts[24];
    unsigned char mac[32];
    snprintf(ts, sizeof ts, "%lld", timestamp);
    sign_raw(key, msg_id, ts, body, body_len, mac);
    if (val_b64_encode(mac, sizeof mac, out) != SVIX_SIG_B64_LEN)
        out[0] = '\0'; /* never verifies */
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

svix_result svix_verify(const svix_key *keys, int nkeys, const char *msg_id, const char *timestamp,
                        const char *sig_header, const void *body, size_t body_len, long long now) {
    if (!msg_id || !*msg_id || !timestamp || !*timestamp || !sig_header || !*sig_header)
        return SVIX_MISSING_HEADER;
    long long ts;
    if (parse_ts(timestamp, &ts) != 0) return SVIX_BAD_TIMESTAMP;
    if (ts < now - SVIX_TOLERANCE_S || ts > now + SVIX_TOLERANCE_S) return SVIX_STALE;

    /* Compute every key's expected signature once, then compare each v1 entry. */
    char expected[SVIX_MAX_SECRETS][SVIX_SIG_B64_LEN + 1];
    if (nkeys > SVIX_MAX_SECRETS) nkeys = SVIX_MAX_SECRETS;
    for (int k = 0; k < nkeys; k++) {
        unsigned char mac[32];
        sign_raw(&keys[k], msg_id, timestamp, body, body_len, mac);
        if (val_b64_encode(mac, sizeof mac, expected[k]) != SVIX_SIG_B64_LEN) return SVIX_NO_MATCH;
    }
    int match = 0;
    const char *p = sig_header;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
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
    }
    return "unknown";
}
