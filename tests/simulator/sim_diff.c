/* sim_diff.c - recursive JSON diff producing dot-path previous_attributes. */
#include "sim_diff.h"

#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 512

static int add(cJSON *out, const char *path, const cJSON *old) {
    cJSON *v = old ? cJSON_Duplicate(old, 1) : cJSON_CreateNull();
    if (!v) return -1;
    cJSON_AddItemToObject(out, path, v);
    return 0;
}

static void join(char *dst, const char *path, const char *key) {
    if (*path)
        snprintf(dst, PATH_MAX_LEN, "%s.%s", path, key);
    else
        snprintf(dst, PATH_MAX_LEN, "%s", key);
}

static int walk(const cJSON *a, const cJSON *b, const char *path, cJSON *out) {
    char sub[PATH_MAX_LEN];
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, a) {
            join(sub, path, x->string);
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y) {
                if (add(out, sub, x)) return -1;
            } else if (walk(x, y, sub, out)) {
                return -1;
            }
        }
        cJSON_ArrayForEach(x, b) {
            if (!cJSON_GetObjectItemCaseSensitive(a, x->string)) {
                join(sub, path, x->string);
                if (add(out, sub, NULL)) /* did not exist before: old value null */
                    return -1;
            }
        }
        return 0;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b) && cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        int i = 0;
        const cJSON *x, *y = b->child;
        cJSON_ArrayForEach(x, a) {
            char idx[16];
            snprintf(idx, sizeof idx, "%d", i++);
            join(sub, path, idx);
            if (walk(x, y, sub, out)) return -1;
            y = y->next;
        }
        return 0;
    }
    if (!cJSON_Compare(a, b, 1)) return add(out, *path ? path : "value", a);
    return 0;
}

cJSON *sim_diff_prev(const cJSON *old, const cJSON *new_) {
    cJSON *out = cJSON_CreateObject();
    if (!out) return NULL;
    if (walk(old, new_, "", out) != 0) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}
