/* fx_gone.c - the set of ids a complete listing saw (see fx_gone.h): open addressing over
 * FNV-1a, grown at half full. */
#include "fx_gone.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fx_idset {
    char **slot;
    size_t cap, n; /* cap: a power of two */
};

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

fx_idset *fx_idset_new(void) {
    fx_idset *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cap = 1024;
    s->slot = calloc(s->cap, sizeof *s->slot);
    if (!s->slot) {
        free(s);
        return NULL;
    }
    return s;
}

void fx_idset_free(fx_idset *s) {
    if (!s) return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    free(s);
}

/* The slot holding id, or the empty one where it would go. */
static size_t find(char *const *slot, size_t cap, const char *id) {
    size_t i = fnv1a(id) & (cap - 1);
    while (slot[i] && strcmp(slot[i], id) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(fx_idset *s) {
    size_t cap = s->cap * 2;
    char **slot = calloc(cap, sizeof *slot);
    if (!slot) return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i]) slot[find(slot, cap, s->slot[i])] = s->slot[i];
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
    return 0;
}

int fx_idset_add(fx_idset *s, const char *id) {
    if ((s->n + 1) * 2 > s->cap && grow(s) != 0) return -1;
    size_t i = find(s->slot, s->cap, id);
    if (s->slot[i]) return 0;
    if (!(s->slot[i] = strdup(id))) return -1;
    s->n++;
    return 0;
}

int fx_idset_has(const fx_idset *s, const char *id) {
    return s->slot[find(s->slot, s->cap, id)] != NULL;
}

size_t fx_idset_count(const fx_idset *s) {
    return s->n;
}
