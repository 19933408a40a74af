/* seal.h - secrets sealed with AES-256-GCM under a key ring: access tokens at rest (the
 * fetcher's fetcher_connections) and in flight (webhook-gw puts connection.created's
 * token on the raw topic sealed, never in clear). One module, one envelope, for both.
 *
 * Sealed text, version 2:  "v2." KID "." base64(12-byte nonce || ciphertext || 16-byte tag)
 *   KID  8 lower-case hex digits naming the key: the first 4 bytes of
 *        HMAC-SHA256(key, "trackstar-pipeline seal key id"). Derived from the key, so an
 *        operator cannot give two keys one id, and it tells nothing about the key.
 *   AAD  "v2." KID "." context. The context is the connection id: a token sealed for
 *        one connection does not open for another, and the header cannot be swapped.
 * Version 1 (before key ids): "v1." base64(nonce || ciphertext || tag), AAD = context.
 * It still opens, with whichever key of the ring fits, so rows sealed before key
 * rotation existed keep working until `fetcher reseal-tokens` rewrites them.
 *
 * A ring holds one sealing key (TOKEN_ENCRYPTION_KEY) and the older keys still accepted
 * for opening (TOKEN_DECRYPTION_KEYS): that is how a key rotates without downtime
 * (docs/operations.md, "Rotating the token encryption key").
 *
 * Fail closed: every OpenSSL call is checked and any failure refuses (NULL). Error texts
 * never hold the secret or a key; they may hold a key id.
 */
#ifndef TS_SEAL_H
#define TS_SEAL_H

#include <stddef.h>

#define SEAL_ENV_KEY "TOKEN_ENCRYPTION_KEY"  /* the sealing key: base64 of 32 bytes */
#define SEAL_ENV_OLD "TOKEN_DECRYPTION_KEYS" /* more keys that open, comma-separated */
#define SEAL_KEY_LEN 32
#define SEAL_KID_LEN 8
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_MAX_KEYS 8      /* the sealing key plus 7 older ones */
#define SEAL_SECRET_MAX 4096 /* longest secret sealed */

typedef struct seal_key {
    unsigned char k[SEAL_KEY_LEN];
    char kid[SEAL_KID_LEN + 1];
} seal_key;

typedef struct seal_ring {
    seal_key keys[SEAL_MAX_KEYS]; /* keys[0] seals; every key opens */
    int n;
} seal_ring;

/* Build a ring from the sealing key and an optional comma-separated list of older keys
 * (NULL or "" = none), each the base64 of exactly 32 bytes. A key listed twice counts
 * once. 0, or -1 with a reason naming SEAL_ENV_KEY or SEAL_ENV_OLD in err (never a key). */
int seal_ring_parse(const char *sealing_b64, const char *older_b64, seal_ring *out, char *err,
                    size_t errlen);

/* Overwrite every key of the ring with zeros. */
void seal_ring_wipe(seal_ring *r);

/* "kid[,kid...]" of the ring, the sealing key first, into buf (for logs and reports). */
void seal_ring_kids(const seal_ring *r, char *buf, size_t len);

/* Seal plaintext (1..SEAL_SECRET_MAX bytes) under the ring's sealing key for context.
 * Returns a malloc'd NUL-terminated v2 text the caller frees, or NULL with err. */
char *seal_seal(const seal_ring *r, const char *context, const char *plaintext, char *err,
                size_t errlen);

/* Open a sealed text (v2 with a key of the ring, or v1 with any key of the ring).
 * Returns the malloc'd plaintext (free it with seal_free_secret), or NULL with err when
 * the format, the key, the context or a byte is wrong. */
char *seal_open(const seal_ring *r, const char *context, const char *sealed, char *err,
                size_t errlen);

/* The key id a sealed text names, into kid ("" for a v1 text). 0, or -1 when the text
 * is not sealed text at all. */
int seal_kid_of(const char *sealed, char kid[SEAL_KID_LEN + 1]);

/* 1 when sealed is a v2 text under the ring's sealing key (nothing to re-seal), else 0. */
int seal_is_current(const seal_ring *r, const char *sealed);

/* Overwrite s with zeros (not optimised away) and free it. NULL is fine. */
void seal_free_secret(char *s);

#endif
