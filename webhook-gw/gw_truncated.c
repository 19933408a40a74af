/* gw_truncated.c - the two GETs behind a truncated event (see gw_truncated.h), with libcurl's
 * easy interface on the calling (worker) thread. */
#include "gw_truncated.h"

#include "gw_envelope.h"
#include "util.h"
#include "values.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink {
    sbuf *buf;
    size_t limit;
    int over;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
    sink *s = userdata;
    size_t n = size * nmemb;
    if (s->buf->len + n > s->limit) {
        s->over = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (sbuf_append(s->buf, ptr, n) != 0) return 0;
    return n;
}

/* One GET. key may be NULL (then no API key header and redirects are followed). */
static int get(const char *url, const char *key, long timeout_ms, size_t limit, sbuf *out,
               char *errstr, size_t errlen) {
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char keyhdr[512];
    int rc = -1;
    if (!c) {
        snprintf(errstr, errlen, "curl_easy_init failed");
        goto fail;
    }
    sink s = {out, limit, 0};
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (key) {
        if (snprintf(keyhdr, sizeof keyhdr, "x-trackstar-api-key: %s", key) >= (int)sizeof keyhdr) {
            snprintf(errstr, errlen, "TRACKSTAR_API_KEY is too long");
            goto fail;
        }
        hdrs = curl_slist_append(hdrs, keyhdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we are on a worker thread */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, key ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)GW_TRUNCATED_MAX_REDIRECTS);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode cc = curl_easy_perform(c);
    if (s.over) {
        snprintf(errstr, errlen, "answer larger than %zu bytes", limit);
        goto fail;
    }
    if (cc != CURLE_OK) {
        snprintf(errstr, errlen, "%s", curl_easy_strerror(cc));
        goto fail;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        snprintf(errstr, errlen, "HTTP status %ld", status);
        goto fail;
    }
    rc = 0;
fail:
    /* keyhdr holds the secret: do not leave it on the stack. */
    explicit_bzero(keyhdr, sizeof keyhdr);
    curl_slist_free_all(hdrs);
    if (c) curl_easy_cleanup(c);
    return rc;
}

int gw_truncated_download(const gw_truncated_cfg *cfg, const char *data_url, long timeout_ms,
                          sbuf *out, char *errstr, size_t errlen) {
    sbuf link = {0};
    cJSON *j = NULL;
    char url[GW_DATA_URL_MAX + 256];
    int rc = -1;
    if (!cfg->api_key || !*cfg->api_key) {
        snprintf(errstr, errlen, "TRACKSTAR_API_KEY is not set");
        goto fail;
    }
    /* The API key goes only to TRACKSTAR_BASE_URL's origin. The URL requested is the one
     * libcurl resolved and compared, so the check and the request cannot disagree. */
    if (val_url_resolve(cfg->base_url, data_url, url, sizeof url) != 0 ||
        !val_same_origin(cfg->base_url, url)) {
        snprintf(errstr, errlen, "data_url is not on TRACKSTAR_BASE_URL's origin");
        goto fail;
    }
    int64_t t0 = util_mono_ms();
    if (get(url, cfg->api_key, timeout_ms, GW_TRUNCATED_LINK_MAX, &link, errstr, errlen) != 0)
        goto fail;
    j = cJSON_ParseWithLength(link.p, link.len);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "download_url");
    if (!cJSON_IsString(d)) /* tolerate {"data": {"download_url": ...}} */
        d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "data"),
                                             "download_url");
    if (!cJSON_IsString(d) || !d->valuestring[0]) {
        snprintf(errstr, errlen, "data_url answer has no download_url");
        goto fail;
    }
    long left = timeout_ms - (long)(util_mono_ms() - t0);
    if (left <= 0) {
        snprintf(errstr, errlen, "timed out");
        goto fail;
    }
    /* Any origin (no key goes there); a relative link is relative to the data_url. */
    char dl[GW_DATA_URL_MAX + 256];
    if (val_url_resolve(url, d->valuestring, dl, sizeof dl) != 0) {
        snprintf(errstr, errlen, "download_url is not an http(s) URL or is too long");
        goto fail;
    }
    if (get(dl, NULL, left, cfg->max_bytes, out, errstr, errlen) != 0) goto fail;
    rc = 0;
fail:
    cJSON_Delete(j);
    sbuf_free(&link);
    return rc;
}
