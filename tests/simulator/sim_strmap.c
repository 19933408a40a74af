/* sim_strmap.c - the string -> int hash map behind the store's connection lookups. */
#include "sim_strmap.h"

#include <stdlib.h>
#include <string.h>

#define STRMAP_MIN_CAP 64

static uint64_t hash_str(const char *s) {
    /* FNV-1a: keys are uuids and random hex, so a simple hash spreads them well */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

/* The slot holding key, or the empty slot where it would go. cap must be non-zero. */
static uint32_t slot_of(const char **keys, uint32_t cap, const char *key) {
    uint32_t i = (uint32_t)hash_str(key) & (cap - 1);
    while (keys[i] && strcmp(keys[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(sim_strmap *m) {
    uint32_t cap = m->cap ? m->cap * 2 : STRMAP_MIN_CAP;
    if (cap < m->cap) return -1; /* would wrap */
    const char **keys = calloc(cap, sizeof *keys);
    int32_t *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        uint32_t s = slot_of(keys, cap, m->keys[i]);
        keys[s] = m->keys[i];
        vals[s] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int sim_strmap_reserve(sim_strmap *m, uint32_t n) {
    while ((uint64_t)n * 2 > m->cap)
        if (grow(m) != 0) return -1;
    return 0;
}

int sim_strmap_put(sim_strmap *m, const char *key, int32_t val) {
    if (!key || sim_strmap_reserve(m, m->n + 1) != 0) return -1;
    uint32_t s = slot_of(m->keys, m->cap, key);
    if (!m->keys[s]) m->n++;
    m->keys[s] = key; /* an equal key's string may be a new one: point at the latest */
    m->vals[s] = val;
    return 0;
}

int32_t sim_strmap_get(const sim_strmap *m, const char *key) {
    if (!key || !m->cap) return -1;
    uint32_t s = slot_of(m->keys, m->cap, key);
    return m->keys[s] ? m->vals[s] : -1;
}

void sim_strmap_free(sim_strmap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
