/* kafka_props.c - librdkafka properties from a file or a list (see kafka_props.h). */
#include "kafka_props.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KAFKA_PROPS_SECRET_MAX 65536 /* a CA bundle or key in PEM fits easily */

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* The content of path without trailing CR/LF, malloc'd; NULL with errno-based reason. */
static char *read_secret(const char *path, char *why, size_t whylen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot read ${file:%s}: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(KAFKA_PROPS_SECRET_MAX + 1);
    size_t n = buf ? fread(buf, 1, KAFKA_PROPS_SECRET_MAX + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!buf || err || n > KAFKA_PROPS_SECRET_MAX) {
        snprintf(why, whylen, "cannot read ${file:%s}: unreadable or larger than %d bytes", path,
                 KAFKA_PROPS_SECRET_MAX);
        if (buf) explicit_bzero(buf, n < KAFKA_PROPS_SECRET_MAX ? n : KAFKA_PROPS_SECRET_MAX);
        free(buf);
        return NULL;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

int kafka_props_apply(rd_kafka_conf_t *conf, const char *text, char sep, const char *origin,
                      char *errstr, size_t errlen) {
    if (!text || !*text) return 0;
    size_t len = strlen(text);
    char *copy = strdup(text);
    if (!copy) {
        snprintf(errstr, errlen, "%s: out of memory", origin);
        return -1;
    }
    int rc = 0, line = 0;
    char *item = copy;
    while (item && rc == 0) {
        char *next = strchr(item, sep);
        if (next) *next++ = '\0';
        line++;
        char *kv = trim(item);
        item = next;
        if (!*kv || (sep == '\n' && (*kv == '#' || *kv == '!'))) continue;
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(errstr, errlen, "%s %s %d: not key=value", origin,
                     sep == '\n' ? "line" : "item", line);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(kv), *val = trim(eq + 1), *secret = NULL, why[512];
        size_t vlen = strlen(val);
        if (vlen > 8 && strncmp(val, "${file:", 7) == 0 && val[vlen - 1] == '}') {
            val[vlen - 1] = '\0';
            secret = read_secret(val + 7, why, sizeof why);
            if (!secret) {
                snprintf(errstr, errlen, "%s line %d: %s: %s", origin, line, key, why);
                rc = -1;
                break;
            }
            val = secret;
        }
        /* librdkafka's own message may quote the value: it is not passed on. */
        rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, val, why, sizeof why);
        if (secret) {
            explicit_bzero(secret, strlen(secret));
            free(secret);
        }
        if (res == RD_KAFKA_CONF_UNKNOWN) {
            snprintf(errstr, errlen, "%s %s %d: %s: not a librdkafka property", origin,
                     sep == '\n' ? "line" : "item", line, key);
            rc = -1;
        } else if (res != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errlen,
                     "%s %s %d: %s: librdkafka refuses the value (see its CONFIGURATION.md)",
                     origin, sep == '\n' ? "line" : "item", line, key);
            rc = -1;
        }
        explicit_bzero(why, sizeof why);
    }
    explicit_bzero(copy, len);
    free(copy);
    return rc;
}
