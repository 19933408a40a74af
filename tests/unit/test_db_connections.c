/* test_db_connections.c - connection-level state (connections, connection_errors,
 * sync_status, historical_syncs), the two views, and every canonical fixture the
 * normalizer documents (tests/fixtures/canonical) landing in its table. Needs
 * TEST_DATABASE_URL. */
#include <dirent.h>

#include "db_test_records.h"
#include "entities.h"

#define FIXTURES_DIR "tests/fixtures/canonical"
#define CE_TOPIC "wms.connection_events.v1"

static char *conn_event(const char *conn, const char *kind, const char *ts, const char *fields) {
    char *v = malloc(2048);
    snprintf(v, 2048,
             "{\"schema_version\":1,\"entity\":\"connection_event\",\"connection_id\":\"%s\","
             "\"integration_name\":\"shiphero\","
             "\"id\":\"connection|%s\",\"source\":\"webhook\",\"event_id\":\"msg_%s_%s\",\"event_"
             "type\":\"x\","
             "\"source_updated_at\":\"%s\",\"trackstar_updated_at\":null,\"observed_at\":\"%s\","
             "\"kind\":\"%s\","
             "\"resource\":null,%s,\"extra\":{}}",
             conn, kind, kind, ts, ts, ts, kind, fields);
    return v;
}

static void test_created_and_deleted_commute(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    char *created[2], *deleted[2];
    const char *conns[2] = {"c_fwd", "c_rev"};
    for (int i = 0; i < 2; i++) {
        created[i] =
            conn_event(conns[i], "connection_created", "2026-01-01T00:00:00Z",
                       "\"created_at\":\"2026-01-01T00:00:00Z\",\"access_token_present\":true");
        deleted[i] = conn_event(conns[i], "connection_deleted", "2026-02-01T00:00:00Z",
                                "\"deleted_at\":\"2026-02-01T00:00:00Z\"");
    }
    tdb_apply(db, CE_TOPIC, &created[0], 1, WDB_OK);
    tdb_assert_val(t.sql, "active", "SELECT status FROM connections WHERE connection_id = 'c_fwd'");
    tdb_apply(db, CE_TOPIC, &deleted[0], 1, WDB_OK);
    tdb_apply(db, CE_TOPIC, &deleted[1], 1, WDB_OK); /* reverse order for c_rev */
    tdb_apply(db, CE_TOPIC, &created[1], 1, WDB_OK);
    const char *q = "SELECT concat_ws('|', status, created_at, deleted_at, access_token_present, "
                    "created_version, "
                    "deleted_version) FROM connections WHERE connection_id = '%s'";
    char *fwd = tdb_val(t.sql, q, "c_fwd"), *rev = tdb_val(t.sql, q, "c_rev");
    assert_string_equal(fwd, rev);
    assert_string_equal(
        fwd, "deleted|2026-01-01 00:00:00+00|2026-02-01 00:00:00+00|t|2026-01-01 00:00:00+00|"
             "2026-02-01 00:00:00+00");
    /* both in one batch, and replays: unchanged */
    char *before = tdb_dump(t.sql, 1);
    char *both[] = {deleted[0], created[0], created[1], deleted[1]};
    assert_int_equal(tdb_apply(db, CE_TOPIC, both, 4, WDB_OK), 0);
    char *after = tdb_dump(t.sql, 1);
    assert_string_equal(before, after);

    /* an access token that slipped into a record is never stored; the reason does not echo it */
    char *leak = conn_event(
        "c_leak", "connection_created", "2026-01-01T00:00:00Z",
        "\"created_at\":null,\"access_token_present\":true,\"access_token\":\"tok_SECRET123\"");
    wdb_item it = {.topic = CE_TOPIC, .value = leak, .value_len = strlen(leak)};
    char err[256];
    assert_int_equal(wdb_apply(db, &it, 1, err, sizeof err), WDB_OK);
    assert_true(it.rejected);
    assert_non_null(strstr(it.reason, "connections_no_access_token"));
    assert_null(strstr(it.reason, "SECRET"));
    assert_int_equal(
        tdb_count(t.sql, "SELECT count(*) FROM connections WHERE connection_id = 'c_leak'"), 0);
    free(fwd), free(rev), free(before), free(after), free(leak);
    for (int i = 0; i < 2; i++)
        free(created[i]), free(deleted[i]);
    wdb_close(db);
    tdb_destroy(&t);
}

