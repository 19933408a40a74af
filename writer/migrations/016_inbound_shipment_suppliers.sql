-- 016_inbound_shipment_suppliers.sql - suppliers (wms.inbound_shipment_suppliers.v1): one
-- row per supplier, what inbound shipments and products name in supplier_object.supplier_id
-- (GET /wms/inbound-shipments/suppliers; Trackstar reads it with get_inbound_shipments).
-- No webhooks: polled as a complete listing, so the fetcher finds deletes (deleted_at,
-- as 010_publish_and_lifecycle.sql, and the column grant below). Same conventions as
-- 001_entities.sql; value_changes with its partial index as 011_value_changes.sql.

CREATE TABLE inbound_shipment_suppliers (
    connection_id           text        NOT NULL,
    id                      text        NOT NULL,
    integration_name        text,
    source                  text,
    event_id                text,
    event_type              text,
    source_updated_at       timestamptz NOT NULL,
    trackstar_updated_at    timestamptz,
    observed_at             timestamptz,
    created_at              timestamptz,
    name                    text,
    warehouse_customer_id   text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    value_changes           jsonb,
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX inbound_shipment_suppliers_conn_live_idx
    ON inbound_shipment_suppliers (connection_id) WHERE deleted_at IS NULL;
CREATE INDEX inbound_shipment_suppliers_value_changes_idx
    ON inbound_shipment_suppliers (db_updated_at) WHERE value_changes IS NOT NULL;

-- The fetcher reads the live rows to find what a complete listing no longer has.
GRANT SELECT (connection_id, id, record, deleted_at, observed_at)
    ON inbound_shipment_suppliers TO trackstar_fetcher;

SELECT trackstar_grant_roles();
