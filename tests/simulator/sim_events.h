/* sim_events.h - builds webhook envelopes {connection_id, event_type, integration_name,
 * integration_type, data[, previous_attributes]} and hands them to the sender. */
#ifndef SIM_EVENTS_H
#define SIM_EVENTS_H

#include "sim_store.h"

/* Generic: data and prev are JSON texts (prev may be NULL). general=1 sets
 * integration_type "general" (connection events), else "wms". 0 or -1. */
int sim_event_send(const sim_conn *c, const char *event_type, int general, const char *data,
                   const char *prev);

/* <event>.<suffix> for a record, e.g. suffix "updated" -> order.updated. Suppressed (and
 * counted as sent) when the connection has webhooks_disabled; withheld and listed in
 * c->drops for the world's share drop_pct. */
int sim_event_record(sim_conn *c, sim_res r, const void *rec, const char *suffix, const char *prev);

/* connection-error.<suffix> for invalid credentials (res < 0) or res's missing permission;
 * prev: previous_attributes (JSON text) of an .updated, or NULL. */
int sim_event_conn_error(const sim_conn *c, const char *suffix, int res, const char *prev);

#endif
