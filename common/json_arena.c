/* json_arena.c - a JSON parser into an arena. It accepts exactly the texts that cJSON's
 * cJSON_ParseWithLengthOpts(text, len, &end, 0) accepts, with the same values and the same
 * end, but puts every node and string in one arena: parsing with cJSON costs two mallocs
 * per value and as many frees, which was most of what mapping a record cost in the
 * normalizer, and a third of the writer's CPU per record.
 *
 * The nodes are ordinary cJSON structs, read with the cJSON API. They belong to the arena:
 * never pass them to cJSON_Delete, never modify them.
 */
#include "json_arena.h"

#include "values.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Arena chunks: the first is sized from the first text parsed into the arena (a typical
 * record needs about 8 bytes of nodes and strings per byte of JSON), later ones double,
 * each within these bounds. */
#define JSON_ARENA_PER_BYTE 8
#define JSON_ARENA_MIN 4096
#define JSON_ARENA_MAX (1024 * 1024)
/* Number text up to this long is copied for strtod on the stack; longer runs (cJSON
 * accepts them, however long) are copied to the heap. */
#define JSON_NUM_CHARS 63
/* Numbers of at most this many digits are exact in a double, and so is their quotient by a
 * power of ten correctly rounded: the same double strtod returns. */
#define JSON_NUM_FAST_DIGITS 15

typedef struct json_chunk {
    struct json_chunk *next;
    size_t size;        /* bytes of data */
    max_align_t data[]; /* aligned for cJSON nodes */
} json_chunk;

typedef struct parser {
    json_arena *a;
    const unsigned char *s, *end;
    size_t depth;
} parser;

static inline void *arena_alloc(json_arena *a, size_t n, size_t align) {
    size_t pad = (align - ((uintptr_t)a->p & (align - 1))) & (align - 1);
    if (a->left < n + pad) {
        json_chunk *c = a->spare;
        if (c && c->size >= n) { /* kept by json_arena_reset, in the order they were made */
            a->spare = c->next;
        } else {
            size_t size = a->next;
            if (size < n + sizeof(max_align_t)) size = n + sizeof(max_align_t);
            c = malloc(sizeof *c + size);
            if (!c) {
                a->oom = 1;
                return NULL;
            }
            c->size = size;
            if (a->next < JSON_ARENA_MAX) a->next *= 2;
        }
        c->next = a->chunks;
        a->chunks = c;
        a->p = (char *)c->data;
        a->left = c->size;
        pad = 0;
    }
    void *r = a->p + pad;
    a->p += pad + n;
    a->left -= pad + n;
    return r;
}

void json_arena_reset(json_arena *a, size_t keep) {
    /* Oldest first onto the spare list, ahead of spares this round did not need. */
    while (a->chunks) {
        json_chunk *c = a->chunks;
        a->chunks = c->next;
        c->next = a->spare;
        a->spare = c;
    }
    size_t kept = 0;
    for (json_chunk **pc = &a->spare; *pc;) {
        json_chunk *c = *pc;
        if (kept + c->size <= keep) {
            kept += c->size;
            pc = &c->next;
        } else {
            *pc = c->next;
            free(c);
        }
    }
    a->p = NULL;
    a->left = 0;
}

void json_arena_free(json_arena *a) {
    json_arena_reset(a, 0);
}

static cJSON *new_node(parser *ps) {
    cJSON *n = arena_alloc(ps->a, sizeof *n, _Alignof(cJSON));
    if (n) memset(n, 0, sizeof *n);
    return n;
}

/* cJSON's whitespace: every byte up to and including the space. */
static const unsigned char *skip_ws(const parser *ps, const unsigned char *p) {
    while (p < ps->end && *p <= 32)
        p++;
    return p;
}

