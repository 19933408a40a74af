-- The value policy (docs/canonical-model.md, "Values that cannot be cast"): a value the
-- normalizer could not cast to its field's type is stored as NULL and the record lists
-- the change in value_changes; every entity row carries that list too (NULL when none),
-- so that `tsctl changes` and SQL can find what was not stored as sent. The partial
-- indexes hold only changed rows: finding the recent ones costs what they are, not the
-- table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['orders', 'inventory_items', 'products', 'warehouses',
                             'warehouse_locations', 'shipping_methods', 'returns',
                             'inbound_shipments', 'bills', 'warehouse_customers']
    LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN value_changes jsonb', t);
        EXECUTE format('CREATE INDEX %I ON %I (db_updated_at) WHERE value_changes IS NOT NULL',
                       t || '_value_changes_idx', t);
    END LOOP;
END
$$;
