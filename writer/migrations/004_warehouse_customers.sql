-- 004_warehouse_customers.sql - the merchants of a 3PL's WMS (wms.warehouse_customers.v1),
-- which orders, inventory, products, inbound shipments, returns and bills name by their
-- warehouse_customer_id. Same conventions as 001_entities.sql.

CREATE TABLE warehouse_customers (
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
    email                   text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
