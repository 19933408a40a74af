/* topics.c - the list of every topic the pipeline uses (see topics.h). */
#include "topics.h"

#include "entities.h"

#include <stdio.h>

#define ENTITY_TOPICS(name, ...) TS_TOPIC(name), TS_TOPIC_INTERNAL(name),
const char *const topic_all[] = {TOPIC_RAW,          TOPIC_DLQ,    TOPIC_CONNECTION_EVENTS,
                                 TOPIC_FETCH_ASSIGN, TOPIC_PURGED, TS_ENTITIES(ENTITY_TOPICS)};
#undef ENTITY_TOPICS
const int topic_all_count = (int)(sizeof topic_all / sizeof topic_all[0]);

const char *topic_public_of(const char *internal) {
    int e = ts_entity_by_internal_topic(internal);
    return e >= 0 ? ts_entities[e].topic : NULL;
}

const char *topic_name(const char *prefix, const char *name, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", prefix ? prefix : "", name);
    return buf;
}
