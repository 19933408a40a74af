/* fx_json.c - validating byte-range JSON scanner (see fx_json.h). */
#include "fx_json.h"

#include "values.h"

#include <stdio.h>
#include <string.h>

static const char *ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at the opening quote; returns past the closing quote or NULL. */
static const char *skip_string(const char *p, const char *end) {
    p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            if (p + 1 >= end) return NULL;
            char e = p[1];
            if (e == 'u') {
                if (p + 6 > end) return NULL;
                for (int i = 2; i < 6; i++) {
                    char h = p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return NULL;
                }
                p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0') return NULL;
            p += 2;
            continue;
        }
        p++;
    }
    return NULL;
}

static const char *skip_number(const char *p, const char *end) {
    const char *s = p;
    if (p < end && *p == '-') p++;
    if (p >= end) return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d) return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d) return NULL;
    }
    return p > s ? p : NULL;
}

static const char *skip_value(const char *p, const char *end, int depth) {
    p = ws(p, end);
    if (p >= end || depth > FX_JSON_MAX_DEPTH) return NULL;
    switch (*p) {
    case '"': return skip_string(p, end);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = ws(p, end);
                if (p >= end || *p != '"' || !(p = skip_string(p, end))) return NULL;
                p = ws(p, end);
                if (p >= end || *p != ':') return NULL;
                p++;
            }
            if (!(p = skip_value(p, end, depth + 1))) return NULL;
            p = ws(p, end);
            if (p >= end) return NULL;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == close) return p + 1;
            return NULL;
        }
    }
    case 't': return (end - p >= 4 && memcmp(p, "true", 4) == 0) ? p + 4 : NULL;
    case 'f': return (end - p >= 5 && memcmp(p, "false", 5) == 0) ? p + 5 : NULL;
    case 'n': return (end - p >= 4 && memcmp(p, "null", 4) == 0) ? p + 4 : NULL;
    default: return skip_number(p, end);
    }
}

const char *fx_json_skip(const char *p, const char *end) {
    return skip_value(p, end, 0);
}

/* Unescape the string at p (opening quote) into buf. -1 when it does not fit. */
static int unescape(const char *p, const char *end, char *buf, size_t buflen) {
    size_t n = 0;
    p++;
    while (p < end && *p != '"') {
        char c = *p;
        unsigned cp;
        char tmp[4];
        size_t tl = 1;
        if (c == '\\') {
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'n': tmp[0] = '\n'; break;
            case 'r': tmp[0] = '\r'; break;
            case 't': tmp[0] = '\t'; break;
            case 'u':
                if (sscanf(p, "%4x", &cp) != 1) return -1;
                p += 4;
                /* Surrogate halves are kept as their own code points: ids and dates
                 * never carry them, and a lossy id only affects the message key. */
                tl = val_utf8_put(cp, (unsigned char *)tmp);
                break;
            default: tmp[0] = e;
            }
        } else {
            tmp[0] = c;
            p++;
        }
        if (n + tl >= buflen) return -1;
        memcpy(buf + n, tmp, tl);
        n += tl;
    }
    buf[n] = '\0';
    return 0;
}

int fx_json_obj_raw(const char *obj, size_t len, const char *key, const char **val,
                    size_t *val_len) {
    const char *end = obj + len, *p = ws(obj, end);
    size_t kl = strlen(key);
    if (p >= end || *p != '{') return -1;
    p = ws(p + 1, end);
    if (p < end && *p == '}') return 0;
    for (;;) {
        if (p >= end || *p != '"') return -1;
        const char *ks = p + 1, *ke = skip_string(p, end);
        if (!ke) return -1;
        int match = (size_t)(ke - 1 - ks) == kl && memcmp(ks, key, kl) == 0;
        p = ws(ke, end);
        if (p >= end || *p != ':') return -1;
        const char *vs = ws(p + 1, end), *ve = skip_value(vs, end, 1);
        if (!ve) return -1;
        if (match) {
            *val = vs;
            *val_len = (size_t)(ve - vs);
            return 1;
        }
        p = ws(ve, end);
        if (p >= end) return -1;
        if (*p == '}') return 0;
        if (*p != ',') return -1;
        p = ws(p + 1, end);
    }
}

int fx_json_obj_str(const char *obj, size_t len, const char *key, char *buf, size_t buflen) {
    const char *v;
    size_t vl;
    int rc = fx_json_obj_raw(obj, len, key, &v, &vl);
    if (rc <= 0) return rc;
    if (vl == 4 && memcmp(v, "null", 4) == 0) return 0;
    if (*v != '"') return -1;
    return unescape(v, v + vl, buf, buflen) == 0 ? 1 : -1;
}

int fx_json_array_next(const char **it, const char *end, const char **elem, size_t *elem_len) {
    const char *p = ws(*it, end);
    if (p >= end) return -1;
    if (*p == '[') {
        p = ws(p + 1, end);
        if (p < end && *p == ']') {
            *it = p;
            return 0;
        }
    } else if (*p == ',') {
        p = ws(p + 1, end);
    } else if (*p == ']') {
        return 0;
    } else {
        return -1;
    }
    const char *e = skip_value(p, end, 1);
    if (!e) return -1;
    *elem = p;
    *elem_len = (size_t)(e - p);
    *it = ws(e, end);
    return 1;
}

int fx_json_page(const char *body, size_t len, fx_page *out, char *err, size_t errlen) {
    const char *end = body + len, *p = ws(body, end);
    memset(out, 0, sizeof *out);
    if (p >= end || *p != '{') {
        snprintf(err, errlen, "response is not a JSON object");
        return -1;
    }
    /* One pass over the top-level members: validates everything and notes the two we
     * need, so a 3 MB page is scanned once here. */
    const char *tok = NULL;
    size_t tok_len = 0;
    p = ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= end || *p != '"') goto malformed;
            const char *ks = p + 1, *ke = skip_string(p, end);
            if (!ke) goto malformed;
            size_t kl = (size_t)(ke - 1 - ks);
            p = ws(ke, end);
            if (p >= end || *p != ':') goto malformed;
            const char *vs = ws(p + 1, end), *ve = skip_value(vs, end, 1);
            if (!ve) goto malformed;
            if (kl == 4 && memcmp(ks, "data", 4) == 0) {
                out->data = vs;
                out->data_len = (size_t)(ve - vs);
            } else if (kl == 10 && memcmp(ks, "next_token", 10) == 0) {
                tok = vs;
                tok_len = (size_t)(ve - vs);
            }
            p = ws(ve, end);
            if (p >= end) goto malformed;
            if (*p == '}') {
                p++;
                break;
            }
            if (*p != ',') goto malformed;
            p = ws(p + 1, end);
        }
    }
    if (ws(p, end) != end) goto malformed;
    if (out->data && *out->data == '{') {
        out->single = 1; /* a get-one endpoint: one record, no pages */
        return 0;
    }
    if (!out->data || *out->data != '[') {
        snprintf(err, errlen, "response has no \"data\" array");
        return -1;
    }
    if (tok && !(tok_len == 4 && memcmp(tok, "null", 4) == 0)) {
        if (*tok != '"' || unescape(tok, tok + tok_len, out->next_token, sizeof out->next_token)) {
            snprintf(err, errlen, "next_token is not a string or longer than %d bytes",
                     FX_TOKEN_MAX - 1);
            return -1;
        }
        out->has_next = out->next_token[0] != '\0';
    }
    return 0;
malformed:
    snprintf(err, errlen, "response is not valid JSON (truncated or malformed)");
    return -1;
}
