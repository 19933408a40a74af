/* topics.c - the list of every topic the pipeline uses (see topics.h). */
#include "topics.h"

#include "entities.h"

#include <stdio.h>

#define ENTITY_TOPIC(name, ...) TS_TOPIC(name),
const char *const topic_all[] = {TOPIC_RAW, TOPIC_DLQ, TOPIC_CONNECTION_EVENTS, TOPIC_FETCH_ASSIGN,
                                 TS_ENTITIES(ENTITY_TOPIC)};
#undef ENTITY_TOPIC
const int topic_all_count = (int)(sizeof topic_all / sizeof topic_all[0]);

const char *topic_name(const char *prefix, const char *name, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", prefix ? prefix : "", name);
    return buf;
}
