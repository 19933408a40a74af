/* canon_internal.h - what the canon_*.c files share and nobody else needs: the value
 * normalisers (canon_json.c), the table-driven object mapper (canon_table.c) and the
 * per-entity tables (canon_order.c, canon_inventory.c, ...).
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

/* Longest normalised timestamp "YYYY-MM-DDTHH:MM:SS.mmmZ" plus NUL, rounded up. */
#define CANON_TS_LEN 32
/* A decimal printed without exponent: a double needs at most ~330 characters (1e308 or
 * 5e-324); longer numeric source text is poison. */
#define CANON_DEC_LEN 400
/* A dot path such as "shipments.3.packages.1.line_items.12" or
 * "inventory_by_warehouse_id.<warehouse id>": our names, indices and (bounded) ids. */
#define CANON_PATH_LEN 1200
/* Largest integer a double holds exactly: quantities beyond it would silently change. */
#define CANON_MAX_SAFE_INT 9007199254740992.0

/* Mapping state for one record. Errors are sticky: after the first one every helper is
 * a no-op, so a mapper can run its whole table and check c->failed once. */
typedef struct canon_ctx {
    cJSON *extra;  /* owned: unknown source fields, keyed by dot path */
    char *errstr;  /* caller's buffer: the first error's reason */
    size_t errlen;
    int failed;
} canon_ctx;

/* Record the first error (printf-style) and mark c failed. Returns -1. */
int canon_fail(canon_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add item under the static key k; on NULL item (ENOMEM) or failure the item is freed and
 * c fails. Takes ownership of item. Returns 0 or -1. */
int canon_put(canon_ctx *c, cJSON *dst, const char *k, cJSON *item);

/* Keep a copy of an unknown source value in c->extra under "path.key" (or "key" at the
 * top). The first value for a key wins, so duplicate JSON keys cannot clash. */
int canon_extra_keep(canon_ctx *c, const char *path, const char *key, const cJSON *v);

/* "path.suffix" (or "suffix" when path is empty) into out; fails c when too long. */
int canon_path(canon_ctx *c, char out[CANON_PATH_LEN], const char *path, const char *suffix);

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
 * when the source field is absent; absent and null both give JSON null), checks its type,
 * and returns a new cJSON that the caller owns, or NULL after failing c with a reason
 * naming path (the field's dot path). */
cJSON *canon_conv_str(canon_ctx *c, const cJSON *v, const char *path);
cJSON *canon_conv_time(canon_ctx *c, const cJSON *v, const char *path);
cJSON *canon_conv_dec(canon_ctx *c, const cJSON *v, const char *path);
cJSON *canon_conv_int(canon_ctx *c, const cJSON *v, const char *path);
cJSON *canon_conv_bool(canon_ctx *c, const cJSON *v, const char *path);
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
/* Build the value of a computed field from the source object src (may be NULL: record
 * absent) and add it to dst under key. Returns 0 or -1 (after canon_fail). */
typedef int (*canon_custom_fn)(canon_ctx *c, const cJSON *src, cJSON *dst, const char *key,
                               const char *path);

typedef struct canon_field {
    const char *out;                 /* canonical key */
    const char *in;                  /* source key; NULL for computed fields */
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

#define CANON_TABLE(fields, ln, consumed) \
    { (fields), sizeof(fields) / sizeof((fields)[0]), (ln), (consumed) }

/* Map src (an object, or NULL = absent: every field null/empty) into dst following t.
 * line_number >= 0 is emitted first when t->line_number. Unknown keys of src go to
 * c->extra under path. Returns 0 or -1. */
int canon_map_table(canon_ctx *c, const canon_table *t, const cJSON *src, cJSON *dst,
                    const char *path, long line_number);

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
    const char *entity, *connection_id, *integration_name, *id, *source, *event_id,
        *event_type, *source_updated_at, *trackstar_updated_at, *observed_at;
} canon_env;
/* A new object holding the eleven envelope keys in order, or NULL after canon_fail. */
cJSON *canon_envelope(canon_ctx *c, const canon_env *e);

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
 * source_updated_at are filled here. On success *value (cJSON-allocated text) and *key
 * (malloc'd) belong to the caller. Returns 0 or -1 (after canon_fail). */
int canon_connection_map(canon_ctx *c, canon_conn_kind kind, const cJSON *data,
                         const canon_env *env, char **key, char **value);

#endif
