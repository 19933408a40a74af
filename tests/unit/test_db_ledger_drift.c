/* test_db_ledger_drift.c - ledger drift in PostgreSQL (017_ledger_drift.sql,
 * writer/ledger_drift.c): which inventory versions leave onhand snapshots, which windows
 * are due, what a window's drift is, that each is counted once, and where the counts go.
 * Rows are written with plain SQL, as the writer's merges would leave them.
 */
#include "db_test_util.h"
#include "writer/ledger_drift.h"

/* Connection c's ledger stream: its last poll started at second `started` and succeeded,
 * and its status has been in the database for an hour. */
static void ledger_polled(tdb *t, const char *c, int started) {
    PQclear(tdb_q(t->sql,
                  "INSERT INTO sync_status (connection_id, resource, source_updated_at, state,"
                  " last_started_at, last_success_at, record, db_updated_at)"
                  " VALUES ('%s', 'inventory_ledger', now(), 'idle', to_timestamp(%d),"
                  " to_timestamp(%d), '{}', now() - interval '1 hour')"
                  " ON CONFLICT (connection_id, resource) DO UPDATE SET"
                  " last_started_at = EXCLUDED.last_started_at,"
                  " last_success_at = EXCLUDED.last_success_at,"
                  " db_updated_at = EXCLUDED.db_updated_at",
                  c, started, started + 1));
}

/* Item i of connection c at Trackstar's second `at`, with warehouses (a JSON array). */
static void item_version(tdb *t, const char *c, const char *i, int at, const char *warehouses) {
    PQclear(tdb_q(t->sql,
                  "INSERT INTO inventory_items (connection_id, id, source_updated_at,"
                  " trackstar_updated_at, record) VALUES ('%s', '%s', to_timestamp(1000),"
                  " to_timestamp(%d), jsonb_build_object('warehouses', '%s'::jsonb))"
                  " ON CONFLICT (connection_id, id) DO UPDATE SET"
                  " trackstar_updated_at = EXCLUDED.trackstar_updated_at, record = EXCLUDED.record",
                  c, i, at, warehouses));
}

static void movement(tdb *t, const char *c, const char *id, const char *i, const char *wh, int qty,
                     int at) {
    PQclear(tdb_q(t->sql,
                  "INSERT INTO inventory_ledger (connection_id, id, source_updated_at, entry_date,"
                  " inventory_item_id, warehouse_id, quantity, record) VALUES ('%s', '%s',"
                  " to_timestamp(%d), to_timestamp(%d), '%s', '%s', %d, '{}')",
                  c, id, at, at, i, wh, qty));
}

#define EVALUATE(settle)                                                                           \
    "SELECT windows || '|' || drifts || '|' || units FROM "                                        \
    "trackstar_evaluate_ledger_drift('" settle "', 1000)"

