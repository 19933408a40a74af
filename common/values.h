/* values.h - the value rules every binary shares: timestamps, decimals, text, base64, URL
 * escaping and the same-origin rule. Each rule is one function here, so that the stages
 * agree by construction: the normalizer writes what val_time_norm and val_dec_from_*
 * write, and the writer accepts exactly that (val_time_canonical, val_dec_canonical).
 * Base64 is OpenSSL's, escaping and URL parsing are libcurl's; this module adds the
 * strictness the pipeline needs on top of them.
 */
#ifndef TS_VALUES_H
#define TS_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ---------------------------------------------------------------- timestamps
 *
 * The canonical form is RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ", or "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * when the source had a fraction, for instants in the years 0001..9999. */

#define VAL_TIME_LEN 32                     /* the longest form (24 bytes) plus NUL, rounded up */
#define VAL_TIME_MIN_MS (-62135596800000LL) /* 0001-01-01T00:00:00.000Z */
#define VAL_TIME_MAX_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

/* Parse a timestamp as Trackstar, the WMSs behind it and operators write one: RFC 3339
 * ("2026-01-05T10:00:00Z", "...+02:00", "....123456Z"), plus the ISO 8601 forms seen in
 * WMS data: 't' or ' ' as separator, 'z', ',' before the fraction, offsets "+hhmm" and
 * "+hh", no zone (UTC), minutes without seconds, a date alone (midnight UTC). Second 60
 * (a leap second) is the next minute's first. A fraction is truncated to milliseconds,
 * never rounded: a timestamp never moves into the next second. Only real dates, and only
 * instants within VAL_TIME_MIN_MS..VAL_TIME_MAX_MS once the offset is applied.
 * 0 with *ms (ms since the epoch) and *has_frac (may be NULL: the text had a fraction),
 * or -1. */
int val_time_parse(const char *s, int64_t *ms, int *has_frac);

/* ms in the canonical form, with ".mmm" when with_ms. 0, or -1 with out "" when ms is
 * outside VAL_TIME_MIN_MS..VAL_TIME_MAX_MS. */
int val_time_format(int64_t ms, int with_ms, char out[VAL_TIME_LEN]);

/* val_time_parse, then val_time_format keeping a fraction only when s had one: the
 * normalizer's rule for every timestamp it writes. 0 or -1. */
int val_time_norm(const char *s, char out[VAL_TIME_LEN]);

/* 0 with *ms when s is exactly in the canonical form (s is what val_time_norm makes of
 * it), else -1: the writer's rule, so that it accepts what the normalizer writes and
 * nothing PostgreSQL could read another way. */
int val_time_canonical(const char *s, int64_t *ms);

/* ---------------------------------------------------------------- integers */

/* The canonical model's integers are those a double holds exactly, below 2^53 in
 * magnitude. 2^53 itself is out: 2^53 + 1 in source text parses to it, so a value there
 * may already have lost its last digit. */
#define VAL_INT_LIMIT 9007199254740992.0 /* 2^53 */

/* 0 with *out when d is an integer with |d| < VAL_INT_LIMIT, else -1 (fractions, NaN,
 * infinities, too large). */
int val_int_exact(double d, int64_t *out);

/* ---------------------------------------------------------------- decimals
 *
 * The canonical form is plain decimal text: "-"? digits ("." digits)?, without leading
 * zeros, trailing fraction zeros, exponent or "-0" ("59.5", "0", "0.0000001"). */

/* A double needs at most ~345 characters (1.8e308 or 4.9e-324); longer source text is
 * refused. */
#define VAL_DEC_LEN 400

/* The shortest decimal text that reads back as v. -1 for NaN or infinities. */
int val_dec_from_double(double v, char out[VAL_DEC_LEN]);

/* Numeric text ("4.20", "-0", "007", "1.5e3") in the canonical form. Plain decimals are
 * rewritten as text (no digit lost); exponent forms go through a double. -1 when s is not
 * a JSON-style number or is too long. */
int val_dec_from_text(const char *s, char out[VAL_DEC_LEN]);

/* 1 when s is exactly in the canonical form (what val_dec_from_* write), else 0. */
int val_dec_canonical(const char *s);

/* ---------------------------------------------------------------- text */

/* 1 when s[0..n) is text the pipeline can keep: well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) without a NUL byte (neither a C string nor
 * PostgreSQL text can hold one, and JSON text never has a raw one). 0 otherwise. */
int val_text_valid(const char *s, size_t n);
/* The reason every stage gives when val_text_valid refuses. */
#define VAL_TEXT_INVALID "invalid UTF-8 or a NUL character"

/* Write code point cp (< 0x110000) as UTF-8 at out (room for 4 bytes); returns the byte
 * count. Surrogate code points are written as their three bytes: callers that must not
 * produce them check first. */
size_t val_utf8_put(unsigned long cp, unsigned char *out);

/* ---------------------------------------------------------------- base64 (RFC 4648 section 4) */

/* Length of the padded base64 text of n bytes, without the NUL. */
#define VAL_B64_LEN(n) (4 * (((size_t)(n) + 2) / 3))

/* in[0..n) as padded base64 into out (room for VAL_B64_LEN(n) + 1 bytes, NUL-terminated).
 * Returns the text's length, or -1 (n too large for OpenSSL, or OpenSSL failed: counted in
 * crypto_failures_total{operation="base64"}, crypto_err.h). */
int val_b64_encode(const void *in, size_t n, char *out);

/* Decode s[0..n) into out (room for cap bytes). Only the exact padded encoding of some
 * bytes is accepted: no blanks or line breaks, no '=' but as the final padding, zero pad
 * bits, no URL-safe alphabet. Returns the byte count, or -1 when s is not such text or
 * its bytes do not fit. The scratch memory it uses is wiped (keys go through here). */
int val_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap);

/* ---------------------------------------------------------------- URLs (libcurl) */

/* Append s percent-encoded by libcurl: every byte but RFC 3986's unreserved characters
 * (A-Z a-z 0-9 - . _ ~). 0, or -1 when libcurl or memory fails. */
int val_url_escape(sbuf *out, const char *s);

/* Resolve ref (an absolute URL, or a reference relative to base such as "/data/1") against
 * base with libcurl's parser, and write the absolute URL libcurl would request into
 * out[0..len). 0, or -1 when either does not parse as an http or https URL, or out is too
 * small. */
int val_url_resolve(const char *base, const char *ref, char *out, size_t len);

/* 1 when the absolute URL url has base's origin, as libcurl parses both: the same scheme
 * (http or https), host (without case; an IDN compared as punycode) and port (default
 * ports made explicit), and url has no userinfo ('@' could make another host look like
 * ours). 0 otherwise, also when either does not parse: a failed check refuses. */
int val_same_origin(const char *base, const char *url);

#endif
