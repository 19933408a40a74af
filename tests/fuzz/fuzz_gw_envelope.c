/* fuzz_gw_envelope.c - libFuzzer target for what webhook-gw reads out of a verified
 * body: gw_envelope_parse() (envelope fields, event-type lookup, record id, truncation),
 * gw_envelope_key() (the raw topic's Kafka key) and gw_envelope_full() (rebuilding a
 * truncated event around the downloaded record).
 *
 * Input: the body; when it contains the byte 0x00, the part after the first one is also
 * used as the "downloaded" full event for gw_envelope_full(). Beyond "no crash, no
 * sanitizer report" it asserts the invariants the gateway relies on:
 *  - every output string is NUL-terminated within its buffer;
 *  - on success connection_id and event_type are 1..max bytes of printable ASCII without
 *    '|', so the key's first '|' always ends the connection id;
 *  - the key is "<connection_id>|<resource>|<record_id>" and fits GW_KEY_MAX;
 *  - a truncated envelope has a non-empty data_url; a rebuilt event parses again, is
 *    no longer truncated, and keeps the connection id.
 * Build and run: tests/fuzz/run.sh gw_envelope <seconds>.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook-gw/gw_envelope.h"

static void check_str(const char *s, size_t cap) {
    if (!memchr(s, '\0', cap)) abort();
}

static void check_printable(const char *s) {
    if (!s[0]) abort();
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '|') abort();
}

static void check_envelope(const char *body, size_t len, gw_env_result rc, const gw_envelope *env) {
    if (rc < GW_ENV_OK || rc > GW_ENV_BAD_FIELD || !gw_env_result_name(rc)[0]) abort();
    check_str(env->connection_id, sizeof env->connection_id);
    check_str(env->event_type, sizeof env->event_type);
    check_str(env->record_id, sizeof env->record_id);
    check_str(env->data_url, sizeof env->data_url);
    check_str(env->ev.canonical, sizeof env->ev.canonical);
    if (rc != GW_ENV_OK) return;
    check_printable(env->connection_id);
    check_printable(env->event_type);
    if (!env->ev.resource || !env->ev.resource[0] || strlen(env->ev.resource) > GW_RESOURCE_MAX)
        abort();
    if (env->ev.known && (env->ev.known_index < 0 || env->ev.known_index >= gw_event_type_count()))
        abort();
    if (env->truncated && !env->data_url[0]) abort();

    char key[GW_KEY_MAX + 1];
    size_t klen = gw_envelope_key(env, key, sizeof key);
    if (klen != strlen(key) || klen > GW_KEY_MAX) abort();
    size_t clen = strlen(env->connection_id);
    if (strncmp(key, env->connection_id, clen) != 0 || key[clen] != '|') abort();
    if (strncmp(key + clen + 1, env->ev.resource, strlen(env->ev.resource)) != 0) abort();
    /* A tiny buffer must cut, never overflow. */
    char small[8];
    if (gw_envelope_key(env, small, sizeof small) >= sizeof small) abort();

    /* The same bytes parse the same way (the gateway relies on determinism for keys). */
    gw_envelope again;
    if (gw_envelope_parse(body, len, &again) != rc ||
        strcmp(again.connection_id, env->connection_id) != 0 ||
        strcmp(again.record_id, env->record_id) != 0 ||
        strcmp(again.ev.resource, env->ev.resource) != 0 ||
        strcmp(again.ev.canonical, env->ev.canonical) != 0 || again.truncated != env->truncated)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static gw_envelope env, full_env;
    const char *body = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t len = nul ? (size_t)(nul - data) : size;

    gw_env_result rc = gw_envelope_parse(body, size, &env); /* the NUL and all: as received */
    check_envelope(body, size, rc, &env);
    if (!nul) return 0;

    const char *fetched = (const char *)nul + 1;
    size_t flen = size - len - 1;
    rc = gw_envelope_parse(body, len, &env);
    check_envelope(body, len, rc, &env);
    if (rc != GW_ENV_OK) {
        /* Still exercise the rebuild with a hand-made truncated envelope. */
        static const char orig[] = "{\"connection_id\":\"c1\",\"event_type\":\"order.updated\","
                                   "\"data\":{\"id\":\"o1\"},\"data_truncated\":true,"
                                   "\"data_url\":\"http://127.0.0.1/x\"}";
        if (gw_envelope_parse(orig, sizeof orig - 1, &env) != GW_ENV_OK || !env.truncated) abort();
        body = orig;
        len = sizeof orig - 1;
    }
    char *out = NULL;
    size_t out_len = 0;
    char err[256];
    if (gw_envelope_full(body, len, &env, fetched, flen, &out, &out_len, err, sizeof err) == 0) {
        const char *pub = out ? out : fetched;
        size_t plen = out ? out_len : flen;
        if (out && strlen(out) != out_len) abort();
        gw_env_result r2 = gw_envelope_parse(pub, plen, &full_env);
        if (out) {
            /* Rebuilt around the downloaded record: still this connection, not truncated. */
            if (r2 != GW_ENV_OK || strcmp(full_env.connection_id, env.connection_id) != 0 ||
                full_env.truncated)
                abort();
        } else if (r2 == GW_ENV_OK && strcmp(full_env.connection_id, env.connection_id) != 0) {
            abort(); /* published unchanged only when it is the same connection's event */
        }
    } else if (out || !err[0]) {
        abort();
    }
    free(out);
    return 0;
}
