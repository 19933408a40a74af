/* canon_internal.h - what the canon_*.c files share and nobody else needs: the writer of
 * canonical JSON text and `extra` (canon_emit.c), the value normalisers (canon_json.c),
 * the table-driven object mapper (canon_table.c) and the per-entity tables
 * (canon_order.c, canon_inventory.c, ...).
 *
 * Each entity is described by tables of fields (canonical name, source name, kind) in
 * canonical order. One engine walks a table, so the key order, the null rules and the
 * collection of unknown fields into `extra` are the same for every entity.
 */
#ifndef TS_CANON_INTERNAL_H
#define TS_CANON_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "topics.h"

/* Longest normalised timestamp "YYYY-MM-DDTHH:MM:SS.mmmZ" plus NUL, rounded up. */
#define CANON_TS_LEN 32
/* A decimal printed without exponent: a double needs at most ~330 characters (1e308 or
 * 5e-324); longer numeric source text is poison. */
#define CANON_DEC_LEN 400
/* A dot path such as "shipments.3.packages.1.line_items.12" or
 * "inventory_by_warehouse_id.<warehouse id>": our names, indices and (bounded) ids. */
#define CANON_PATH_LEN 1200
/* Largest integer a double holds exactly: quantities beyond it would silently change. */
#define CANON_MAX_SAFE_INT 9007199254740992.0 /* 2^53: from here on, doubles skip integers */

/* Longest table we map (fields per canon_table): bounds the engine's per-object array of
 * source values. The order table, the largest, has 38. */
#define CANON_MAX_FIELDS 64

/* A growable output buffer. Mapping writes the canonical JSON text straight into it, in
 * canonical key order, instead of building a cJSON tree and printing it. */
typedef struct canon_buf {
    char *p;
    size_t len, cap;
} canon_buf;

/* One key of `extra` already written: the first value for a key wins. */
typedef struct canon_xkey {
    size_t off, len; /* the quoted key's bytes in canon_ctx.extra */
    uint32_t hash;
} canon_xkey;

/* Mapping state for one record. Errors are sticky: after the first one every helper is
 * a no-op, so a mapper can run its whole table and check c->failed once. */
typedef struct canon_ctx {
    canon_buf out;     /* owned: the record's JSON text so far */
    canon_buf extra;   /* owned: the members of `extra` ("key":value,...), in discovery order */
    canon_buf *w;      /* where the writers append: &out, or &extra while keeping a value */
    canon_xkey *xkeys; /* owned: extra's keys so far */
    size_t nx, capx;
    uint32_t *xslot; /* owned: open-addressing set over xkeys (index + 1; 0 = empty) */
    size_t nslot;    /* a power of two, at least twice nx; 0 before the first key */
    int first;       /* the next member or element is the first of its container */
    size_t plen;     /* dot path of the object being mapped, for reasons and extra keys */
    char path[CANON_PATH_LEN];
    char here[CANON_PATH_LEN]; /* scratch for canon_here() */
    char *errstr;              /* caller's buffer: the first error's reason */
    size_t errlen;
    int failed;
} canon_ctx;

