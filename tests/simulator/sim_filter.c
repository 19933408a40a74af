/* sim_filter.c - query parsing, validation, matching and page tokens for list endpoints.
 * Errors mirror Trackstar's 422 ValidationError: the offending parameter and a message. */
#include "sim_filter.h"

#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sim_filter_clamp_limit = 0; /* 1: limit > max is clamped instead of a 422 */

static const char *const op_names[SIM_OP_COUNT] = {
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "nin",
    "contains",
    "not_contains",
    "eq-insensitive",
    "in-insensitive",
    "contains-insensitive",
};

static int op_by_name(const char *s, size_t n) {
    for (int i = 0; i < SIM_OP_COUNT; i++)
        if (strlen(op_names[i]) == n && strncmp(op_names[i], s, n) == 0) return i;
    return -1;
}

static int op_is_list(sim_op op) {
    return op == SIM_OP_IN || op == SIM_OP_NIN || op == SIM_OP_IN_I;
}

static int fail(sim_qerr *err, const char *param, const char *msg) {
    snprintf(err->param, sizeof err->param, "%s", param);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return -1;
}

int sim_parse_date(const char *s, int64_t *ms) {
    /* exactly YYYY-MM-DDTHH:MM:SSZ: Trackstar rejects every other spelling */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof shape - 1) return -1;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return -1;
    }
    return val_time_parse(s, ms, NULL); /* the calendar */
}