/* customer_id comes from the newest poll (Trackstar's current value), else from
 * connection_created; polls never change the status, and neither does a replayed
 * connection_created (seen later, the same created_date) after the deletion. */
static void test_customer_id_and_polls(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    char *created = conn_event("c_cu", "connection_created", "2026-01-01T00:00:00Z",
                               "\"created_at\":\"2026-01-01T00:00:00Z\",\"access_token_present\":"
                               "true,\"customer_id\":\"cust_a\"");
    char *poll_b = conn_event("c_cu", "connection_polled", "2026-01-05T00:00:00Z",
                              "\"customer_id\":\"cust_b\",\"integration_type\":\"wms\"");
    char *poll_old = conn_event("c_cu", "connection_polled", "2026-01-03T00:00:00Z",
                                "\"customer_id\":\"cust_old\",\"integration_type\":\"wms\"");
    char *deleted = conn_event("c_cu", "connection_deleted", "2026-02-01T00:00:00Z",
                               "\"deleted_at\":\"2026-02-01T00:00:00Z\"");
    char *poll_late = conn_event("c_cu", "connection_polled", "2026-02-02T00:00:00Z",
                                 "\"customer_id\":\"cust_b\",\"integration_type\":\"wms\"");
    const char *q = "SELECT concat_ws('|', status, customer_id) FROM connections WHERE "
                    "connection_id = 'c_cu'";
    tdb_apply(db, CE_TOPIC, &created, 1, WDB_OK);
    tdb_assert_val(t.sql, "active|cust_a", q);
    tdb_assert_val(t.sql, "cust_a",
                   "SELECT customer_id FROM sync_overview WHERE connection_id = 'c_cu'");
    tdb_apply(db, CE_TOPIC, &poll_b, 1, WDB_OK);
    tdb_apply(db, CE_TOPIC, &poll_old, 1, WDB_OK); /* older poll: no-op */
    tdb_assert_val(t.sql, "active|cust_b", q);
    tdb_apply(db, CE_TOPIC, &deleted, 1, WDB_OK);
    tdb_apply(db, CE_TOPIC, &poll_late, 1, WDB_OK);
    tdb_assert_val(t.sql, "deleted|cust_b", q);
    /* the same creation seen again later (a replay: another observed_at) */
    char *replay = conn_event("c_cu", "connection_created", "2026-01-01T00:00:00Z",
                              "\"created_at\":\"2026-01-01T00:00:00Z\",\"access_token_present\":"
                              "true,\"customer_id\":\"cust_a\"");
    char *p = strstr(replay, "\"observed_at\":\"2026-01-01");
    memcpy(p + 15, "2026-03-01", 10);
    tdb_apply(db, CE_TOPIC, &replay, 1, WDB_OK);
    tdb_assert_val(t.sql, "deleted|cust_b|2026-03-01T00:00:00Z",
                   "SELECT concat_ws('|', status, "
                   "customer_id, created_record->>'observed_at') FROM connections WHERE "
                   "connection_id = 'c_cu'");
    tdb_assert_val(t.sql, "deleted|cust_b",
                   "SELECT concat_ws('|', connection_status, customer_id) "
                   "FROM sync_overview WHERE connection_id = 'c_cu'");
    free(created), free(poll_b), free(poll_old), free(deleted), free(poll_late), free(replay);
    wdb_close(db);
    tdb_destroy(&t);
}

