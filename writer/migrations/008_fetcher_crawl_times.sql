-- What Trackstar reports about its copy of each stream (GET /connections/{id}
-- sync_schedules), and which cursor rule a stored cursor was made by (docs/fetcher.md,
-- "The cursor rule"): 0 is the fixed overlap of earlier releases, whose cursor the fetcher
-- moves back once, as far as a fallback does, so that nothing it may have skipped is missed.

ALTER TABLE fetcher_streams
    ADD COLUMN IF NOT EXISTS sync_frequency_s integer,
    ADD COLUMN IF NOT EXISTS last_crawl_end_at timestamptz,
    ADD COLUMN IF NOT EXISTS cursor_rule integer NOT NULL DEFAULT 0;
