-- 016_inbound_shipment_suppliers.sql - suppliers (wms.inbound_shipment_suppliers.v1): one
-- row per supplier, what inbound shipments and products name in supplier_object.supplier_id
-- (GET /wms/inbound-shipments/suppliers; Trackstar reads it with get_inbound_shipments).
-- The OpenAPI gives a supplier the shape of an order channel: the table is made like
-- order_channels (015_order_channels.sql: its columns, defaults, primary key and indexes,
-- deleted_at and value_changes included). No webhooks: polled as a complete listing, so
-- the fetcher finds deletes and reads the columns granted below.

CREATE TABLE inbound_shipment_suppliers (LIKE order_channels INCLUDING ALL);

GRANT SELECT (connection_id, id, record, deleted_at, observed_at)
    ON inbound_shipment_suppliers TO trackstar_fetcher;

SELECT trackstar_grant_roles();
