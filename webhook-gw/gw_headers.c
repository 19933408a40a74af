/* gw_headers.c - signature-header selection and the Content-Type check (see
 * gw_headers.h). Pure functions: no state, no I/O. */
#include "gw_headers.h"

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
