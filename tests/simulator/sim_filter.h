/* sim_filter.h - the query language of Trackstar list endpoints: `field=v`,
 * `field[op]=v`, `ids[in]=a,b`, `limit`, and opaque page tokens bound to the filters.
 *
 * Parsing validates against a per-endpoint field table and reports the first bad
 * parameter as the 422 ValidationError would (param name + message). Matching asks a
 * caller-supplied getter for a record's field value. Nothing here knows about the store.
 */
#ifndef SIM_FILTER_H
#define SIM_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_CONDS 16  /* filter conditions per request */
#define SIM_MAX_IN 100    /* values in one in/nin list (Trackstar: 100, else 422) */
#define SIM_MAX_ARGS 64   /* query parameters per request */
#define SIM_MAX_VALUE 512 /* bytes in one parameter value */
#define SIM_LIMIT_DEFAULT 1000
#define SIM_LIMIT_MAX 1000
#define SIM_TOKEN_MAX 96 /* bytes of an encoded page token */

/* 1: limit > SIM_LIMIT_MAX is clamped; 0 (default): it is a 422. Set once at start-up. */
extern int sim_filter_clamp_limit;

typedef enum sim_op {
    SIM_OP_EQ = 0,
    SIM_OP_NEQ,
    SIM_OP_GT,
    SIM_OP_GTE,
    SIM_OP_LT,
    SIM_OP_LTE,
    SIM_OP_IN,
    SIM_OP_NIN,
    SIM_OP_CONTAINS,
    SIM_OP_NOT_CONTAINS,
    SIM_OP_EQ_I,
    SIM_OP_IN_I,
    SIM_OP_CONTAINS_I,
    SIM_OP_COUNT
} sim_op;

#define SIM_OPB(op) (1u << (op))
/* Operator sets as the OpenAPI spec lists them per field kind. */
#define SIM_OPS_DATE                                                                               \
    (SIM_OPB(SIM_OP_EQ) | SIM_OPB(SIM_OP_NEQ) | SIM_OPB(SIM_OP_GT) | SIM_OPB(SIM_OP_GTE) |         \
     SIM_OPB(SIM_OP_LT) | SIM_OPB(SIM_OP_LTE) | SIM_OPB(SIM_OP_IN) | SIM_OPB(SIM_OP_NIN))
#define SIM_OPS_DATE_RANGE                                                                         \
    (SIM_OPB(SIM_OP_EQ) | SIM_OPB(SIM_OP_NEQ) | SIM_OPB(SIM_OP_GT) | SIM_OPB(SIM_OP_GTE) |         \
     SIM_OPB(SIM_OP_LT) | SIM_OPB(SIM_OP_LTE))
#define SIM_OPS_STR                                                                                \
    (SIM_OPB(SIM_OP_EQ) | SIM_OPB(SIM_OP_NEQ) | SIM_OPB(SIM_OP_IN) | SIM_OPB(SIM_OP_NIN) |         \
     SIM_OPB(SIM_OP_CONTAINS) | SIM_OPB(SIM_OP_NOT_CONTAINS))
#define SIM_OPS_SKU                                                                                \
    (SIM_OPB(SIM_OP_EQ) | SIM_OPB(SIM_OP_IN) | SIM_OPB(SIM_OP_NIN) | SIM_OPB(SIM_OP_CONTAINS) |    \
     SIM_OPB(SIM_OP_NOT_CONTAINS))
#define SIM_OPS_STR_I                                                                              \
    (SIM_OPS_SKU | SIM_OPB(SIM_OP_EQ_I) | SIM_OPB(SIM_OP_IN_I) | SIM_OPB(SIM_OP_CONTAINS_I))
#define SIM_OPS_EQ_CONTAINS                                                                        \
    (SIM_OPB(SIM_OP_EQ) | SIM_OPB(SIM_OP_CONTAINS) | SIM_OPB(SIM_OP_NOT_CONTAINS))
#define SIM_OPS_TAGS (SIM_OPB(SIM_OP_CONTAINS) | SIM_OPB(SIM_OP_NOT_CONTAINS))

typedef enum sim_fkind { SIM_FK_DATE, SIM_FK_STR, SIM_FK_BOOL, SIM_FK_TAGS } sim_fkind;

/* One filterable field of an endpoint. key is opaque to this module (the getter's). */
typedef struct sim_fdef {
    const char *name;
    sim_fkind kind;
    uint32_t ops;
    int key;
} sim_fdef;

typedef struct sim_kv {
    const char *key, *value;
} sim_kv;

typedef struct sim_cond {
    const sim_fdef *def;
    sim_op op;
    int nvals;
    char *vals[SIM_MAX_IN];    /* point into the query's arena */
    int64_t dates[SIM_MAX_IN]; /* parsed values of a date field */
    int bval;                  /* parsed value of a bool field */
} sim_cond;

/* Where the previous page ended, and what it was for. */
typedef struct sim_ptoken {
    uint8_t res;
    uint32_t conn;
    uint64_t fhash;
    int64_t last_updated_ms;
    uint32_t last_num;
} sim_ptoken;

typedef struct sim_query {
    sim_cond conds[SIM_MAX_CONDS];
    int ncond;
    int has_ids; /* ids[in] present: every other filter is ignored */
    int nids;
    char *ids[SIM_MAX_IN];
    int limit;
    int has_token;
    sim_ptoken tok;
    uint64_t fhash; /* hash of the filters (not page_token/limit) */
    char *arena;    /* owns all strings above */
} sim_query;

typedef struct sim_qerr {
    char param[128];
    char msg[256];
} sim_qerr;

/* Parse args[0..n) for an endpoint whose filterable fields are defs[0..ndefs).
 * extra_ok names parameters the endpoint consumes itself (NULL-terminated, may be NULL).
 * Returns 0, or -1 with err filled (a 422). On success the caller must sim_query_free(q). */
int sim_query_parse(const sim_fdef *defs, int ndefs, const sim_kv *args, int n,
                    const char *const *extra_ok, sim_query *q, sim_qerr *err);
void sim_query_free(sim_query *q);

/* Field value callback: returns 1 and sets *str (may point into buf) or *date / *bval
 * depending on the field kind; returns 0 when the value is null. */
typedef int (*sim_getter)(const void *rec, const void *ctx, int key, char *buf, size_t buflen,
                          const char **str, int64_t *date, int *bval);

/* 1 when rec passes every condition (or its id is in ids[in]). id is the record's id. */
int sim_query_match(const sim_query *q, const char *id, const void *rec, const void *ctx,
                    sim_getter get);

/* Strict YYYY-MM-DDTHH:MM:SSZ into ms since epoch. 0 or -1. */
int sim_parse_date(const char *s, int64_t *ms);

/* Page tokens: opaque URL-safe text, checksummed so that a mangled token is a 422. */
void sim_ptoken_encode(const sim_ptoken *t, char out[SIM_TOKEN_MAX]);
int sim_ptoken_decode(const char *s, sim_ptoken *t);

/* The lower/upper bound (inclusive, ms) that the conditions put on updated_date, for
 * index range scans. Returns with *lo = INT64_MIN / *hi = INT64_MAX when unbounded. */
void sim_query_updated_range(const sim_query *q, int64_t *lo, int64_t *hi);

#endif
