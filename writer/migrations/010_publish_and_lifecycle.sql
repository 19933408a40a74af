-- 010_publish_and_lifecycle.sql - the writer as publisher of the public topics, records that
-- disappear, and purged connections (docs/architecture.md, docs/consuming.md).
--
-- deleted_at on every entity table: set when a complete listing no longer holds the record
-- (the listing's start), cleared when it comes back. A deleted row keeps its key and its
-- versions (the order of later arrivals depends on them); `record` holds the delete record
-- the writer published, and its child rows are removed. Views and tsctl show live rows only.
ALTER TABLE orders              ADD COLUMN deleted_at timestamptz;
ALTER TABLE inventory_items     ADD COLUMN deleted_at timestamptz;
ALTER TABLE products            ADD COLUMN deleted_at timestamptz;
ALTER TABLE warehouses          ADD COLUMN deleted_at timestamptz;
ALTER TABLE warehouse_locations ADD COLUMN deleted_at timestamptz;
ALTER TABLE shipping_methods    ADD COLUMN deleted_at timestamptz;
ALTER TABLE returns             ADD COLUMN deleted_at timestamptz;
ALTER TABLE inbound_shipments   ADD COLUMN deleted_at timestamptz;
ALTER TABLE bills               ADD COLUMN deleted_at timestamptz;
ALTER TABLE warehouse_customers ADD COLUMN deleted_at timestamptz;

-- The fetcher finds what a complete listing no longer holds among the live rows observed
-- before the listing began: one index scan per (connection, listing).
CREATE INDEX inventory_items_conn_live_idx     ON inventory_items (connection_id) WHERE deleted_at IS NULL;
CREATE INDEX warehouses_conn_live_idx          ON warehouses (connection_id) WHERE deleted_at IS NULL;
CREATE INDEX warehouse_locations_conn_live_idx ON warehouse_locations (connection_id) WHERE deleted_at IS NULL;
CREATE INDEX shipping_methods_conn_live_idx    ON shipping_methods (connection_id) WHERE deleted_at IS NULL;

-- One row per (writer consumer group, input partition): the epoch of the writer that owns
-- it (bumped by every claim, checked by every batch: a writer that lost the partition can
-- no longer commit), and the highest offset applied (a successor republishes the stored
-- rows of keys up to it, which may be committed but not yet published).
CREATE TABLE writer_partitions (
    group_id        text        NOT NULL,
    topic           text        NOT NULL,
    partition       integer     NOT NULL,
    epoch           bigint      NOT NULL,
    applied_offset  bigint      NOT NULL,
    claimed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Connections removed by `tsctl connections purge`, by purge_marker(id), the hex SHA-256
-- of the id (no row holds the id itself): the writer skips their late records, so a purge
-- stays a purge.
CREATE FUNCTION purge_marker(connection_id text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT encode(sha256(convert_to(connection_id, 'UTF8')), 'hex') $$;

CREATE TABLE purged_connections (
    connection_hash text        PRIMARY KEY,
    purged_at       timestamptz NOT NULL DEFAULT now()
);

-- Live rows only.
CREATE OR REPLACE VIEW inventory_by_sku AS
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
    WHERE sku IS NOT NULL AND deleted_at IS NULL
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

-- Every row of one connection, in every table of this schema that has a connection_id
-- column (found from the catalog, not from a list: tables added later are covered), and the
-- purge marker. One row per table: how many rows went. Called by common/purge.c (tsctl
-- connections purge) under the purge lock; identifiers are quoted by format('%I').
CREATE FUNCTION purge_connection_rows(p_connection_id text, p_purged_at timestamptz)
RETURNS TABLE (table_name text, rows_deleted bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.table_name AS name
        FROM information_schema.columns c
        JOIN information_schema.tables tb
          ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.column_name = 'connection_id'
          AND tb.table_type = 'BASE TABLE'
        ORDER BY c.table_name
    LOOP
        EXECUTE format('DELETE FROM %I WHERE connection_id = $1', t.name) USING p_connection_id;
        GET DIAGNOSTICS rows_deleted = ROW_COUNT;
        table_name := t.name;
        RETURN NEXT;
    END LOOP;
    INSERT INTO purged_connections (connection_hash, purged_at)
    VALUES (purge_marker(p_connection_id), p_purged_at)
    ON CONFLICT (connection_hash) DO NOTHING;
END
$$;

-- The fetcher infers deletes from complete listings: it reads the live rows of their tables
-- (fetcher/fx_db.c, fx_db_live_rows), those columns only. Column grants: its role still has
-- no table-wide privilege outside fetcher_* (test_migrations.sh). An entity added later as a
-- complete listing grants the same in its own migration (docs/adding-an-entity.md).
GRANT SELECT (connection_id, id, record, deleted_at, observed_at)
    ON inventory_items, warehouses, warehouse_locations, shipping_methods TO trackstar_fetcher;

SELECT trackstar_grant_roles();
