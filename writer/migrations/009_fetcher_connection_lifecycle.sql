-- The fetcher's connection state, monotonic in the events' own time (docs/fetcher.md):
-- created_version and deleted_version are the created_date / deleted_date of the last
-- connection.created / connection.deleted applied, so that a late or replayed creation
-- never brings a deleted connection back. A deleted connection's token is wiped
-- (token_sealed NULL), and customer_id is kept as the link exchange or the event gave it.
-- Rows deleted before this version lose their token now; the time they were marked
-- deleted is the best bound of their deletion left.

ALTER TABLE fetcher_connections ALTER COLUMN token_sealed DROP NOT NULL;
ALTER TABLE fetcher_connections ADD COLUMN IF NOT EXISTS customer_id text;
ALTER TABLE fetcher_connections ADD COLUMN IF NOT EXISTS created_version timestamptz;
ALTER TABLE fetcher_connections ADD COLUMN IF NOT EXISTS deleted_version timestamptz;
UPDATE fetcher_connections SET created_version = created_at WHERE created_version IS NULL;
UPDATE fetcher_connections SET token_sealed = NULL, deleted_version = updated_at,
    version = version + 1, seq = nextval('fetcher_change_seq')
 WHERE state = 'deleted' AND token_sealed IS NOT NULL;
