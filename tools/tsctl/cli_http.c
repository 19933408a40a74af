/* cli_http.c - blocking libcurl calls for tsctl (see cli_http.h). Error texts carry
 * the status and Trackstar's error message, never a header value: the API key and
 * access tokens travel only in headers. */
#include "cli_http.h"

#include "values.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sink {
    cli_http_resp *r;
    size_t cap;
    int too_big;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
    sink *s = arg;
    size_t add = size * n;
    if (s->r->len + add > (size_t)CLI_HTTP_MAX_BODY) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (s->r->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->r->len + add + 1)
            cap *= 2;
        char *b = realloc(s->r->body, cap);
        if (!b) return 0;
        s->r->body = b;
        s->cap = cap;
    }
    memcpy(s->r->body + s->r->len, data, add);
    s->r->len += add;
    s->r->body[s->r->len] = '\0';
    return add;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
    cli_http_resp *r = arg;
    size_t len = size * n;
    static const char name[] = "x-request-id:";
    if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t vl = len - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        snprintf(r->request_id, sizeof r->request_id, "%.*s", (int)vl, v);
    }
    return len;
}

/* "name: value" header line for secrets: built in a buffer wiped after use. */
static struct curl_slist *add_secret_header(struct curl_slist *h, const char *name,
                                            const char *value, int *ok) {
    size_t len = strlen(name) + strlen(value) + 3;
    char *line = malloc(len);
    if (!line) {
        *ok = 0;
        return h;
    }
    snprintf(line, len, "%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(h, line);
    memset(line, 0, len);
    free(line);
    if (!n) *ok = 0;
    return n ? n : h;
}

int cli_http_do(const char *method, const char *url, const cli_http_auth *auth, const char *body,
                long timeout_s, cli_http_resp *resp, char *errstr, size_t errlen) {
    static const cli_http_auth none = {NULL, NULL, NULL};
    if (!auth) auth = &none;
    memset(resp, 0, sizeof *resp);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    int ok = 1, rc = -1;
    char cerr[CURL_ERROR_SIZE] = "";
    sink s = {resp, 0, 0};
    if (!c) {
        snprintf(errstr, errlen, "cannot initialise libcurl");
        return -1;
    }
    h = curl_slist_append(h, "Accept: application/json");
    if (body) h = curl_slist_append(h, "Content-Type: application/json");
    if (auth->api_key && *auth->api_key)
        h = add_secret_header(h, "x-trackstar-api-key", auth->api_key, &ok);
    if (auth->access_token && *auth->access_token)
        h = add_secret_header(h, "x-trackstar-access-token", auth->access_token, &ok);
    if (auth->bearer && *auth->bearer) {
        size_t blen = strlen("Bearer ") + strlen(auth->bearer) + 1;
        char *b = malloc(blen);
        if (b) {
            snprintf(b, blen, "Bearer %s", auth->bearer);
            h = add_secret_header(h, "Authorization", b, &ok);
            memset(b, 0, blen);
            free(b);
        } else {
            ok = 0;
        }
    }
    if (!h || !ok) {
        snprintf(errstr, errlen, "out of memory");
        goto fail;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CLI_HTTP_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tsctl/1");
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (s.too_big)
            snprintf(errstr, errlen, "%s %s: response larger than %ld bytes", method, url,
                     CLI_HTTP_MAX_BODY);
        else
            snprintf(errstr, errlen, "%s %s: %s", method, url,
                     *cerr ? cerr : curl_easy_strerror(cc));
        goto fail;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (!resp->body) {
        resp->body = calloc(1, 1);
        if (!resp->body) {
            snprintf(errstr, errlen, "out of memory");
            goto fail;
        }
    }
    rc = 0;
fail:
    if (rc != 0) cli_http_resp_free(resp);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

void cli_http_resp_free(cli_http_resp *r) {
    free(r->body);
    memset(r, 0, sizeof *r);
}

char *cli_url_path(const char *prefix, const char *arg) {
    sbuf b = {0};
    if (sbuf_append(&b, prefix, strlen(prefix)) || val_url_escape(&b, arg)) {
        sbuf_free(&b);
        return NULL;
    }
    return b.p;
}

/* The shared part of cli_ts_call and cli_fetcher_call. */
static int json_call(const cli_ctx *ctx, const char *base, const char *what,
                     const cli_http_auth *auth, const char *method, const char *path,
                     const cJSON *body, cJSON **json, long *status, char *errstr, size_t errlen) {
    char *url = NULL, *text = NULL;
    cli_http_resp r = {0};
    int rc = -1;
    *json = NULL;
    if (status) *status = 0;
    if (!base || !*base) {
        snprintf(errstr, errlen, "%s is not set", what);
        return -1;
    }
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    size_t ulen = blen + strlen(path) + 1;
    url = malloc(ulen);
    if (!url) goto oom;
    snprintf(url, ulen, "%.*s%s", (int)blen, base, path);
    if (body && !(text = cJSON_PrintUnformatted(body))) goto oom;
    if (cli_http_do(method, url, auth, text, (long)ctx->http_timeout_s, &r, errstr, errlen) != 0)
        goto fail;
    if (status) *status = r.status;
    cJSON *j = r.len ? cJSON_ParseWithLength(r.body, r.len) : cJSON_CreateObject();
    if (r.status < 200 || r.status > 299) {
        const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
        const cJSON *d = j ? cJSON_GetObjectItemCaseSensitive(j, "detail") : NULL;
        char *dtext = d ? cJSON_PrintUnformatted(d) : NULL;
        snprintf(errstr, errlen, "%s %s: HTTP %ld: %s%s%s%s%s", method, path, r.status,
                 cJSON_IsString(e) ? e->valuestring : (r.len && !j ? "(not JSON)" : "no message"),
                 dtext ? " " : "", dtext ? dtext : "", *r.request_id ? " request_id=" : "",
                 r.request_id);
        free(dtext);
        cJSON_Delete(j);
        goto fail;
    }
    if (!j) {
        snprintf(errstr, errlen, "%s %s: the answer is not JSON", method, path);
        goto fail;
    }
    *json = j;
    rc = 0;
    goto fail;
oom:
    snprintf(errstr, errlen, "out of memory");
fail:
    free(url);
    free(text);
    cli_http_resp_free(&r);
    return rc;
}

int cli_ts_call(const cli_ctx *ctx, const char *method, const char *path, const cJSON *body,
                cJSON **json, long *status, char *errstr, size_t errlen) {
    if (!ctx->api_key || !*ctx->api_key) {
        *json = NULL;
        if (status) *status = 0;
        snprintf(errstr, errlen, "TRACKSTAR_API_KEY is not set");
        return -1;
    }
    cli_http_auth auth = {ctx->api_key, NULL, NULL};
    return json_call(ctx, ctx->base_url, "TRACKSTAR_BASE_URL", &auth, method, path, body, json,
                     status, errstr, errlen);
}

int cli_fetcher_call(const cli_ctx *ctx, const char *method, const char *path, const cJSON *body,
                     cJSON **json, long *status, char *errstr, size_t errlen) {
    cli_http_auth auth = {NULL, NULL, ctx->admin_token};
    return json_call(ctx, ctx->fetcher_url, "FETCHER_ADMIN_URL", &auth, method, path, body, json,
                     status, errstr, errlen);
}
