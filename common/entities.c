/* entities.c - the registry's tables, expanded from TS_ENTITIES and TS_UNMODELLED, and
 * the lookups every stage shares (see entities.h). */
#include "entities.h"

#include <string.h>

/* The parameters end in '_' so that they do not replace the member names. */
// clang-format off
#define ENTITY_ROW(name_, NAME_, entity_, table_, path_, prefix_, events_, aliases_, poll_,       \
                   interval_s_, enabled_)                                                          \
    [TS_ENT_##NAME_] = {.name = #name_, .entity = #entity_, .topic = TS_TOPIC(name_),             \
                        .topic_internal = TS_TOPIC_INTERNAL(name_),                               \
                        .table = #table_, .path = path_, .function = TS_FN_##enabled_(name_),     \
                        .prefix = prefix_, .events = events_, .aliases = aliases_,                \
                        .interval_env = "FETCHER_INTERVAL_" #NAME_ "_S",                          \
                        .interval_s = interval_s_, .poll = TS_POLL_##poll_,                       \
                        .on_request = TS_REQ_##enabled_},
// clang-format on
/* The enabled column: the function, get_<name> unless WITH(other) names another's, and
 * whether it is enabled only on request. TS_FN_WITH(other) leaves TS_SKIP before the
 * row's (name_), which it swallows. */
#define TS_FN_ALWAYS(name) "get_" #name
#define TS_FN_ON_REQUEST(name) "get_" #name
#define TS_FN_WITH(other) "get_" #other TS_SKIP
#define TS_SKIP(name)
#define TS_REQ_ALWAYS 0
#define TS_REQ_ON_REQUEST 1
#define TS_REQ_WITH(other) 0
const ts_entity ts_entities[TS_ENTITY_COUNT] = {TS_ENTITIES(ENTITY_ROW)};
#undef ENTITY_ROW

#define ENTITY_FAMILY(name, NAME, entity, table, path, prefix, events, ...)                        \
    {prefix, #name, events, TS_ENT_##NAME, NULL},
#define OTHER_FAMILY(prefix, resource, events, why) {prefix, #resource, events, -1, why},
const ts_family ts_families[] = {TS_ENTITIES(ENTITY_FAMILY) TS_UNMODELLED(OTHER_FAMILY)};
#undef ENTITY_FAMILY
#undef OTHER_FAMILY
const int ts_family_count = (int)(sizeof ts_families / sizeof ts_families[0]);

int ts_name_eq(const char *a, size_t n, const char *b) {
    size_t i = 0;
    for (; i < n && b[i]; i++)
        if (a[i] != b[i] && !((a[i] == '_' || a[i] == '-') && (b[i] == '_' || b[i] == '-')))
            return 0;
    return i == n && b[i] == '\0';
}

static int eq(const char *s, const char *b) {
    return b && ts_name_eq(s, strlen(s), b);
}

int ts_entity_lookup(const char *s) {
    if (!s) return -1;
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        const ts_entity *t = &ts_entities[e];
        if (eq(s, t->name) || eq(s, t->entity) || eq(s, t->prefix) ||
            (ts_entity_owns_function(e) && eq(s, t->function)))
            return e;
        for (const char *const *a = t->aliases; a && *a; a++)
            if (eq(s, *a)) return e;
    }
    return -1;
}

int ts_entity_owns_function(int e) {
    const ts_entity *t = &ts_entities[e];
    return strncmp(t->function, "get_", 4) == 0 && strcmp(t->function + 4, t->name) == 0;
}

unsigned ts_function_reads(const char *fn) {
    int r = ts_entity_lookup(fn);
    unsigned m = 0;
    for (int e = 0; r >= 0 && e < TS_ENTITY_COUNT; e++)
        if (strcmp(ts_entities[e].function, ts_entities[r].function) == 0) m |= 1u << e;
    return m;
}

int ts_entity_by_topic(const char *topic) {
    for (int e = 0; topic && e < TS_ENTITY_COUNT; e++)
        if (strcmp(topic, ts_entities[e].topic) == 0) return e;
    return -1;
}

int ts_entity_by_internal_topic(const char *topic) {
    for (int e = 0; topic && e < TS_ENTITY_COUNT; e++)
        if (strcmp(topic, ts_entities[e].topic_internal) == 0) return e;
    return -1;
}

const ts_family *ts_family_by_prefix(const char *p, size_t n) {
    for (int i = 0; p && i < ts_family_count; i++)
        if (ts_name_eq(p, n, ts_families[i].prefix)) return &ts_families[i];
    return NULL;
}

int ts_family_event(const ts_family *f, const char *a, size_t n) {
    for (int i = 0; f && a && f->events[i]; i++)
        if (ts_name_eq(a, n, f->events[i])) return i;
    return -1;
}