static void test_connection_error_lifecycle_and_sync_overview(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    const char *url = "\"failed_url\":\"https://w/"
                      "returns\",\"error_type\":null,\"created_at\":\"2026-01-03T00:00:00Z\","
                      "\"last_seen_at\":null,";
    char f1[512], f2[512], f3[512];
    snprintf(f1, sizeof f1,
             "%s\"error_message\":\"missing\",\"affected_endpoints\":[{\"endpoint\":\"GET "
             "/wms/returns\",\"preventing_sync\":true}]",
             url);
    snprintf(f2, sizeof f2,
             "%s\"error_message\":\"still missing\",\"affected_endpoints\":[{\"endpoint\":\"GET "
             "/wms/returns\",\"preventing_sync\":true}]",
             url);
    snprintf(f3, sizeof f3, "%s\"error_message\":\"resolved\",\"affected_endpoints\":[]", url);
    char *created = conn_event("c1", "connection_error_created", "2026-01-03T00:00:00Z", f1);
    char *updated = conn_event("c1", "connection_error_updated", "2026-01-04T00:00:00Z", f2);
    char *deleted = conn_event("c1", "connection_error_deleted", "2026-01-05T00:00:00Z", f3);
    char *sync = tent_make(tent_named("sync_status"), "orders", 100, 1, 0);
    char *hist = tent_make(tent_named("historical_syncs"), "orders", 50, 1, 0);

    char *b1[] = {created, sync, hist};
    assert_int_equal(tdb_apply(db, CE_TOPIC, b1, 3, WDB_OK), 0);
    /* sync_status / historical_syncs come from tents with connection conn_t */
    tdb_assert_val(
        t.sql, "t|missing|t",
        "SELECT concat_ws('|', active, error_message, preventing_sync) "
        "FROM connection_errors WHERE connection_id = 'c1' AND error_key = 'https://w/returns'");
    tdb_assert_val(
        t.sql, "1|t|missing",
        "SELECT concat_ws('|', open_errors, sync_blocked, latest_error) FROM sync_overview "
        "WHERE connection_id = 'c1'");
    tdb_assert_val(
        t.sql, "1|v1",
        "SELECT concat_ws('|', resources, resource_states->0->>'state') FROM sync_overview "
        "WHERE connection_id = 'conn_t'");
    tdb_apply(db, CE_TOPIC, &deleted, 1, WDB_OK); /* out of order: resolution first */
    tdb_apply(db, CE_TOPIC, &updated, 1, WDB_OK); /* older: no-op */
    tdb_apply(db, CE_TOPIC, &created, 1, WDB_OK); /* older: no-op */
    tdb_assert_val(t.sql, "f|resolved|2026-01-05 00:00:00+00|f",
                   "SELECT concat_ws('|', active, error_message, resolved_at, preventing_sync) "
                   "FROM connection_errors "
                   "WHERE connection_id = 'c1'");
    tdb_assert_val(
        t.sql, "0|f|<null>",
        "SELECT concat_ws('|', open_errors, sync_blocked, coalesce(latest_error, '<null>')) "
        "FROM sync_overview WHERE connection_id = 'c1'");
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM connection_errors"), 1);
    free(created), free(updated), free(deleted), free(sync), free(hist);
    wdb_close(db);
    tdb_destroy(&t);
}

