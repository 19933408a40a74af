/* crypto_err.h - the one way a failed OpenSSL call is reported: counted in
 * crypto_failures_total{operation}, logged at error level (rate-limited, with
 * OpenSSL's reason code, never a key, token or input), and OpenSSL's error queue
 * cleared. The caller then refuses what it was doing: a crypto failure never passes
 * as a match, an empty seal or an all-zero MAC (fail closed).
 */
#ifndef TS_CRYPTO_ERR_H
#define TS_CRYPTO_ERR_H

#include "log.h"

#include <stdint.h>

/* The limiter of those log lines (10 per 10 s); tests lift its burst to see every line. */
extern log_limiter crypto_err_log;

/* operation: a short literal naming the call and its purpose, e.g. "svix_hmac". */
void crypto_failed(const char *operation);

/* Failures counted so far for operation (tests and logs). */
int64_t crypto_failures(const char *operation);

#endif
