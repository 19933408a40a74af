/* cli_out.c - shared output and argument helpers for tsctl commands (cli_out.h). */
#include "cli_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_args.h"
#include "entities.h"
#include "util.h"
#include "values.h"

cJSON *cli_res_list(const char *csv, char *errstr, size_t errlen) {
    char buf[1024];
    const char *items[CLI_MAX_LIST];
    int n = cli_split_list(csv, buf, sizeof buf, items, CLI_MAX_LIST, errstr, errlen);
    if (n < 0) return NULL;
    uint32_t seen = 0;
    for (int i = 0; i < n; i++) {
        int r = ts_entity_lookup(items[i]);
        if (r < 0) {
            int w = snprintf(errstr, errlen, "unknown resource '%s' (one of", items[i]);
            for (int e = 0; e < TS_ENTITY_COUNT && w > 0 && (size_t)w < errlen; e++)
                w += snprintf(errstr + w, errlen - (size_t)w, "%s %s", e ? "," : "",
                              ts_entities[e].name);
            if (w > 0 && (size_t)w < errlen) snprintf(errstr + w, errlen - (size_t)w, ")");
            return NULL;
        }
        seen |= (uint32_t)1 << r;
    }
    cJSON *a = cJSON_CreateArray();
    for (int r = 0; a && r < TS_ENTITY_COUNT; r++)
        if (seen & ((uint32_t)1 << r))
            cJSON_AddItemToArray(a, cJSON_CreateString(ts_entities[r].name));
    if (!a) snprintf(errstr, errlen, "out of memory");
    return a;
}

int cli_secret_name(const char *name) {
    static const char *const exact[] = {"api_key", "x-trackstar-api-key", "authorization", NULL};
    static const char *const inside[] = {"access_token", "access-token", "secret", "password",
                                         NULL};
    if (!name) return 0;
    for (int i = 0; exact[i]; i++)
        if (strcasecmp(name, exact[i]) == 0) return 1;
    for (int i = 0; inside[i]; i++)
        if (strcasestr(name, inside[i])) return 1;
    return 0;
}

int cli_redact(cJSON *j) {
    int n = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (it->string && cli_secret_name(it->string) && !cJSON_IsNull(it)) {
            cJSON *r = cJSON_CreateString(CLI_REDACTED);
            /* replaced in place, not by name: a name may occur twice */
            if (r) r->string = strdup(it->string);
            if (r && r->string && cJSON_ReplaceItemViaPointer(j, it, r)) {
                it = r;
                n++;
                continue;
            }
            cJSON_Delete(r);
        }
        n += cli_redact(it);
    }
    return n;
}

int cli_print_json(const cli_ctx *ctx, const cJSON *j) {
    cJSON *copy = cJSON_Duplicate(j, 1);
    if (!copy) return -1;
    cli_redact(copy);
    char *s = cJSON_Print(copy);
    cJSON_Delete(copy);
    if (!s) return -1;
    fprintf(ctx->out, "%s\n", s);
    free(s);
    return 0;
}

const char *cli_jstr(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *cli_jtext(const cJSON *obj, const char *key, char *buf, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "yes" : "no";
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(long long)v->valuedouble)
            snprintf(buf, len, "%lld", (long long)v->valuedouble);
        else
            snprintf(buf, len, "%g", v->valuedouble);
        return buf;
    }
    return NULL;
}

int cli_parse_date(const char *s, int64_t now_ms, int64_t *ms) {
    if (strcmp(s, "now") == 0) {
        *ms = now_ms;
        return 0;
    }
    return val_time_parse(s, ms, NULL); /* a bare date is its midnight UTC */
}

void cli_errorf(const cli_ctx *ctx, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", ctx && ctx->prog ? ctx->prog : "tsctl");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