static void test_inventory_by_sku_view(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    /* two items with one SKU: variant 1 has warehouses wh_0, wh_1; variant 2 wh_0..wh_2 */
    char *v[] = {tent_make(&tents[1], "i1", 100, 1, 0), tent_make(&tents[1], "i2", 100, 2, 0)};
    assert_int_equal(tdb_apply(db, "wms.inventory.v1", v, 2, WDB_OK), 0);
    tdb_assert_val(t.sql, "2|240|40|3|240|240",
                   "SELECT concat_ws('|', inventory_items, onhand, committed, warehouses, "
                   "(by_warehouse->'wh_0'->>'onhand')::int, (SELECT sum(onhand) FROM "
                   "inventory_levels WHERE warehouse_id = 'wh_0')) "
                   "FROM inventory_by_sku WHERE sku = 'TSHIRT-M'");
    free(v[0]), free(v[1]);
    wdb_close(db);
    tdb_destroy(&t);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every canonical fixture published by the normalizer is accepted and lands in its table. */
static void test_every_canonical_fixture_is_stored(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    wdb *db = tdb_open(&t);
    DIR *d = opendir(FIXTURES_DIR);
    if (!d) fail_msg("%s missing (run from the repository root)", FIXTURES_DIR);
    char *names[64];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 64)
        if (strstr(de->d_name, ".json")) names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    assert_true(n >= 10);
    wdb_item items[64];
    char *vals[64];
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", FIXTURES_DIR, names[i]);
        vals[i] = tdb_read_file(path);
        /* The topic of the record's entity, from the registry. */
        cJSON *rec = cJSON_Parse(vals[i]);
        const cJSON *ent = cJSON_GetObjectItemCaseSensitive(rec, "entity");
        int e = cJSON_IsString(ent) ? ts_entity_lookup(ent->valuestring) : -1;
        const char *topic =
            e >= 0 ? ts_entities[e].topic
            : cJSON_IsString(ent) && strcmp(ent->valuestring, "connection_event") == 0 ? CE_TOPIC
                                                                                       : NULL;
        cJSON_Delete(rec);
        if (!topic) fail_msg("no topic for fixture %s", names[i]);
        items[i] = (wdb_item){.topic = topic, .value = vals[i], .value_len = strlen(vals[i])};
    }
    char err[256];
    assert_int_equal(wdb_apply(db, items, n, err, sizeof err), WDB_OK);
    for (int i = 0; i < n; i++)
        if (items[i].rejected) fail_msg("fixture %s rejected: %s", names[i], items[i].reason);
    /* spot checks across the tables */
    tdb_assert_val(t.sql, "59.5", "SELECT total_price FROM orders WHERE id = 'ord_1'");
    assert_true(
        tdb_count(t.sql, "SELECT count(*) FROM order_packages WHERE tracking_number IS NOT NULL") >=
        1);
    tdb_assert_val(t.sql, "2",
                   "SELECT count(*) FROM inventory_levels WHERE inventory_item_id = 'inv_1'");
    tdb_assert_val(t.sql, "2",
                   "SELECT count(*) FROM return_receiving_details WHERE return_id = 'ret_1'");
    tdb_assert_val(t.sql, "t",
                   "SELECT access_token_present FROM connections WHERE connection_id = 'conn_1'");
    tdb_assert_val(t.sql, "succeeded", "SELECT state FROM sync_status WHERE resource = 'orders'");
    assert_true(tdb_count(t.sql, "SELECT count(*) FROM historical_syncs") >= 1);
    assert_true(tdb_count(t.sql, "SELECT count(*) FROM connection_errors") >= 2);
    assert_true(tdb_count(t.sql, "SELECT count(*) FROM inbound_shipment_receipts") >= 1);
    assert_int_equal(
        tdb_count(t.sql, "SELECT count(*) FROM sync_overview WHERE connection_id = 'conn_1'"), 1);
    /* the whole record is kept: unknown fields in extra survive */
    tdb_assert_val(
        t.sql, "4",
        "SELECT record->'extra'->>'inventory_by_warehouse_id.wh_2.in_transit' FROM inventory_items "
        "WHERE id = 'inv_1'");
    for (int i = 0; i < n; i++)
        free(vals[i]), free(names[i]);
    wdb_close(db);
    tdb_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_created_and_deleted_commute),
        cmocka_unit_test(test_customer_id_and_polls),
        cmocka_unit_test(test_connection_error_lifecycle_and_sync_overview),
        cmocka_unit_test(test_inventory_by_sku_view),
        cmocka_unit_test(test_every_canonical_fixture_is_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
