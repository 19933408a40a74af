/* fx_crypto.h - access tokens encrypted at rest: AES-256-GCM with the key from
 * TOKEN_ENCRYPTION_KEY (base64 of 32 bytes).
 *
 * Sealed text: "v1." + base64(12-byte random nonce || ciphertext || 16-byte tag). The
 * connection id is the additional authenticated data, so a sealed token copied onto
 * another connection's row does not open. A wrong key, a changed byte or a wrong
 * connection id all fail the tag check. Error texts never contain the token or key.
 */
#ifndef FX_CRYPTO_H
#define FX_CRYPTO_H

#include <stddef.h>

#define FX_KEY_LEN 32
#define FX_NONCE_LEN 12
#define FX_TAG_LEN 16
#define FX_SECRET_MAX 4096 /* longest token accepted */

typedef struct fx_key {
    unsigned char k[FX_KEY_LEN];
} fx_key;

/* Decode base64 into exactly 32 bytes. 0, or -1 with the reason in err. */
int fx_crypto_key_parse(const char *b64, fx_key *out, char *err, size_t errlen);

/* Seal plaintext under key with aad. Returns a malloc'd NUL-terminated string the
 * caller frees, or NULL with err. */
char *fx_crypto_seal(const fx_key *key, const char *aad, const char *plaintext, char *err,
                     size_t errlen);

/* Open sealed text. Returns the malloc'd plaintext (the caller frees it, ideally after
 * wiping it with fx_crypto_wipe), or NULL with err when the key, aad or text is wrong. */
char *fx_crypto_open(const fx_key *key, const char *aad, const char *sealed, char *err,
                     size_t errlen);

/* Overwrite s with zeros (not optimised away) and free it. NULL is fine. */
void fx_crypto_free_secret(char *s);

#endif
