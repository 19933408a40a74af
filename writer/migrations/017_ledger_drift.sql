-- 017_ledger_drift.sql - ledger drift (docs/operations.md, "Accuracy"): where a connection
-- keeps an inventory ledger, the change of an item's onhand in a warehouse between two
-- versions of the item is held against the sum of the ledger's movements for that item
-- and warehouse in the same window. A difference is counted, not enforced: the rows keep
-- what Trackstar sent.
--
-- inventory_onhand_snapshots: the onhand of every applied inventory version, per
-- warehouse, as of when Trackstar read it (trackstar_updated_at, else updated_date), for
-- connections whose ledger stream has been polled once (sync_status). Triggers write
-- them from the rows' canonical records, so every path that applies an inventory version
-- (batch, rebuild) records it and nothing else has to. A version applied twice (webhook
-- and poll) is one snapshot.
--
-- A window (previous snapshot, this one] is evaluated once, by
-- trackstar_evaluate_ledger_drift(), which the writer calls every
-- WRITER_LEDGER_DRIFT_INTERVAL_MS: only when the ledger is known through the window's end,
-- that is when the connection's last ledger poll that started after it has succeeded,
-- and its status has been in the database for at least p_settle (the status and the
-- entries of one poll travel on different topics). Results stay on the snapshot (ledger_sum,
-- drift) and add up per connection in sync_accuracy (resource inventory). Evaluated
-- snapshots more than 30 days behind the ledger's mark are deleted by the same call,
-- except each item and warehouse's newest.

CREATE TABLE inventory_onhand_snapshots (
    connection_id       text        NOT NULL,
    inventory_item_id   text        NOT NULL,
    warehouse_id        text        NOT NULL,
    as_of               timestamptz NOT NULL,
    onhand              bigint,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    evaluated_at        timestamptz,
    ledger_sum          bigint,   -- the ledger's movements in (previous as_of, as_of]
    drift               bigint,   -- onhand change minus ledger_sum; NULL: no window
    PRIMARY KEY (connection_id, inventory_item_id, warehouse_id, as_of)
);
CREATE INDEX inventory_onhand_snapshots_due_idx
    ON inventory_onhand_snapshots (connection_id, as_of) WHERE evaluated_at IS NULL;
CREATE INDEX inventory_onhand_snapshots_drift_idx
    ON inventory_onhand_snapshots (connection_id, evaluated_at) WHERE drift <> 0;
-- The ledger's movements of one item in one warehouse in a window.
CREATE INDEX inventory_ledger_conn_item_wh_idx
    ON inventory_ledger (connection_id, inventory_item_id, warehouse_id, entry_date);

ALTER TABLE sync_accuracy
    ADD COLUMN ledger_windows      bigint NOT NULL DEFAULT 0,
    ADD COLUMN ledger_drifts       bigint NOT NULL DEFAULT 0,
    ADD COLUMN ledger_drift_units  bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_ledger_drift_at timestamptz;

-- Statement-level, over the statement's new rows (a transition table): one call per merge
-- instead of one per row, a join that finds no ledger stream for most connections.
CREATE FUNCTION trackstar_inventory_onhand_snapshots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The canonical record's warehouses: warehouse_id a string, onhand an integer (the
    -- normalizer's value policy; anything else is not a snapshot, not an error).
    INSERT INTO inventory_onhand_snapshots (connection_id, inventory_item_id, warehouse_id, as_of, onhand)
    SELECT n.connection_id, n.id, w->>'warehouse_id',
           coalesce(n.trackstar_updated_at, n.source_updated_at),
           CASE WHEN (w->>'onhand') ~ '^-?[0-9]{1,18}$' THEN (w->>'onhand')::bigint END
    FROM new_rows n
    JOIN sync_status s ON s.connection_id = n.connection_id AND s.resource = 'inventory_ledger'
                      AND s.last_success_at IS NOT NULL
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(n.record->'warehouses') = 'array'
             THEN n.record->'warehouses' ELSE '[]'::jsonb END) w
    WHERE n.deleted_at IS NULL AND jsonb_typeof(w->'warehouse_id') = 'string'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER inventory_items_onhand_snapshots_insert
    AFTER INSERT ON inventory_items REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION trackstar_inventory_onhand_snapshots();
CREATE TRIGGER inventory_items_onhand_snapshots_update
    AFTER UPDATE ON inventory_items REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION trackstar_inventory_onhand_snapshots();

-- Evaluate up to p_limit due snapshots (oldest first; rows another writer evaluates now
-- are skipped) and return what was evaluated: windows, windows with a drift, and the sum
-- of the drifts' absolute values.
CREATE FUNCTION trackstar_evaluate_ledger_drift(p_settle interval, p_limit int,
                                                OUT windows bigint, OUT drifts bigint,
                                                OUT units bigint)
