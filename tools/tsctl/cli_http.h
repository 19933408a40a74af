/* cli_http.h - tsctl's HTTP calls: Trackstar's management API (API key header; the
 * key is never printed) and the fetcher's admin endpoints. Blocking, one request at
 * a time, with a timeout and a bounded response body. JSON in, JSON out.
 */
#ifndef CLI_HTTP_H
#define CLI_HTTP_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "cli_ctx.h"

#define CLI_HTTP_MAX_BODY (32L * 1024 * 1024) /* larger responses are refused */
#define CLI_HTTP_CONNECT_TIMEOUT_S 5
#define CLI_HTTP_MAX_PAGES 10000 /* pages followed by a list call */

typedef struct cli_http_resp {
    long status;
    char *body; /* malloc'd, NUL-terminated (may be empty) */
    size_t len;
    char request_id[96];
} cli_http_resp;

/* The secrets a request carries, each only when set (never printed): Trackstar's API
 * key and access token headers, and the fetcher admin port's bearer token. */
typedef struct cli_http_auth {
    const char *api_key;      /* x-trackstar-api-key */
    const char *access_token; /* x-trackstar-access-token */
    const char *bearer;       /* Authorization: Bearer (ADMIN_TOKEN) */
} cli_http_auth;

/* One request with auth's headers (auth may be NULL). body (JSON) may be NULL. Returns 0
 * when an HTTP answer arrived (any status), -1 with errstr on a transport failure. The
 * caller frees resp. */
int cli_http_do(const char *method, const char *url, const cli_http_auth *auth, const char *body,
                long timeout_s, cli_http_resp *resp, char *errstr, size_t errlen);
void cli_http_resp_free(cli_http_resp *r);

/* Trackstar: method + path (e.g. "/magic-links") against TRACKSTAR_BASE_URL with the
 * API key. On 2xx *json gets the parsed body (caller deletes; an empty body gives an
 * empty object) and 0 is returned. Otherwise -1 with errstr "HTTP 404: <error>" (the
 * body's error field) or the transport error; *status gets the HTTP status (0 when
 * none). */
int cli_ts_call(const cli_ctx *ctx, const char *method, const char *path, const cJSON *body,
                cJSON **json, long *status, char *errstr, size_t errlen);

/* The same against the fetcher's admin port (FETCHER_ADMIN_URL), with the ADMIN_TOKEN
 * bearer instead of the key. */
int cli_fetcher_call(const cli_ctx *ctx, const char *method, const char *path, const cJSON *body,
                     cJSON **json, long *status, char *errstr, size_t errlen);

/* prefix followed by arg percent-encoded (val_url_escape), e.g. "/connections/" + an id:
 * malloc'd (the caller frees it), or NULL when memory runs out. */
char *cli_url_path(const char *prefix, const char *arg);

#endif
