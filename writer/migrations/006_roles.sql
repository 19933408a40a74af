-- Least privilege: the group roles the stages log in through (docs/operations.md,
-- "Database roles"). Tables and views are owned by the role that runs `writer --migrate`
-- (the only one that may change the schema); the stages only read and write rows:
--
--   trackstar_writer   DML on every domain table (everything but fetcher_*), SELECT on the views
--   trackstar_fetcher  DML on its own fetcher_* tables, nothing else
--   trackstar_reader   SELECT on everything (tsctl, dashboards)
--
-- Both stages may read schema_migrations (to wait for their schema). The roles are NOLOGIN:
-- the deployment creates login users that are members of one of them. Creating a role needs
-- CREATEROLE (or a superuser) for the migrating user, once; when a DBA created the roles
-- beforehand, nothing more is needed. The grants follow from the table names, in one
-- function: a later migration that adds a table ends with SELECT trackstar_grant_roles();
-- (tests/integration/test_migrations.sh checks that every table has exactly its grants).

DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['trackstar_writer', 'trackstar_fetcher', 'trackstar_reader'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- roles are per cluster: a migrator of another database made it meanwhile
            END;
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION trackstar_grant_roles() RETURNS void LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
    EXECUTE 'GRANT USAGE ON SCHEMA public TO trackstar_writer, trackstar_fetcher, trackstar_reader';
    FOR t IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S', 'p') LOOP
        IF t.relname IN ('schema_migrations', 'fetcher_schema') THEN
            EXECUTE format('GRANT SELECT ON %I TO trackstar_writer, trackstar_fetcher, trackstar_reader', t.relname);
        ELSIF t.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO %I', t.relname,
                           CASE WHEN t.relname LIKE 'fetcher\_%' THEN 'trackstar_fetcher' ELSE 'trackstar_writer' END);
        ELSIF t.relkind = 'v' THEN
            EXECUTE format('GRANT SELECT ON %I TO trackstar_writer, trackstar_reader', t.relname);
        ELSIF t.relname LIKE 'fetcher\_%' THEN
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO trackstar_fetcher', t.relname);
            EXECUTE format('GRANT SELECT ON %I TO trackstar_reader', t.relname);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO trackstar_writer', t.relname);
            EXECUTE format('GRANT SELECT ON %I TO trackstar_reader', t.relname);
        END IF;
    END LOOP;
END $$;

SELECT trackstar_grant_roles();
