/* db_specs.c - the list of record specs and the routing of a (topic, entity, kind) to
 * one of them: an entity's topic through the registry (common/entities.h), the
 * connection events' by their kind. The order here is the order of statements inside
 * a batch. */
#include "writer/db_spec.h"

#include <string.h>

#define ENTITY_SPEC(name, ...) &wdb_spec_##name,
// clang-format off
const wdb_spec *const wdb_specs[] = {
    TS_ENTITIES(ENTITY_SPEC)
    &wdb_spec_conn_created, &wdb_spec_conn_deleted, &wdb_spec_conn_polled, &wdb_spec_conn_errors,
    &wdb_spec_sync_status, &wdb_spec_historical_syncs,
};
// clang-format on
#undef ENTITY_SPEC
const int wdb_nspecs = WDB_NELEM(wdb_specs);
_Static_assert(WDB_NELEM(wdb_specs) == WDB_MAX_SPECS,
               "WDB_NCONN_SPECS (db_spec.h) must count the connection events' specs above");

int wdb_spec_find(const char *topic, const char *entity, const char *kind) {
    if (!topic || !entity) return -1;
    int e = ts_entity_by_topic(topic);
    if (e >= 0) return strcmp(entity, ts_entities[e].entity) == 0 ? e : -1;
    for (int i = TS_ENTITY_COUNT; i < wdb_nspecs; i++) {
        const wdb_spec *s = wdb_specs[i];
        if (strcmp(s->topic, topic) != 0 || strcmp(s->entity, entity) != 0) continue;
        if (!s->kinds) return i;
        if (!kind) continue;
        for (const char *const *k = s->kinds; *k; k++)
            if (strcmp(*k, kind) == 0) return i;
    }
    return -1;
}

/* The entity whose spec s is, or -1 for a connection event's. */
static int entity_of(const wdb_spec *s) {
    for (int e = 0; e < TS_ENTITY_COUNT; e++)
        if (wdb_specs[e] == s) return e;
    return -1;
}

const char *wdb_spec_name(const wdb_spec *s) {
    int e = entity_of(s);
    return e >= 0 ? ts_entities[e].name : s->name;
}

const char *wdb_spec_table(const wdb_spec *s) {
    int e = entity_of(s);
    return e >= 0 ? ts_entities[e].table : s->table;
}

const char *wdb_spec_topic(const wdb_spec *s) {
    int e = entity_of(s);
    return e >= 0 ? ts_entities[e].topic : s->topic;
}

int wdb_spec_webhooks(const wdb_spec *s) {
    int e = entity_of(s);
    return e < 0 || ts_entities[e].events[0] != NULL;
}

const char *wdb_spec_entity(const wdb_spec *s) {
    int e = entity_of(s);
    return e >= 0 ? ts_entities[e].entity : s->entity;
}

int wdb_spec_lifecycle(const wdb_spec *s) {
    return entity_of(s) >= 0;
}
