/* canon_mappers.h - the mappers, above the engine (canon_internal.h): one field table per
 * entity of the registry (common/entities.h), and the connection events. canon.c routes
 * each raw message to one of them.
 */
#ifndef TS_CANON_MAPPERS_H
#define TS_CANON_MAPPERS_H

#include "entities.h"
#include "normalizer/canon_internal.h"

/* --- entities --- */

/* An entity's mapper. Every entity of the registry has one, canon_entity_<entity>
 * (canon_order.c, canon_inventory.c, ...): a missing one fails the link. The registry
 * gives its entity name and topic. */
typedef struct canon_entity {
    const canon_table *table; /* fields after the envelope, before `extra` */
} canon_entity;

#define CANON_ENTITY_DECL(name, NAME, entity, ...) extern const canon_entity canon_entity_##entity;
TS_ENTITIES(CANON_ENTITY_DECL)
#undef CANON_ENTITY_DECL

/* --- connection-level events (canon_connection.c) --- */

typedef enum canon_conn_kind {
    CANON_CONN_CREATED,
    CANON_CONN_DELETED,
    CANON_CONN_HISTORICAL_SYNC,
    CANON_CONN_ERROR_CREATED,
    CANON_CONN_ERROR_UPDATED,
    CANON_CONN_ERROR_DELETED,
    CANON_CONN_SYNC_STATUS,
    CANON_CONN_POLLED,
} canon_conn_kind;

/* Build the one connection_event record for data (a webhook's `data`, the fetcher's
 * sync-status body, or a connection object the fetcher polled). env holds the envelope fields known
 * so far (connection_id, integration_name, source, event_id, event_type, observed_at); id and
 * source_updated_at are filled here. On success *key and *value (malloc'd, *value_len
 * bytes) belong to the caller. Returns 0 or -1 (after canon_fail). */
int canon_connection_map(canon_ctx *c, canon_conn_kind kind, const cJSON *data,
                         const canon_env *env, char **key, char **value, size_t *value_len);
#endif
