/* seal.c - AES-256-GCM sealing under a key ring, with OpenSSL (see seal.h). */
#include "seal.h"

#include "crypto_err.h"
#include "values.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V1 "v1."
#define V2 "v2."
#define PREFIX_LEN 3
#define KID_LABEL "trackstar-pipeline seal key id"
/* The longest sealed text opened: header plus base64 of nonce, SEAL_SECRET_MAX, tag. */
#define SEALED_MAX                                                                                 \
    (PREFIX_LEN + SEAL_KID_LEN + 1 +                                                               \
     4 * ((SEAL_NONCE_LEN + SEAL_SECRET_MAX + SEAL_TAG_LEN + 2) / 3))

/* One key from base64; 0 or -1. The key id is derived here. */
static int key_parse(const char *b64, size_t n, seal_key *out) {
    unsigned char buf[SEAL_KEY_LEN + 3], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int len = val_b64_decode(b64, n, buf, sizeof buf);
    int rc = -1;
    if (len != SEAL_KEY_LEN) goto done;
    if (HMAC(EVP_sha256(), buf, SEAL_KEY_LEN, (const unsigned char *)KID_LABEL, strlen(KID_LABEL),
             mac, &maclen) == NULL ||
        maclen < SEAL_KID_LEN / 2) {
        crypto_failed("token_key_id");
    } else {
        memcpy(out->k, buf, SEAL_KEY_LEN);
        for (int i = 0; i < SEAL_KID_LEN / 2; i++)
            snprintf(out->kid + 2 * i, 3, "%02x", mac[i]);
        rc = 0;
    }
done:
    OPENSSL_cleanse(buf, sizeof buf);
    OPENSSL_cleanse(mac, sizeof mac);
    return rc;
}

/* Add a key to the ring unless it is there already; 0, or -1 with err. */
static int ring_add(seal_ring *r, const seal_key *k, const char *var, char *err, size_t errlen) {
    for (int i = 0; i < r->n; i++) {
        if (CRYPTO_memcmp(r->keys[i].k, k->k, SEAL_KEY_LEN) == 0) return 0;
        if (strcmp(r->keys[i].kid, k->kid) == 0) {
            snprintf(err, errlen, "%s: two different keys share the key id %s: make a new key", var,
                     k->kid);
            return -1;
        }
    }
    if (r->n == SEAL_MAX_KEYS) {
        snprintf(err, errlen, "%s: more than %d keys in all", var, SEAL_MAX_KEYS);
        return -1;
    }
    r->keys[r->n++] = *k;
    return 0;
}

int seal_ring_parse(const char *sealing_b64, const char *older_b64, seal_ring *out, char *err,
                    size_t errlen) {
    seal_key k;
    memset(out, 0, sizeof *out);
    if (!sealing_b64 || key_parse(sealing_b64, strlen(sealing_b64), &k) != 0) {
        snprintf(err, errlen, "%s: must be the base64 of exactly %d bytes", SEAL_ENV_KEY,
                 SEAL_KEY_LEN);
        goto fail;
    }
    out->keys[out->n++] = k;
    int nth = 0;
    for (const char *p = older_b64 ? older_b64 : ""; *p;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        while (p < end && isspace((unsigned char)*p))
            p++;
        const char *e = end;
        while (e > p && isspace((unsigned char)e[-1]))
            e--;
        nth++;
        if (e > p) {
            if (key_parse(p, (size_t)(e - p), &k) != 0) {
                snprintf(err, errlen, "%s: key #%d is not the base64 of exactly %d bytes",
                         SEAL_ENV_OLD, nth, SEAL_KEY_LEN);
                goto fail;
            }
            if (ring_add(out, &k, SEAL_ENV_OLD, err, errlen) != 0) goto fail;
        }
        p = comma ? comma + 1 : end;
    }
    OPENSSL_cleanse(&k, sizeof k);
    return 0;
fail:
    OPENSSL_cleanse(&k, sizeof k);
    seal_ring_wipe(out);
    return -1;
}

