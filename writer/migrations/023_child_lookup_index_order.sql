-- 023_child_lookup_index_order.sql - a child table's secondary indexes lead with their
-- lookup column, so that the primary key is the only index that starts with
-- connection_id.
--
-- The writer finds a parent's child rows by the primary key's prefix (connection_id,
-- parent id). An index (connection_id, sku) served the same condition on connection_id
-- alone. Where the statistics made connection_id look unique (a table analyzed while it
-- held one row, then filled by one connection's first sync), the planner took the
-- smaller index for the writer's child lookups and read every row of the connection for
-- each parent: issue 20's benchmark measured 8-10 s for one batch's delete of 2,000
-- orders' shipment lines (60 million index entries), where the primary key takes 9 ms.
-- A lookup by sku within a connection uses (sku, connection_id) just as well.
--
-- Left as they are: indexes whose second column is a range (order_shipments shipped_at,
-- inventory_lots expiration_date) and the parents' own, which serve a connection's lists.

DROP INDEX order_line_items_sku_idx;
CREATE INDEX order_line_items_sku_idx ON order_line_items (sku, connection_id);
DROP INDEX order_shipments_shipment_id_idx;
CREATE INDEX order_shipments_shipment_id_idx ON order_shipments (shipment_id, connection_id);
DROP INDEX order_shipment_line_items_sku_idx;
CREATE INDEX order_shipment_line_items_sku_idx ON order_shipment_line_items (sku, connection_id);
DROP INDEX order_packages_package_id_idx;
CREATE INDEX order_packages_package_id_idx ON order_packages (package_id, connection_id);
DROP INDEX order_package_line_items_sku_idx;
CREATE INDEX order_package_line_items_sku_idx ON order_package_line_items (sku, connection_id);
DROP INDEX inventory_levels_sku_wh_idx;
CREATE INDEX inventory_levels_sku_wh_idx ON inventory_levels (sku, warehouse_id, connection_id);
DROP INDEX inventory_levels_wh_idx;
CREATE INDEX inventory_levels_wh_idx ON inventory_levels (warehouse_id, connection_id);
DROP INDEX inventory_location_levels_loc_idx;
CREATE INDEX inventory_location_levels_loc_idx ON inventory_location_levels (location_id, connection_id);
DROP INDEX inventory_location_levels_sku_wh_idx;
CREATE INDEX inventory_location_levels_sku_wh_idx
    ON inventory_location_levels (sku, warehouse_id, connection_id);
DROP INDEX product_inventory_items_item_idx;
CREATE INDEX product_inventory_items_item_idx ON product_inventory_items (inventory_item_id, connection_id);
DROP INDEX inbound_shipment_line_items_sku_idx;
CREATE INDEX inbound_shipment_line_items_sku_idx ON inbound_shipment_line_items (sku, connection_id);
DROP INDEX return_line_items_sku_idx;
CREATE INDEX return_line_items_sku_idx ON return_line_items (sku, connection_id);
DROP INDEX order_pack_packs_pack_id_idx;
CREATE INDEX order_pack_packs_pack_id_idx ON order_pack_packs (pack_id, connection_id);
DROP INDEX order_pack_pack_line_items_sku_idx;
CREATE INDEX order_pack_pack_line_items_sku_idx ON order_pack_pack_line_items (sku, connection_id);
