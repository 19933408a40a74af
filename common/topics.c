/* topics.c - the list of every topic the pipeline uses (see topics.h). */
#include "topics.h"

#include <stdio.h>

#include <string.h>

#define PUBLIC_TOPIC(e) TOPIC_CANON_PUBLIC(e),
#define INTERNAL_TOPIC(e) TOPIC_CANON_INTERNAL(e),
const char *const topic_all[] = {TOPIC_RAW, TOPIC_DLQ, TOPIC_CONNECTION_EVENTS, TOPIC_FETCH_ASSIGN,
                                 CANON_ENTITIES(PUBLIC_TOPIC) CANON_ENTITIES(INTERNAL_TOPIC)};
const int topic_all_count = (int)(sizeof topic_all / sizeof topic_all[0]);

static const char *const internal_topics[] = {CANON_ENTITIES(INTERNAL_TOPIC)};
static const char *const public_topics[] = {CANON_ENTITIES(PUBLIC_TOPIC)};
#undef PUBLIC_TOPIC
#undef INTERNAL_TOPIC

const char *topic_public_of(const char *internal) {
    for (size_t i = 0; internal && i < sizeof internal_topics / sizeof internal_topics[0]; i++)
        if (strcmp(internal, internal_topics[i]) == 0) return public_topics[i];
    return NULL;
}

const char *topic_name(const char *prefix, const char *name, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", prefix ? prefix : "", name);
    return buf;
}
