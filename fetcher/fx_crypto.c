/* fx_crypto.c - AES-256-GCM sealing of access tokens with OpenSSL (see fx_crypto.h). */
#include "fx_crypto.h"

#include "values.h"
#include "crypto_err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_PREFIX "v1."

int fx_crypto_key_parse(const char *b64, fx_key *out, char *err, size_t errlen) {
    unsigned char buf[FX_KEY_LEN + 3];
    int n = b64 ? val_b64_decode(b64, strlen(b64), buf, sizeof buf) : -1;
    if (n != FX_KEY_LEN) {
        OPENSSL_cleanse(buf, sizeof buf);
        snprintf(err, errlen, "TOKEN_ENCRYPTION_KEY: must be the base64 of exactly %d bytes",
                 FX_KEY_LEN);
        return -1;
    }
    memcpy(out->k, buf, FX_KEY_LEN);
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

char *fx_crypto_seal(const fx_key *key, const char *aad, const char *plaintext, char *err,
                     size_t errlen) {
    size_t pl = strlen(plaintext);
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *raw = NULL;
    char *out = NULL;
    if (pl == 0 || pl > FX_SECRET_MAX) {
        snprintf(err, errlen, "token is empty or longer than %d bytes", FX_SECRET_MAX);
        return NULL;
    }
    size_t rawlen = FX_NONCE_LEN + pl + FX_TAG_LEN;
    raw = malloc(rawlen);
    ctx = EVP_CIPHER_CTX_new();
    int len = 0, body = 0, fin = 0;
    if (!raw) goto oom;
    if (!ctx) {
        crypto_failed("token_seal");
        goto oom;
    }
    if (RAND_bytes(raw, FX_NONCE_LEN) != 1) {
        crypto_failed("token_seal_nonce");
        snprintf(err, errlen, "no random bytes for the nonce");
        goto fail;
    }
    /* Every call is checked: a failure anywhere refuses the seal, so no token is ever
     * stored under a zero nonce, a missing tag or in the clear. */
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, FX_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key->k, raw) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(ctx, raw + FX_NONCE_LEN, &body, (const unsigned char *)plaintext,
                          (int)pl) != 1 ||
        body < 0 || (size_t)body > pl ||
        EVP_EncryptFinal_ex(ctx, raw + FX_NONCE_LEN + body, &fin) != 1 ||
        (size_t)body + (size_t)fin != pl ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, FX_TAG_LEN, raw + FX_NONCE_LEN + pl) != 1) {
        crypto_failed("token_seal");
        snprintf(err, errlen, "AES-256-GCM encryption failed");
        goto fail;
    }
    out = malloc(strlen(SEAL_PREFIX) + VAL_B64_LEN(rawlen) + 1);
    if (!out) goto oom;
    strcpy(out, SEAL_PREFIX);
    if (val_b64_encode(raw, rawlen, out + strlen(SEAL_PREFIX)) < 0) {
        snprintf(err, errlen, "base64 encoding of the sealed token failed");
        goto fail;
    }
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(raw, rawlen);
    free(raw);
    return out;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    if (ctx) EVP_CIPHER_CTX_free(ctx);
    if (raw) {
        OPENSSL_cleanse(raw, rawlen);
        free(raw);
    }
    free(out);
    return NULL;
}

char *fx_crypto_open(const fx_key *key, const char *aad, const char *sealed, char *err,
                     size_t errlen) {
    size_t pre = strlen(SEAL_PREFIX);
    unsigned char *raw = NULL;
    char *plain = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    size_t cap = 0;
    if (!sealed || strncmp(sealed, SEAL_PREFIX, pre) != 0) {
        snprintf(err, errlen, "sealed token has an unknown format");
        return NULL;
    }
    cap = strlen(sealed + pre) / 4 * 3 + 3;
    raw = malloc(cap);
    int n = raw ? val_b64_decode(sealed + pre, strlen(sealed + pre), raw, cap) : -1;
    if (n < FX_NONCE_LEN + FX_TAG_LEN + 1) {
        snprintf(err, errlen, "sealed token is malformed");
        goto fail;
    }
    int ctlen = n - FX_NONCE_LEN - FX_TAG_LEN, len = 0, fin = 0;
    plain = malloc((size_t)ctlen + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (!plain || !ctx) {
        if (!ctx) crypto_failed("token_open");
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, FX_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key->k, raw) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len, raw + FX_NONCE_LEN, ctlen) != 1 ||
        len < 0 || len > ctlen ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, FX_TAG_LEN, raw + n - FX_TAG_LEN) != 1) {
        crypto_failed("token_open"); /* the library failed, not the tag check */
        snprintf(err, errlen, "AES-256-GCM decryption failed");
        goto fail;
    }
    /* The tag check: a wrong key or an altered row fails here, which is no library fault. */
    if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + len, &fin) != 1 || len + fin != ctlen) {
        snprintf(err, errlen, "token does not decrypt (wrong TOKEN_ENCRYPTION_KEY or altered row)");
        goto fail;
    }
    plain[len + fin] = '\0';
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(raw, cap);
    free(raw);
    return plain;
fail:
    if (ctx) EVP_CIPHER_CTX_free(ctx);
    if (raw) {
        OPENSSL_cleanse(raw, cap);
        free(raw);
    }
    if (plain) {
        OPENSSL_cleanse(plain, (size_t)(n > 0 ? n : 0) - FX_NONCE_LEN - FX_TAG_LEN + 1);
        free(plain);
    }
    return NULL;
}

void fx_crypto_free_secret(char *s) {
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
