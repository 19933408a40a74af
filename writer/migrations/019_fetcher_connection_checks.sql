-- What the fetcher last learnt from GET /connections/{id} (an API-key request: one budget
-- for the whole organisation), kept so that a restart reads it back instead of asking
-- every connection again at once (issue 24; docs/fetcher.md, "Durable state and restarts").
-- Each fact is said once:
--
--   fetcher_connection_checks  per connection: when it last answered (wall clock), and the
--                              resources its available_actions read (NULL: not reported)
--   fetcher_streams            per (connection, resource) its sync schedule: besides
--                              sync_frequency_s and last_crawl_end_at (migration 008), the
--                              start of that crawl and whether sync_status is error
--
-- Historical-sync completion stays in fetcher_historical_syncs.

CREATE TABLE IF NOT EXISTS fetcher_connection_checks (
    connection_id text PRIMARY KEY,
    checked_at    timestamptz NOT NULL,
    reads         text[]
);

ALTER TABLE fetcher_streams
    ADD COLUMN IF NOT EXISTS last_crawl_start_at timestamptz,
    ADD COLUMN IF NOT EXISTS crawl_error boolean NOT NULL DEFAULT false;

SELECT trackstar_grant_roles();
