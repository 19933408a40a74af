-- 007_connection_customer.sql - customer_id on the connection, and the connection as the
-- fetcher polls it (connection_polled: GET /connections/{id}).
--
-- connection_polled fills its own columns with its own monotonic guard (polled_version =
-- when it was polled), like connection_created and connection_deleted: the three commute.
-- A polled record never changes status: only created/deleted do, in their own times, so a
-- poll (or a replayed connection_created) never brings a deleted connection back.
-- customer_id is derived, so it has one source of truth per row: the newest poll, which
-- shows what Trackstar holds now (a PATCH /connections changes it), else what
-- connection_created carried.

ALTER TABLE connections
    ADD COLUMN polled_version  timestamptz,   -- source_updated_at of the applied connection_polled
    ADD COLUMN polled_event_id text,
    ADD COLUMN polled_record   jsonb,
    ADD COLUMN customer_id     text GENERATED ALWAYS AS (
        CASE WHEN polled_record IS NOT NULL THEN polled_record->>'customer_id'
             ELSE created_record->>'customer_id' END) STORED;

CREATE INDEX connections_customer_idx ON connections (customer_id) WHERE customer_id IS NOT NULL;

-- sync_overview gains customer_id, next to the integration. Recreated: CREATE OR REPLACE
-- VIEW can only add columns at the end.
DROP VIEW sync_overview;
CREATE VIEW sync_overview AS
WITH conns AS (
    SELECT connection_id FROM connections
    UNION SELECT connection_id FROM sync_status
    UNION SELECT connection_id FROM historical_syncs
    UNION SELECT connection_id FROM connection_errors
), res AS (
    SELECT coalesce(s.connection_id, h.connection_id) AS connection_id,
           coalesce(s.resource, h.resource)           AS resource,
           s.state, s.last_started_at, s.last_success_at, s.records_seen, s.last_error,
           h.source_updated_at AS historical_sync_completed_at,
           h.oldest_data_date, h.newest_data_date
    FROM sync_status s
    FULL JOIN historical_syncs h ON h.connection_id = s.connection_id AND h.resource = s.resource
)
SELECT c.connection_id,
       cn.integration_name,
       cn.customer_id,
       coalesce(cn.status, 'unknown') AS connection_status,
       cn.created_at,
       cn.deleted_at,
       (SELECT count(*) FROM res r WHERE r.connection_id = c.connection_id) AS resources,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'resource', r.resource, 'state', r.state,
                   'last_started_at', r.last_started_at, 'last_success_at', r.last_success_at,
                   'records_seen', r.records_seen, 'last_error', r.last_error,
                   'historical_sync_completed_at', r.historical_sync_completed_at,
                   'oldest_data_date', r.oldest_data_date, 'newest_data_date', r.newest_data_date)
                   ORDER BY r.resource), '[]')
          FROM res r WHERE r.connection_id = c.connection_id) AS resource_states,
       (SELECT max(r.last_success_at) FROM res r WHERE r.connection_id = c.connection_id) AS last_success_at,
       (SELECT count(*) FROM res r
         WHERE r.connection_id = c.connection_id AND r.state IN ('failed', 'error')) AS failing_resources,
       (SELECT count(*) FROM connection_errors e
         WHERE e.connection_id = c.connection_id AND e.active) AS open_errors,
       (SELECT coalesce(bool_or(e.preventing_sync), false) FROM connection_errors e
         WHERE e.connection_id = c.connection_id AND e.active) AS sync_blocked,
       (SELECT e.error_message FROM connection_errors e
         WHERE e.connection_id = c.connection_id AND e.active
         ORDER BY e.source_updated_at DESC, e.error_key LIMIT 1) AS latest_error
FROM conns c
LEFT JOIN connections cn ON cn.connection_id = c.connection_id;

-- The view was made anew: its grants with it (006_roles.sql).
SELECT trackstar_grant_roles();
