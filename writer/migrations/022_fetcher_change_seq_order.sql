-- 022_fetcher_change_seq_order.sql - a change's seq becomes visible in seq order.
--
-- Every replica's refresh reads the connections and historical syncs whose seq
-- (fetcher_change_seq) is above the newest it has seen, and moves past it
-- (fetcher/fx_db.c, fx_db_conn_since and fx_db_hist_since). A sequence hands out numbers
-- in order, but transactions commit in any order: with two writers at once (two replicas
-- storing connection events and first syncs), seq 850 could commit after a reader had
-- seen 851 committed and moved past both, and no replica ever read row 850 again. Issue
-- 24's bench with two replicas and 1,000 connections left 165 connections owned by
-- neither replica, never polled.
--
-- Every statement that inserts into or updates these tables first takes one
-- transaction-scoped advisory lock, before it takes a seq or a row lock. A seq is then
-- taken only once every earlier taker has committed or rolled back, so a reader that sees
-- seq n committed sees every smaller one too. Writes to these tables are few and short.
-- (Deletes take no seq: the refresh never reads them.)

CREATE OR REPLACE FUNCTION fetcher_change_seq_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the key: "fetcher change seq"; writer/migrate.c's and common/purge.h's differ
    PERFORM pg_advisory_xact_lock(7418093255002);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS fetcher_connections_seq_order ON fetcher_connections;
CREATE TRIGGER fetcher_connections_seq_order BEFORE INSERT OR UPDATE ON fetcher_connections
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_change_seq_lock();

DROP TRIGGER IF EXISTS fetcher_historical_syncs_seq_order ON fetcher_historical_syncs;
CREATE TRIGGER fetcher_historical_syncs_seq_order BEFORE INSERT OR UPDATE
    ON fetcher_historical_syncs
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_change_seq_lock();
