/* gw_dedupe.c - svix-id set: a ring of entries in insertion order (so expiry and
 * eviction both happen at the ring's head) indexed by a chained hash table. Every entry
 * lives exactly window_ms, so insertion order is also expiry order. */
#include "gw_dedupe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NIL ((size_t)-1)

typedef struct entry {
    char id[GW_DEDUPE_ID_MAX + 1];
    uint64_t hash;
    int64_t expires_ms;
    size_t next; /* next entry in the same bucket, or NIL */
} entry;

struct gw_dedupe {
    pthread_mutex_t mu;
    int64_t window_ms;
    size_t cap;     /* ring capacity */
    size_t head, n; /* oldest entry and count */
    entry *ring;
    size_t nbuckets; /* power of two >= cap */
    size_t *buckets; /* first entry index or NIL */
};

/* FNV-1a: ids are short and not attacker-chosen (they are checked after the signature). */
static uint64_t hash_id(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t buckets_for(size_t max_entries) {
    size_t n = 1;
    while (n < max_entries)
        n <<= 1;
    return n;
}

size_t gw_dedupe_bytes(size_t max_entries) {
    return sizeof(gw_dedupe) + max_entries * sizeof(entry) +
           buckets_for(max_entries) * sizeof(size_t);
}

gw_dedupe *gw_dedupe_new(int64_t window_ms, size_t max_entries) {
    if (window_ms <= 0 || max_entries < 1) return NULL;
    gw_dedupe *d = calloc(1, sizeof *d);
    if (!d) goto fail;
    d->window_ms = window_ms;
    d->cap = max_entries;
    d->nbuckets = buckets_for(max_entries);
    d->ring = calloc(max_entries, sizeof *d->ring);
    d->buckets = malloc(d->nbuckets * sizeof *d->buckets);
    if (!d->ring || !d->buckets) goto fail;
    for (size_t i = 0; i < d->nbuckets; i++)
        d->buckets[i] = NIL;
    pthread_mutex_init(&d->mu, NULL);
    return d;
fail:
    if (d) {
        free(d->ring);
        free(d->buckets);
        free(d);
    }
    return NULL;
}

void gw_dedupe_free(gw_dedupe *d) {
    if (!d) return;
    pthread_mutex_destroy(&d->mu);
    free(d->ring);
    free(d->buckets);
    free(d);
}

/* Drop the oldest entry: unlink it from its bucket chain. */
static void drop_head(gw_dedupe *d) {
    size_t idx = d->head;
    entry *e = &d->ring[idx];
    size_t *link = &d->buckets[e->hash & (d->nbuckets - 1)];
    while (*link != NIL && *link != idx)
        link = &d->ring[*link].next;
    if (*link == idx) *link = e->next;
    d->head = (d->head + 1) % d->cap;
    d->n--;
}

static void expire(gw_dedupe *d, int64_t now_ms) {
    while (d->n > 0 && d->ring[d->head].expires_ms <= now_ms)
        drop_head(d);
}

void gw_dedupe_add(gw_dedupe *d, const char *id, int64_t now_ms) {
    if (!d || !id || strlen(id) > GW_DEDUPE_ID_MAX) return;
    pthread_mutex_lock(&d->mu);
    expire(d, now_ms);
    if (d->n == d->cap) drop_head(d);
    size_t idx = (d->head + d->n) % d->cap;
    entry *e = &d->ring[idx];
    strcpy(e->id, id); /* length checked above */
    e->hash = hash_id(id);
    e->expires_ms = now_ms + d->window_ms;
    size_t *bucket = &d->buckets[e->hash & (d->nbuckets - 1)];
    e->next = *bucket;
    *bucket = idx;
    d->n++;
    pthread_mutex_unlock(&d->mu);
}

int gw_dedupe_seen(gw_dedupe *d, const char *id, int64_t now_ms) {
    if (!d || !id || strlen(id) > GW_DEDUPE_ID_MAX) return 0;
    uint64_t h = hash_id(id);
    int seen = 0;
    pthread_mutex_lock(&d->mu);
    expire(d, now_ms);
    for (size_t i = d->buckets[h & (d->nbuckets - 1)]; i != NIL && !seen; i = d->ring[i].next)
        seen = d->ring[i].hash == h && strcmp(d->ring[i].id, id) == 0;
    pthread_mutex_unlock(&d->mu);
    return seen;
}

size_t gw_dedupe_size(gw_dedupe *d) {
    if (!d) return 0;
    pthread_mutex_lock(&d->mu);
    size_t n = d->n;
    pthread_mutex_unlock(&d->mu);
    return n;
}
