/* gw_secrets.h - no access token reaches Kafka in clear. connection.created carries the
 * connection's permanent token in data.access_token; the raw topic keeps what the
 * gateway publishes for as long as its retention, and its dead letters for 30 days. So
 * before publishing, every member named "access_token" (at any depth, in any event
 * type: the harsher reading) whose value is a non-empty string is replaced in the body by
 *     "access_token_sealed": "v2.<key id>.<base64>"
 * (common/seal.h under TOKEN_ENCRYPTION_KEY, the connection id as context), which the
 * fetcher opens. Every other byte stays as received: the body is spliced, never
 * re-serialised, so numbers, key order and escapes are kept.
 *
 * The Svix signature covered the original bytes, so the published body no longer
 * verifies against it; nothing downstream verifies signatures (the gateway did, before
 * publishing), and the raw topic's event_id header still names the delivery.
 */
#ifndef GW_SECRETS_H
#define GW_SECRETS_H

#include <stddef.h>

#include "seal.h"

#define GW_SECRET_KEY "access_token"
#define GW_SEALED_KEY "access_token_sealed"

typedef enum gw_secrets_result {
    GW_SECRETS_NONE = 0, /* no token in the body: publish it as it is */
    GW_SECRETS_SEALED,   /* *out holds the body with every token sealed */
    GW_SECRETS_BAD,      /* an access_token that is neither a string nor null, or an
                            access_token_sealed (only the gateway writes one): refuse, 400 */
    GW_SECRETS_FAILED    /* sealing failed (out of memory, OpenSSL): never publish, 503 */
} gw_secrets_result;

/* Seal the tokens of body[0..len), a JSON text that already parsed (gw_envelope_parse).
 * On GW_SECRETS_SEALED *out is a malloc'd body of *out_len bytes (NUL-terminated; the
 * caller frees it) and *sealed counts the tokens. err gets a reason (never a value) for
 * BAD and FAILED. */
gw_secrets_result gw_secrets_seal(const seal_ring *ring, const char *connection_id,
                                  const char *body, size_t len, char **out, size_t *out_len,
                                  int *sealed, char *err, size_t errlen);

#endif
