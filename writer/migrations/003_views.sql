-- 003_views.sql - read-side views for users of the database.
--
-- inventory_by_sku: one row per (connection, SKU) across warehouses: item-level totals of
-- every breakdown, and the same breakdown per warehouse (from inventory_levels) as JSON.
-- sync_overview: one row per connection: its state, each resource's sync state, the last
-- success, and its open connection errors.

CREATE VIEW inventory_by_sku AS
WITH items AS (
    SELECT connection_id, sku,
           count(*)                                        AS inventory_items,
           count(*) FILTER (WHERE active IS DISTINCT FROM false) AS active_items,
           sum(awaiting)      AS awaiting,
           sum(onhand)        AS onhand,
           sum(committed)     AS committed,
           sum(unfulfillable) AS unfulfillable,
           sum(fulfillable)   AS fulfillable,
           sum(unsellable)    AS unsellable,
           sum(sellable)      AS sellable,
           max(source_updated_at) AS last_updated_at
    FROM inventory_items
    WHERE sku IS NOT NULL
    GROUP BY connection_id, sku
), per_wh AS (
    SELECT connection_id, sku, warehouse_id,
           sum(awaiting) AS awaiting, sum(onhand) AS onhand, sum(committed) AS committed,
           sum(unfulfillable) AS unfulfillable, sum(fulfillable) AS fulfillable,
           sum(unsellable) AS unsellable, sum(sellable) AS sellable
    FROM inventory_levels
    WHERE sku IS NOT NULL
    GROUP BY connection_id, sku, warehouse_id
), wh AS (
    SELECT connection_id, sku,
           count(*) AS warehouses,
           jsonb_object_agg(warehouse_id, jsonb_build_object(
               'awaiting', awaiting, 'onhand', onhand, 'committed', committed,
               'unfulfillable', unfulfillable, 'fulfillable', fulfillable,
               'unsellable', unsellable, 'sellable', sellable)) AS by_warehouse
    FROM per_wh
    GROUP BY connection_id, sku
)
SELECT i.connection_id, i.sku, i.inventory_items, i.active_items,
       i.awaiting, i.onhand, i.committed, i.unfulfillable, i.fulfillable, i.unsellable, i.sellable,
       coalesce(wh.warehouses, 0)          AS warehouses,
       coalesce(wh.by_warehouse, '{}')     AS by_warehouse,
       i.last_updated_at
FROM items i
LEFT JOIN wh ON wh.connection_id = i.connection_id AND wh.sku = i.sku;

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
