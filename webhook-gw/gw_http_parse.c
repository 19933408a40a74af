/* gw_http_parse.c - request heads and chunked bodies; the rules are in gw_http_parse.h. */
#include "gw_http_parse.h"

#include <string.h>
#include <strings.h>

#define GW_CHUNK_MAX_DIGITS 15 /* a chunk size below 2^60: no overflow */
#define GW_CHUNK_MAX_META 4096 /* bytes of chunk extensions and trailers in one body */

/* RFC 9110 tchar */
static int is_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_blank(char c) {
    return c == ' ' || c == '\t';
}

/* Field-value bytes: HTAB, SP, VCHAR and obs-text; no other control byte. */
static int is_value_byte(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int parse_request_line(char *p, char *eol, gw_http_head *out) {
    char *m = p;
    while (p < eol && is_tchar((unsigned char)*p))
        p++;
    if (p == m || p >= eol || *p != ' ') return 400;
    *p++ = '\0';
    out->method = m;
    char *t = p;
    while (p < eol && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
        p++;
    if (p == t || p >= eol || *p != ' ' || *t != '/') return 400;
    *p++ = '\0';
    char *q = memchr(t, '?', (size_t)(p - t));
    if (q) *q = '\0';
    out->path = t;
    if (eol - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
        p[7] < '0' || p[7] > '9')
        return 400;
    if (p[5] != '1') return 505;
    out->minor = p[7] - '0';
    return 0;
}

static int parse_header_line(char *p, char *eol, gw_http_head *out) {
    if (is_blank(*p)) return 400; /* obs-fold */
    char *n = p;
    while (p < eol && is_tchar((unsigned char)*p))
        p++;
    if (p == n || p >= eol || *p != ':') return 400; /* no name, or blank before ':' */
    *p++ = '\0';
    while (p < eol && is_blank(*p))
        p++;
    char *v = p;
    for (char *s = p; s < eol; s++)
        if (!is_value_byte((unsigned char)*s)) return 400;
    char *e = eol;
    while (e > v && is_blank(e[-1]))
        e--;
    *e = '\0';
    if (out->nh == GW_HTTP_MAX_HEADERS) return 431;
    out->h[out->nh].name = n;
    out->h[out->nh].value = v;
    out->nh++;
    return 0;
}

static int parse_length(const char *v, uint64_t *len) {
    if (!*v) return -1;
    uint64_t n = 0;
    for (; *v; v++) {
        if (*v < '0' || *v > '9') return -1;
        unsigned d = (unsigned)(*v - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
    }
    *len = n;
    return 0;
}

/* Is token (case-insensitive) one of the comma-separated members of list? */
static int list_has(const char *list, const char *token) {
    size_t tl = strlen(token);
    for (const char *p = list; *p;) {
        while (*p == ',' || is_blank(*p))
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && is_blank(e[-1]))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0) return 1;
    }
    return 0;
}

/* Framing and connection semantics from the header fields. */
static int interpret(gw_http_head *out) {
    int hosts = 0, te = 0;
    out->keep_alive = out->minor >= 1;
    for (int i = 0; i < out->nh; i++) {
        const char *n = out->h[i].name, *v = out->h[i].value;
        if (strcasecmp(n, "content-length") == 0) {
            uint64_t len;
            if (parse_length(v, &len) != 0) return 400;
            if (out->has_length && len != out->content_length) return 400;
            out->has_length = 1;
            out->content_length = len;
        } else if (strcasecmp(n, "transfer-encoding") == 0) {
            if (te++ || strcasecmp(v, "chunked") != 0) return 501;
            out->chunked = 1;
        } else if (strcasecmp(n, "host") == 0) {
            hosts++;
        } else if (strcasecmp(n, "connection") == 0) {
            if (list_has(v, "close"))
                out->keep_alive = 0;
            else if (list_has(v, "keep-alive") && out->minor == 0)
                out->keep_alive = 1;
        } else if (strcasecmp(n, "expect") == 0) {
            if (strcasecmp(v, "100-continue") != 0) return 417;
            out->expect_continue = 1;
        }
    }
    if (out->chunked && (out->has_length || out->minor == 0)) return 400; /* smuggling */
    if (out->minor >= 1 && hosts != 1) return 400;
    if (hosts > 1) return 400;
    return 0;
}

int gw_http_parse_head(char *buf, size_t len, size_t max_head, gw_http_head *out,
                       size_t *head_len) {
    size_t start = 0;
    while (start + 1 < len && buf[start] == '\r' && buf[start + 1] == '\n')
        start += 2;
    size_t lim = len < max_head ? len : max_head;
    if (start >= lim) return len >= max_head ? 431 : GW_HTTP_INCOMPLETE;
    char *end = memmem(buf + start, lim - start, "\r\n\r\n", 4);
    if (!end) {
        /* A bare LF or a NUL already seen is an error now, not after 8 KiB. */
        for (size_t i = start; i < lim; i++)
            if (buf[i] == '\0' || (buf[i] == '\n' && (i == start || buf[i - 1] != '\r')))
                return 400;
        return len >= max_head ? 431 : GW_HTTP_INCOMPLETE;
    }
    char *p = buf + start, *stop = end + 2; /* through the last line's CRLF */
    for (char *s = p; s < stop; s++) {
        if (*s == '\0') return 400;
        if (*s == '\r' && s[1] != '\n') return 400;
        if (*s == '\n' && (s == p || s[-1] != '\r')) return 400;
    }
    memset(out, 0, sizeof *out);
    char *eol = memchr(p, '\r', (size_t)(stop - p));
    int rc = parse_request_line(p, eol, out);
    if (rc) return rc;
    for (p = eol + 2; p < stop; p = eol + 2) {
        eol = memchr(p, '\r', (size_t)(stop - p));
        if ((rc = parse_header_line(p, eol, out)) != 0) return rc;
    }
    if ((rc = interpret(out)) != 0) return rc;
    *head_len = (size_t)(end + 4 - buf);
    return 0;
}

const char *gw_http_head_get(const gw_http_head *h, const char *name) {
    for (int i = 0; i < h->nh; i++)
        if (strcasecmp(h->h[i].name, name) == 0) return h->h[i].value;
    return NULL;
}

/* ---- chunked bodies ------------------------------------------------------------ */

enum {
    C_SIZE = 0,  /* first hex digit of a chunk size */
    C_SIZE_MORE, /* more digits, or the end of the size */
    C_EXT,       /* chunk extensions, skipped up to CR */
    C_SIZE_LF,
    C_DATA,
    C_DATA_CR,
    C_DATA_LF,
    C_TRAILER_START, /* start of a trailer line, or the final CR */
    C_TRAILER,       /* inside a trailer line, skipped up to CR */
    C_TRAILER_LF,
    C_END_LF,
    C_DONE
};

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A byte of a chunk extension or of a trailer line, both skipped up to their CR:
 * bounded in total, and no bare LF or NUL. -1 on an error. */
static int meta_byte(gw_http_chunked *c, char ch, int state_at_cr) {
    if (ch == '\r') {
        c->state = state_at_cr;
        return 0;
    }
    return ch == '\n' || ch == '\0' || ++c->meta > GW_CHUNK_MAX_META ? -1 : 0;
}

int gw_http_chunked_step(gw_http_chunked *c, const char *in, size_t n, size_t *used,
                         const char **data, size_t *dlen) {
    size_t i = 0;
    while (i < n) {
        char ch = in[i];
        switch (c->state) {
        case C_SIZE:
        case C_SIZE_MORE: {
            int h = hexval(ch);
            if (h >= 0) {
                if (++c->digits > GW_CHUNK_MAX_DIGITS) return GW_CHUNK_BAD;
                c->left = c->left * 16 + (uint64_t)h;
                c->state = C_SIZE_MORE;
            } else if (c->state == C_SIZE) {
                return GW_CHUNK_BAD;
            } else if (ch == '\r') {
                c->state = C_SIZE_LF;
            } else if (ch == ';' || is_blank(ch)) {
                c->state = C_EXT;
            } else {
                return GW_CHUNK_BAD;
            }
            i++;
            break;
        }
        case C_EXT:
            if (meta_byte(c, ch, C_SIZE_LF)) return GW_CHUNK_BAD;
            i++;
            break;
        case C_SIZE_LF:
            if (ch != '\n') return GW_CHUNK_BAD;
            c->state = c->left ? C_DATA : C_TRAILER_START;
            c->digits = 0;
            i++;
            break;
        case C_DATA: {
            size_t take = n - i;
            if (take > c->left) take = (size_t)c->left;
            c->left -= take;
            if (!c->left) c->state = C_DATA_CR;
            *data = in + i;
            *dlen = take;
            *used = i + take;
            return GW_CHUNK_DATA;
        }
        case C_DATA_CR:
            if (ch != '\r') return GW_CHUNK_BAD;
            c->state = C_DATA_LF;
            i++;
            break;
        case C_DATA_LF:
            if (ch != '\n') return GW_CHUNK_BAD;
            c->state = C_SIZE;
            i++;
            break;
        case C_TRAILER_START: /* the empty line that ends the body, or a trailer */
            if (ch == '\r') {
                c->state = C_END_LF;
            } else {
                c->state = C_TRAILER;
                if (meta_byte(c, ch, C_TRAILER_LF)) return GW_CHUNK_BAD;
            }
            i++;
            break;
        case C_TRAILER:
            if (meta_byte(c, ch, C_TRAILER_LF)) return GW_CHUNK_BAD;
            i++;
            break;
        case C_TRAILER_LF:
            if (ch != '\n') return GW_CHUNK_BAD;
            c->state = C_TRAILER_START;
            i++;
            break;
        case C_END_LF:
            if (ch != '\n') return GW_CHUNK_BAD;
            c->state = C_DONE;
            *used = i + 1;
            return GW_CHUNK_DONE;
        default: *used = i; return GW_CHUNK_DONE;
        }
    }
    *used = i;
    return c->state == C_DONE ? GW_CHUNK_DONE : GW_CHUNK_MORE;
}
