-- 014_labor_activities.sql - labor activities (wms.labor_activities.v1): one row per
-- activity, a piece of warehouse work (pick, pack, put_away, transfer, receive) a user
-- did in a warehouse, with its start and end (activity_end_time null while it is in
-- progress; the activity is updated when it ends) and the object it was for
-- (associated_object_type order, inbound_shipment, return or inventory). Same
-- conventions as 001_entities.sql; deleted_at as 010_publish_and_lifecycle.sql
-- (activities are polled incrementally, so nothing sets it today, but every entity table
-- carries it for tsctl and the views) and value_changes with its partial index as
-- 011_value_changes.sql.

CREATE TABLE labor_activities (
    connection_id           text        NOT NULL,
    id                      text        NOT NULL,
    integration_name        text,
    source                  text,
    event_id                text,
    event_type              text,
    source_updated_at       timestamptz NOT NULL,
    trackstar_updated_at    timestamptz,
    observed_at             timestamptz,
    created_at              timestamptz,
    user_id                 text,
    user_first_name         text,
    user_last_name          text,
    warehouse_id            text,
    activity_type           text,
    activity_start_time     timestamptz,
    activity_end_time       timestamptz,
    associated_object_type  text,
    associated_object_id    text,
    quantity                bigint,
    additional_fields       jsonb,
    record                  jsonb       NOT NULL,
    db_updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    value_changes           jsonb,
    PRIMARY KEY (connection_id, id)
);
-- A user's work in time order, and the work done for one order, inbound shipment or
-- return.
CREATE INDEX labor_activities_conn_user_idx
    ON labor_activities (connection_id, user_id, activity_start_time);
CREATE INDEX labor_activities_conn_object_idx
    ON labor_activities (connection_id, associated_object_type, associated_object_id);
CREATE INDEX labor_activities_value_changes_idx
    ON labor_activities (db_updated_at) WHERE value_changes IS NOT NULL;

SELECT trackstar_grant_roles();