void seal_ring_wipe(seal_ring *r) {
    OPENSSL_cleanse(r, sizeof *r);
}

void seal_ring_kids(const seal_ring *r, char *buf, size_t len) {
    size_t n = 0;
    if (len) buf[0] = '\0';
    for (int i = 0; i < r->n && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", r->keys[i].kid);
}

/* The AAD of a v2 text: "v2." kid "." context, into a malloc'd buffer (NULL on ENOMEM). */
static char *aad_v2(const char *kid, const char *context, size_t *len) {
    size_t cl = strlen(context);
    *len = PREFIX_LEN + SEAL_KID_LEN + 1 + cl;
    char *a = malloc(*len + 1);
    if (a) snprintf(a, *len + 1, V2 "%s.%s", kid, context);
    return a;
}

char *seal_seal(const seal_ring *r, const char *context, const char *plaintext, char *err,
                size_t errlen) {
    size_t pl = plaintext ? strlen(plaintext) : 0, aadlen = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *raw = NULL;
    char *out = NULL, *aad = NULL;
    size_t rawlen = SEAL_NONCE_LEN + pl + SEAL_TAG_LEN;
    if (r->n < 1) {
        snprintf(err, errlen, "no sealing key");
        return NULL;
    }
    if (pl == 0 || pl > SEAL_SECRET_MAX) {
        snprintf(err, errlen, "secret is empty or longer than %d bytes", SEAL_SECRET_MAX);
        return NULL;
    }
    const seal_key *k = &r->keys[0];
    raw = malloc(rawlen);
    ctx = EVP_CIPHER_CTX_new();
    aad = aad_v2(k->kid, context, &aadlen);
    size_t hdr = PREFIX_LEN + SEAL_KID_LEN + 1;
    out = malloc(hdr + VAL_B64_LEN(rawlen) + 1);
    int len = 0, fin = 0;
    if (!ctx) crypto_failed("token_seal");
    if (!raw || !ctx || !aad || !out) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (RAND_bytes(raw, SEAL_NONCE_LEN) != 1) {
        crypto_failed("token_seal_nonce");
        snprintf(err, errlen, "no random bytes for the nonce");
        goto fail;
    }
    /* Every call is checked: a failure anywhere refuses the seal, so no token is ever
     * sealed under a zero nonce, without its tag or in the clear. */
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, k->k, raw) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)aadlen) != 1 ||
        EVP_EncryptUpdate(ctx, raw + SEAL_NONCE_LEN, &len, (const unsigned char *)plaintext,
                          (int)pl) != 1 ||
        (size_t)len != pl || EVP_EncryptFinal_ex(ctx, raw + SEAL_NONCE_LEN + len, &fin) != 1 ||
        fin != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, raw + SEAL_NONCE_LEN + pl) !=
            1) {
        crypto_failed("token_seal");
        snprintf(err, errlen, "AES-256-GCM encryption failed");
        goto fail;
    }
    snprintf(out, hdr + 1, V2 "%s.", k->kid);
    if (val_b64_encode(raw, rawlen, out + hdr) < 0) { /* counted there */
        snprintf(err, errlen, "base64 encoding failed");
        goto fail;
    }
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(raw, rawlen);
    free(raw);
    free(aad);
    return out;
fail:
    EVP_CIPHER_CTX_free(ctx);
    if (raw) OPENSSL_cleanse(raw, rawlen);
    free(raw);
    free(aad);
    free(out);
    return NULL;
}

/* Decrypt raw[0..n) = nonce || ciphertext || tag under key with aad. The plaintext
 * (malloc'd, NUL-terminated), or NULL: a wrong key, aad or byte fails the tag check,
 * which is no library fault; any other failure is OpenSSL's, counted as token_open. */
