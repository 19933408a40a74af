/* gw_truncated.h - download the full version of a truncated Trackstar event (reference
 * §7.6): GET data_url with x-trackstar-api-key returns {"download_url": ...}; a GET on
 * download_url (without the key: it is a pre-signed link, possibly on another host)
 * serves the full event.
 *
 * The API key is sent only to TRACKSTAR_BASE_URL's origin, and that first request does
 * not follow redirects, so the key cannot leak to another host. Both requests share one
 * time budget and the body has a size limit. Blocking: run it on a worker thread.
 * curl_global_init() must have been called before any thread uses this.
 */
#ifndef GW_TRUNCATED_H
#define GW_TRUNCATED_H

#include "util.h"

#include <stddef.h>

#define GW_TRUNCATED_MAX_REDIRECTS 3 /* for download_url only */
#define GW_TRUNCATED_LINK_MAX 16384  /* largest {download_url} answer read */

typedef struct gw_truncated_cfg {
    const char *base_url; /* e.g. https://production.trackstarhq.com */
    const char *api_key;  /* secret */
    size_t max_bytes;     /* largest full event accepted */
} gw_truncated_cfg;

/* Resolve data_url (absolute on base_url's origin, or a path starting with '/'), then
 * download the event into out (appended; the caller frees it with sbuf_free), all
 * within timeout_ms. Returns 0, or -1 with a reason in errstr (never the key). */
int gw_truncated_download(const gw_truncated_cfg *cfg, const char *data_url, long timeout_ms,
                          sbuf *out, char *errstr, size_t errlen);

#endif
