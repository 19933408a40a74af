-- 002_connection_state.sql - connection-level state from wms.connection_events.v1.
--
-- connections: one row per connection, from connection_created / connection_deleted. The two
-- events fill separate columns, each with its own monotonic guard (created_version,
-- deleted_version), so they commute: whichever order they arrive in, the row ends the same.
-- Access tokens are never stored: only whether connection.created carried one.
-- connection_errors, sync_status, historical_syncs: one row per (connection_id, key), the
-- newest event wins (guard: source_updated_at, as for the entity tables).

CREATE TABLE connections (
    connection_id           text        PRIMARY KEY,
    integration_name        text,
    created_at              timestamptz,
    access_token_present    boolean,
    created_version         timestamptz,      -- source_updated_at of the applied connection_created
    created_event_id        text,
    created_record          jsonb,
    deleted_at              timestamptz,
    deleted_version         timestamptz,      -- source_updated_at of the applied connection_deleted
    deleted_event_id        text,
    deleted_record          jsonb,
    status                  text GENERATED ALWAYS AS (
        CASE WHEN deleted_version IS NOT NULL
                  AND (created_version IS NULL OR deleted_version >= created_version)
             THEN 'deleted' ELSE 'active' END) STORED,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Defence in depth: the normalizer strips the token; a record that still has one is refused.
    CONSTRAINT connections_no_access_token CHECK (
        created_record IS NULL
        OR NOT (created_record ? 'access_token' OR coalesce(created_record->'extra' ? 'access_token', false)))
);

-- One row per error, keyed by what identifies it across created/updated/deleted events
-- (Trackstar sends no error id): failed_url, else resource, else error_type, else ''.
CREATE TABLE connection_errors (
    connection_id           text        NOT NULL,
    error_key               text        NOT NULL,
    integration_name        text,
    source                  text,
    event_id                text,
    event_type              text,
    kind                    text        NOT NULL,   -- the newest event applied: connection_error_created|updated|deleted
    source_updated_at       timestamptz NOT NULL,
    observed_at             timestamptz,
    resource                text,
    failed_url              text,
    error_message           text,
    error_type              text,
    affected_endpoints      jsonb,
    created_at              timestamptz,
    last_seen_at            timestamptz,
    active                  boolean GENERATED ALWAYS AS (kind <> 'connection_error_deleted') STORED,
    resolved_at             timestamptz GENERATED ALWAYS AS (
        CASE WHEN kind = 'connection_error_deleted' THEN source_updated_at END) STORED,
    preventing_sync         boolean GENERATED ALWAYS AS (
        coalesce(jsonb_path_exists(affected_endpoints, '$[*] ? (@.preventing_sync == true)'), false)) STORED,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, error_key)
);
CREATE INDEX connection_errors_active_idx ON connection_errors (connection_id) WHERE active;

-- The fetcher's view of each (connection, resource) poll loop.
CREATE TABLE sync_status (
    connection_id           text        NOT NULL,
    resource                text        NOT NULL,
    integration_name        text,
    source                  text,
    event_id                text,
    event_type              text,
    source_updated_at       timestamptz NOT NULL,
    observed_at             timestamptz,
    state                   text,
    last_started_at         timestamptz,
    last_success_at         timestamptz,
    records_seen            bigint,
    last_error              text,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, resource)
);

-- Trackstar's initial (historical) sync of a resource has completed.
CREATE TABLE historical_syncs (
    connection_id           text        NOT NULL,
    resource                text        NOT NULL,
    integration_name        text,
    source                  text,
    event_id                text,
    event_type              text,
    source_updated_at       timestamptz NOT NULL,   -- when it was reported complete
    observed_at             timestamptz,
    oldest_data_date        timestamptz,
    newest_data_date        timestamptz,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, resource)
);