static char *gcm_open(const unsigned char *key, const char *aad, size_t aadlen,
                      const unsigned char *raw, int n) {
    int ctlen = n - SEAL_NONCE_LEN - SEAL_TAG_LEN, len = 0, fin = 0;
    if (ctlen < 1) return NULL;
    char *plain = malloc((size_t)ctlen + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int lib_ok =
        plain && ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1 &&
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, raw) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)aadlen) == 1 &&
        EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len, raw + SEAL_NONCE_LEN, ctlen) == 1 &&
        len == ctlen &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
                            (void *)(raw + n - SEAL_TAG_LEN)) == 1;
    if (!lib_ok && plain) crypto_failed("token_open");
    int ok =
        lib_ok && EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + len, &fin) == 1 && fin == 0;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        if (plain) OPENSSL_cleanse(plain, (size_t)ctlen + 1);
        free(plain);
        return NULL;
    }
    plain[ctlen] = '\0';
    return plain;
}

int seal_kid_of(const char *sealed, char kid[SEAL_KID_LEN + 1]) {
    kid[0] = '\0';
    if (!sealed) return -1;
    if (strncmp(sealed, V1, PREFIX_LEN) == 0) return sealed[PREFIX_LEN] ? 0 : -1;
    if (strncmp(sealed, V2, PREFIX_LEN) != 0) return -1;
    const char *k = sealed + PREFIX_LEN;
    for (int i = 0; i < SEAL_KID_LEN; i++)
        if (!isxdigit((unsigned char)k[i]) || isupper((unsigned char)k[i])) return -1;
    if (k[SEAL_KID_LEN] != '.' || !k[SEAL_KID_LEN + 1]) return -1;
    memcpy(kid, k, SEAL_KID_LEN);
    kid[SEAL_KID_LEN] = '\0';
    return 0;
}

int seal_is_current(const seal_ring *r, const char *sealed) {
    char kid[SEAL_KID_LEN + 1];
    return r->n > 0 && seal_kid_of(sealed, kid) == 0 && kid[0] && strcmp(kid, r->keys[0].kid) == 0;
}

char *seal_open(const seal_ring *r, const char *context, const char *sealed, char *err,
                size_t errlen) {
    char kid[SEAL_KID_LEN + 1], *plain = NULL, *aad = NULL;
    unsigned char *raw = NULL;
    size_t cap = 0, aadlen = 0;
    if (seal_kid_of(sealed, kid) != 0 || strlen(sealed) > SEALED_MAX) {
        snprintf(err, errlen, "not a sealed text (v1./v2. envelope)");
        return NULL;
    }
    const char *b64 = sealed + PREFIX_LEN + (kid[0] ? SEAL_KID_LEN + 1 : 0);
    const seal_key *k = NULL;
    for (int i = 0; kid[0] && i < r->n && !k; i++)
        if (strcmp(r->keys[i].kid, kid) == 0) k = &r->keys[i];
    if (kid[0] && !k) {
        snprintf(err, errlen, "sealed under key id %s, which is neither %s nor in %s", kid,
                 SEAL_ENV_KEY, SEAL_ENV_OLD);
        return NULL;
    }
    size_t bl = strlen(b64);
    cap = bl / 4 * 3 + 3;
    raw = malloc(cap);
    int n = raw ? val_b64_decode(b64, bl, raw, cap) : -1;
    if (n < SEAL_NONCE_LEN + SEAL_TAG_LEN + 1) {
        snprintf(err, errlen, "sealed text is malformed");
        goto done;
    }
    if (k) {
        aad = aad_v2(kid, context, &aadlen);
        if (!aad) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        plain = gcm_open(k->k, aad, aadlen, raw, n);
    } else { /* v1: no key id, the context alone is the AAD; any key of the ring may fit */
        for (int i = 0; i < r->n && !plain; i++)
            plain = gcm_open(r->keys[i].k, context, strlen(context), raw, n);
    }
    if (!plain)
        snprintf(err, errlen,
                 "sealed text does not open (wrong key, another connection's, or altered)");
done:
    if (raw) OPENSSL_cleanse(raw, cap);
    free(raw);
    free(aad);
    return plain;
}

void seal_free_secret(char *s) {
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
