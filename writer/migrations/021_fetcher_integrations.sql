-- The last answer of GET /integrations/wms (an API-key request the API allows once a
-- minute for the whole organisation), kept so that every replica and every restart reads
-- it back instead of asking again: a restart within a minute of the last start was
-- refused once (issue 24; docs/fetcher.md, "Durable state and restarts").
--
--   api         the list's name: 'wms' (GET /integrations/wms)
--   body        the answer as served (the fetcher parses it as it parses a live answer)
--   fetched_at  when it was answered (wall clock); a copy older than
--               FETCHER_INTEGRATIONS_TTL_S is asked again

CREATE TABLE IF NOT EXISTS fetcher_integrations (
    api        text PRIMARY KEY,
    body       text NOT NULL,
    fetched_at timestamptz NOT NULL
);

SELECT trackstar_grant_roles();
