/* db_stage.c - one canonical record -> its dedupe key, its version and its staging rows
 * in COPY text format, driven by the record's wdb_spec. Every type is checked here, so
 * that almost every content problem is found before the database sees the batch; what
 * slips through (e.g. a raw control character jsonb refuses, an over-long indexed value)
 * is caught by db.c's savepoint bisection instead.
 */
#include "writer/db_stage.h"

#include "values.h"
#include "writer/db_version.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WDB_MAX_PATH 128 /* one WDB_FIRST_OF alternative; spec paths are short */
#define BYTES8(c) (0x0101010101010101ull * (unsigned char)(c)) /* c in each byte of a word */

/* ------------------------------------------------------------------ JSON access */

/* Columns are read by name from objects of up to ~50 members. A scan per column
 * (cJSON_GetObjectItemCaseSensitive) cost O(columns x members) strcmp calls, the largest
 * single cost of staging a record. So an object of WDB_IX_MIN members or more gets a hash
 * index of its members on its first lookup, kept while one record is staged: one hash
 * per member, then about one hash and one compare per column. As in cJSON, the first
 * member of a name wins (a duplicate key is kept out of the index). */
#define WDB_IX_MIN 8     /* fewer members: a scan costs less than hashing them all */
#define WDB_IX_SLOTS 256 /* a power of two; more than half as many members: scanned */
#define WDB_IX_CACHE 4   /* objects indexed at once: the record and the elements under it */

typedef struct obj_index {
    const cJSON *obj;
    size_t mask; /* slots in use - 1 */
    uint32_t hash[WDB_IX_SLOTS];
    const cJSON *node[WDB_IX_SLOTS]; /* NULL: a free slot */
} obj_index;

/* The indexes of the objects looked up while one record is staged. Slot 0 keeps the
 * first object indexed (the record itself); the others take turns. Only nix and next
 * need initialising. */
typedef struct lookup {
    obj_index ix[WDB_IX_CACHE];
    int nix, next;
} lookup;

/* From the length and the first and last four bytes: O(1) per name, and enough to tell
 * apart the names of one object (a collision costs one more compare, never a wrong
 * member). A byte-by-byte hash was most of the lookup's cost. */
static uint32_t name_hash(const char *s, size_t n) {
    uint32_t a = 0, b = 0;
    if (n >= 4) {
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            a = a << 8 | (unsigned char)s[i];
    }
    uint32_t h = (a ^ (b * 0x9E3779B1u) ^ (uint32_t)n) * 0x85EBCA6Bu;
    return h ^ (h >> 15);
}

/* name (NUL-terminated) equals k[0..n); the first byte is checked inline, as most
 * mismatches differ there */
static int name_is(const char *name, const char *k, size_t n) {
    return name[0] == (n ? k[0] : '\0') && strncmp(name, k, n) == 0 && name[n] == '\0';
}

static const obj_index *index_of(lookup *lk, const cJSON *obj) {
    for (int i = 0; i < lk->nix; i++)
        if (lk->ix[i].obj == obj) return &lk->ix[i];
    size_t n = 0;
    for (const cJSON *m = obj->child; m && n <= WDB_IX_SLOTS / 2; m = m->next)
        n++;
    if (n < WDB_IX_MIN || n > WDB_IX_SLOTS / 2) return NULL;
    obj_index *ix;
    if (lk->nix < WDB_IX_CACHE)
        ix = &lk->ix[lk->nix++];
    else
        ix = &lk->ix[1 + lk->next++ % (WDB_IX_CACHE - 1)];
    size_t slots = WDB_IX_MIN * 2;
    while (slots < n * 2)
        slots *= 2;
    ix->obj = obj;
    ix->mask = slots - 1;
    memset(ix->node, 0, slots * sizeof ix->node[0]);
    for (const cJSON *m = obj->child; m; m = m->next) {
        if (!m->string) continue;
        size_t len = strlen(m->string);
        uint32_t h = name_hash(m->string, len);
        for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
            if (!ix->node[i]) {
                ix->node[i] = m;
                ix->hash[i] = h;
                break;
            }
            if (ix->hash[i] == h && name_is(ix->node[i]->string, m->string, len)) break;
        }
    }
    return ix;
}

/* The first member of obj (an object) named k[0..n), or NULL. lk may be NULL: a scan. */
static const cJSON *member(lookup *lk, const cJSON *obj, const char *k, size_t n) {
    const obj_index *ix = lk ? index_of(lk, obj) : NULL;
    if (ix) {
        uint32_t h = name_hash(k, n);
        for (size_t i = h & ix->mask; ix->node[i]; i = (i + 1) & ix->mask)
            if (ix->hash[i] == h && name_is(ix->node[i]->string, k, n)) return ix->node[i];
        return NULL;
    }
    for (const cJSON *m = obj->child; m; m = m->next)
        if (m->string && name_is(m->string, k, n)) return m;
    return NULL;
}

