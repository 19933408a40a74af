-- Inventory accuracy as numbers (docs/operations.md, "Accuracy"): per connection and
-- resource, what the writer applied and how old it was when committed (commit time minus
-- Trackstar's updated_date), by source, and the corrections: versions a poll brought that
-- were newer than the row held in the version order (a webhook missed or late), with how
-- stale the row was (commit time minus when Trackstar had the newer version: its
-- trackstar_updated_date, else its updated_date). The writer adds each
-- batch's sums in the batch's transaction (writer/db_accuracy.c), so a retried batch
-- counts once; /metrics has the same by resource as histograms.
CREATE TABLE sync_accuracy (
    connection_id           text             NOT NULL,
    resource                text             NOT NULL,
    webhook_versions        bigint           NOT NULL DEFAULT 0,
    webhook_lag_s_sum       double precision NOT NULL DEFAULT 0,
    poll_versions           bigint           NOT NULL DEFAULT 0,
    poll_lag_s_sum          double precision NOT NULL DEFAULT 0,
    corrections             bigint           NOT NULL DEFAULT 0,
    correction_stale_s_sum  double precision NOT NULL DEFAULT 0,
    correction_stale_s_max  double precision,
    last_correction_at      timestamptz,
    updated_at              timestamptz      NOT NULL,
    PRIMARY KEY (connection_id, resource)
);

-- sync_overview gains the accuracy figures, per resource in resource_states and per
-- connection (corrections, last_correction_at: new columns at the end, so the view is
-- replaced in place and what read it still reads the same).
CREATE OR REPLACE VIEW sync_overview AS
WITH conns AS (
    SELECT connection_id FROM connections
    UNION SELECT connection_id FROM sync_status
    UNION SELECT connection_id FROM historical_syncs
    UNION SELECT connection_id FROM connection_errors
    UNION SELECT connection_id FROM sync_accuracy
), keys AS (
    SELECT connection_id, resource FROM sync_status
    UNION SELECT connection_id, resource FROM historical_syncs
    UNION SELECT connection_id, resource FROM sync_accuracy
), res AS (
    SELECT k.connection_id, k.resource,
           s.state, s.last_started_at, s.last_success_at, s.records_seen, s.last_error,
           h.source_updated_at AS historical_sync_completed_at,
           h.oldest_data_date, h.newest_data_date,
           coalesce(a.corrections, 0) AS corrections, a.last_correction_at,
           a.correction_stale_s_max,
           a.webhook_lag_s_sum / nullif(a.webhook_versions, 0) AS webhook_lag_s_avg,
           a.poll_lag_s_sum / nullif(a.poll_versions, 0) AS poll_lag_s_avg
    FROM keys k
    LEFT JOIN sync_status s ON s.connection_id = k.connection_id AND s.resource = k.resource
    LEFT JOIN historical_syncs h ON h.connection_id = k.connection_id AND h.resource = k.resource
    LEFT JOIN sync_accuracy a ON a.connection_id = k.connection_id AND a.resource = k.resource
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
                   'oldest_data_date', r.oldest_data_date, 'newest_data_date', r.newest_data_date,
                   'corrections', r.corrections, 'last_correction_at', r.last_correction_at,
                   'correction_stale_s_max', r.correction_stale_s_max,
                   'webhook_lag_s_avg', r.webhook_lag_s_avg, 'poll_lag_s_avg', r.poll_lag_s_avg)
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
         ORDER BY e.source_updated_at DESC, e.error_key LIMIT 1) AS latest_error,
       (SELECT coalesce(sum(r.corrections), 0) FROM res r
         WHERE r.connection_id = c.connection_id) AS corrections,
       (SELECT max(r.last_correction_at) FROM res r
         WHERE r.connection_id = c.connection_id) AS last_correction_at
FROM conns c
LEFT JOIN connections cn ON cn.connection_id = c.connection_id;

-- The new table's grants (006_roles.sql).
SELECT trackstar_grant_roles();
