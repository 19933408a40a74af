/* canon_emit.c - the writer every mapper shares: canonical JSON text appended straight to
 * a growable buffer (no cJSON tree to build, print and free per record), escaped and
 * printed exactly as cJSON_PrintUnformatted would, plus the dot path of the object being
 * mapped and the `extra` object that keeps every source field the tables do not know.
 */
#include "normalizer/canon.h"
#include "normalizer/canon_internal.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First allocation of a buffer; it doubles from there. */
#define CANON_BUF_MIN 1024
/* First size of the extra-key set (a power of two). */
#define CANON_XSLOT_MIN 16
/* cJSON's own number buffer is 26 bytes and it wants 5 spare: 64 leaves room for both. */
#define CANON_NUM_LEN 64

int canon_fail(canon_ctx *c, const char *fmt, ...) {
    if (!c->failed && c->errstr && c->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errstr, c->errlen, fmt, ap);
        va_end(ap);
    }
    c->failed = 1;
    return -1;
}

void canon_ctx_free(canon_ctx *c) {
    free(c->out.p);
    free(c->extra.p);
    free(c->xkeys);
    free(c->xslot);
    free(c->changes.p);
    free(c->changed.p);
    memset(&c->out, 0, sizeof c->out);
    memset(&c->extra, 0, sizeof c->extra);
    memset(&c->changes, 0, sizeof c->changes);
    memset(&c->changed, 0, sizeof c->changed);
    c->xkeys = NULL;
    c->xslot = NULL;
    c->nx = c->capx = c->nslot = 0;
}

/* ---------------------------------------------------------------- paths */

static size_t path_push_n(canon_ctx *c, const char *seg, size_t n, int keyed) {
    size_t old = c->plen, need = old + (old ? 1 : 0) + n;
    if (need >= CANON_PATH_LEN) {
        canon_fail(c, "field path too long");
        return old;
    }
    if (old) c->path[c->plen++] = '.';
    memcpy(c->path + c->plen, seg, n);
    c->plen += n;
    c->path[c->plen] = '\0';
    if (c->depth < 64) {
        uint64_t bit = (uint64_t)1 << c->depth;
        c->keyed = keyed ? c->keyed | bit : c->keyed & ~bit;
    }
    c->depth++;
    return old;
}

size_t canon_path_push(canon_ctx *c, const char *seg) {
    return path_push_n(c, seg, strlen(seg), 0);
}

size_t canon_path_push_index(canon_ctx *c, long i) {
    char buf[UTIL_I64_BUF];
    char *p = util_i64_digits(i, buf);
    return path_push_n(c, p, (size_t)(buf + UTIL_I64_BUF - p), 1);
}

size_t canon_path_push_key(canon_ctx *c, const char *key) {
    return path_push_n(c, key, strlen(key), 1);
}

const char *canon_here(canon_ctx *c, const char *a, const char *b) {
    int n = c->plen ? snprintf(c->here, sizeof c->here, "%s.%s%s%s", c->path, a, b ? "." : "",
                               b ? b : "")
                    : snprintf(c->here, sizeof c->here, "%s%s%s", a, b ? "." : "", b ? b : "");
    if (n < 0 || n >= (int)sizeof c->here) canon_fail(c, "field path too long");
    return c->here;
}

/* ---------------------------------------------------------------- buffer */

