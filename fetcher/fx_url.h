/* fx_url.h - building Trackstar list URLs: path, limit, date filters and page token.
 *
 * Trackstar's page token does not carry the filters, so every page's URL is built from
 * the same fx_query plus the token: the filters are repeated on every page by
 * construction. Dates go out as YYYY-MM-DDTHH:MM:SSZ (the only format the API takes),
 * rounded outwards so that a window never shrinks.
 */
#ifndef FX_URL_H
#define FX_URL_H

#include <stdint.h>

#include "util.h"
#include "values.h"

#define FX_NO_BOUND INT64_MIN  /* an fx_query bound that is not set */
#define FX_PAGE_LIMIT_MAX 1000 /* Trackstar's maximum (and default) page size */

typedef struct fx_query {
    const char *date_field; /* "updated_date" / "trackstar_updated_date"; NULL = no filter */
    int64_t gte_ms, lte_ms; /* FX_NO_BOUND when open */
    int limit;              /* 1..FX_PAGE_LIMIT_MAX */
    const char *filter;     /* more filters, already encoded ("status[in]=a,b"); NULL = none */
    int single;             /* a get-one endpoint ({"data": {...}}): no query string at all */
} fx_query;

/* Append to out: base (no trailing slash needed) + path, where path may hold one "%s"
 * that is replaced by the URL-encoded path_arg (the warehouse id of a location list, the
 * order id of its packs), then "?limit=N", the date filters, q->filter and
 * "&page_token=<encoded>" when page_token is non-NULL and non-empty; nothing after the
 * path when q->single. Returns 0, or -1 on a bad argument or out of memory. */
int fx_url_list(sbuf *out, const char *base, const char *path, const char *path_arg,
                const fx_query *q, const char *page_token);

/* The API's date format. Floor (round_up = 0) or ceil (1) to whole seconds. 0, or -1
 * when ms is outside the years 0001..9999. */
int fx_url_date(int64_t ms, int round_up, char out[VAL_TIME_LEN]);

#endif
