-- 015_order_channels.sql - order channels (wms.order_channels.v1): one row per sales
-- channel, what orders name in channel_object.channel_id (GET /wms/orders/channels;
-- Trackstar reads it with get_orders).
-- No webhooks: polled as a complete listing, so the fetcher finds deletes (deleted_at,
-- as 010_publish_and_lifecycle.sql, and the column grant below). Same conventions as
-- 001_entities.sql; value_changes with its partial index as 011_value_changes.sql.

CREATE TABLE order_channels (
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
CREATE INDEX order_channels_conn_live_idx
    ON order_channels (connection_id) WHERE deleted_at IS NULL;
CREATE INDEX order_channels_value_changes_idx
    ON order_channels (db_updated_at) WHERE value_changes IS NOT NULL;

-- The fetcher reads the live rows to find what a complete listing no longer has.
GRANT SELECT (connection_id, id, record, deleted_at, observed_at)
    ON order_channels TO trackstar_fetcher;

SELECT trackstar_grant_roles();