/* Resolve a dot path below obj. 0 with *out = the value (NULL when absent or JSON null),
 * or -1 when something on the way is present but not an object. */
static int path_get(lookup *lk, const cJSON *obj, const char *path, const cJSON **out) {
    const cJSON *cur = obj;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!cJSON_IsObject(cur)) return -1;
        cur = member(lk, cur, p, len);
        if (!cur || cJSON_IsNull(cur)) {
            *out = NULL;
            return 0;
        }
        if (!dot) {
            *out = cur;
            return 0;
        }
        p = dot + 1;
    }
}

/* WDB_FIRST_OF: the first non-null alternative, which must be a string; "" when all are
 * null. 0, or -1 when an alternative is of another type. */
static int first_of(lookup *lk, const cJSON *obj, const char *alts, const char **out) {
    char path[WDB_MAX_PATH];
    const char *p = alts;
    *out = "";
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len >= sizeof path) return -1;
        memcpy(path, p, len);
        path[len] = '\0';
        const cJSON *v;
        if (path_get(lk, obj, path, &v)) return -1;
        if (v) {
            if (!cJSON_IsString(v)) return -1;
            if (v->valuestring[0]) {
                *out = v->valuestring;
                return 0;
            }
        }
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static const char *col_path(const wdb_col *c) {
    return c->path ? c->path : c->name;
}

/* ------------------------------------------------------------------ COPY text */

/* What COPY text format escapes, and as what. */
static const char copy_esc[256] = {['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};

/* 1 when one of the 8 bytes of x may need escaping: a byte below 14 (tab, newline and
 * CR are 9, 10, 13) or a backslash. Exact as a yes/no (the classic "has less" and "has
 * zero" word tests); a yes for 11, 12 or 0 only sends those 8 bytes the slow way. */
static inline int copy_special8(uint64_t x) {
    uint64_t bs = x ^ BYTES8('\\');
    return (((x - BYTES8(14)) & ~x) | ((bs - BYTES8(1)) & ~bs)) & BYTES8(0x80) ? 1 : 0;
}

/* The raw record (2.7 KB for an order) is escaped whole: 8 bytes at a time while none
 * needs it, and one append per run rather than per byte. */
int wdb_copy_escape(sbuf *b, const char *s, size_t n) {
    size_t run = 0, i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (!copy_special8(x)) {
                i += 8;
                continue;
            }
        }
        for (size_t stop = n - i >= 8 ? i + 8 : n; i < stop; i++) {
            char esc = copy_esc[(unsigned char)s[i]];
            if (!esc) continue;
            char two[2] = {'\\', esc};
            if (sbuf_append(b, s + run, i - run) || sbuf_append(b, two, 2)) return -1;
            run = i + 1;
        }
    }
    return sbuf_append(b, s + run, n - run);
}

static int put_str(sbuf *b, const char *s) {
    return wdb_copy_escape(b, s, strlen(s));
}

/* v in decimal, without printf: several integers per row (seq, ordinals, quantities)
 * went through vsnprintf. */
static int put_i64(sbuf *b, int64_t v) {
    char tmp[UTIL_I64_BUF];
    char *p = util_i64_digits(v, tmp);
    return sbuf_append(b, p, (size_t)(tmp + UTIL_I64_BUF - p));
}

/* The shortest %g text that reads back as the same double. */
static int put_double(sbuf *b, double d) {
    /* An integer below 10^15 prints as its digits at the first precision tried (%.15g
     * has no exponent there); -0 keeps its sign through %g. */
    if (d == floor(d) && fabs(d) < 1e15 && !(d == 0 && signbit(d))) return put_i64(b, (long long)d);
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    return sbuf_append(b, tmp, strlen(tmp));
}

/* s as a JSON string, escaped as cJSON prints it, then for COPY: in JSON text only the
 * escapes hold backslashes (control characters are all escaped), so COPY's escaping is
 * a doubled backslash. */
