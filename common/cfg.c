/* cfg.c - environment configuration from one table: load and validate, --help,
 * and the start-up log line with secrets masked. */
#include "cfg.h"

#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *type_name(cfg_type t) {
    return t == CFG_INT ? "int" : t == CFG_BOOL ? "bool" : t == CFG_FILE ? "file" : "string";
}

#define CFG_FILE_MAX (1 << 20)

/* The whole content of path, malloc'd and NUL-terminated; NULL with "VAR: reason". */
static char *read_whole(const char *var, const char *path, char *errstr, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errlen, "%s: %s: %s", var, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CFG_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, CFG_FILE_MAX + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!buf || err || n > CFG_FILE_MAX || memchr(buf, 0, n)) {
        snprintf(errstr, errlen, "%s: %s: unreadable, binary or larger than %d bytes", var, path,
                 CFG_FILE_MAX);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    char *fit = realloc(buf, n + 1); /* give back the rest of the 1 MiB */
    return fit ? fit : buf;
}

static int parse_bool(const char *s, int *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0) return *out = 0, 0;
    }
    return -1;
}

int cfg_load(const cfg_var *vars, size_t n, char *errstr, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        const cfg_var *v = &vars[i];
        const char *val = getenv(v->name);
        if (!val || (!*val && v->type != CFG_STR)) val = v->def;
        if ((v->flags & CFG_REQUIRED) && (!val || !*val)) {
            snprintf(errstr, errlen, "%s: is required (%s)", v->name, v->help);
            return -1;
        }
        switch (v->type) {
        case CFG_STR: *(const char **)v->target = val ? val : ""; break;
        case CFG_FILE:
            if (!val || !*val) {
                *(const char **)v->target = "";
            } else if (!(*(char **)v->target = read_whole(v->name, val, errstr, errlen))) {
                return -1;
            }
            break;
        case CFG_INT: {
            char *end;
            errno = 0;
            long long x = val ? strtoll(val, &end, 10) : 0;
            if (!val || errno || *end || end == val) {
                snprintf(errstr, errlen, "%s: '%s' is not an integer", v->name, val ? val : "");
                return -1;
            }
            if (x < v->min || x > v->max) {
                snprintf(errstr, errlen, "%s: %lld is outside %lld..%lld", v->name, x, v->min,
                         v->max);
                return -1;
            }
            *(long long *)v->target = x;
            break;
        }
        case CFG_BOOL:
            if (!val || parse_bool(val, (int *)v->target) != 0) {
                snprintf(errstr, errlen, "%s: '%s' is not a boolean (true/false/1/0)", v->name,
                         val ? val : "");
                return -1;
            }
            break;
        }
    }
    return 0;
}

void cfg_print_help(const char *prog, const char *summary, const cfg_var *vars, size_t n) {
    printf("%s - %s\n\nConfigured by environment variables:\n\n", prog, summary);
    for (size_t i = 0; i < n; i++) {
        const cfg_var *v = &vars[i];
        printf("  %-32s %-6s ", v->name, type_name(v->type));
        if (v->flags & CFG_REQUIRED)
            printf("(required)");
        else
            printf("default: %s", v->def && *v->def ? v->def : "(empty)");
        if (v->type == CFG_INT) printf(" [%lld..%lld]", v->min, v->max);
        if (v->flags & CFG_SECRET) printf(" [secret]");
        printf("\n      %s\n", v->help);
    }
}

void cfg_log(const cfg_var *vars, size_t n) {
    sbuf b = {0};
    sbuf_append(&b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        const cfg_var *v = &vars[i];
        if (i) sbuf_append(&b, ",", 1);
        sbuf_json_str(&b, v->name, strlen(v->name));
        sbuf_append(&b, ":", 1);
        if (v->type == CFG_FILE) {
            const char *path = getenv(v->name);
            path = path ? path : "";
            sbuf_json_str(&b, path, strlen(path));
        } else if (v->flags & CFG_SECRET) {
            const char *s = v->type == CFG_STR ? *(const char **)v->target : "";
            sbuf_printf(&b, "\"%s\"", s && *s ? "***" : "");
        } else if (v->type == CFG_STR) {
            const char *s = *(const char **)v->target;
            sbuf_json_str(&b, s, strlen(s));
        } else if (v->type == CFG_INT) {
            sbuf_printf(&b, "%lld", *(long long *)v->target);
        } else {
            sbuf_printf(&b, "%s", *(int *)v->target ? "true" : "false");
        }
    }
    sbuf_append(&b, "}", 1);
    log_info("configuration", "config", b.p, NULL);
    sbuf_free(&b);
}

int cfg_main(int argc, char **argv, const char *summary, const cfg_var *vars, size_t n) {
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cfg_print_help(prog, summary, vars, n);
            exit(0);
        }
        fprintf(stderr, "%s: unknown argument '%s' (configuration is by environment; see --help)\n",
                prog, argv[i]);
        return -1;
    }
    /* Until stage_start() sets the level, log lines (e.g. from Kafka clients created
     * before it) carry the program's name. */
    log_init(prog, log_min_level);
    char err[512];
    if (cfg_load(vars, n, err, sizeof err) != 0) {
        fprintf(stderr, "%s: configuration error: %s\n", prog, err);
        return -1;
    }
    return 0;
}
