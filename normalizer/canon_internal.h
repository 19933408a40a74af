/* canon_internal.h - the mapping engine, shared by every mapper and by nobody outside
 * the normalizer: the writer of canonical JSON text and `extra` (canon_emit.c), the typed
 * value converters (canon_conv.c, applying common/values.h), the table-driven object
 * mapper and the envelope (canon_table.c). Nothing here knows an entity: the mappers
 * stand above it (canon_mappers.h), and canon.c routes a message to them.
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

#include "values.h"

/* A dot path such as "shipments.3.packages.1.line_items.12" or
 * "inventory_by_warehouse_id.<warehouse id>": our names, indices and (bounded) ids. */
#define CANON_PATH_LEN 1200

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
    /* The path's segments: how many, and which are positions or map keys (bit d: segment
     * d), so that a change's field can also be named without them (canon_change). */
    unsigned depth;
    uint64_t keyed;
    canon_buf changes; /* owned: the members of `value_changes` ({...},{...}), if any */
    canon_buf changed; /* owned: each change's field without positions, NUL-terminated */
    unsigned nchanges;
    char here[CANON_PATH_LEN]; /* scratch for canon_here() */
    const cJSON
        *envelope; /* a webhook's envelope (fields Trackstar may put beside data), or NULL */
    char *errstr;  /* caller's buffer: the first error's reason */
    size_t errlen;
    int failed;
} canon_ctx;

/* Record the first error (printf-style) and mark c failed. Returns -1. */
int canon_fail(canon_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Free everything c owns (not errstr). */
void canon_ctx_free(canon_ctx *c);

/* --- paths (canon_emit.c) --- */

/* Append ".seg" (or "seg" at the top) to c->path; returns the previous length for
 * canon_path_pop, after failing c when the path would be too long. Pushes and pops nest.
 * A position (push_index) or a map's key (push_key) is data, not a field's name. */
size_t canon_path_push(canon_ctx *c, const char *seg);
size_t canon_path_push_index(canon_ctx *c, long i);
size_t canon_path_push_key(canon_ctx *c, const char *key);
static inline void canon_path_pop(canon_ctx *c, size_t old) {
    c->plen = old;
    c->path[old] = '\0';
    if (c->depth) c->depth--;
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
/* The value policy (docs/canonical-model.md, "Values that cannot be cast"): the value of
 * field `name` under c->path (name NULL: c->path itself) was not stored as sent. Records {field,
 * change, reason} for the record's `value_changes` and the field's name without positions or map
 * keys (for the metric). change: "nulled" (stored as null, [] or {}) or "dropped" (an element left
 * out of its array); reason names the problem, never the value. Returns 0 or -1. */
int canon_change(canon_ctx *c, const char *name, const char *change, const char *reason);

/* Write the "extra" member (an object of everything kept) and, when a value was changed,
 * "value_changes"; take the record's text out of c: *value (malloc'd, NUL-terminated,
 * *len bytes) belongs to the caller. */
int canon_finish(canon_ctx *c, char **value, size_t *len);
/* A record's Kafka key "a|b", malloc'd (the caller frees it), or NULL after failing c. */
char *canon_key(canon_ctx *c, const char *a, const char *b);

/* --- value converters (canon_conv.c) --- */

/* Value converters used by the engine and by hand-written mappers. Each converts v (NULL
 * when the source field is absent; absent and null both give JSON null), checks its type
 * and writes the value (its key already written). A value that cannot be cast is written
 * as null and recorded (canon_change, the value policy): never for identity or version
 * fields, which canon.c checks itself. Returns 0, or -1 when c has failed. */
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

/* --- the envelope (canon_table.c) --- */

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

#endif