static int put_json_str(sbuf *b, const char *s) {
    const unsigned char *p = (const unsigned char *)s, *run = p;
    if (sbuf_append(b, "\"", 1)) return -1;
    for (; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\') continue;
        char esc[16];
        int n;
        switch (*p) {
        case '"': n = snprintf(esc, sizeof esc, "\\\\\""); break;
        case '\\': n = snprintf(esc, sizeof esc, "\\\\\\\\"); break;
        case '\b': n = snprintf(esc, sizeof esc, "\\\\b"); break;
        case '\f': n = snprintf(esc, sizeof esc, "\\\\f"); break;
        case '\n': n = snprintf(esc, sizeof esc, "\\\\n"); break;
        case '\r': n = snprintf(esc, sizeof esc, "\\\\r"); break;
        case '\t': n = snprintf(esc, sizeof esc, "\\\\t"); break;
        default: n = snprintf(esc, sizeof esc, "\\\\u%04x", *p);
        }
        if (sbuf_append(b, run, (size_t)(p - run)) || sbuf_append(b, esc, (size_t)n)) return -1;
        run = p + 1;
    }
    return sbuf_append(b, run, (size_t)(p - run)) || sbuf_append(b, "\"", 1) ? -1 : 0;
}

/* A JSON value as JSON text for a jsonb column, COPY-escaped, straight into b (printing
 * it with cJSON_PrintUnformatted cost a malloc per column). jsonb reads it as the same
 * value cJSON's text gave: numbers as put_double prints them (null when not finite, as
 * cJSON prints them), strings escaped as cJSON escapes them. */
static int put_json(sbuf *b, const cJSON *v) {
    if (cJSON_IsString(v)) return put_json_str(b, v->valuestring);
    if (cJSON_IsNumber(v))
        return isfinite(v->valuedouble) ? put_double(b, v->valuedouble) : sbuf_append(b, "null", 4);
    if (cJSON_IsTrue(v)) return sbuf_append(b, "true", 4);
    if (cJSON_IsFalse(v)) return sbuf_append(b, "false", 5);
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        int obj = cJSON_IsObject(v);
        if (sbuf_append(b, obj ? "{" : "[", 1)) return -1;
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child && sbuf_append(b, ",", 1)) return -1;
            if (obj && (put_json_str(b, e->string ? e->string : "") || sbuf_append(b, ":", 1)))
                return -1;
            if (put_json(b, e)) return -1;
        }
        return sbuf_append(b, obj ? "}" : "]", 1);
    }
    return sbuf_append(b, "null", 4);
}

enum { PUT_OK = 0, PUT_BAD = -1, PUT_OOM = -2 };

/* Append one value. PUT_BAD sets *why to a short description of what was expected. */
static int put_value(sbuf *b, const cJSON *v, wdb_coltype t, const char **why) {
    if (!v || cJSON_IsNull(v)) return sbuf_append(b, "\\N", 2) ? PUT_OOM : PUT_OK;
    int rc = 0;
    switch (t) {
    case WDB_TEXT:
    case WDB_FIRST_OF:
        if (cJSON_IsString(v))
            rc = put_str(b, v->valuestring);
        else if (cJSON_IsNumber(v))
            rc = put_double(b, v->valuedouble);
        else if (cJSON_IsBool(v))
            rc = put_str(b, cJSON_IsTrue(v) ? "true" : "false");
        else {
            *why = "expected a string";
            return PUT_BAD;
        }
        break;
    case WDB_INT: {
        int64_t n;
        if (!cJSON_IsNumber(v) || val_int_exact(v->valuedouble, &n)) {
            *why = "expected an integer";
            return PUT_BAD;
        }
        rc = put_i64(b, n);
        break;
    }
    case WDB_NUM:
        /* Text only in the canonical form: nothing PostgreSQL would read differently
         * ("NaN", "Infinity", exponents, blanks) and no scale the normalizer never writes. */
        if (cJSON_IsString(v) && val_dec_canonical(v->valuestring))
            rc = put_str(b, v->valuestring);
        else if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            rc = put_double(b, v->valuedouble);
        else {
            *why = "expected a decimal";
            return PUT_BAD;
        }
        break;
    case WDB_BOOL:
        if (!cJSON_IsBool(v)) {
            *why = "expected a boolean";
            return PUT_BAD;
        }
        rc = sbuf_append(b, cJSON_IsTrue(v) ? "t" : "f", 1);
        break;
    case WDB_TS: {
        int64_t ms;
        if (!cJSON_IsString(v) || val_time_canonical(v->valuestring, &ms)) {
            *why = "expected a canonical RFC 3339 timestamp";
            return PUT_BAD;
        }
        rc = put_str(b, v->valuestring);
        break;
    }
    case WDB_JSON: rc = put_json(b, v); break;
    }
    return rc ? PUT_OOM : PUT_OK;
}

/* ------------------------------------------------------------------ key and version */

