/* json_arena.h - parse JSON into an arena of read-only cJSON nodes (json_arena.c): the
 * same texts and values as cJSON's parser, without a malloc and a free per value. Used by
 * the normalizer (raw bodies) and the writer (canonical records).
 */
#ifndef TS_JSON_ARENA_H
#define TS_JSON_ARENA_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Where json_arena_parse puts nodes and strings; zero-initialise, then json_arena_free.
 * One arena may hold the trees of several parses: they all live until json_arena_reset
 * or json_arena_free. */
typedef struct json_arena {
    struct json_chunk *chunks; /* owned */
    struct json_chunk *spare;  /* owned: kept by json_arena_reset for later parses */
    char *p;                   /* free space in the newest chunk */
    size_t left, next;
    int oom; /* the last json_arena_parse failed for want of memory, not on the text */
    int nul; /* the last json_arena_parse failed on a NUL character inside a string */
} json_arena;

/* Parse s[0..len) exactly as cJSON_ParseWithLengthOpts(s, len, end, 0) would: the same
 * texts accepted, the same values, *end just after the value (what follows is the
 * caller's to check). One exception: a string holding a NUL character (a raw 0 byte,
 * "\u0000", or a \u escape with a non-hex digit, which cJSON reads as 0) is refused,
 * with a->nul set, because a C string (and PostgreSQL text or jsonb) cannot hold it;
 * cJSON would cut the string there. tests/fuzz/fuzz_json_arena.c checks exactly this
 * against cJSON. The tree lives in a and must not be given to cJSON_Delete or modified.
 * NULL when the text is not JSON (or, with a->oom set, when memory ran out). */
const cJSON *json_arena_parse(json_arena *a, const char *s, size_t len, const char **end);

/* Forget every tree parsed into a, but keep up to keep bytes of its memory for the next
 * parses: an arena refilled batch after batch then stops asking the kernel for fresh
 * (zeroed, faulted-in) pages each time. */
void json_arena_reset(json_arena *a, size_t keep);

/* Free every tree parsed into a and all its memory; a can be used again. */
void json_arena_free(json_arena *a);

#endif
