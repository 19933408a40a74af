/* fx_url.c - Trackstar list URLs with filters repeated on every page (see fx_url.h). */
#include "fx_url.h"

#include <stdio.h>
#include <string.h>

int fx_url_date(int64_t ms, int round_up, char out[VAL_TIME_LEN]) {
    int64_t s = ms / 1000;
    if (ms % 1000 != 0) {
        if (ms < 0) s -= 1; /* C division truncates towards zero: make it a floor */
        if (round_up) s += 1;
    }
    return s < INT64_MAX / 1000 && s > INT64_MIN / 1000 ? val_time_format(s * 1000, 0, out) : -1;
}

int fx_url_list(sbuf *out, const char *base, const char *path, const char *path_arg,
                const fx_query *q, const char *page_token) {
    if (!base || !path || !q || (!q->single && (q->limit < 1 || q->limit > FX_PAGE_LIMIT_MAX)))
        return -1;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    if (sbuf_append(out, base, bl)) return -1;
    const char *hole = strstr(path, "%s");
    if (hole) {
        if (!path_arg || !*path_arg) return -1;
        if (sbuf_append(out, path, (size_t)(hole - path)) || val_url_escape(out, path_arg) ||
            sbuf_append(out, hole + 2, strlen(hole + 2)))
            return -1;
    } else if (sbuf_append(out, path, strlen(path))) {
        return -1;
    }
    if (q->single) return 0;
    if (sbuf_printf(out, "?limit=%d", q->limit)) return -1;
    if (q->date_field) {
        char d[VAL_TIME_LEN];
        if (q->gte_ms != FX_NO_BOUND) {
            if (fx_url_date(q->gte_ms, 0, d) || sbuf_printf(out, "&%s[gte]=", q->date_field) ||
                val_url_escape(out, d))
                return -1;
        }
        if (q->lte_ms != FX_NO_BOUND) {
            if (fx_url_date(q->lte_ms, 1, d) || sbuf_printf(out, "&%s[lte]=", q->date_field) ||
                val_url_escape(out, d))
                return -1;
        }
    }
    if (q->filter && *q->filter && sbuf_printf(out, "&%s", q->filter)) return -1;
    if (page_token && *page_token) {
        if (sbuf_append(out, "&page_token=", 12) || val_url_escape(out, page_token)) return -1;
    }
    return 0;
}
