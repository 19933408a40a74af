/* gw_secrets.c - access tokens sealed in the raw body before it is published (see
 * gw_secrets.h). A small scanner walks the JSON text string by string: a string followed
 * by ':' is a member name; strings that are values are skipped whole, so nothing inside
 * one is ever taken for a name. Names and values with escapes are decoded by cJSON. */
#include "gw_secrets.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct splice {
    size_t from, to; /* body[from, to) is replaced: the name, ':', the value */
    char *sealed;
} splice;

/* Index of the quote closing the string that opens at body[i], or len. */
static size_t string_end(const char *body, size_t len, size_t i) {
    for (i++; i < len; i++) {
        if (body[i] == '\\')
            i++;
        else if (body[i] == '"')
            return i;
    }
    return len;
}

static size_t skip_ws(const char *body, size_t len, size_t i) {
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
        i++;
    return i;
}

/* The JSON string literal body[s..e] (quotes included) decoded, into a cJSON item the
 * caller deletes, or NULL. */
static cJSON *decode(const char *body, size_t s, size_t e) {
    cJSON *j = cJSON_ParseWithLength(body + s, e - s + 1);
    if (j && !cJSON_IsString(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

/* 1 when the name body[s..e] is `name`, escapes decoded. */
static int name_is(const char *body, size_t s, size_t e, const char *name) {
    size_t n = e - s - 1;
    if (!memchr(body + s + 1, '\\', n))
        return n == strlen(name) && memcmp(body + s + 1, name, n) == 0;
    cJSON *j = decode(body, s, e);
    int same = j && strcmp(j->valuestring, name) == 0;
    cJSON_Delete(j);
    return same;
}

static void free_splices(splice *sp, int n) {
    for (int i = 0; i < n; i++)
        free(sp[i].sealed);
    free(sp);
}

gw_secrets_result gw_secrets_seal(const seal_ring *ring, const char *connection_id,
                                  const char *body, size_t len, char **out, size_t *out_len,
                                  int *sealed, char *err, size_t errlen) {
    splice *sp = NULL;
    int n = 0, cap = 0;
    gw_secrets_result rc = GW_SECRETS_FAILED;
    *out = NULL;
    *out_len = 0;
    *sealed = 0;
    /* Cheap exit for nearly every webhook: without the name's bytes there is nothing to
     * do, unless a name is spelled with escapes (then the full scan runs). */
    if (!memmem(body, len, GW_SECRET_KEY, strlen(GW_SECRET_KEY)) && !memchr(body, '\\', len))
        return GW_SECRETS_NONE;
    for (size_t i = 0; i < len;) {
        if (body[i] != '"') {
            i++;
            continue;
        }
        size_t s = i, e = string_end(body, len, i);
        if (e >= len) {
            snprintf(err, errlen, "unterminated string");
            goto fail;
        }
        i = e + 1;
        size_t colon = skip_ws(body, len, i);
        if (colon >= len || body[colon] != ':') continue; /* a value, not a name */
        if (name_is(body, s, e, GW_SEALED_KEY)) {
            snprintf(err, errlen, "%s is written by the gateway only", GW_SEALED_KEY);
            rc = GW_SECRETS_BAD;
            goto fail;
        }
        if (!name_is(body, s, e, GW_SECRET_KEY)) continue;
        size_t v = skip_ws(body, len, colon + 1);
        if (v + 4 <= len && memcmp(body + v, "null", 4) == 0) continue;
        if (v >= len || body[v] != '"') {
            snprintf(err, errlen, "%s is neither a string nor null", GW_SECRET_KEY);
            rc = GW_SECRETS_BAD;
            goto fail;
        }
        size_t ve = string_end(body, len, v);
        cJSON *tok = ve < len ? decode(body, v, ve) : NULL;
        if (!tok) {
            snprintf(err, errlen, "%s is not a JSON string", GW_SECRET_KEY);
            goto fail;
        }
        i = ve + 1;
        char *sealed_text = tok->valuestring[0]
                                ? seal_seal(ring, connection_id, tok->valuestring, err, errlen)
                                : NULL;
        int empty = !tok->valuestring[0];
        OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
        cJSON_Delete(tok);
        if (empty) continue; /* "" is no secret */
        if (!sealed_text) goto fail;
        if (n == cap) {
            int ncap = cap ? cap * 2 : 4;
            splice *p = realloc(sp, (size_t)ncap * sizeof *p);
            if (!p) {
                free(sealed_text);
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            sp = p;
            cap = ncap;
        }
        sp[n++] = (splice){s, ve + 1, sealed_text};
    }
    if (n == 0) {
        free(sp);
        return GW_SECRETS_NONE;
    }
    static const char name[] = "\"" GW_SEALED_KEY "\":\"";
    size_t total = len;
    for (int k = 0; k < n; k++)
        total = total - (sp[k].to - sp[k].from) + strlen(name) + strlen(sp[k].sealed) + 1;
    char *o = malloc(total + 1);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    size_t at = 0, from = 0;
    for (int k = 0; k < n; k++) {
        memcpy(o + at, body + from, sp[k].from - from);
        at += sp[k].from - from;
        at += (size_t)sprintf(o + at, "%s%s\"", name, sp[k].sealed);
        from = sp[k].to;
    }
    memcpy(o + at, body + from, len - from);
    at += len - from;
    o[at] = '\0';
    *out = o;
    *out_len = at;
    *sealed = n;
    free_splices(sp, n);
    return GW_SECRETS_SEALED;
fail:
    free_splices(sp, n);
    return rc;
}
