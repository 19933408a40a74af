-- 020_fetcher_change_seq_indexes.sql - the fetcher's refresh reads what changed since it
-- last looked, every FETCHER_REFRESH_MS on every replica: the connections and the
-- historical syncs whose seq (fetcher_change_seq) is above the newest it has seen
-- (fetcher/fx_db.c, fx_db_conn_since and fx_db_hist_since). Without an index on seq each
-- of those read every row: at 10,000 connections, 10,000 connection rows and up to
-- 150,000 historical-sync rows twice a second per replica, to find none (issue 24).

CREATE INDEX IF NOT EXISTS fetcher_connections_seq ON fetcher_connections (seq);
CREATE INDEX IF NOT EXISTS fetcher_historical_syncs_seq ON fetcher_historical_syncs (seq);
