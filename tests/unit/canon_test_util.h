/* canon_test_util.h - helpers shared by the test_canon_*.c unit tests: read a fixture,
 * run canon_map with a set of headers. Fixtures are found under $CANON_FIXTURE_DIR, or
 * tests/fixtures from the repository root (where `make unit-test` runs).
 */
#ifndef TS_CANON_TEST_UTIL_H
#define TS_CANON_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/canon.h"

#define CANON_TEST_RECEIVED "2026-01-06T09:00:01.123Z"

/* Whole file (NUL-terminated, trailing newlines removed) or NULL. Caller frees. */
static inline char *ct_read(const char *dir, const char *name, size_t *len) {
    const char *root = getenv("CANON_FIXTURE_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s.json", root ? root : "tests/fixtures", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) return NULL;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

/* A webhook as the gateway puts it on the raw topic. */
static inline canon_raw ct_webhook(const char *body, size_t len, const char *event_type,
                                   const char *event_id) {
    canon_raw r = {.body = body,
                   .body_len = len,
                   .source = "webhook",
                   .event_id = event_id,
                   .event_type = event_type,
                   .received_at = CANON_TEST_RECEIVED};
    return r;
}

/* A polled record as the fetcher puts it on the raw topic. */
static inline canon_raw ct_poll(const char *body, size_t len, const char *resource,
                                const char *event_type) {
    canon_raw r = {.body = body,
                   .body_len = len,
                   .source = "poll",
                   .event_id = "poll_1",
                   .event_type = event_type,
                   .connection_id = "conn_1",
                   .resource = resource,
                   .integration_name = "shiphero",
                   .received_at = CANON_TEST_RECEIVED};
    return r;
}

#endif