static int hexval(unsigned char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Four hex digits; like cJSON, a sequence with a non-hex digit counts as 0. */
static unsigned hex4(const unsigned char *p) {
    unsigned h = 0;
    for (int i = 0; i < 4; i++) {
        int v = hexval(p[i]);
        if (v < 0) return 0;
        h = (h << 4) | (unsigned)v;
    }
    return h;
}

/* A \u escape (one, or a surrogate pair) at p, the string's closing quote at q: the code
 * point as UTF-8 at *out. Returns the escape's length in bytes, or 0 when invalid. */
static size_t utf16_escape(const unsigned char *p, const unsigned char *q, unsigned char **out) {
    unsigned long cp;
    size_t len;
    if (q - p < 6) return 0;
    unsigned first = hex4(p + 2);
    if (first >= 0xDC00 && first <= 0xDFFF) return 0;
    if (first >= 0xD800 && first <= 0xDBFF) {
        const unsigned char *second = p + 6;
        if (q - second < 6 || second[0] != '\\' || second[1] != 'u') return 0;
        unsigned low = hex4(second + 2);
        if (low < 0xDC00 || low > 0xDFFF) return 0;
        cp = 0x10000 + (((first & 0x3FF) << 10) | (low & 0x3FF));
        len = 12;
    } else {
        cp = first;
        len = 6;
    }
    *out += val_utf8_put(cp, *out);
    return len;
}

/* The string literal at *pp (its opening quote), decoded into the arena. */
static char *parse_string(parser *ps, const unsigned char **pp) {
    const unsigned char *p = *pp, *q = p + 1;
    if (p >= ps->end || *p != '"') return NULL;
    int escaped = 0;
    /* The closing quote: a backslash always takes the next byte with it. */
    for (; q < ps->end && *q != '"'; q++) {
        if (*q == '\0') { /* a C string (and PostgreSQL text) would end here */
            ps->a->nul = 1;
            return NULL;
        }
        if (*q == '\\') {
            escaped = 1;
            if (++q >= ps->end) return NULL;
        }
    }
    if (q >= ps->end) return NULL;
    /* Decoding never lengthens the text. */
    unsigned char *out = arena_alloc(ps->a, (size_t)(q - p), 1), *o = out;
    if (!out) return NULL;
    if (!escaped) { /* the usual case: copied as is */
        memcpy(out, p + 1, (size_t)(q - p - 1));
        out[q - p - 1] = '\0';
        *pp = q + 1;
        return (char *)out;
    }
    for (const unsigned char *i = p + 1; i < q;) {
        if (*i != '\\') {
            const unsigned char *run = i;
            while (i < q && *i != '\\')
                i++;
            memcpy(o, run, (size_t)(i - run));
            o += i - run;
            continue;
        }
        switch (i[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case '"':
        case '\\':
        case '/': *o++ = i[1]; break;
        case 'u': {
            /* \u0000 (or, as cJSON reads it, a non-hex escape) decodes to NUL. */
            if (q - i >= 6 && hex4(i + 2) == 0) {
                ps->a->nul = 1;
                return NULL;
            }
            size_t n = utf16_escape(i, q, &o);
            if (!n) return NULL;
            i += n;
            continue;
        }
        default: return NULL;
        }
        i += 2;
    }
    *o = '\0';
    *pp = q + 1;
    return (char *)out;
}

static int is_num_char(unsigned char ch) {
    return (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == 'e' || ch == 'E' ||
           ch == '.';
}

/* A number, as cJSON reads one: the longest run of number characters, of which strtod
 * takes what it can. */
static int parse_number(parser *ps, const unsigned char **pp, cJSON *item) {
    const unsigned char *p = *pp;
    size_t n = 0;
    while (p + n < ps->end && is_num_char(p[n]))
        n++;
    double v;
    size_t used;
    /* Fast path: -?digits(.digits)? with few digits, the whole run. */
    size_t i = p[0] == '-', digits = 0, point = 0, frac = 0;
    uint64_t m = 0;
    for (; i < n; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            m = m * 10 + (uint64_t)(p[i] - '0');
            digits++;
            frac += point != 0;
        } else if (p[i] == '.' && !point && digits) {
            point = i;
        } else {
            break;
        }
    }
    if (i == n && digits && digits <= JSON_NUM_FAST_DIGITS && (!point || frac)) {
        static const double p10[JSON_NUM_FAST_DIGITS + 1] = {
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        v = (double)m / p10[frac];
        if (p[0] == '-') v = -v;
        used = n;
    } else {
        char small[JSON_NUM_CHARS + 1], *after;
        char *buf = n <= JSON_NUM_CHARS ? small : malloc(n + 1);
        if (!buf) {
            ps->a->oom = 1;
            return -1;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        v = strtod(buf, &after);
        used = (size_t)(after - buf);
        if (buf != small) free(buf);
        if (used == 0) return -1;
    }
    item->type = cJSON_Number;
    item->valuedouble = v;
    /* cJSON saturates valueint. */
    item->valueint = v >= INT_MAX ? INT_MAX : v <= (double)INT_MIN ? INT_MIN : (int)v;
    *pp = p + used;
    return 0;
}

static int parse_value(parser *ps, const unsigned char **pp, cJSON *item);

/* An array or object at *pp ('[' or '{'); members of an object have keys. */
static int parse_container(parser *ps, const unsigned char **pp, cJSON *item, int object) {
    const unsigned char *p = *pp + 1;
    const char close = object ? '}' : ']';
    cJSON *head = NULL, *last = NULL;

    if (ps->depth >= CJSON_NESTING_LIMIT) return -1;
    ps->depth++;
    p = skip_ws(ps, p);
    if (p < ps->end && *p == close) goto done;
    for (;;) {
        cJSON *n = new_node(ps);
        if (!n) return -1;
        if (last) {
            last->next = n;
            n->prev = last;
        } else {
            head = n;
        }
        last = n;
        p = skip_ws(ps, p);
        if (object) {
            n->string = parse_string(ps, &p);
            if (!n->string) return -1;
            p = skip_ws(ps, p);
            if (p >= ps->end || *p != ':') return -1;
            p = skip_ws(ps, p + 1);
        }
        if (parse_value(ps, &p, n) < 0) return -1;
        p = skip_ws(ps, p);
        if (p < ps->end && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    if (p >= ps->end || *p != close) return -1;
done:
    ps->depth--;
    if (head) head->prev = last; /* as cJSON links them */
    item->type = object ? cJSON_Object : cJSON_Array;
    item->child = head;
    *pp = p + 1;
    return 0;
}

static int parse_value(parser *ps, const unsigned char **pp, cJSON *item) {
    const unsigned char *p = *pp;
    size_t left = (size_t)(ps->end - p);
    if (left >= 4 && memcmp(p, "null", 4) == 0) {
        item->type = cJSON_NULL;
        *pp = p + 4;
        return 0;
    }
    if (left >= 5 && memcmp(p, "false", 5) == 0) {
        item->type = cJSON_False;
        *pp = p + 5;
        return 0;
    }
    if (left >= 4 && memcmp(p, "true", 4) == 0) {
        item->type = cJSON_True;
        item->valueint = 1;
        *pp = p + 4;
        return 0;
    }
    if (left == 0) return -1;
    switch (*p) {
    case '"':
        item->valuestring = parse_string(ps, pp);
        item->type = cJSON_String;
        return item->valuestring ? 0 : -1;
    case '[': return parse_container(ps, pp, item, 0);
    case '{': return parse_container(ps, pp, item, 1);
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) return parse_number(ps, pp, item);
        return -1;
    }
}

const cJSON *json_arena_parse(json_arena *a, const char *s, size_t len, const char **end) {
    parser ps = {a, (const unsigned char *)s, (const unsigned char *)s + len, 0};
    if (!a->chunks && !a->spare) { /* later parses keep the doubling going */
        size_t first = len <= JSON_ARENA_MAX / JSON_ARENA_PER_BYTE ? len * JSON_ARENA_PER_BYTE
                                                                   : JSON_ARENA_MAX;
        a->next = first < JSON_ARENA_MIN ? JSON_ARENA_MIN : first;
    }
    a->oom = 0;
    a->nul = 0;
    if (!s || len == 0) return NULL;
    const unsigned char *p = ps.s;
    /* cJSON skips a UTF-8 byte order mark, when at least two more bytes follow it. */
    if (len >= 5 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    p = skip_ws(&ps, p);
    cJSON *root = new_node(&ps);
    if (!root || parse_value(&ps, &p, root) < 0) return NULL;
    *end = (const char *)p;
    return root;
}
