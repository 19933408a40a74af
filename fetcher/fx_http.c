/* fx_http.c - libcurl multi wrapper for the Trackstar API (see fx_http.h). */
#include "fx_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FX_HTTP_HDR_MAX 512 /* longest header value we keep for the secret ones */

struct fx_http_req {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    fx_http_resp resp;
    size_t max_body;
    int too_big;
    fx_http_done_fn done;
    void *arg;
    fx_http_req *prev, *next;
};

struct fx_http {
    CURLM *multi;
    size_t max_body;
    long timeout_ms, connect_timeout_ms;
    int inflight;
    fx_http_req *reqs;
};

static int curl_ready;

fx_http *fx_http_new(size_t max_body, long timeout_ms, long connect_timeout_ms, long max_conns) {
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
        curl_ready = 1;
    }
    fx_http *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    /* The engine bounds the requests in flight (FETCHER_MAX_INFLIGHT) and counts each
     * against its rate budgets when it starts it: curl must send it then, not queue it
     * behind a connection limit of its own (it would go out later, outside the window it
     * was counted in, and spend its timeout waiting). So no limit per host (0, curl's
     * default, said once here), and idle connections kept for reuse up to the requests
     * in flight: one TLS handshake per connection, not per page. */
    if (curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, max_conns) != CURLM_OK) {
        curl_multi_cleanup(h->multi);
        free(h);
        return NULL;
    }
    h->max_body = max_body;
    h->timeout_ms = timeout_ms;
    h->connect_timeout_ms = connect_timeout_ms;
    return h;
}

static void req_free(fx_http_req *r) {
    if (!r) return;
    if (r->easy) curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers); /* holds the secret headers: curl_slist copies them */
    free(r->body);
    sbuf_free(&r->resp.body);
    free(r);
}

static void unlink_req(fx_http *h, fx_http_req *r) {
    if (r->prev)
        r->prev->next = r->next;
    else
        h->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

void fx_http_free(fx_http *h) {
    if (!h) return;
    while (h->reqs)
        fx_http_cancel(h, h->reqs);
    curl_multi_cleanup(h->multi);
    free(h);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    fx_http_req *r = arg;
    size_t len = size * n;
    if (r->resp.body.len + len > r->max_body) {
        r->too_big = 1;
        return 0; /* makes curl fail the transfer */
    }
    return sbuf_append(&r->resp.body, p, len) == 0 ? len : 0;
}

static long parse_long_hdr(const char *v, size_t n) {
    char buf[32];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *end;
    long long x = strtoll(buf, &end, 10);
    if (end == buf || x < 0) return -1;
    return (long)x;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
    fx_http_req *r = arg;
    size_t len = size * n;
    const char *colon = memchr(p, ':', len);
    if (!colon) return len;
    size_t kl = (size_t)(colon - p);
    const char *v = colon + 1, *e = p + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
        e--;
    size_t vl = (size_t)(e - v);
#define IS(name) (kl == strlen(name) && strncasecmp(p, name, kl) == 0)
    if (IS("retry-after"))
        r->resp.retry_after_s = parse_long_hdr(v, vl);
    else if (IS("x-ratelimit-remaining"))
        r->resp.remaining = parse_long_hdr(v, vl);
    else if (IS("x-ratelimit-reset"))
        r->resp.reset_epoch_s = parse_long_hdr(v, vl);
#undef IS
    return len;
}

static int add_header(struct curl_slist **l, const char *name, const char *value) {
    char buf[FX_HTTP_HDR_MAX + 64];
    if (strlen(value) > FX_HTTP_HDR_MAX) return -1;
    snprintf(buf, sizeof buf, "%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(*l, buf);
    memset(buf, 0, sizeof buf); /* the stack copy held a secret */
    if (!n) return -1;
    *l = n;
    return 0;
}

static fx_http_req *req_new(size_t max_body, long timeout_ms, long connect_timeout_ms,
                            const char *method, const char *url, const char *api_key,
                            const char *token, const char *body) {
    fx_http_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->max_body = max_body;
    r->resp.retry_after_s = r->resp.remaining = -1;
    r->resp.reset_epoch_s = -1;
    r->easy = curl_easy_init();
    if (!r->easy) goto fail;
    if (add_header(&r->headers, "Accept", "application/json")) goto fail;
    if (api_key && *api_key && add_header(&r->headers, "x-trackstar-api-key", api_key)) goto fail;
    if (token && *token && add_header(&r->headers, "x-trackstar-access-token", token)) goto fail;
    if (body) {
        if (add_header(&r->headers, "Content-Type", "application/json")) goto fail;
        r->body = strdup(body);
        if (!r->body) goto fail;
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
    }
    curl_easy_setopt(r->easy, CURLOPT_URL, url);
    curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0 && !body) curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    return r;
fail:
    req_free(r);
    return NULL;
}

fx_http_req *fx_http_start(fx_http *h, const char *method, const char *url, const char *api_key,
                           const char *token, const char *body, fx_http_done_fn done, void *arg) {
    fx_http_req *r = req_new(h->max_body, h->timeout_ms, h->connect_timeout_ms, method, url,
                             api_key, token, body);
    if (!r) return NULL;
    r->done = done;
    r->arg = arg;
    if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        req_free(r);
        return NULL;
    }
    r->next = h->reqs;
    if (h->reqs) h->reqs->prev = r;
    h->reqs = r;
    h->inflight++;
    return r;
}

void fx_http_cancel(fx_http *h, fx_http_req *r) {
    if (!r) return;
    curl_multi_remove_handle(h->multi, r->easy);
    unlink_req(h, r);
    h->inflight--;
    req_free(r);
}

static void finish(fx_http_req *r, CURLcode code) {
    if (code == CURLE_OK) {
        long st = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &st);
        r->resp.status = (int)st;
    } else {
        r->resp.status = 0;
        r->resp.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        if (r->too_big)
            snprintf(r->resp.err, sizeof r->resp.err, "response body larger than %zu bytes",
                     r->max_body);
        else
            snprintf(r->resp.err, sizeof r->resp.err, "%s", curl_easy_strerror(code));
    }
}

int fx_http_run(fx_http *h, int timeout_ms) {
    int running = 0;
    if (h->inflight > 0) curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(h->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        fx_http_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode code = m->data.result;
        curl_multi_remove_handle(h->multi, r->easy);
        unlink_req(h, r);
        h->inflight--;
        finish(r, code);
        if (r->done) r->done(r->arg, &r->resp);
        req_free(r);
    }
    return h->inflight;
}

int fx_http_inflight(const fx_http *h) {
    return h->inflight;
}

int fx_http_call(const char *method, const char *url, const char *api_key, const char *token,
                 const char *body, long timeout_ms, fx_http_resp *resp) {
    memset(resp, 0, sizeof *resp);
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
        curl_ready = 1;
    }
    fx_http_req *r = req_new(16u << 20, timeout_ms, timeout_ms, method, url, api_key, token, body);
    if (!r) {
        snprintf(resp->err, sizeof resp->err, "cannot set up the request");
        return -1;
    }
    CURLcode code = curl_easy_perform(r->easy);
    finish(r, code);
    *resp = r->resp;
    r->resp.body = (sbuf){0}; /* handed to the caller */
    req_free(r);
    return code == CURLE_OK ? 0 : -1;
}
