/* fx_json.h - a small validating JSON scanner that works on byte ranges.
 *
 * The fetcher publishes every record "exactly as served": one element of a list
 * page's "data" array, byte for byte. A tree parser (cJSON) would re-serialise it, so
 * this scanner instead validates the page and hands out the elements as slices of the
 * response body, and reads the few top-level string members the fetcher needs (id,
 * updated_date, next_token). It never allocates; slices point into the caller's body.
 */
#ifndef FX_JSON_H
#define FX_JSON_H

#include <stddef.h>

#define FX_JSON_MAX_DEPTH 64 /* nesting accepted before a body counts as malformed */
#define FX_TOKEN_MAX 2048    /* longest next_token kept */

typedef struct fx_page {
    const char *data; /* the "data" array's text, '[' .. ']' (points into the body); a
                       * get-one response's object '{' .. '}' when single */
    int single;       /* data is one object, not an array (GET /wms/orders/{id}/packs) */
    size_t data_len;
    int has_next; /* next_token was a non-empty string */
    char next_token[FX_TOKEN_MAX];
} fx_page;

/* Skip one JSON value at p (leading whitespace allowed) and check its syntax.
 * Returns the first byte after it, or NULL when the text is malformed or truncated. */
const char *fx_json_skip(const char *p, const char *end);

/* Parse a list envelope {"data":[...],"next_token":"..."|null,...}, or a get-one
 * response {"data":{...}} (single set, no next page): validates the whole body.
 * Returns 0, or -1 with a reason in err. */
int fx_json_page(const char *body, size_t len, fx_page *out, char *err, size_t errlen);

/* Walk an array slice: *it starts at the '[' (set it to fx_page.data); each call
 * returns 1 with the next element's slice, 0 at the end, -1 when malformed. */
int fx_json_array_next(const char **it, const char *end, const char **elem, size_t *elem_len);

/* Read the top-level member key of the object slice obj as a string, unescaped into
 * buf. Returns 1 when found and a string, 0 when absent or null, -1 when the object is
 * malformed, the member is not a string, or it does not fit in buflen. */
int fx_json_obj_str(const char *obj, size_t len, const char *key, char *buf, size_t buflen);

/* The slice of a top-level member's raw value (any type). 1 found, 0 absent, -1 bad. */
int fx_json_obj_raw(const char *obj, size_t len, const char *key, const char **val,
                    size_t *val_len);

#endif
