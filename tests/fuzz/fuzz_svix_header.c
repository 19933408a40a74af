/* fuzz_svix_header.c - libFuzzer target for the signature checks every webhook passes
 * before anything else reads it: svix_verify() with fuzzed svix-id, svix-timestamp,
 * svix-signature and body, svix_keys_parse() with a fuzzed secret list, and the
 * gateway's other header rules (gw_content_type_ok, and val_url_resolve/val_same_origin
 * that guard where the API key is sent).
 *
 * Input layout: fields separated by '\n': secret-list, id, timestamp, signature header,
 * then the rest is the body (may hold any byte, NUL included). Missing fields are empty.
 * Beyond "no crash, no sanitizer report" it asserts what must hold for any input:
 *  - the result is one of the declared values and has a name;
 *  - a header that also carries the correct v1 signature is never "no match", and it is
 *    "ok" whenever the id and timestamp are usable (the loop that splits entries must
 *    find a valid one wherever it sits among garbage);
 *  - a header that carries only a signature for other bytes is never "ok";
 *  - a parsed key list has 1..SVIX_MAX_SECRETS keys of 1..SVIX_KEY_MAX bytes;
 *  - a fuzzed data_url that resolves to the API's origin names the API's host in its
 *    text, right after the scheme (no userinfo, no other host libcurl would connect to).
 * Build and run: tests/fuzz/run.sh svix_header <seconds>.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svix.h"
#include "values.h"
#include "webhook-gw/gw_headers.h"

#define FZ_NOW 1767225600LL /* pinned clock: 2026-01-01T00:00:00Z */
#define FZ_FIELD_MAX 4096   /* longer header fields are cut (the gateway caps headers at 8 KiB) */
#define FZ_HEADER_MAX (FZ_FIELD_MAX + 2 * (SVIX_SIG_B64_LEN + 8))

/* Copy the next '\n'-terminated field of data into dst (NUL-terminated, cut at cap-1). */
static size_t next_field(const uint8_t **p, size_t *left, char *dst, size_t cap) {
    const uint8_t *nl = memchr(*p, '\n', *left);
    size_t n = nl ? (size_t)(nl - *p) : *left;
    size_t c = n < cap - 1 ? n : cap - 1;
    memcpy(dst, *p, c);
    dst[c] = '\0';
    *p += nl ? n + 1 : n;
    *left -= nl ? n + 1 : n;
    return c;
}

static void check_keys(const char *list) {
    svix_key keys[SVIX_MAX_SECRETS];
    int n = -1;
    char err[256];
    if (svix_keys_parse(list, keys, SVIX_MAX_SECRETS, &n, err, sizeof err) == 0) {
        if (n < 1 || n > SVIX_MAX_SECRETS) abort();
        for (int i = 0; i < n; i++)
            if (keys[i].len < 1 || keys[i].len > SVIX_KEY_MAX) abort();
    } else if (strlen(err) >= sizeof err) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char secrets[FZ_FIELD_MAX], id[FZ_FIELD_MAX], ts[FZ_FIELD_MAX], hdr[FZ_HEADER_MAX];
    const uint8_t *p = data;
    size_t left = size;
    next_field(&p, &left, secrets, sizeof secrets);
    next_field(&p, &left, id, sizeof id);
    next_field(&p, &left, ts, sizeof ts);
    next_field(&p, &left, hdr, FZ_FIELD_MAX);
    size_t hlen = strlen(hdr); /* a header value ends at its first NUL, as in the gateway */
    const uint8_t *body = p;
    size_t body_len = left;

    check_keys(secrets);
    check_keys(id); /* any text as a secret list: the rotation parser sees operator input */

    /* A fixed key (Svix's documented example secret) for the verification checks. */
    svix_key key;
    char err[128];
    if (svix_key_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key, err, sizeof err) != 0)
        abort();

    svix_result r = svix_verify(&key, 1, id, ts, hdr, body, body_len, FZ_NOW);
    if (r < SVIX_OK || r > SVIX_NO_MATCH || !svix_result_name(r)[0]) abort(); /* no crypto error */

    /* The right signature appended to whatever garbage came before it. */
    char sig[SVIX_SIG_B64_LEN + 1];
    char *end;
    long long t = strtoll(ts, &end, 10);
    if (svix_sign(&key, id, t, body, body_len, sig) != 0) abort();
    int ts_canonical = ts[0] && *end == '\0';
    if (ts_canonical) {
        char again[32];
        snprintf(again, sizeof again, "%lld", t);
        ts_canonical = strcmp(again, ts) == 0; /* signed text == header text */
    }
    snprintf(hdr + hlen, sizeof hdr - hlen, " v1,%s", sig);
    svix_result good = svix_verify(&key, 1, id, ts, hdr, body, body_len, FZ_NOW);
    if (good == SVIX_NO_MATCH && ts_canonical) abort();
    if (ts_canonical && id[0] && t >= FZ_NOW - SVIX_TOLERANCE_S && t <= FZ_NOW + SVIX_TOLERANCE_S &&
        good != SVIX_OK)
        abort();

    /* A signature over other bytes (one more byte of body) must never verify, wherever
     * it sits. hdr is cut back to the fuzzed part first. */
    if (ts_canonical && id[0]) {
        uint8_t *other = malloc(body_len + 1);
        if (!other) abort();
        if (body_len) memcpy(other, body, body_len);
        other[body_len] = 'x';
        if (svix_sign(&key, id, t, other, body_len + 1, sig) != 0) abort();
        free(other);
        hdr[hlen] = '\0';
        /* Only when the fuzzed part alone does not already verify. */
        if (svix_verify(&key, 1, id, ts, hdr, body, body_len, FZ_NOW) != SVIX_OK) {
            snprintf(hdr + hlen, sizeof hdr - hlen, " v1,%s v2,%s", sig, sig);
            if (svix_verify(&key, 1, id, ts, hdr, body, body_len, FZ_NOW) == SVIX_OK) abort();
        }
    }

    /* The gateway's other header rules see the same untrusted text. */
    (void)gw_content_type_ok(id);
    (void)gw_content_type_ok(hdr);
    static const char api[] = "https://production.trackstarhq.com",
                      host[] = "production.trackstarhq.com";
    char url[FZ_HEADER_MAX + 64];
    if (val_url_resolve(api, id, url, sizeof url) == 0 && val_same_origin(api, url)) {
        const char *after = url + strlen("https://") + strlen(host);
        if (strncmp(url, "https://", 8) != 0 || strncasecmp(url + 8, host, strlen(host)) != 0)
            abort();
        if (strncmp(after, ":443", 4) == 0) after += 4;
        if (*after != '/' && *after != '?' && *after != '#' && *after != '\0') abort();
    }
    (void)val_same_origin(ts, hdr);
    if (!val_same_origin("http://127.0.0.1:8090", "http://127.0.0.1:8090/x")) abort();
    return 0;
}
