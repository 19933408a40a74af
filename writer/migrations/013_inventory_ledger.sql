-- 013_inventory_ledger.sql - the inventory ledger (wms.inventory_ledger.v1): one row per
-- entry, a signed movement of an inventory item's stock with the event that caused it.
-- Trackstar enables the ledger only on request. Same conventions as 001_entities.sql;
-- deleted_at as 010_publish_and_lifecycle.sql (the ledger is polled incrementally, so
-- nothing sets it today, but every entity table carries it for tsctl and the views) and
-- value_changes with its partial index as 011_value_changes.sql.
-- The ledger's own event_type (adjustment, order_shipment, ...) is ledger_event_type: the
-- envelope's event_type is the webhook's or poll's (docs/canonical-model.md).

CREATE TABLE inventory_ledger (
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
    entry_date              timestamptz,
    inventory_item_id       text,
    sku                     text,
    quantity                bigint,
    raw_event_type          text,
    ledger_event_type       text,
    reason                  text,
    object_id               text,
    object_type             text,
    warehouse_id            text,
    location_id             text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    value_changes           jsonb,
    PRIMARY KEY (connection_id, id)
);
-- An item's movements in time order (summing them gives its onhand change), and what one
-- order, inbound shipment or return moved.
CREATE INDEX inventory_ledger_conn_item_idx
    ON inventory_ledger (connection_id, inventory_item_id, entry_date);
CREATE INDEX inventory_ledger_conn_object_idx
    ON inventory_ledger (connection_id, object_type, object_id);
CREATE INDEX inventory_ledger_value_changes_idx
    ON inventory_ledger (db_updated_at) WHERE value_changes IS NOT NULL;

SELECT trackstar_grant_roles();