/* Split s in place on commas into out[]; returns the count or -1 when > max. */
static int split_list(char *s, char **out, int max) {
    int n = 0;
    char *p = s;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        if (n >= max) return -1;
        out[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int kv_cmp(const void *a, const void *b) {
    const sim_kv *x = *(const sim_kv *const *)a, *y = *(const sim_kv *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Filters hash: sorted key=value pairs, so parameter order does not matter. */
static uint64_t filters_hash(const sim_kv *args, int n) {
    const sim_kv *sorted[SIM_MAX_ARGS];
    int m = 0;
    for (int i = 0; i < n && m < SIM_MAX_ARGS; i++) {
        if (strcmp(args[i].key, "page_token") == 0 || strcmp(args[i].key, "limit") == 0) continue;
        sorted[m++] = &args[i];
    }
    qsort(sorted, (size_t)m, sizeof sorted[0], kv_cmp);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < m; i++) {
        h = fnv(h, sorted[i]->key, strlen(sorted[i]->key) + 1);
        h = fnv(h, sorted[i]->value, strlen(sorted[i]->value) + 1);
    }
    return h;
}

static int parse_limit(const char *v, int *out, sim_qerr *err) {
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < 1)
        return fail(err, "limit", "Input should be a valid integer greater than 0");
    if (x > SIM_LIMIT_MAX) {
        if (!sim_filter_clamp_limit)
            return fail(err, "limit", "Input should be less than or equal to 1000");
        x = SIM_LIMIT_MAX;
    }
    *out = (int)x;
    return 0;
}

static int parse_cond(const sim_fdef *defs, int ndefs, const char *key, char *val, sim_query *q,
                      sim_qerr *err) {
    const char *br = strchr(key, '[');
    size_t flen = br ? (size_t)(br - key) : strlen(key);
    int op = SIM_OP_EQ;
    if (br) {
        size_t klen = strlen(key);
        if (klen < flen + 3 || key[klen - 1] != ']')
            return fail(err, key, "Malformed filter parameter");
        op = op_by_name(br + 1, klen - flen - 2);
        if (op < 0) return fail(err, key, "Unknown filter operator");
    }
    const sim_fdef *d = NULL;
    for (int i = 0; i < ndefs; i++)
        if (strlen(defs[i].name) == flen && strncmp(defs[i].name, key, flen) == 0) d = &defs[i];
    if (!d) return fail(err, key, "Unknown query parameter");
    if (!(d->ops & SIM_OPB(op))) return fail(err, key, "Operator is not supported for this field");
    if (q->ncond >= SIM_MAX_CONDS) return fail(err, key, "Too many filters");
    sim_cond *c = &q->conds[q->ncond];
    memset(c, 0, sizeof *c);
    c->def = d;
    c->op = (sim_op)op;
    if (op_is_list(c->op) || d->kind == SIM_FK_TAGS) {
        c->nvals = split_list(val, c->vals, SIM_MAX_IN);
        if (c->nvals < 0) return fail(err, key, "At most 100 values are allowed");
    } else {
        c->vals[0] = val;
        c->nvals = 1;
    }
    for (int i = 0; i < c->nvals; i++) {
        if (d->kind == SIM_FK_DATE && sim_parse_date(c->vals[i], &c->dates[i]) != 0)
            return fail(err, key, "Invalid datetime format, expected YYYY-MM-DDTHH:MM:SSZ");
        if (d->kind == SIM_FK_BOOL) {
            if (strcmp(c->vals[i], "true") == 0)
                c->bval = 1;
            else if (strcmp(c->vals[i], "false") == 0)
                c->bval = 0;
            else
                return fail(err, key, "Input should be a valid boolean");
        }
    }
    q->ncond++;
    return 0;
}

int sim_query_parse(const sim_fdef *defs, int ndefs, const sim_kv *args, int n,
                    const char *const *extra_ok, sim_query *q, sim_qerr *err) {
    memset(q, 0, sizeof *q);
    memset(err, 0, sizeof *err);
    q->limit = SIM_LIMIT_DEFAULT;
    if (n > SIM_MAX_ARGS) return fail(err, "query", "Too many query parameters");
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(args[i].value);
        if (l > SIM_MAX_VALUE) return fail(err, args[i].key, "Value too long");
        total += l + 1;
    }
    q->arena = malloc(total + 1);
    if (!q->arena) return fail(err, "query", "Out of memory");
    char *ap = q->arena;
    for (int i = 0; i < n; i++) {
        const char *key = args[i].key;
        size_t l = strlen(args[i].value);
        char *val = memcpy(ap, args[i].value, l + 1);
        ap += l + 1;
        int skip = 0;
        for (int e = 0; extra_ok && extra_ok[e]; e++)
            if (strcmp(extra_ok[e], key) == 0) skip = 1;
        if (skip) continue;
        if (strcmp(key, "page_token") == 0) {
            if (sim_ptoken_decode(val, &q->tok) != 0) goto bad_token;
            q->has_token = 1;
        } else if (strcmp(key, "limit") == 0) {
            if (parse_limit(val, &q->limit, err)) goto fail;
        } else if (strcmp(key, "ids[in]") == 0) {
            q->nids = split_list(val, q->ids, SIM_MAX_IN);
            if (q->nids < 0) {
                fail(err, key, "At most 100 values are allowed");
                goto fail;
            }
            q->has_ids = 1;
        } else if (parse_cond(defs, ndefs, key, val, q, err) != 0) {
            goto fail;
        }
    }
    q->fhash = filters_hash(args, n);
    return 0;
bad_token:
    fail(err, "page_token", "Invalid page token");
fail:
    sim_query_free(q);
    return -1;
}

void sim_query_free(sim_query *q) {
    free(q->arena);
    q->arena = NULL;
}

static int str_match(sim_op op, const char *v, char *const *vals, int nvals) {
    switch (op) {
    case SIM_OP_EQ: return strcmp(v, vals[0]) == 0;
    case SIM_OP_NEQ: return strcmp(v, vals[0]) != 0;
    case SIM_OP_EQ_I: return strcasecmp(v, vals[0]) == 0;
    case SIM_OP_CONTAINS: return strstr(v, vals[0]) != NULL;
    case SIM_OP_NOT_CONTAINS: return strstr(v, vals[0]) == NULL;
    case SIM_OP_CONTAINS_I: return strcasestr(v, vals[0]) != NULL;
    case SIM_OP_IN:
    case SIM_OP_NIN:
    case SIM_OP_IN_I: {
        int hit = 0;
        for (int i = 0; i < nvals && !hit; i++)
            hit = op == SIM_OP_IN_I ? strcasecmp(v, vals[i]) == 0 : strcmp(v, vals[i]) == 0;
        return op == SIM_OP_NIN ? !hit : hit;
    }
    default: return 0;
    }
}

static int date_match(sim_op op, int64_t v, const int64_t *d, int n) {
    switch (op) {
    case SIM_OP_EQ: return v == d[0];
    case SIM_OP_NEQ: return v != d[0];
    case SIM_OP_GT: return v > d[0];
    case SIM_OP_GTE: return v >= d[0];
    case SIM_OP_LT: return v < d[0];
    case SIM_OP_LTE: return v <= d[0];
    case SIM_OP_IN:
    case SIM_OP_NIN: {
        int hit = 0;
        for (int i = 0; i < n && !hit; i++)
            hit = v == d[i];
        return op == SIM_OP_NIN ? !hit : hit;
    }
    default: return 0;
    }
}

/* A null value fails every positive test and passes every negative one. */
static int null_match(sim_op op) {
    return op == SIM_OP_NEQ || op == SIM_OP_NIN || op == SIM_OP_NOT_CONTAINS;
}

int sim_query_match(const sim_query *q, const char *id, const void *rec, const void *ctx,
                    sim_getter get) {
    if (q->has_ids) {
        for (int i = 0; i < q->nids; i++)
            if (strcmp(q->ids[i], id) == 0) return 1;
        return 0;
    }
    for (int i = 0; i < q->ncond; i++) {
        const sim_cond *c = &q->conds[i];
        char buf[256];
        const char *s = NULL;
        int64_t date = 0;
        int bval = 0;
        int has = get(rec, ctx, c->def->key, buf, sizeof buf, &s, &date, &bval);
        if (!has) {
            if (!null_match(c->op)) return 0;
            continue;
        }
        int ok;
        switch (c->def->kind) {
        case SIM_FK_DATE: ok = date_match(c->op, date, c->dates, c->nvals); break;
        case SIM_FK_BOOL: ok = bval == c->bval; break;
        default: ok = str_match(c->op, s ? s : "", c->vals, c->nvals); break;
        }
        if (!ok) return 0;
    }
    return 1;
}

void sim_query_updated_range(const sim_query *q, int64_t *lo, int64_t *hi) {
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    if (q->has_ids) return;
    for (int i = 0; i < q->ncond; i++) {
        const sim_cond *c = &q->conds[i];
        if (strcmp(c->def->name, "updated_date") != 0) continue;
        int64_t d = c->dates[0];
        switch (c->op) {
        case SIM_OP_EQ:
            if (d > *lo) *lo = d;
            if (d < *hi) *hi = d;
            break;
        case SIM_OP_GT:
            if (d + 1 > *lo) *lo = d + 1;
            break;
        case SIM_OP_GTE:
            if (d > *lo) *lo = d;
            break;
        case SIM_OP_LT:
            if (d - 1 < *hi) *hi = d - 1;
            break;
        case SIM_OP_LTE:
            if (d < *hi) *hi = d;
            break;
        default: break;
        }
    }
}

/* ---- page tokens ---------------------------------------------------------------- */

#define TOKEN_VERSION 1
#define TOKEN_RAW 30 /* version 1, res 1, conn 4, fhash 8, updated 8, num 4, check 4 */

static void put(unsigned char *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static uint32_t check(const unsigned char *p, size_t n) {
    /* not a MAC: it only has to turn a mangled or invented token into a 422 */
    uint64_t h = fnv(0xcbf29ce484222325ULL ^ 0x73696d, (const char *)p, n);
    return (uint32_t)(h ^ (h >> 32));
}

void sim_ptoken_encode(const sim_ptoken *t, char out[SIM_TOKEN_MAX]) {
    unsigned char raw[TOKEN_RAW];
    raw[0] = TOKEN_VERSION;
    raw[1] = t->res;
    put(raw + 2, t->conn, 4);
    put(raw + 6, t->fhash, 8);
    put(raw + 14, (uint64_t)t->last_updated_ms, 8);
    put(raw + 22, t->last_num, 4);
    put(raw + 26, check(raw, 26), 4);
    /* 30 bytes = 10 groups of 3 -> 40 characters, no padding; URL-safe alphabet */
    if (val_b64_encode(raw, TOKEN_RAW, out) != TOKEN_RAW / 3 * 4) {
        out[0] = '\0'; /* an empty token decodes to nothing */
        return;
    }
    for (char *o = out; *o; o++)
        *o = *o == '+' ? '-' : *o == '/' ? '_' : *o;
}

int sim_ptoken_decode(const char *s, sim_ptoken *t) {
    char std[TOKEN_RAW / 3 * 4 + 1];
    unsigned char raw[TOKEN_RAW];
    if (strlen(s) != sizeof std - 1) return -1;
    for (size_t i = 0; i < sizeof std; i++) /* back to the standard alphabet, NUL included */
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i] == '+' || s[i] == '/' ? '*' : s[i];
    if (val_b64_decode(std, sizeof std - 1, raw, sizeof raw) != TOKEN_RAW) return -1;
    if (raw[0] != TOKEN_VERSION || get(raw + 26, 4) != check(raw, 26)) return -1;
    t->res = raw[1];
    t->conn = (uint32_t)get(raw + 2, 4);
    t->fhash = get(raw + 6, 8);
    t->last_updated_ms = (int64_t)get(raw + 14, 8);
    t->last_num = (uint32_t)get(raw + 22, 4);
    return 0;
}
