/* strmap.c - string -> int map (see strmap.h). */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Slots of a new map; a power of two. Small: the fetcher keeps one map per complete
 * listing in progress, thousands at once during a first sync, most of a few ids; at 1,024
 * slots (16 KiB each) they were the fetcher's largest memory peak (97.6 MB of 134 MB
 * at 1,000 connections, heaptrack). Growth doubles, so a large map pays only a few more
 * rehashes. */
#define STRMAP_INITIAL 16

typedef struct slot {
    char *key; /* NULL = empty */
    int value;
} slot;

struct strmap {
    slot *s;
    size_t cap, n;
};

static uint32_t fnv1a(const char *k) {
    uint32_t h = 2166136261u;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return h;
}

/* The slot holding key, or the empty one where it would go. */
static size_t find(const slot *s, size_t cap, const char *key) {
    size_t i = fnv1a(key) & (cap - 1);
    while (s[i].key && strcmp(s[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

strmap *strmap_new(void) {
    strmap *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cap = STRMAP_INITIAL;
    if (!(m->s = calloc(m->cap, sizeof *m->s))) {
        free(m);
        return NULL;
    }
    return m;
}

void strmap_free(strmap *m) {
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->s[i].key);
    free(m->s);
    free(m);
}

static int grow(strmap *m) {
    size_t cap = m->cap * 2;
    slot *s = calloc(cap, sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->s[i].key) s[find(s, cap, m->s[i].key)] = m->s[i];
    free(m->s);
    m->s = s;
    m->cap = cap;
    return 0;
}

int strmap_put(strmap *m, const char *key, int value) {
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0) return -1;
    size_t i = find(m->s, m->cap, key);
    if (!m->s[i].key) {
        if (!(m->s[i].key = strdup(key))) return -1;
        m->n++;
    }
    m->s[i].value = value;
    return 0;
}

int strmap_get(const strmap *m, const char *key, int *value) {
    const slot *s = &m->s[find(m->s, m->cap, key)];
    if (!s->key) return 0;
    if (value) *value = s->value;
    return 1;
}

size_t strmap_count(const strmap *m) {
    return m->n;
}

int strmap_next(const strmap *m, size_t *pos, const char **key, int *value) {
    for (; *pos < m->cap; (*pos)++) {
        if (!m->s[*pos].key) continue;
        *key = m->s[*pos].key;
        if (value) *value = m->s[*pos].value;
        (*pos)++;
        return 1;
    }
    return 0;
}