static void test_windows_drift_once(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    /* before the ledger's first poll: no snapshot */
    item_version(&t, "c1", "i1", 900, "[{\"warehouse_id\":\"w1\",\"onhand\":3}]");
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM inventory_onhand_snapshots"), 0);
    ledger_polled(&t, "c1", 1100);
    /* w1: 10 -> 7 -> 12 -> 12, the ledger: -3 in the first window, +4 of +5 in the second
     * and a -1 in the third that onhand does not show; w2's onhand is no integer. */
    item_version(&t, "c1", "i1", 1010,
                 "[{\"warehouse_id\":\"w1\",\"onhand\":10},{\"warehouse_id\":\"w2\","
                 "\"onhand\":\"x\"},{\"onhand\":4},7]");
    item_version(&t, "c1", "i1", 1020,
                 "[{\"warehouse_id\":\"w1\",\"onhand\":7},{\"warehouse_id\":\"w2\",\"onhand\":1}]");
    item_version(&t, "c1", "i1", 1030, "[{\"warehouse_id\":\"w1\",\"onhand\":12}]");
    item_version(&t, "c1", "i1", 1040, "[{\"warehouse_id\":\"w1\",\"onhand\":12}]");
    item_version(&t, "c1", "i1", 1200, "[{\"warehouse_id\":\"w1\",\"onhand\":12}]");
    movement(&t, "c1", "l1", "i1", "w1", -3, 1015);
    movement(&t, "c1", "l2", "i1", "w1", 4, 1030); /* at the window's end: inside it */
    movement(&t, "c1", "l3", "i1", "w1", -1, 1035);
    movement(&t, "c1", "l4", "i1", "w2", 9, 1015);
    /* the version applied again (webhook and poll): one snapshot */
    item_version(&t, "c1", "i1", 1040, "[{\"warehouse_id\":\"w1\",\"onhand\":12}]");
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM inventory_onhand_snapshots"), 7);

    /* a status not yet settled: nothing is due */
    tdb_assert_val(t.sql, "0|0|0", EVALUATE("2 hours"));
    /* due: the windows ending by 1100 (the ledger's last poll started then); 1200 waits.
     * w1: (1010,1020] 0, (1020,1030] 5 vs 4: 1, (1030,1040] 0 vs -1: 1; w2: no integer onhand
     * at 1010, so (1010,1020] is no window. */
    tdb_assert_val(t.sql, "3|2|2", EVALUATE("1 minute"));
    tdb_assert_val(t.sql, "1|1",
                   "SELECT drift || '|' || (SELECT drift FROM "
                   "inventory_onhand_snapshots WHERE as_of = to_timestamp(1040))"
                   " FROM inventory_onhand_snapshots WHERE as_of = to_timestamp(1030)"
                   " AND warehouse_id = 'w1'");
    /* each window once */
    tdb_assert_val(t.sql, "0|0|0", EVALUATE("1 minute"));
    tdb_assert_val(t.sql, "3|2|2|true",
                   "SELECT ledger_windows || '|' || ledger_drifts || '|' || ledger_drift_units"
                   " || '|' || (last_ledger_drift_at IS NOT NULL) FROM sync_accuracy"
                   " WHERE connection_id = 'c1' AND resource = 'inventory'");
    tdb_assert_val(t.sql, "3|2",
                   "SELECT ledger_windows || '|' || ledger_drifts FROM sync_overview"
                   " WHERE connection_id = 'c1'");
    /* the next poll: the writer's call evaluates (1040,1200], which the ledger explains */
    ledger_polled(&t, "c1", 1300);
    movement(&t, "c1", "l5", "i1", "w1", 1, 1100);
    movement(&t, "c1", "l6", "i1", "w1", -1, 1150);
    wdb *db = tdb_open(&t);
    char err[256];
    ledger_drift_init();
    assert_int_equal(ledger_drift_evaluate(db, 60000, err, sizeof err), 0);
    wdb_close(db);
    tdb_assert_val(t.sql, "0",
                   "SELECT drift FROM inventory_onhand_snapshots"
                   " WHERE as_of = to_timestamp(1200)");
    tdb_assert_val(t.sql, "4|2|2",
                   "SELECT ledger_windows || '|' || ledger_drifts || '|' || ledger_drift_units"
                   " FROM sync_accuracy WHERE connection_id = 'c1' AND resource = 'inventory'");
    tdb_destroy(&t);
}

static void test_no_snapshot_without_ledger_or_when_deleted(void **state) {
    (void)state;
    tdb t;
    tdb_create(&t, 1);
    item_version(&t, "c2", "i1", 1010, "[{\"warehouse_id\":\"w1\",\"onhand\":1}]");
    ledger_polled(&t, "c3", 1000);
    PQclear(tdb_q(t.sql, "UPDATE sync_status SET last_success_at = NULL"));
    item_version(&t, "c3", "i1", 1010, "[{\"warehouse_id\":\"w1\",\"onhand\":1}]");
    ledger_polled(&t, "c3", 1000);
    PQclear(tdb_q(t.sql, "UPDATE inventory_items SET deleted_at = now(), record = '{\"warehouses\":"
                         "[{\"warehouse_id\":\"w1\",\"onhand\":0}]}' WHERE connection_id = 'c3'"));
    assert_int_equal(tdb_count(t.sql, "SELECT count(*) FROM inventory_onhand_snapshots"), 0);
    tdb_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_drift_once),
        cmocka_unit_test(test_no_snapshot_without_ledger_or_when_deleted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