int canon_buf_reserve(canon_ctx *c, size_t n) {
    canon_buf *b = c->w;
    if (b->cap - b->len >= n) return 0;
    /* Doubling keeps appends amortised O(1); a first reservation is taken as asked. */
    if (n > SIZE_MAX / 4 || b->len > SIZE_MAX / 4) {
        canon_fail(c, "out of memory");
        return -1;
    }
    size_t cap = b->cap * 2;
    if (cap < b->len + n) cap = b->len + n;
    if (cap < CANON_BUF_MIN) cap = CANON_BUF_MIN;
    char *p = realloc(b->p, cap);
    if (!p) {
        canon_fail(c, "out of memory");
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void canon_w_key(canon_ctx *c, const char *k) {
    size_t n = strlen(k);
    canon_buf *b = c->w;
    if (b->cap - b->len < n + 4 && canon_buf_reserve(c, n + 4) < 0) return;
    char *p = b->p + b->len;
    if (!c->first) *p++ = ',';
    c->first = 0;
    *p++ = '"';
    memcpy(p, k, n);
    p += n;
    *p++ = '"';
    *p++ = ':';
    b->len = (size_t)(p - b->p);
}

/* How cJSON's print_string escapes each byte: 0 = as is, 'u' = \u00XX, else \<that>. */
static const char esc_tab[256] = {
    ['\0'] = 'u', [1] = 'u',    [2] = 'u',    [3] = 'u',     [4] = 'u',    [5] = 'u',
    [6] = 'u',    [7] = 'u',    ['\b'] = 'b', ['\t'] = 't',  ['\n'] = 'n', [11] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [14] = 'u',   [15] = 'u',    [16] = 'u',   [17] = 'u',
    [18] = 'u',   [19] = 'u',   [20] = 'u',   [21] = 'u',    [22] = 'u',   [23] = 'u',
    [24] = 'u',   [25] = 'u',   [26] = 'u',   [27] = 'u',    [28] = 'u',   [29] = 'u',
    [30] = 'u',   [31] = 'u',   ['"'] = '"',  ['\\'] = '\\',
};

/* s[0..n) escaped, without quotes; reserves `tail` more bytes for what the caller adds. */
static void w_escaped(canon_ctx *c, const char *s, size_t n, size_t tail) {
    static const char hex[] = "0123456789abcdef";
    canon_buf *b = c->w;
    size_t i = 0;
    /* Room for the text as is; each escape reserves its extra bytes when met. */
    if (b->cap - b->len < n + tail && canon_buf_reserve(c, n + tail) < 0) return;
    if (n == 0) return; /* s may be NULL */
    for (;;) {
        size_t start = i;
        while (i < n && !esc_tab[(unsigned char)s[i]])
            i++;
        memcpy(b->p + b->len, s + start, i - start);
        b->len += i - start;
        if (i == n) return;
        if (b->cap - b->len < (n - i) + 6 + tail && canon_buf_reserve(c, (n - i) + 6 + tail) < 0)
            return;
        unsigned char ch = (unsigned char)s[i++];
        char *p = b->p + b->len;
        *p++ = '\\';
        if (esc_tab[ch] == 'u') {
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        } else {
            *p++ = esc_tab[ch];
        }
        b->len = (size_t)(p - b->p);
    }
}

void canon_w_strn(canon_ctx *c, const char *s, size_t n) {
    canon_w_ch(c, '"');
    w_escaped(c, s, n, 1);
    canon_w_ch(c, '"');
}

void canon_w_i64(canon_ctx *c, int64_t v) {
    char buf[UTIL_I64_BUF];
    char *p = util_i64_digits(v, buf);
    canon_w_mem(c, p, (size_t)(buf + UTIL_I64_BUF - p));
}

void canon_w_value(canon_ctx *c, const cJSON *v) {
    const cJSON *e;
    switch (v->type & 0xFF) {
    case cJSON_NULL: canon_w_lit(c, "null"); return;
    case cJSON_False: canon_w_lit(c, "false"); return;
    case cJSON_True: canon_w_lit(c, "true"); return;
    case cJSON_String: canon_w_str(c, v->valuestring); return;
    case cJSON_Raw:
        if (v->valuestring)
            canon_w_mem(c, v->valuestring, strlen(v->valuestring));
        else
            canon_fail(c, "out of memory"); /* cJSON refuses to print it as well */
        return;
    case cJSON_Number: {
        /* Numbers go through cJSON itself: its %1.15g / %1.17g choice and integer test
         * are what a duplicated-then-printed value looked like, and they are rare here
         * (kept source values only). Printing one number never allocates. */
        char num[CANON_NUM_LEN];
        if (!cJSON_PrintPreallocated((cJSON *)v, num, (int)sizeof num, 0)) {
            canon_fail(c, "out of memory");
            return;
        }
        canon_w_mem(c, num, strlen(num));
        return;
    }
    case cJSON_Array:
        canon_w_open(c, '[');
        cJSON_ArrayForEach(e, v) {
            canon_w_elem(c);
            canon_w_value(c, e);
        }
        canon_w_close(c, ']');
        return;
    case cJSON_Object:
        canon_w_open(c, '{');
        cJSON_ArrayForEach(e, v) {
            canon_w_elem(c);
            canon_w_str(c, e->string);
            canon_w_ch(c, ':');
            canon_w_value(c, e);
        }
        canon_w_close(c, '}');
        return;
    default:
        canon_fail(c, "out of memory"); /* an invalid item: cJSON's print fails too */
        return;
    }
}

/* ---------------------------------------------------------------- extra */

static uint32_t hash_bytes(const char *p, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* Index + 1 of the key equal to extra[off, off+len), or 0; *slot is where it is or would go. */
static size_t xkey_find(const canon_ctx *c, size_t off, size_t len, uint32_t h, size_t *slot) {
    size_t mask = c->nslot - 1;
    for (size_t s = h & mask;; s = (s + 1) & mask) {
        uint32_t k = c->xslot[s];
        if (!k) {
            *slot = s;
            return 0;
        }
        const canon_xkey *x = &c->xkeys[k - 1];
        if (x->hash == h && x->len == len &&
            memcmp(c->extra.p + x->off, c->extra.p + off, len) == 0) {
            *slot = s;
            return k;
        }
    }
}

/* Room for one more key: xkeys grown and the set kept at most half full. */
static int xkey_room(canon_ctx *c) {
    if (c->nx == c->capx) {
        size_t cap = c->capx ? c->capx * 2 : CANON_XSLOT_MIN / 2;
        canon_xkey *k = realloc(c->xkeys, cap * sizeof *k);
        if (!k) return canon_fail(c, "out of memory");
        c->xkeys = k;
        c->capx = cap;
    }
    if ((c->nx + 1) * 2 <= c->nslot) return 0;
    size_t nslot = c->nslot ? c->nslot * 2 : CANON_XSLOT_MIN;
    uint32_t *slots = calloc(nslot, sizeof *slots);
    if (!slots || c->nx >= UINT32_MAX) return free(slots), canon_fail(c, "out of memory");
    free(c->xslot);
    c->xslot = slots;
    c->nslot = nslot;
    for (size_t i = 0; i < c->nx; i++) {
        size_t s;
        xkey_find(c, c->xkeys[i].off, c->xkeys[i].len, c->xkeys[i].hash, &s);
        c->xslot[s] = (uint32_t)(i + 1);
    }
    return 0;
}

int canon_extra_keep(canon_ctx *c, const char *key, const cJSON *v) {
    if (c->failed || xkey_room(c) < 0) return -1;
    canon_buf *saved = c->w;
    int saved_first = c->first; /* the record's comma state, while extra's is written */
    c->w = &c->extra;
    size_t start = c->extra.len;
    if (c->nx) canon_w_ch(c, ',');
    size_t koff = c->extra.len;
    /* Unknown keys come from the source, so their length is bounded only by the body.
     * Escaping "path" and "key" apart and joining them gives the escaped "path.key". */
    canon_w_ch(c, '"');
    if (c->plen) {
        w_escaped(c, c->path, c->plen, 1);
        canon_w_ch(c, '.');
    }
    w_escaped(c, key, strlen(key), 1);
    canon_w_ch(c, '"');
    if (c->failed) goto out;
    size_t klen = c->extra.len - koff;
    uint32_t h = hash_bytes(c->extra.p + koff, klen);
    size_t slot;
    if (xkey_find(c, koff, klen, h, &slot)) {
        c->extra.len = start; /* a later duplicate: the first value stays */
        goto out;
    }
    c->xkeys[c->nx] = (canon_xkey){koff, klen, h};
    c->xslot[slot] = (uint32_t)++c->nx;
    canon_w_ch(c, ':');
    canon_w_value(c, v);
out:
    c->w = saved;
    c->first = saved_first;
    return c->failed ? -1 : 0;
}

int canon_change(canon_ctx *c, const char *name, const char *change, const char *reason) {
    if (c->failed) return -1;
    if (c->nchanges++ >= CANON_MAX_CHANGES) return 0;
    canon_buf *saved = c->w;
    int saved_first = c->first;
    c->w = &c->changes;
    if (c->changes.len) canon_w_ch(c, ',');
    canon_w_lit(c, "{\"field\":\"");
    w_escaped(c, c->path, c->plen, 1);
    if (name) {
        if (c->plen) canon_w_ch(c, '.');
        w_escaped(c, name, strlen(name), 1);
    }
    canon_w_lit(c, "\",\"change\":");
    canon_w_str(c, change);
    canon_w_lit(c, ",\"reason\":");
    canon_w_str(c, reason);
    canon_w_ch(c, '}');
    /* The field without positions and map keys ("line_items.*.returned_date"): the
     * metric's label, so that its series stay bounded whatever the data. */
    c->w = &c->changed;
    const char *p = c->path, *end = c->path + c->plen;
    for (unsigned d = 0; p < end; d++) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        if (d) canon_w_ch(c, '.');
        if (d < 64 && (c->keyed >> d & 1))
            canon_w_ch(c, '*');
        else
            canon_w_mem(c, p, n);
        p += n + (dot ? 1 : 0);
    }
    if (name) {
        if (c->plen) canon_w_ch(c, '.');
        canon_w_mem(c, name, strlen(name));
    }
    canon_w_ch(c, '\0');
    c->w = saved;
    c->first = saved_first;
    return c->failed ? -1 : 0;
}

int canon_finish(canon_ctx *c, char **value, size_t *len) {
    *value = NULL;
    *len = 0;
    canon_w_key(c, "extra");
    canon_w_ch(c, '{');
    if (c->extra.len) canon_w_mem(c, c->extra.p, c->extra.len);
    canon_w_ch(c, '}');
    if (c->nchanges) {
        canon_w_key(c, "value_changes");
        canon_w_ch(c, '[');
        canon_w_mem(c, c->changes.p, c->changes.len);
        if (c->nchanges > CANON_MAX_CHANGES) {
            char more[96];
            snprintf(more, sizeof more, "%u more changes not listed",
                     c->nchanges - CANON_MAX_CHANGES);
            canon_w_lit(c, ",{\"field\":null,\"change\":\"truncated\",\"reason\":");
            canon_w_str(c, more);
            canon_w_ch(c, '}');
        }
        canon_w_ch(c, ']');
    }
    canon_w_ch(c, '}');
    canon_w_ch(c, '\0');
    if (c->failed) return -1;
    /* The caller keeps the text until Kafka has it: give back a large unused tail. */
    if (c->out.cap - c->out.len > c->out.len / 4 + CANON_BUF_MIN) {
        char *p = realloc(c->out.p, c->out.len);
        if (p) c->out.p = p;
    }
    *len = c->out.len - 1;
    *value = c->out.p;
    memset(&c->out, 0, sizeof c->out);
    return 0;
}

char *canon_key(canon_ctx *c, const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *k = malloc(na + 1 + nb + 1);
    if (!k) {
        canon_fail(c, "out of memory");
        return NULL;
    }
    memcpy(k, a, na);
    k[na] = '|';
    memcpy(k + na + 1, b, nb + 1);
    return k;
}
