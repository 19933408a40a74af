/* partitions.c - the writer's input partitions (see partitions.h). */
#include "writer/partitions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

wpart *wparts_find(wparts *w, const char *topic, int partition) {
    for (int i = 0; i < w->n; i++)
        if (w->p[i].partition == partition && strcmp(w->p[i].topic, topic) == 0) return &w->p[i];
    return NULL;
}

static wpart *find_or_add(wparts *w, const char *topic, int partition) {
    wpart *p = wparts_find(w, topic, partition);
    if (p) return p;
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 64;
        wpart *np = realloc(w->p, (size_t)cap * sizeof *np);
        if (!np) return NULL;
        w->p = np;
        w->cap = cap;
    }
    p = &w->p[w->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->partition = partition;
    p->recover_through = -1;
    return p;
}

void wparts_hook(rd_kafka_t *rk, int assigned, const rd_kafka_topic_partition_list_t *parts,
                 void *arg) {
    (void)rk;
    wparts *w = arg;
    for (int i = 0; parts && i < parts->cnt; i++) {
        wpart *p = find_or_add(w, parts->elems[i].topic, parts->elems[i].partition);
        if (!p) {
            /* Without an entry the partition is never usable: its messages are dropped
             * and re-read by whoever owns it next, so nothing is lost. */
            log_error("out of memory tracking a partition", "topic", parts->elems[i].topic, NULL);
            continue;
        }
        p->owned = assigned;
        p->claimed = 0; /* a new assignment claims again; a revoked one must not be used */
    }
}

int wparts_usable(wparts *w, const char *topic, int partition) {
    const wpart *p = wparts_find(w, topic, partition);
    return p && p->owned;
}

void wparts_lost(wparts *w, const char *topic, int partition) {
    wpart *p = wparts_find(w, topic, partition);
    if (!p) return;
    p->owned = 0;
    p->claimed = 0;
}

void wparts_free(wparts *w) {
    free(w->p);
    w->p = NULL;
    w->n = w->cap = 0;
}