int wdb_stage_key(const wdb_spec *spec, const cJSON *rec, char **key, wdb_version *version,
                  char *reason, size_t rlen) {
    sbuf k = {0};
    *key = NULL;
    for (int i = 0; i < spec->nkeys; i++) {
        const wdb_col *c = &spec->cols[i];
        const char *val;
        if (c->type == WDB_FIRST_OF) {
            if (first_of(NULL, rec, c->path, &val)) {
                snprintf(reason, rlen, "%s: expected a string", c->path);
                goto fail;
            }
        } else {
            const cJSON *v;
            if (path_get(NULL, rec, col_path(c), &v) || !cJSON_IsString(v) || !v->valuestring[0]) {
                snprintf(reason, rlen, "missing or empty %s", col_path(c));
                goto fail;
            }
            val = v->valuestring;
        }
        size_t len = strlen(val);
        if (len > WDB_MAX_KEY_BYTES) {
            snprintf(reason, rlen, "%s longer than %d bytes", col_path(c), WDB_MAX_KEY_BYTES);
            goto fail;
        }
        if (put_i64(&k, (long long)len) || sbuf_append(&k, ":", 1) || sbuf_append(&k, val, len)) {
            snprintf(reason, rlen, "out of memory");
            goto fail;
        }
    }
    if (wdb_version_of(spec, rec, version, reason, rlen) != 0) goto fail;
    if (!k.p && sbuf_append(&k, "", 0)) goto fail;
    *key = k.p;
    return 0;
fail:
    sbuf_free(&k);
    return -1;
}

/* ------------------------------------------------------------------ rows */

typedef struct walk_ctx {
    lookup *lk;
    const wdb_child *ch;
    sbuf *b;
    const char *conn_id, *parent_id;
    int pseq;
    const cJSON *elems[WDB_MAX_DEPTH + 1]; /* [0] the record, [k] the element at level k */
    int ord[WDB_MAX_DEPTH];
    int *rows;         /* child elements visited for this record */
    const char **uniq; /* unique_col values seen under this parent */
    int nuniq, capuniq;
    char *reason;
    size_t rlen;
    int oom;
} walk_ctx;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int emit_child_row(walk_ctx *w) {
    const wdb_child *ch = w->ch;
    sbuf *b = w->b;
    if (put_i64(b, w->pseq) || sbuf_append(b, "\t", 1) || put_str(b, w->conn_id) ||
        sbuf_append(b, "\t", 1) || put_str(b, w->parent_id))
        goto oom;
    for (int l = 0; l < ch->depth; l++) {
        if (!ch->levels[l].ord_col) continue;
        if (ch->levels[l].is_map) {
            if (sbuf_append(b, "\t", 1) || put_str(b, w->elems[l + 1]->string)) goto oom;
        } else if (sbuf_append(b, "\t", 1) || put_i64(b, w->ord[l])) {
            goto oom;
        }
    }
    for (int i = 0; i < ch->ncols; i++) {
        const wdb_col *c = &ch->cols[i];
        const cJSON *v;
        const char *why = NULL;
        if (sbuf_append(b, "\t", 1)) goto oom;
        if (path_get(w->lk, w->elems[ch->depth - c->up], col_path(c), &v)) {
            snprintf(w->reason, w->rlen, "%s.%s: expected an object on the way", ch->table,
                     c->name);
            return -1;
        }
        if (ch->unique_col && strcmp(ch->unique_col, c->name) == 0) {
            if (!cJSON_IsString(v) || !v->valuestring[0]) {
                snprintf(w->reason, w->rlen, "%s.%s: missing", ch->table, c->name);
                return -1;
            }
            if (w->nuniq == w->capuniq) {
                int cap = w->capuniq ? w->capuniq * 2 : 16;
                const char **u = realloc(w->uniq, (size_t)cap * sizeof *u);
                if (!u) goto oom;
                w->uniq = u;
                w->capuniq = cap;
            }
            w->uniq[w->nuniq++] = v->valuestring;
        }
        int rc = put_value(b, v, c->type, &why);
        if (rc == PUT_OOM) goto oom;
        if (rc == PUT_BAD) {
            snprintf(w->reason, w->rlen, "%s.%s: %s", ch->table, c->name, why);
            return -1;
        }
    }
    if (sbuf_append(b, "\n", 1)) goto oom;
    return 0;
oom:
    w->oom = 1;
    snprintf(w->reason, w->rlen, "out of memory");
    return -1;
}

