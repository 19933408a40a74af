-- 001_entities.sql - the WMS entity tables the writer keeps in step with the canonical topics.
--
-- Every parent table: primary key (connection_id, id); the envelope columns; typed columns
-- users query; `record` (the whole canonical record, so nothing is lost); `db_updated_at`
-- (when this row last changed here). `source_updated_at` is the monotonic guard: a record
-- replaces a row only when it is newer or equal (see writer/db.c).
-- Child tables are keyed by their parent plus their position in the source array, never by
-- a source id: ids inside one record may repeat, positions cannot, so a child insert can
-- never hit a unique violation. Source ids (shipment_id, package_id, ...) are indexed instead.
-- Children are replaced as a whole, in the same transaction, whenever their parent changes.
-- No foreign keys from children to parents: the writer is the only writer, and it inserts a
-- child row only joined to its parent's row upserted in the same statement sequence and
-- transaction, and never deletes a parent, so an orphan cannot arise. A foreign key would
-- add one lookup and row lock on the parent per child row, with a plan PostgreSQL caches
-- per session: on a table not yet analyzed it scanned every order of the connection per
-- child row (82% of the writer's server time in the benchmark). To remove a parent by
-- hand, delete its children first (same connection_id and parent id).
-- Money, costs and measurements are numeric (exact); quantities bigint; times timestamptz.

-- ---------------------------------------------------------------- orders
CREATE TABLE orders (
    connection_id                       text        NOT NULL,
    id                                  text        NOT NULL,
    integration_name                    text,
    source                              text,
    event_id                            text,
    event_type                          text,
    source_updated_at                   timestamptz NOT NULL,
    trackstar_updated_at                timestamptz,
    observed_at                         timestamptz,
    created_at                          timestamptz,
    warehouse_customer_id               text,
    warehouse_id                        text,
    reference_id                        text,
    order_number                        text,
    status                              text,
    raw_status                          text,
    type                                text,
    channel                             text,
    channel_id                          text,
    channel_name                        text,
    trading_partner                     text,
    service_level                       text,
    shipping_method                     text,
    shipping_method_id                  text,
    shipping_method_name                text,
    carrier_id                          text,
    carrier_name                        text,
    scac                                text,
    is_third_party_freight              boolean,
    third_party_freight_account_number  text,
    first_party_freight_account_number  text,
    currency                            text,
    total_price                         numeric,
    total_tax                           numeric,
    total_discount                      numeric,
    total_shipping                      numeric,
    required_ship_date                  timestamptz,
    saturday_delivery                   boolean,
    signature_required                  boolean,
    international_duty_paid_by          text,
    ship_to_full_name                   text,
    ship_to_company                     text,
    ship_to_address1                    text,
    ship_to_address2                    text,
    ship_to_address3                    text,
    ship_to_city                        text,
    ship_to_state                       text,
    ship_to_postal_code                 text,
    ship_to_country                     text,
    ship_to_phone_number                text,
    ship_to_email_address               text,
    tags                                jsonb,
    trackstar_tags                      jsonb,
    external_system_url                 text,
    additional_fields                   jsonb,
    record                              jsonb       NOT NULL,
    db_updated_at                       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
CREATE INDEX orders_conn_status_created_idx ON orders (connection_id, status, created_at);
CREATE INDEX orders_conn_created_idx ON orders (connection_id, created_at);
CREATE INDEX orders_conn_updated_idx ON orders (connection_id, source_updated_at);
CREATE INDEX orders_conn_order_number_idx ON orders (connection_id, order_number);
CREATE INDEX orders_conn_reference_id_idx ON orders (connection_id, reference_id);

CREATE TABLE order_line_items (
    connection_id       text    NOT NULL,
    order_id            text    NOT NULL,
    line_number         integer NOT NULL,
    product_id          text,
    sku                 text,
    quantity            bigint,
    unit_price          numeric,
    is_picked           boolean,
    discount_amount     numeric,
    PRIMARY KEY (connection_id, order_id, line_number)
);
CREATE INDEX order_line_items_sku_idx ON order_line_items (connection_id, sku);

CREATE TABLE order_shipments (
    connection_id           text    NOT NULL,
    order_id                text    NOT NULL,
    shipment_index          integer NOT NULL,   -- position in the order's shipments[]
    shipment_id             text,
    warehouse_id            text,
    status                  text,
    raw_status              text,
    shipped_at              timestamptz,
    shipping_method         text,
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
    ship_from_address1      text,
    ship_from_address2      text,
    ship_from_address3      text,
    ship_from_city          text,
    ship_from_state         text,
    ship_from_postal_code   text,
    ship_from_country       text,
    PRIMARY KEY (connection_id, order_id, shipment_index)
);
CREATE INDEX order_shipments_shipment_id_idx ON order_shipments (connection_id, shipment_id);
CREATE INDEX order_shipments_shipped_at_idx ON order_shipments (connection_id, shipped_at);

CREATE TABLE order_shipment_line_items (
    connection_id       text    NOT NULL,
    order_id            text    NOT NULL,
    shipment_index      integer NOT NULL,
    line_number         integer NOT NULL,
    shipment_id         text,
    inventory_item_id   text,
    sku                 text,
    quantity            bigint,
    parent_product_id   text,
    PRIMARY KEY (connection_id, order_id, shipment_index, line_number)
);
CREATE INDEX order_shipment_line_items_sku_idx ON order_shipment_line_items (connection_id, sku);

CREATE TABLE order_packages (
    connection_id           text    NOT NULL,
    order_id                text    NOT NULL,
    shipment_index          integer NOT NULL,
    package_index           integer NOT NULL,   -- position in the shipment's packages[]
    shipment_id             text,
    package_id              text,
    package_name            text,
    tracking_number         text,
    tracking_url            text,
    shipping_method         text,
    carrier                 text,
    shipping_method_id      text,
    shipping_method_name    text,
    carrier_id              text,
    carrier_name            text,
    scac                    text,
    shipping_cost           numeric,
    length                  numeric,
    width                   numeric,
    height                  numeric,
    dimension_unit          text,
    weight                  numeric,
    weight_unit             text,
    PRIMARY KEY (connection_id, order_id, shipment_index, package_index)
);
CREATE INDEX order_packages_tracking_idx ON order_packages (tracking_number);
CREATE INDEX order_packages_package_id_idx ON order_packages (connection_id, package_id);

CREATE TABLE order_package_line_items (
    connection_id       text    NOT NULL,
    order_id            text    NOT NULL,
    shipment_index      integer NOT NULL,
    package_index       integer NOT NULL,
    line_number         integer NOT NULL,
    package_id          text,
    inventory_item_id   text,
    sku                 text,
    quantity            bigint,
    lot_id              text,
    expiration_date     timestamptz,
    parent_product_id   text,
    PRIMARY KEY (connection_id, order_id, shipment_index, package_index, line_number)
);
CREATE INDEX order_package_line_items_sku_idx ON order_package_line_items (connection_id, sku);

-- ---------------------------------------------------------------- inventory
CREATE TABLE inventory_items (
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
    warehouse_customer_id   text,
    name                    text,
    sku                     text,
    unit_cost               numeric,
    active                  boolean,
    awaiting                bigint,
    onhand                  bigint,
    committed               bigint,
    unfulfillable           bigint,
    fulfillable             bigint,
    unsellable              bigint,
    sellable                bigint,
    substitute_skus         jsonb,
    length                  numeric,
    width                   numeric,
    height                  numeric,
    dimension_unit          text,
    weight                  numeric,
    weight_unit             text,
    trackstar_tags          jsonb,
    external_system_url     text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX inventory_items_sku_idx ON inventory_items (sku);
CREATE INDEX inventory_items_conn_sku_idx ON inventory_items (connection_id, sku);

-- Per warehouse, from inventory_by_warehouse_id. Keyed by warehouse: the canonical model
-- derives this array from a JSON object, and the writer refuses a record that names a
-- warehouse twice before it reaches this table.
CREATE TABLE inventory_levels (
    connection_id       text    NOT NULL,
    inventory_item_id   text    NOT NULL,
    warehouse_id        text    NOT NULL,
    sku                 text,              -- the item's SKU, copied so SKU x warehouse needs no join
    awaiting            bigint,
    onhand              bigint,
    committed           bigint,
    unfulfillable       bigint,
    fulfillable         bigint,
    unsellable          bigint,
    sellable            bigint,
    PRIMARY KEY (connection_id, inventory_item_id, warehouse_id)
);
CREATE INDEX inventory_levels_sku_wh_idx ON inventory_levels (connection_id, sku, warehouse_id);
CREATE INDEX inventory_levels_wh_idx ON inventory_levels (connection_id, warehouse_id);

CREATE TABLE inventory_location_levels (
    connection_id       text    NOT NULL,
    inventory_item_id   text    NOT NULL,
    line_number         integer NOT NULL,
    location_id         text,
    warehouse_id        text,
    sku                 text,
    quantity            bigint,
    PRIMARY KEY (connection_id, inventory_item_id, line_number)
);
CREATE INDEX inventory_location_levels_loc_idx ON inventory_location_levels (connection_id, location_id);
CREATE INDEX inventory_location_levels_sku_wh_idx ON inventory_location_levels (connection_id, sku, warehouse_id);

CREATE TABLE inventory_lots (
    connection_id       text    NOT NULL,
    inventory_item_id   text    NOT NULL,
    lot_index           integer NOT NULL,
    lot_id              text,
    warehouse_id        text,
    sku                 text,
    onhand              bigint,
    expiration_date     timestamptz,
    PRIMARY KEY (connection_id, inventory_item_id, lot_index)
);
CREATE INDEX inventory_lots_expiration_idx ON inventory_lots (connection_id, expiration_date);

-- ---------------------------------------------------------------- products
CREATE TABLE products (
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
    warehouse_customer_id   text,
    name                    text,
    sku                     text,
    gtin                    text,
    unit_price              numeric,
    is_kit                  boolean,
    active                  boolean,
    supplier                text,
    supplier_id             text,
    supplier_name           text,
    country_of_origin       text,
    harmonized_code         text,
    trackstar_tags          jsonb,
    external_system_url     text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX products_conn_sku_idx ON products (connection_id, sku);
CREATE INDEX products_gtin_idx ON products (gtin);

-- Unit quantities of the inventory items a product is made of (a kit has several).
CREATE TABLE product_inventory_items (
    connection_id       text    NOT NULL,
    product_id          text    NOT NULL,
    line_number         integer NOT NULL,
    inventory_item_id   text,
    sku                 text,
    unit_quantity       bigint,
    PRIMARY KEY (connection_id, product_id, line_number)
);
CREATE INDEX product_inventory_items_item_idx ON product_inventory_items (connection_id, inventory_item_id);

CREATE TABLE product_supplier_products (
    connection_id       text    NOT NULL,
    product_id          text    NOT NULL,
    line_number         integer NOT NULL,
    supplier_id         text,
    supplier_name       text,
    external_id         text,
    unit_cost           numeric,
    PRIMARY KEY (connection_id, product_id, line_number)
);

-- ---------------------------------------------------------------- warehouses, locations, shipping methods
CREATE TABLE warehouses (
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
    code                    text,
    address1                text,
    address2                text,
    address3                text,
    city                    text,
    state                   text,
    postal_code             text,
    country                 text,
    trackstar_tags          jsonb,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);

CREATE TABLE warehouse_locations (
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
    warehouse_id            text,
    name                    text,
    type                    text,
    length                  numeric,
    width                   numeric,
    height                  numeric,
    dimension_unit          text,
    weight                  numeric,
    weight_unit             text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX warehouse_locations_wh_idx ON warehouse_locations (connection_id, warehouse_id);

CREATE TABLE shipping_methods (
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
    carrier                 text,
    carrier_id              text,
    carrier_name            text,
    scac                    text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);

-- ---------------------------------------------------------------- returns
CREATE TABLE returns (
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
    warehouse_customer_id   text,
    status                  text,
    raw_status              text,
    order_id                text,
    notes                   jsonb,
    trackstar_tags          jsonb,
    external_system_url     text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX returns_conn_status_created_idx ON returns (connection_id, status, created_at);
CREATE INDEX returns_conn_order_idx ON returns (connection_id, order_id);

CREATE TABLE return_line_items (
    connection_id       text    NOT NULL,
    return_id           text    NOT NULL,
    line_number         integer NOT NULL,
    inventory_item_id   text,
    sku                 text,
    expected_quantity   bigint,
    received_quantity   bigint,
    restocked_quantity  bigint,
    return_reason       text,
    quantity            bigint,
    warehouse_id        text,
    returned_at         timestamptz,
    PRIMARY KEY (connection_id, return_id, line_number)
);
CREATE INDEX return_line_items_sku_idx ON return_line_items (connection_id, sku);

CREATE TABLE return_shipments (
    connection_id       text    NOT NULL,
    return_id           text    NOT NULL,
    shipment_index      integer NOT NULL,
    tracking_number     text,
    shipped_at          timestamptz,
    arrived_at          timestamptz,
    warehouse_id        text,
    carrier             text,
    carrier_id          text,
    carrier_name        text,
    scac                text,
    shipping_cost       numeric,
    length              numeric,
    width               numeric,
    height              numeric,
    dimension_unit      text,
    weight              numeric,
    weight_unit         text,
    PRIMARY KEY (connection_id, return_id, shipment_index)
);
CREATE INDEX return_shipments_tracking_idx ON return_shipments (tracking_number);

CREATE TABLE return_shipment_line_items (
    connection_id       text    NOT NULL,
    return_id           text    NOT NULL,
    shipment_index      integer NOT NULL,
    line_number         integer NOT NULL,
    inventory_item_id   text,
    sku                 text,
    quantity            bigint,
    PRIMARY KEY (connection_id, return_id, shipment_index, line_number)
);

CREATE TABLE return_receiving_details (
    connection_id       text    NOT NULL,
    return_id           text    NOT NULL,
    shipment_index      integer NOT NULL,
    line_number         integer NOT NULL,   -- the shipment line item's line_number
    detail_index        integer NOT NULL,
    inventory_item_id   text,
    sku                 text,
    quantity            bigint,
    condition           text,
    disposition         text,
    PRIMARY KEY (connection_id, return_id, shipment_index, line_number, detail_index)
);

-- ---------------------------------------------------------------- inbound shipments (ASNs)
CREATE TABLE inbound_shipments (
    connection_id               text        NOT NULL,
    id                          text        NOT NULL,
    integration_name            text,
    source                      text,
    event_id                    text,
    event_type                  text,
    source_updated_at           timestamptz NOT NULL,
    trackstar_updated_at        timestamptz,
    observed_at                 timestamptz,
    created_at                  timestamptz,
    warehouse_customer_id       text,
    purchase_order_number       text,
    status                      text,
    raw_status                  text,
    supplier                    text,
    supplier_id                 text,
    supplier_name               text,
    expected_arrival_date       timestamptz,
    warehouse_id                text,
    expected_quantity_total     bigint,
    received_quantity_total     bigint,
    ship_from_address1          text,
    ship_from_address2          text,
    ship_from_address3          text,
    ship_from_city              text,
    ship_from_state             text,
    ship_from_postal_code       text,
    ship_from_country           text,
    tracking_numbers            jsonb,
    notes                       jsonb,
    trackstar_tags              jsonb,
    external_system_url         text,
    additional_fields           jsonb,
    record                      jsonb       NOT NULL,
    db_updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX inbound_shipments_conn_status_idx ON inbound_shipments (connection_id, status, expected_arrival_date);
CREATE INDEX inbound_shipments_conn_wh_idx ON inbound_shipments (connection_id, warehouse_id);
CREATE INDEX inbound_shipments_conn_po_idx ON inbound_shipments (connection_id, purchase_order_number);

CREATE TABLE inbound_shipment_line_items (
    connection_id           text    NOT NULL,
    inbound_shipment_id     text    NOT NULL,
    line_number             integer NOT NULL,
    inventory_item_id       text,
    sku                     text,
    expected_quantity       bigint,
    received_quantity       bigint,
    unit_cost               numeric,
    external_id             text,
    PRIMARY KEY (connection_id, inbound_shipment_id, line_number)
);
CREATE INDEX inbound_shipment_line_items_sku_idx ON inbound_shipment_line_items (connection_id, sku);

CREATE TABLE inbound_shipment_receipts (
    connection_id           text    NOT NULL,
    inbound_shipment_id     text    NOT NULL,
    receipt_index           integer NOT NULL,
    receipt_id              text,
    arrived_at              timestamptz,
    PRIMARY KEY (connection_id, inbound_shipment_id, receipt_index)
);

CREATE TABLE inbound_shipment_receipt_line_items (
    connection_id           text    NOT NULL,
    inbound_shipment_id     text    NOT NULL,
    receipt_index           integer NOT NULL,
    line_number             integer NOT NULL,
    receipt_id              text,
    inventory_item_id       text,
    sku                     text,
    quantity                bigint,
    PRIMARY KEY (connection_id, inbound_shipment_id, receipt_index, line_number)
);

-- ---------------------------------------------------------------- bills
CREATE TABLE bills (
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
    warehouse_customer_id   text,
    object_id               text,
    object_type             text,
    charge_type             text,
    amount                  numeric,
    currency                text,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX bills_conn_created_idx ON bills (connection_id, created_at);
CREATE INDEX bills_conn_object_idx ON bills (connection_id, object_type, object_id);
