/* gw_http_parse.h - HTTP/1.1 request heads and chunked bodies (RFC 9112), parsed
 * without sockets so every rule can be tested on its own (tests/unit/test_gw_http_parse.c).
 *
 * Strict on purpose: the gateway has one client (Svix), so anything a proxy could read
 * in two ways is refused rather than guessed at: a bare LF or CR, a NUL, whitespace
 * before a header's colon, folded headers, Content-Length together with
 * Transfer-Encoding, two different Content-Lengths, a coding other than "chunked".
 */
#ifndef GW_HTTP_PARSE_H
#define GW_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define GW_HTTP_MAX_HEADERS 64

typedef struct gw_http_header {
    const char *name;  /* NUL-terminated, in the parsed buffer */
    const char *value; /* NUL-terminated, surrounding blanks removed */
} gw_http_header;

typedef struct gw_http_head {
    const char *method;
    const char *path; /* the target up to '?' */
    int minor;        /* HTTP/1.<minor> */
    gw_http_header h[GW_HTTP_MAX_HEADERS];
    int nh;
    int has_length;          /* Content-Length present */
    uint64_t content_length; /* UINT64_MAX when it does not fit */
    int chunked;             /* Transfer-Encoding: chunked */
    int keep_alive;          /* from the version and Connection */
    int expect_continue;     /* Expect: 100-continue */
} gw_http_head;

/* Results of gw_http_parse_head: 0 = a whole head, GW_HTTP_INCOMPLETE = need more
 * bytes, else the HTTP status to answer (400, 417, 431, 501, 505). */
#define GW_HTTP_INCOMPLETE 1

/* Parse the head at the start of buf[0..len). On 0, *head_len is the number of bytes
 * of the head (through the empty line) and the head's strings point into buf, which is
 * modified in place (terminators written over separators). A head that has not ended
 * within max_head bytes is 431. Empty lines before the request line are skipped. */
int gw_http_parse_head(char *buf, size_t len, size_t max_head, gw_http_head *out, size_t *head_len);

/* The value of header name (case-insensitive), or NULL. */
const char *gw_http_head_get(const gw_http_head *h, const char *name);

/* Chunked body decoder: a state machine fed the bytes as they arrive. */
typedef struct gw_http_chunked {
    int state;
    uint64_t left;   /* data bytes left in the current chunk */
    unsigned digits; /* size digits seen */
    size_t meta;     /* bytes of extensions and trailers seen: bounded */
} gw_http_chunked;

enum { GW_CHUNK_MORE = 0, GW_CHUNK_DATA = 1, GW_CHUNK_DONE = 2, GW_CHUNK_BAD = -1 };

/* Consume from in[0..n). Sets *used to the bytes consumed. Returns GW_CHUNK_DATA with
 * (*data, *dlen) a piece of body inside in; GW_CHUNK_MORE when all of in was consumed
 * without completing anything; GW_CHUNK_DONE after the last chunk and the trailers;
 * GW_CHUNK_BAD on a syntax error. Call again with the rest after DATA. */
int gw_http_chunked_step(gw_http_chunked *c, const char *in, size_t n, size_t *used,
                         const char **data, size_t *dlen);

#endif
