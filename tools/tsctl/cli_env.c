/* cli_env.c - stack.env parsing (see cli_env.h). One line at a time, no expansion:
 * the file is produced by our own stack script, so a construct it never writes is an
 * error worth reporting, not something to guess at. */
#include "cli_env.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append c to val; -1 when it does not fit. */
static int put(char *val, size_t vlen, size_t *n, char c) {
    if (*n + 1 >= vlen) return -1;
    val[(*n)++] = c;
    val[*n] = '\0';
    return 0;
}

int cli_env_parse_line(const char *line, char *key, size_t klen, char *val, size_t vlen,
                       char *errstr, size_t errlen) {
    const char *p = line;
    size_t n = 0;
    if (klen == 0 || vlen == 0) {
        snprintf(errstr, errlen, "no room for the result");
        return -1;
    }
    key[0] = val[0] = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#') return 0;
    if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
        p += 6;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    if (!(isalpha((unsigned char)*p) || *p == '_')) {
        snprintf(errstr, errlen, "expected NAME=value");
        return -1;
    }
    size_t k = 0;
    while (isalnum((unsigned char)*p) || *p == '_') {
        if (k + 1 >= klen || k + 1 >= CLI_ENV_MAX_KEY) {
            snprintf(errstr, errlen, "variable name too long");
            return -1;
        }
        key[k++] = *p++;
    }
    key[k] = '\0';
    if (*p != '=') {
        snprintf(errstr, errlen, "expected '=' after %s", key);
        return -1;
    }
    p++;
    /* The value: a sequence of bare, '...' and "..." pieces, as in sh. */
    for (;;) {
        char c = *p;
        if (c == '\0' || c == '\n' || c == '\r' || c == ' ' || c == '\t') break;
        if (c == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (put(val, vlen, &n, *p++)) goto too_long;
            }
            if (*p != '\'') goto unterminated;
            p++;
        } else if (c == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '$' || *p == '`') goto expansion;
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`')) p++;
                if (put(val, vlen, &n, *p++)) goto too_long;
            }
            if (*p != '"') goto unterminated;
            p++;
        } else if (c == '$' || c == '`') {
            goto expansion;
        } else if (c == '\\') {
            if (p[1] == '\0' || p[1] == '\n') {
                snprintf(errstr, errlen, "%s: line continuation is not supported", key);
                return -1;
            }
            if (put(val, vlen, &n, p[1])) goto too_long;
            p += 2;
        } else if (c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' ||
                   c == '>') {
            snprintf(errstr, errlen, "%s: unquoted '%c' in the value", key, c);
            return -1;
        } else {
            if (put(val, vlen, &n, c)) goto too_long;
            p++;
        }
    }
    /* After the value only blanks and a comment may follow. */
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p && *p != '#' && *p != '\n' && *p != '\r') {
        snprintf(errstr, errlen, "%s: unexpected text after the value", key);
        return -1;
    }
    return 1;
too_long:
    snprintf(errstr, errlen, "%s: value too long", key);
    return -1;
unterminated:
    snprintf(errstr, errlen, "%s: unterminated quote", key);
    return -1;
expansion:
    snprintf(errstr, errlen, "%s: shell expansion ($ or `) is not supported", key);
    return -1;
}

int cli_env_load(const char *path, int overwrite, char *errstr, size_t errlen) {
    FILE *f = fopen(path, "r");
    char *line = NULL, key[CLI_ENV_MAX_KEY], err[160];
    char *val = NULL;
    int count = 0, lineno = 0, rc = -1;
    if (!f) {
        snprintf(errstr, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    line = malloc(CLI_ENV_MAX_LINE + 2);
    val = malloc(CLI_ENV_MAX_LINE);
    if (!line || !val) {
        snprintf(errstr, errlen, "%s: out of memory", path);
        goto fail;
    }
    while (fgets(line, CLI_ENV_MAX_LINE + 2, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len > CLI_ENV_MAX_LINE || (len == CLI_ENV_MAX_LINE + 1 && line[len - 1] != '\n')) {
            snprintf(errstr, errlen, "%s:%d: line longer than %d bytes", path, lineno,
                     CLI_ENV_MAX_LINE);
            goto fail;
        }
        int r = cli_env_parse_line(line, key, sizeof key, val, CLI_ENV_MAX_LINE, err, sizeof err);
        if (r < 0) {
            snprintf(errstr, errlen, "%s:%d: %s", path, lineno, err);
            goto fail;
        }
        if (r == 0) continue;
        if (++count > CLI_ENV_MAX_VARS) {
            snprintf(errstr, errlen, "%s: more than %d assignments", path, CLI_ENV_MAX_VARS);
            goto fail;
        }
        if (setenv(key, val, overwrite) != 0) {
            snprintf(errstr, errlen, "%s:%d: %s: %s", path, lineno, key, strerror(errno));
            goto fail;
        }
    }
    if (ferror(f)) {
        snprintf(errstr, errlen, "%s: read error", path);
        goto fail;
    }
    rc = count;
fail:
    if (val) memset(val, 0, CLI_ENV_MAX_LINE); /* it may have held a secret */
    free(val);
    free(line);
    fclose(f);
    return rc;
}
