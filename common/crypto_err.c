/* crypto_err.c - counting and logging failed OpenSSL calls (see crypto_err.h). */
#include "crypto_err.h"

#include "log.h"
#include "metrics.h"

#include <openssl/err.h>

#define CRYPTO_METRIC "crypto_failures_total"
#define CRYPTO_HELP "OpenSSL calls that failed; the operation was refused"

/* A broken OpenSSL fails every request: sample the log, count every failure. */
log_limiter crypto_err_log = LOG_LIMITER_INIT(10, 10000);

void crypto_failed(const char *operation) {
    metric_inc(metric_counter(CRYPTO_METRIC, CRYPTO_HELP, "operation", operation));
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "no OpenSSL error queued";
    if (code) ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    log_limited(&crypto_err_log, LOG_ERROR, "crypto operation failed: refused", "operation",
                operation, "openssl", reason, NULL);
}

int64_t crypto_failures(const char *operation) {
    return metric_get(metric_counter(CRYPTO_METRIC, CRYPTO_HELP, "operation", operation));
}
