/* fuzz_json_arena.c - differential libFuzzer target: the arena JSON parser
 * (common/json_arena.c, used by the normalizer and the writer) against
 * cJSON_ParseWithLengthOpts(text, len, &end, 0), the parser whose behaviour it promises.
 *
 * For every input, either both refuse, or both accept with
 *  - the same end (the byte after the value),
 *  - the same tree: node by node the same type, the same key (byte for byte), the same
 *    number (the same double, bit for bit, and the same saturated valueint), the same
 *    string (byte for byte), the same members in the same order - a duplicated key is
 *    kept twice by both, in place - and siblings linked alike (cJSON's head->prev is the
 *    last member, which cJSON_AddItemToArray relies on).
 * The one deliberate difference (json_arena.h): a string holding a NUL character (a raw
 * 0 byte, or an escape that decodes to 0: "\u0000", or, as cJSON reads it, a \u with a
 * non-hex digit) is refused by the arena with a->nul set, where cJSON cuts the string
 * short. So an arena refusal with nul set is accepted only when the text holds such a
 * character.
 * The same text parsed again into the arena after json_arena_reset (a reused chunk), and
 * a second time into the same arena (two trees side by side), must give the same tree.
 *
 * Seeds: tests/fuzz/corpus/json_arena/ plus every other target's corpus (run.sh).
 * Build and run: tests/fuzz/run.sh json_arena <seconds>.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_arena.h"

/* cJSON's reading of four hex digits: any non-hex digit makes the whole value 0. */
static unsigned cjson_hex4(const uint8_t *p) {
    unsigned h = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        unsigned v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            return 0;
        h = h << 4 | v;
    }
    return h;
}

/* 1 when data holds a raw NUL byte or a \u escape that cJSON decodes to NUL. */
static int holds_nul_char(const uint8_t *data, size_t size) {
    if (memchr(data, 0, size)) return 1;
    for (size_t i = 0; i + 6 <= size; i++)
        if (data[i] == '\\' && data[i + 1] == 'u' && cjson_hex4(data + i + 2) == 0) return 1;
    return 0;
}

static void differ(const char *what, const char *path) {
    fprintf(stderr, "json_arena and cJSON differ: %s at %s\n", what, path);
    abort();
}

/* Compare the trees a (arena) and c (cJSON); path names the node for the report. */
static void same_tree(const cJSON *a, const cJSON *c, char *path, size_t plen, size_t cap) {
    if (a->type != c->type) differ("type", path);
    if ((a->string == NULL) != (c->string == NULL) ||
        (a->string && strcmp(a->string, c->string) != 0))
        differ("key", path);
    if (a->valueint != c->valueint) differ("valueint", path);
    if (memcmp(&a->valuedouble, &c->valuedouble, sizeof a->valuedouble) != 0)
        differ("number", path);
    if ((a->valuestring == NULL) != (c->valuestring == NULL) ||
        (a->valuestring && strcmp(a->valuestring, c->valuestring) != 0))
        differ("string", path);
    const cJSON *x = a->child, *y = c->child, *px = NULL, *py = NULL;
    if ((x == NULL) != (y == NULL)) differ("children", path);
    for (int i = 0; x || y; i++, px = x, py = y, x = x->next, y = y->next) {
        if (!x || !y) differ("member count", path);
        size_t n = plen + (size_t)snprintf(path + plen, cap - plen, ".%d", i);
        if (n >= cap) n = cap - 1;
        same_tree(x, y, path, n, cap);
        path[plen] = '\0';
        if (px && (x->prev != px || y->prev != py)) differ("prev link", path);
    }
    /* The head's prev is the last member, in both. */
    if (a->child && (a->child->prev != px || c->child->prev != py)) differ("head->prev", path);
}

static void compare(const cJSON *a, const cJSON *c, const char *aend, const char *cend,
                    const char *text) {
    char path[4096] = "$";
    if (aend - text != cend - text) differ("end", path);
    same_tree(a, c, path, 1, sizeof path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    const char *cend = NULL, *aend = NULL;
    json_arena arena = {0};
    cJSON *c = cJSON_ParseWithLengthOpts(text, size, &cend, 0);
    const cJSON *a = json_arena_parse(&arena, text, size, &aend);
    if (arena.oom) goto done; /* the fuzzer's memory limit, not a difference */
    if (a && !c) differ("the arena accepts what cJSON refuses", "$");
    if (!a && c && !arena.nul) differ("the arena refuses what cJSON accepts", "$");
    if (!a && arena.nul && !holds_nul_char(data, size))
        differ("NUL refusal without a NUL character", "$");
    if (a) {
        compare(a, c, aend, cend, text);
        /* Again into the reset arena (its first chunk reused), then a second tree beside
         * the first: the same tree each time. */
        json_arena_reset(&arena, 1 << 20);
        const cJSON *again = json_arena_parse(&arena, text, size, &aend);
        if (!again && !arena.oom) differ("a reused arena refuses", "$");
        if (again) compare(again, c, aend, cend, text);
        const cJSON *beside = json_arena_parse(&arena, text, size, &aend);
        if (!beside && !arena.oom) differ("a second tree in the arena refused", "$");
        if (beside) compare(beside, c, aend, cend, text);
        if (again && beside) compare(again, c, aend, cend, text); /* still intact */
    }
done:
    cJSON_Delete(c);
    json_arena_free(&arena);
    return 0;
}