LANGUAGE sql AS $$
WITH marks AS (
    SELECT s.connection_id, s.last_started_at AS known_through
    FROM sync_status s
    WHERE s.resource = 'inventory_ledger' AND s.last_success_at >= s.last_started_at
      AND s.db_updated_at <= now() - p_settle
), due AS (
    SELECT n.connection_id, n.inventory_item_id, n.warehouse_id, n.as_of, n.onhand
    FROM inventory_onhand_snapshots n
    JOIN marks m ON m.connection_id = n.connection_id
    WHERE n.evaluated_at IS NULL AND n.as_of <= m.known_through
    ORDER BY n.as_of
    LIMIT p_limit
    FOR UPDATE OF n SKIP LOCKED
), win AS (
    SELECT d.connection_id, d.inventory_item_id, d.warehouse_id, d.as_of,
           CASE WHEN p.as_of IS NOT NULL THEN
               (SELECT coalesce(sum(l.quantity), 0) FROM inventory_ledger l
                WHERE l.connection_id = d.connection_id
                  AND l.inventory_item_id = d.inventory_item_id
                  AND l.warehouse_id = d.warehouse_id AND l.deleted_at IS NULL
                  AND l.entry_date > p.as_of AND l.entry_date <= d.as_of) END AS ledger_sum,
           d.onhand - p.onhand AS onhand_change
    FROM due d
    LEFT JOIN LATERAL (
        SELECT q.as_of, q.onhand FROM inventory_onhand_snapshots q
        WHERE q.connection_id = d.connection_id AND q.inventory_item_id = d.inventory_item_id
          AND q.warehouse_id = d.warehouse_id AND q.as_of < d.as_of
        ORDER BY q.as_of DESC LIMIT 1) p ON true
), done AS (
    UPDATE inventory_onhand_snapshots n
    SET evaluated_at = now(), ledger_sum = w.ledger_sum, drift = w.onhand_change - w.ledger_sum
    FROM win w
    WHERE n.connection_id = w.connection_id AND n.inventory_item_id = w.inventory_item_id
      AND n.warehouse_id = w.warehouse_id AND n.as_of = w.as_of
    RETURNING n.connection_id, n.drift
), per AS (
    SELECT connection_id, count(drift) AS windows, count(*) FILTER (WHERE drift <> 0) AS drifts,
           coalesce(sum(abs(drift)), 0) AS units
    FROM done GROUP BY connection_id
), expired AS (
    -- evaluated snapshots more than 30 days behind the mark go, except the newest of
    -- their item and warehouse (the next window starts there)
    DELETE FROM inventory_onhand_snapshots o
    USING marks m
    WHERE o.connection_id = m.connection_id AND o.evaluated_at IS NOT NULL
      AND o.as_of < m.known_through - interval '30 days'
      AND EXISTS (SELECT FROM inventory_onhand_snapshots q
                  WHERE q.connection_id = o.connection_id
                    AND q.inventory_item_id = o.inventory_item_id
                    AND q.warehouse_id = o.warehouse_id AND q.as_of > o.as_of)
), acc AS (
    INSERT INTO sync_accuracy (connection_id, resource, ledger_windows, ledger_drifts,
                               ledger_drift_units, last_ledger_drift_at, updated_at)
    SELECT connection_id, 'inventory', windows, drifts, units,
           CASE WHEN drifts > 0 THEN now() END, now()
    FROM per ORDER BY connection_id
    ON CONFLICT (connection_id, resource) DO UPDATE SET
        ledger_windows = sync_accuracy.ledger_windows + EXCLUDED.ledger_windows,
        ledger_drifts = sync_accuracy.ledger_drifts + EXCLUDED.ledger_drifts,
        ledger_drift_units = sync_accuracy.ledger_drift_units + EXCLUDED.ledger_drift_units,
        last_ledger_drift_at = coalesce(EXCLUDED.last_ledger_drift_at,
                                        sync_accuracy.last_ledger_drift_at),
        updated_at = EXCLUDED.updated_at
)
SELECT coalesce(sum(windows), 0)::bigint, coalesce(sum(drifts), 0)::bigint,
       coalesce(sum(units), 0)::bigint
FROM per
$$;

-- sync_overview gains the drift, per resource in resource_states and per connection
-- (ledger_windows, ledger_drifts: new columns at the end, the view replaced in place).
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
           a.ledger_windows, a.ledger_drifts, a.ledger_drift_units, a.last_ledger_drift_at,
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
                   'webhook_lag_s_avg', r.webhook_lag_s_avg, 'poll_lag_s_avg', r.poll_lag_s_avg,
                   'ledger_windows', r.ledger_windows, 'ledger_drifts', r.ledger_drifts,
                   'ledger_drift_units', r.ledger_drift_units,
                   'last_ledger_drift_at', r.last_ledger_drift_at)
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
         WHERE r.connection_id = c.connection_id) AS last_correction_at,
       (SELECT coalesce(sum(r.ledger_windows), 0) FROM res r
         WHERE r.connection_id = c.connection_id) AS ledger_windows,
       (SELECT coalesce(sum(r.ledger_drifts), 0) FROM res r
         WHERE r.connection_id = c.connection_id) AS ledger_drifts
FROM conns c
LEFT JOIN connections cn ON cn.connection_id = c.connection_id;

-- The new table's grants (006_roles.sql).
SELECT trackstar_grant_roles();