static int walk(walk_ctx *w, int lvl) {
    const wdb_level *L = &w->ch->levels[lvl];
    const cJSON *cont;
    if (path_get(w->lk, w->elems[lvl], L->path, &cont)) {
        snprintf(w->reason, w->rlen, "%s: expected an object on the way", L->path);
        return -1;
    }
    if (!cont) return 0;
    if (L->is_map ? !cJSON_IsObject(cont) : !cJSON_IsArray(cont)) {
        snprintf(w->reason, w->rlen, "%s: expected %s", L->path,
                 L->is_map ? "an object" : "an array");
        return -1;
    }
    int idx = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cont) {
        if (!cJSON_IsObject(e)) {
            snprintf(w->reason, w->rlen, "%s[%d]: expected an object", L->path, idx);
            return -1;
        }
        if (++*w->rows > WDB_MAX_CHILDREN) {
            snprintf(w->reason, w->rlen, "more than %d child rows", WDB_MAX_CHILDREN);
            return -1;
        }
        w->elems[lvl + 1] = e;
        w->ord[lvl] = idx;
        if (lvl + 1 == w->ch->depth ? emit_child_row(w) : walk(w, lvl + 1)) return -1;
        idx++;
    }
    return 0;
}

int wdb_stage_rows(const wdb_spec *spec, const cJSON *rec, const char *raw, size_t raw_len, int seq,
                   sbuf *bufs, int *oom, char *reason, size_t rlen) {
    size_t saved[1 + WDB_MAX_CHILD_TABLES];
    int ntables = 1 + spec->nchildren, rows = 0;
    walk_ctx w = {0};
    lookup lk; /* large: only its counters are set */
    lk.nix = lk.next = 0;
    w.lk = &lk;
    *oom = 0;
    for (int t = 0; t < ntables; t++)
        saved[t] = bufs[t].len;

    /* parent row: seq, every column, the record */
    sbuf *b = &bufs[0];
    if (put_i64(b, seq)) goto oom;
    for (int i = 0; i < spec->ncols; i++) {
        const wdb_col *c = &spec->cols[i];
        const char *why = NULL;
        int rc;
        if (sbuf_append(b, "\t", 1)) goto oom;
        if (c->type == WDB_FIRST_OF) {
            const char *val;
            if (first_of(&lk, rec, c->path, &val)) {
                snprintf(reason, rlen, "%s: expected a string", c->path);
                goto bad;
            }
            rc = put_str(b, val) ? PUT_OOM : PUT_OK;
        } else {
            const cJSON *v;
            if (path_get(&lk, rec, col_path(c), &v)) {
                snprintf(reason, rlen, "%s: expected an object on the way", col_path(c));
                goto bad;
            }
            rc = put_value(b, v, c->type, &why);
        }
        if (rc == PUT_OOM) goto oom;
        if (rc == PUT_BAD) {
            snprintf(reason, rlen, "%s: %s", col_path(c), why);
            goto bad;
        }
    }
    if (sbuf_append(b, "\t", 1) || wdb_copy_escape(b, raw, raw_len) || sbuf_append(b, "\n", 1))
        goto oom;

    /* child rows: only specs keyed (connection_id, id) have children (checked in db_sql.c) */
    if (spec->nchildren) {
        const char *c0 = spec->cols[0].name, *c1 = spec->cols[1].name;
        const cJSON *cid = member(&lk, rec, c0, strlen(c0));
        const cJSON *pid = member(&lk, rec, c1, strlen(c1));
        w.conn_id = cJSON_GetStringValue(cid);
        w.parent_id = cJSON_GetStringValue(pid);
        if (!w.conn_id || !w.parent_id) {
            snprintf(reason, rlen, "missing connection_id or id");
            goto bad;
        }
        w.pseq = seq;
        w.elems[0] = rec;
        w.rows = &rows;
        w.reason = reason;
        w.rlen = rlen;
        for (int c = 0; c < spec->nchildren; c++) {
            w.ch = &spec->children[c];
            w.b = &bufs[1 + c];
            w.nuniq = 0;
            if (walk(&w, 0)) {
                if (w.oom) goto oom;
                goto bad;
            }
            if (w.ch->unique_col && w.nuniq > 1) {
                qsort(w.uniq, (size_t)w.nuniq, sizeof *w.uniq, cmp_str);
                for (int i = 1; i < w.nuniq; i++) {
                    if (strcmp(w.uniq[i - 1], w.uniq[i]) == 0) {
                        snprintf(reason, rlen, "%s: %s repeated", w.ch->table, w.ch->unique_col);
                        goto bad;
                    }
                }
            }
        }
    }
    free(w.uniq);
    return 0;
oom:
    *oom = 1;
    snprintf(reason, rlen, "out of memory");
bad:
    free(w.uniq);
    for (int t = 0; t < ntables; t++) {
        bufs[t].len = saved[t];
        if (bufs[t].p) bufs[t].p[saved[t]] = '\0';
    }
    return -1;
}
