/* strmap.h - a map from strings (copied in) to ints: the ids a complete listing saw
 * (fetcher/fx_run.c), the keys a purge must tombstone (common/purge.c). Open addressing
 * over FNV-1a, grown at half full; no removal (set a value instead). Not thread-safe. */
#ifndef TS_STRMAP_H
#define TS_STRMAP_H

#include <stddef.h>

typedef struct strmap strmap;

/* NULL when memory ran out. */
strmap *strmap_new(void);
/* NULL is allowed. */
void strmap_free(strmap *m);
/* Set key's value (adding the key when new). 0, or -1 when memory ran out. */
int strmap_put(strmap *m, const char *key, int value);
/* 1 and *value (may be NULL) when key is present, else 0. */
int strmap_get(const strmap *m, const char *key, int *value);
size_t strmap_count(const strmap *m);
/* Every entry once, in no order: start with *pos = 0; 1 with key and value set, 0 at the
 * end. The map must not change meanwhile. */
int strmap_next(const strmap *m, size_t *pos, const char **key, int *value);

#endif
