/* sim_strmap.h - a hash map from a string key to an int (open addressing, linear probing),
 * for the store's lookups of a connection by id and by access token: O(1) at 100,000
 * connections where a scan of every connection would run on every request.
 *
 * Keys are not copied: the map points at strings the caller keeps alive and unchanged as
 * long as the entry is in the map (a connection's id and token, which live as long as the
 * store). Entries are never removed: a deleted connection stays in the store (not live).
 */
#ifndef SIM_STRMAP_H
#define SIM_STRMAP_H

#include <stdint.h>

typedef struct sim_strmap {
    const char **keys; /* cap slots; NULL = empty */
    int32_t *vals;
    uint32_t cap, n; /* cap is 0 or a power of two; n <= cap / 2 */
} sim_strmap;

/* Map key to val (replacing the value of an equal key). The map grows when half full.
 * 0, or -1 when memory ran out (the map is unchanged). */
int sim_strmap_put(sim_strmap *m, const char *key, int32_t val);

/* Room for n entries in all: a put that adds up to n entries then needs no memory and
 * cannot fail. 0, or -1 when memory ran out. */
int sim_strmap_reserve(sim_strmap *m, uint32_t n);

/* The value of key, or -1 when absent. */
int32_t sim_strmap_get(const sim_strmap *m, const char *key);

void sim_strmap_free(sim_strmap *m);

#endif
