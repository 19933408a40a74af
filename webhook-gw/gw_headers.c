/* gw_headers.c - signature-header selection, Content-Type check and the same-origin
 * rule for data_url (see gw_headers.h). Pure functions: no state, no I/O. */
#include "gw_headers.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int present(const char *s) {
    return s && *s;
}

void gw_sig_headers_pick(gw_header_fn get, void *ctx, gw_sig_headers *out) {
    out->id = get(ctx, "svix-id");
    out->timestamp = get(ctx, "svix-timestamp");
    out->signature = get(ctx, "svix-signature");
    out->prefix = "svix";
    if (present(out->id) && present(out->timestamp) && present(out->signature)) return;
    out->id = get(ctx, "webhook-id");
    out->timestamp = get(ctx, "webhook-timestamp");
    out->signature = get(ctx, "webhook-signature");
    out->prefix = "webhook";
}

static const char *skip_ows(const char *p) {
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Compare [s, s+n) with a lower-case literal, ignoring case. */
static int word_is(const char *s, size_t n, const char *lit) {
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

int gw_content_type_ok(const char *value) {
    if (!value) return 0;
    const char *p = skip_ows(value);
    const char *end = p;
    while (*end && *end != ';' && *end != ' ' && *end != '\t')
        end++;
    if (!word_is(p, (size_t)(end - p), "application/json")) return 0;
    p = skip_ows(end);
    while (*p) {
        if (*p != ';') return 0;
        p = skip_ows(p + 1);
        if (!*p) break; /* a trailing ';' is harmless */
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t nlen = (size_t)(p - name);
        if (nlen == 0 || *p != '=') return 0;
        p++;
        const char *val;
        size_t vlen;
        if (*p == '"') {
            val = ++p;
            while (*p && *p != '"')
                p++;
            if (*p != '"') return 0;
            vlen = (size_t)(p - val);
            p++;
        } else {
            val = p;
            while (*p && *p != ';' && *p != ' ' && *p != '\t')
                p++;
            vlen = (size_t)(p - val);
        }
        if (word_is(name, nlen, "charset") && !word_is(val, vlen, "utf-8") &&
            !word_is(val, vlen, "utf8"))
            return 0;
        p = skip_ows(p);
    }
    return 1;
}

typedef struct origin {
    char scheme[8];
    char host[256];
    int port;
} origin;

/* Split "scheme://host[:port][/...]"; 0 or -1. */
static int parse_origin(const char *url, origin *o) {
    if (!url) return -1;
    for (const char *q = url; *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == '\\' || (unsigned char)*q == 0x7f) return -1;
    const char *sep = strstr(url, "://");
    if (!sep) return -1;
    size_t sl = (size_t)(sep - url);
    if (sl == 0 || sl >= sizeof o->scheme) return -1;
    for (size_t i = 0; i < sl; i++)
        o->scheme[i] = (char)tolower((unsigned char)url[i]);
    o->scheme[sl] = '\0';
    if (strcmp(o->scheme, "http") == 0)
        o->port = 80;
    else if (strcmp(o->scheme, "https") == 0)
        o->port = 443;
    else
        return -1;
    const char *h = sep + 3;
    size_t alen = strcspn(h, "/?#");
    if (memchr(h, '@', alen)) return -1; /* userinfo: refuse rather than interpret */
    const char *colon = NULL;
    if (*h == '[') { /* IPv6 literal */
        const char *rb = memchr(h, ']', alen);
        if (!rb) return -1;
        colon = (rb + 1 < h + alen && rb[1] == ':') ? rb + 1 : NULL;
        if (!colon && rb + 1 != h + alen) return -1;
    } else {
        colon = memchr(h, ':', alen);
    }
    size_t hl = colon ? (size_t)(colon - h) : alen;
    if (hl == 0 || hl >= sizeof o->host) return -1;
    for (size_t i = 0; i < hl; i++)
        o->host[i] = (char)tolower((unsigned char)h[i]);
    o->host[hl] = '\0';
    if (colon) {
        const char *ps = colon + 1, *pe = h + alen;
        if (ps == pe || pe - ps > 5) return -1;
        int port = 0;
        for (const char *d = ps; d < pe; d++) {
            if (!isdigit((unsigned char)*d)) return -1;
            port = port * 10 + (*d - '0');
        }
        if (port < 1 || port > 65535) return -1;
        o->port = port;
    }
    return 0;
}

int gw_url_same_origin(const char *base, const char *url) {
    origin a, b;
    if (parse_origin(base, &a) != 0 || parse_origin(url, &b) != 0) return 0;
    return strcmp(a.scheme, b.scheme) == 0 && strcmp(a.host, b.host) == 0 && a.port == b.port;
}
