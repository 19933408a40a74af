/* gw_headers.h - the HTTP header rules of the webhook endpoint, kept apart from the
 * server so they can be tested without sockets: which signature headers to read
 * (svix-* or the white-labelled webhook-*) and the content type.
 */
#ifndef GW_HEADERS_H
#define GW_HEADERS_H

#include <stddef.h>

#define GW_EVENT_ID_MAX 128 /* longest svix-id accepted (Svix ids are ~31 characters) */

/* Looks up a request header by name (case-insensitive); returns NULL when absent. */
typedef const char *(*gw_header_fn)(void *ctx, const char *name);

typedef struct gw_sig_headers {
    const char *id;        /* svix-id / webhook-id */
    const char *timestamp; /* svix-timestamp / webhook-timestamp */
    const char *signature; /* svix-signature / webhook-signature */
    const char *prefix;    /* "svix" or "webhook": which set was used */
} gw_sig_headers;

/* Pick the signature headers as Svix's own libraries do: the svix-* set when all three
 * are present and non-empty, otherwise the webhook-* set (whose members may be NULL;
 * svix_verify then reports the missing header). Pointers are borrowed from get(). */
void gw_sig_headers_pick(gw_header_fn get, void *ctx, gw_sig_headers *out);

/* 1 when a Content-Type value names JSON: "application/json" (any case, surrounding
 * blanks allowed), optionally with parameters; a charset parameter, quoted or not, must
 * be utf-8 (JSON is UTF-8, RFC 8259). NULL or anything else: 0. */
int gw_content_type_ok(const char *value);

#endif
