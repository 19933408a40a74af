-- 018_order_packs.sql - order packs (wms.order_packs.v1): one row per order that has
-- been packed, how it was packed (GET /wms/orders/{order_id}/packs; Trackstar reads it
-- with get_orders, sends no webhooks). The response has no id or date of its own: id is
-- the order's id and source_updated_at the updated_date of the order version the packs
-- were read for (docs/canonical-model.md). Children as an order's packages
-- (001_entities.sql): keyed by their position in the source arrays.
-- Same conventions as 001_entities.sql; deleted_at as 010_publish_and_lifecycle.sql (a
-- record that disappears); value_changes with its partial index as 011_value_changes.sql.
-- Not a complete listing: the fetcher finds no deletes here, so no column grant.

CREATE TABLE order_packs (
    connection_id           text        NOT NULL,
    id                      text        NOT NULL,
    integration_name        text,
    source                  text,
    event_id                text,
    event_type              text,
    source_updated_at       timestamptz NOT NULL,
    trackstar_updated_at    timestamptz,
    observed_at             timestamptz,
    order_id                text,
    carrier                 text,
    carrier_id              text,
    carrier_name            text,
    scac                    text,
    shipping_method         text,
    shipping_method_id      text,
    shipping_method_name    text,
    ship_to_full_name       text,
    ship_to_company         text,
    ship_to_address1        text,
    ship_to_address2        text,
    ship_to_address3        text,
    ship_to_city            text,
    ship_to_state           text,
    ship_to_postal_code     text,
    ship_to_country         text,
    ship_to_phone_number    text,
    ship_to_email_address   text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    value_changes           jsonb,
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX order_packs_conn_live_idx
    ON order_packs (connection_id) WHERE deleted_at IS NULL;
CREATE INDEX order_packs_conn_updated_idx ON order_packs (connection_id, source_updated_at);
CREATE INDEX order_packs_value_changes_idx
    ON order_packs (db_updated_at) WHERE value_changes IS NOT NULL;

CREATE TABLE order_pack_packs (
    connection_id       text    NOT NULL,
    order_id            text    NOT NULL,
    pack_index          integer NOT NULL,   -- position in the record's packs[]
    pack_id             text,
    length              numeric,
    width               numeric,
    height              numeric,
    dimension_unit      text,
    weight              numeric,
    weight_unit         text,
    PRIMARY KEY (connection_id, order_id, pack_index)
);
CREATE INDEX order_pack_packs_pack_id_idx ON order_pack_packs (connection_id, pack_id);

CREATE TABLE order_pack_pack_line_items (
    connection_id       text    NOT NULL,
    order_id            text    NOT NULL,
    pack_index          integer NOT NULL,
    line_number         integer NOT NULL,
    pack_id             text,
    inventory_item_id   text,
    sku                 text,
    quantity            bigint,
    PRIMARY KEY (connection_id, order_id, pack_index, line_number)
);
CREATE INDEX order_pack_pack_line_items_sku_idx
    ON order_pack_pack_line_items (connection_id, sku);

CREATE TABLE order_pack_order_line_items (
    connection_id       text    NOT NULL,
    order_id            text    NOT NULL,
    line_number         integer NOT NULL,
    product_id          text,
    sku                 text,
    quantity            bigint,
    PRIMARY KEY (connection_id, order_id, line_number)
);

SELECT trackstar_grant_roles();
