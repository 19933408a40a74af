-- The fetcher's own state, until now created by the fetcher itself (fetcher/fx_db.c,
-- recorded in fetcher_schema). From here on every table the project owns comes from this
-- directory, applied by `writer --migrate`.
--
-- IF NOT EXISTS throughout: in a database the fetcher already set up, these tables exist
-- and this file only records them. fetcher_schema keeps its row for version 1, so that a
-- fetcher of the previous release, which still checks it at start-up, finds its schema in
-- place while it runs beside this one during a rolling upgrade.
--
--   fetcher_connections       id, integration, sealed access token, state
--   fetcher_historical_syncs  per (connection, resource): first sync done, oldest date
--   fetcher_streams           per (connection, resource): cursor, schedule, sync status
--   fetcher_requests          manual syncs and window backfills waiting for the owner

CREATE SEQUENCE IF NOT EXISTS fetcher_change_seq;

CREATE TABLE IF NOT EXISTS fetcher_connections (
    connection_id    text PRIMARY KEY,
    integration_name text NOT NULL DEFAULT '',
    token_sealed     text NOT NULL,
    state            text NOT NULL DEFAULT 'active' CHECK (state IN ('active','blocked','deleted')),
    state_reason     text,
    created_at       timestamptz,
    added_at         timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          bigint NOT NULL DEFAULT 1,
    seq              bigint NOT NULL DEFAULT nextval('fetcher_change_seq')
);

CREATE TABLE IF NOT EXISTS fetcher_historical_syncs (
    connection_id    text NOT NULL,
    resource         text NOT NULL,
    completed_at     timestamptz NOT NULL DEFAULT now(),
    oldest_data_date timestamptz,
    newest_data_date timestamptz,
    source           text NOT NULL,
    seq              bigint NOT NULL DEFAULT nextval('fetcher_change_seq'),
    PRIMARY KEY (connection_id, resource)
);

CREATE TABLE IF NOT EXISTS fetcher_streams (
    connection_id     text NOT NULL,
    resource          text NOT NULL,
    state             text NOT NULL,
    cursor_field      text NOT NULL DEFAULT 'updated_date',
    cursor_at         timestamptz,
    backfill_done     boolean NOT NULL DEFAULT false,
    run_started_at    timestamptz,
    last_started_at   timestamptz,
    last_success_at   timestamptz,
    records_seen      bigint NOT NULL DEFAULT 0,
    last_error        text,
    next_due_at       timestamptz,
    unsupported_until timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, resource)
);

CREATE TABLE IF NOT EXISTS fetcher_requests (
    id            bigserial PRIMARY KEY,
    connection_id text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('sync','backfill','poll')),
    resources     text[] NOT NULL DEFAULT '{}',
    window_start  timestamptz,
    window_end    timestamptz,
    status        text NOT NULL DEFAULT 'pending',
    detail        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS fetcher_requests_pending ON fetcher_requests (id) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS fetcher_schema (
    version    int PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO fetcher_schema (version) VALUES (1) ON CONFLICT DO NOTHING;