/* Record the first error (printf-style) and mark c failed. Returns -1. */
int canon_fail(canon_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Free everything c owns (not errstr). */
void canon_ctx_free(canon_ctx *c);

/* --- paths (canon_emit.c) --- */

/* Append ".seg" (or "seg" at the top) to c->path; returns the previous length for
 * canon_path_pop, after failing c when the path would be too long. */
size_t canon_path_push(canon_ctx *c, const char *seg);
size_t canon_path_push_index(canon_ctx *c, long i);
static inline void canon_path_pop(canon_ctx *c, size_t old) {
    c->plen = old;
    c->path[old] = '\0';
}
/* "path.a" or "path.a.b" (b may be NULL) in c->here, for a reason. Only error paths call
 * it, so the field paths of a good record are never formatted. */
const char *canon_here(canon_ctx *c, const char *a, const char *b);

/* --- the writer (canon_emit.c): append JSON text to *c->w; on ENOMEM c fails --- */

int canon_buf_reserve(canon_ctx *c, size_t n); /* room for n more bytes: 0 or -1 */
static inline void canon_w_mem(canon_ctx *c, const void *p, size_t n) {
    canon_buf *b = c->w;
    if (b->cap - b->len < n && canon_buf_reserve(c, n) < 0) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}
static inline void canon_w_ch(canon_ctx *c, char ch) {
    canon_buf *b = c->w;
    if (b->cap == b->len && canon_buf_reserve(c, 1) < 0) return;
    b->p[b->len++] = ch;
}
#define canon_w_lit(c, s) canon_w_mem((c), (s), sizeof(s) - 1)

/* Containers: open, then canon_w_key (objects) or canon_w_elem (arrays) before each
 * value, then close. They track the commas. */
static inline void canon_w_open(canon_ctx *c, char ch) {
    canon_w_ch(c, ch);
    c->first = 1;
}
static inline void canon_w_close(canon_ctx *c, char ch) {
    canon_w_ch(c, ch);
    c->first = 0;
}
static inline void canon_w_elem(canon_ctx *c) {
    if (!c->first) canon_w_ch(c, ',');
    c->first = 0;
}
/* "k": for one of our own keys (plain ASCII: never needs escaping). */
void canon_w_key(canon_ctx *c, const char *k);
/* A quoted JSON string escaped exactly as cJSON prints it; NULL prints "". */
void canon_w_strn(canon_ctx *c, const char *s, size_t n);
static inline void canon_w_str(canon_ctx *c, const char *s) {
    canon_w_strn(c, s, s ? strlen(s) : 0);
}
/* A string, or null for NULL. */
static inline void canon_w_str_or_null(canon_ctx *c, const char *s) {
    if (s)
        canon_w_str(c, s);
    else
        canon_w_lit(c, "null");
}
void canon_w_i64(canon_ctx *c, int64_t v);
/* Any parsed JSON value, byte for byte as cJSON_PrintUnformatted prints it. */
void canon_w_value(canon_ctx *c, const cJSON *v);

/* Keep an unknown source value in `extra` under "path.key" (or "key" at the top level,
 * path being c->path). The first value for a key wins, so duplicate JSON keys cannot
 * clash. Returns 0 or -1. */
int canon_extra_keep(canon_ctx *c, const char *key, const cJSON *v);
/* Write the "extra" member (an object of everything kept), and take the record's text
 * out of c: *value (malloc'd, NUL-terminated, *len bytes) belongs to the caller. */
int canon_finish(canon_ctx *c, char **value, size_t *len);
/* A record's Kafka key "a|b", malloc'd (the caller frees it), or NULL after failing c. */
char *canon_key(canon_ctx *c, const char *a, const char *b);

/* --- value normalisers (canon_json.c); pure, 0 or -1 --- */

/* RFC 3339 / ISO 8601 text to "YYYY-MM-DDTHH:MM:SSZ" UTC, with ".mmm" only when the source
 * had a fraction (truncated to ms). Accepts 'T', 't' or ' ' as separator, "Z", "+hh:mm",
 * "+hhmm", "+hh" or no zone (UTC), and a date alone (midnight UTC). Years 0001-9999. */
int canon_time_norm(const char *s, char out[CANON_TS_LEN]);

/* The shortest decimal text that round-trips v, without exponent ("59.5", "0", "1e-7" ->
 * "0.0000001"). -1 for NaN or infinities. */
int canon_dec_from_double(double v, char out[CANON_DEC_LEN]);

/* Normalise numeric text: a JSON-style number ("4.20", "-0", "1.5e3") to the same form as
 * canon_dec_from_double. Plain decimals are rewritten textually (no precision lost);
 * exponent forms go through double. -1 when s is not a number. */
int canon_dec_from_text(const char *s, char out[CANON_DEC_LEN]);

/* 1 when p[0..n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int canon_utf8_valid(const char *p, size_t n);

/* Value converters used by the engine and by hand-written mappers. Each converts v (NULL
 * when the source field is absent; absent and null both give JSON null), checks its type
 * and writes the value (its key already written). Returns 0, or -1 after failing c with
 * a reason naming the field's dot path, c->path + "." + name. */
int canon_conv_str(canon_ctx *c, const cJSON *v, const char *name);
int canon_conv_time(canon_ctx *c, const cJSON *v, const char *name);
int canon_conv_dec(canon_ctx *c, const cJSON *v, const char *name);
int canon_conv_int(canon_ctx *c, const cJSON *v, const char *name);
int canon_conv_bool(canon_ctx *c, const cJSON *v, const char *name);
/* Read an integral number into *out; 0, or -1 (without failing c) when v is not one. */
int canon_int_value(const cJSON *v, int64_t *out);

/* --- the table engine (canon_table.c) --- */

typedef enum canon_kind {
    CANON_F_STR,     /* string or null */
    CANON_F_TIME,    /* timestamp text -> normalised timestamp */
    CANON_F_DEC,     /* number (or numeric text) -> decimal string */
    CANON_F_DECTEXT, /* a decimal Trackstar types as string: non-numeric -> null + extra */
    CANON_F_INT,     /* integral number */
    CANON_F_BOOL,    /* true/false */
    CANON_F_STRARR,  /* array of strings; [] when absent or null */
    CANON_F_RAW,     /* any JSON, verbatim; null when absent (trackstar_tags) */
    CANON_F_RAWOBJ,  /* object, verbatim; {} when absent or null (additional_fields) */
    CANON_F_OBJ,     /* nested object mapped with `table`; null when absent or null */
    CANON_F_ARR,     /* array of objects mapped with `table`; [] when absent or null */
    CANON_F_FLAT,    /* string field `sub` of the nested object `in` (channel_object) */
    CANON_F_CUSTOM,  /* fn builds the value from the whole source object */
} canon_kind;

struct canon_table;
/* Write the member `key` of a computed field (key and value) from the source object src
 * (may be NULL: record absent); c->path is src's path. Returns 0 or -1 (after canon_fail). */
typedef int (*canon_custom_fn)(canon_ctx *c, const cJSON *src, const char *key);

typedef struct canon_field {
    const char *out; /* canonical key */
    const char *in;  /* source key; NULL for computed fields. Two fields of
                        one table share it only when both are CANON_F_FLAT */
    canon_kind kind;
    const char *sub;                 /* CANON_F_FLAT */
    const struct canon_table *table; /* CANON_F_OBJ, CANON_F_ARR */
    canon_custom_fn fn;              /* CANON_F_CUSTOM */
} canon_field;

typedef struct canon_table {
    const canon_field *f;
    size_t n;
    int line_number;             /* array children: emit "line_number" (0-based) first */
    const char *const *consumed; /* NULL-terminated source keys read elsewhere (not extra) */
} canon_table;

#define CANON_TABLE(fields, ln, consumed)                                                          \
    { (fields), sizeof(fields) / sizeof((fields)[0]), (ln), (consumed) }

/* Write the members of src (an object, or NULL = absent: every field null/empty) mapped
 * following t into the object the caller has opened; c->path is src's path.
 * line_number >= 0 is written first when t->line_number. Unknown keys of src go to
 * `extra`. Returns 0 or -1. */
int canon_map_table(canon_ctx *c, const canon_table *t, const cJSON *src, long line_number);

/* Shared shapes (canon_table.c). */
extern const canon_table canon_tbl_address;      /* ship-to: full_name ... email_address */
extern const canon_table canon_tbl_from_address; /* address1 ... country */
extern const canon_table canon_tbl_measurements; /* length ... weight_unit */

/* --- entities --- */

typedef struct canon_entity {
    const char *entity;       /* "order" */
    const char *topic;        /* "wms.orders.v1" */
    const canon_table *table; /* fields after the envelope, before `extra` */
} canon_entity;

extern const canon_entity canon_entity_order;
extern const canon_entity canon_entity_inventory;
extern const canon_entity canon_entity_product;
extern const canon_entity canon_entity_warehouse;
extern const canon_entity canon_entity_warehouse_location;
extern const canon_entity canon_entity_shipping_method;
extern const canon_entity canon_entity_return;
extern const canon_entity canon_entity_inbound_shipment;
extern const canon_entity canon_entity_bill;

/* Source keys the envelope reads from every record (never copied to extra). */
extern const char *const canon_envelope_keys[];

/* The envelope that every canonical record starts with, for canon.c and
 * canon_connection.c. All strings may be NULL (printed as null) except entity. */
typedef struct canon_env {
    const char *entity, *connection_id, *integration_name, *id, *source, *event_id, *event_type,
        *source_updated_at, *trackstar_updated_at, *observed_at;
} canon_env;
/* Open the record's object and write the eleven envelope keys in order. */
void canon_envelope(canon_ctx *c, const canon_env *e);

/* --- connection-level events (canon_connection.c) --- */

typedef enum canon_conn_kind {
    CANON_CONN_CREATED,
    CANON_CONN_DELETED,
    CANON_CONN_HISTORICAL_SYNC,
    CANON_CONN_ERROR_CREATED,
    CANON_CONN_ERROR_UPDATED,
    CANON_CONN_ERROR_DELETED,
    CANON_CONN_SYNC_STATUS,
} canon_conn_kind;

/* Build the one connection_event record for data (a webhook's `data`, or the fetcher's
 * sync-status body). env holds the envelope fields known so far (connection_id,
 * integration_name, source, event_id, event_type, observed_at); id and
 * source_updated_at are filled here. On success *key and *value (malloc'd, *value_len
 * bytes) belong to the caller. Returns 0 or -1 (after canon_fail). */
int canon_connection_map(canon_ctx *c, canon_conn_kind kind, const cJSON *data,
                         const canon_env *env, char **key, char **value, size_t *value_len);

#endif
