/* svix.h - Svix webhook signatures (Trackstar signs every delivery this way).
 *
 * signed content = id "." timestamp "." raw body bytes
 * signature      = base64(HMAC-SHA256(base64decode(secret without "whsec_"), signed content))
 * header value   = space-separated "v1,<signature>" entries (several while a secret rotates).
 *
 * Both the webhook gateway (verify) and the simulator (sign) use this module, so
 * there is exactly one implementation of the scheme in the tree; the tests check it
 * against Svix's published vector and against an independent Python implementation.
 */
#ifndef TS_SVIX_H
#define TS_SVIX_H

#include <stddef.h>
#include <stdint.h>

#define SVIX_TOLERANCE_S 300 /* Svix library: WEBHOOK_TOLERANCE_IN_SECONDS = 5*60 */
#define SVIX_MAX_SECRETS 8   /* secrets accepted at once (rotation) */
#define SVIX_KEY_MAX 64      /* decoded key bytes */
#define SVIX_MAC_LEN 32      /* HMAC-SHA256 */
#define SVIX_SIG_B64_LEN 44  /* base64 of a 32-byte HMAC, with padding */

typedef struct svix_key {
    unsigned char key[SVIX_KEY_MAX];
    size_t len;
} svix_key;

/* Decode "whsec_<base64>" (the prefix is optional) into *out.
 * Returns 0, or -1 with a reason in errstr (the secret itself is never copied there). */
int svix_key_parse(const char *secret, svix_key *out, char *errstr, size_t errlen);

/* Parse a comma-separated list of secrets into keys[0..*n). Returns 0 or -1. */
int svix_keys_parse(const char *list, svix_key *keys, int max, int *n, char *errstr, size_t errlen);

/* Write the 44-character base64 signature plus NUL into out (size >= 45). Returns 0,
 * or -1 when OpenSSL failed (out is then all NUL; see crypto_err.h). */
int svix_sign(const svix_key *key, const char *msg_id, long long timestamp, const void *body,
              size_t body_len, char out[SVIX_SIG_B64_LEN + 1]);

typedef enum svix_result {
    SVIX_OK = 0,
    SVIX_MISSING_HEADER, /* id, timestamp or signature absent or empty */
    SVIX_BAD_TIMESTAMP,  /* not an integer */
    SVIX_STALE,          /* |now - timestamp| > tolerance */
    SVIX_NO_MATCH,       /* no v1 entry matches any key */
    SVIX_CRYPTO_ERROR    /* OpenSSL failed: refused, never a match (crypto_err.h) */
} svix_result;

/* The checks that need no body, for refusing a request as soon as its head is in:
 * headers present, timestamp an integer within the tolerance, and at least one "v1,"
 * entry of the right length in base64. SVIX_OK means "worth reading the body for";
 * SVIX_NO_MATCH here means no entry could ever match. */
svix_result svix_check_headers(const char *msg_id, const char *timestamp, const char *sig_header,
                               long long now);

/* Verify a delivery (svix_check_headers, then the signature). sig_header is the raw svix-signature
 * value; entries other than "v1," are ignored; one match against any key is enough. Comparison is
 * constant-time. now is passed in so that tests can pin the clock. */
svix_result svix_verify(const svix_key *keys, int nkeys, const char *msg_id, const char *timestamp,
                        const char *sig_header, const void *body, size_t body_len, long long now);

/* A short stable name for a result ("ok", "missing_header", "stale", ...), for metrics. */
const char *svix_result_name(svix_result r);

#endif
