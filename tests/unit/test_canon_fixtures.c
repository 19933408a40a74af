/* test_canon_fixtures.c - every Trackstar record kind and event type in
 * tests/fixtures/raw maps to exactly the record in tests/fixtures/canonical (byte for
 * byte), on the right topic and key; mapping twice gives identical bytes; and the same
 * record polled gives the same canonical record as its webhook, apart from the four
 * fields that describe how it arrived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "tests/unit/canon_test_util.h"

typedef struct fixture_case {
    const char *name;       /* tests/fixtures/{raw,canonical}/<name>.json */
    const char *source;     /* header */
    const char *event_type; /* header */
    const char *topic;      /* expected */
    const char *key;        /* expected */
    const char *resource;   /* poll resource for the same record; NULL: not pollable */
} fixture_case;

static const fixture_case cases[] = {
    {"order_updated", "webhook", "order.updated", "trackstar.canonical.orders.v1", "conn_1|ord_1",
     "orders"},
    {"order_created", "webhook", "order.created", "trackstar.canonical.orders.v1", "conn_1|ord_2",
     "orders"},
    {"order_shipment_created", "webhook", "order.shipment.created", "trackstar.canonical.orders.v1",
     "conn_1|ord_3", "orders"},
    {"inventory_updated", "webhook", "inventory.updated", "trackstar.canonical.inventory.v1",
     "conn_1|inv_1", "inventory"},
    {"product_created", "webhook", "product.created", "trackstar.canonical.products.v1",
     "conn_1|kit_1", "products"},
    {"warehouse_created", "webhook", "warehouse.created", "trackstar.canonical.warehouses.v1",
     "conn_1|wh_1", "warehouses"},
    {"warehouse_location_created", "webhook", "warehouse-location.created",
     "trackstar.canonical.warehouse_locations.v1", "conn_1|loc_A1", "warehouse_locations"},
    {"shipping_method_updated", "webhook", "shipping_method.updated",
     "trackstar.canonical.shipping_methods.v1", "conn_1|sm_1", "shipping_methods"},
    {"return_updated", "webhook", "return.updated", "trackstar.canonical.returns.v1",
     "conn_1|ret_1", "returns"},
    {"inbound_shipment_receipt_created", "webhook", "inbound-shipment.receipt.created",
     "trackstar.canonical.inbound_shipments.v1", "conn_1|asn_1", "inbound_shipments"},
    {"inbound_shipment_updated", "webhook", "inbound_shipment.updated",
     "trackstar.canonical.inbound_shipments.v1", "conn_1|asn_2", "inbound_shipments"},
    {"bill_created", "webhook", "bill.created", "trackstar.canonical.bills.v1", "conn_1|bill_1",
     "bills"},
    {"warehouse_customer_updated", "webhook", "warehouse-customer.updated",
     "trackstar.canonical.warehouse_customers.v1", "conn_1|wc_1", "warehouse_customers"},
    {"inventory_ledger_created", "webhook", "inventory_ledger.created",
     "trackstar.canonical.inventory_ledger.v1", "conn_1|led_1", "inventory_ledger"},
    {"labor_activity_updated", "webhook", "labor_activity.updated",
     "trackstar.canonical.labor_activities.v1", "conn_1|la_1", "labor_activities"},
    {"connection_created", "webhook", "connection.created", "wms.connection_events.v1",
     "conn_1|connection|connection_created", NULL},
    {"connection_created_sealed", "webhook", "connection.created", "wms.connection_events.v1",
     "conn_1|connection|connection_created", NULL},
    {"connection_polled", "poll", "connections.polled", "wms.connection_events.v1",
     "conn_1|connection|connection_polled", NULL},
    {"connection_deleted", "webhook", "connection.deleted", "wms.connection_events.v1",
     "conn_1|connection|connection_deleted", NULL},
    {"connection_historical_sync_completed", "webhook", "connection.historical-sync-completed",
     "wms.connection_events.v1", "conn_1|connection|historical_sync_completed|orders", NULL},
    {"connection_error_created", "webhook", "connection-error.created", "wms.connection_events.v1",
     "conn_1|connection|connection_error_created|https://api.shiphero.example/returns", NULL},
    {"connection_error_updated", "webhook", "connection-error.updated", "wms.connection_events.v1",
     "conn_1|connection|connection_error_updated|https://api.shiphero.example/returns", NULL},
    {"connection_error_deleted", "webhook", "connection-error.deleted", "wms.connection_events.v1",
     "conn_1|connection|connection_error_deleted|invalid_credentials", NULL},
    {"sync_status", "poll", "pipeline.sync-status", "wms.connection_events.v1",
     "conn_1|connection|sync_status|orders", NULL},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Map fixture c as its header says; the one output message lands in out. */
static void map_case(const fixture_case *c, canon_out *out) {
    char id[128], err[256];
    const char *ignored = (const char *)1;
    size_t len = 0;
    char *raw = ct_read("raw", c->name, &len);
    assert_non_null(raw);
    snprintf(id, sizeof id, "msg_%s", c->name);
    canon_raw in = ct_webhook(raw, len, c->event_type,
                              strcmp(c->name, "order_updated") == 0 ? "msg_2abc" : id);
    in.source = c->source;
    int rc = canon_map(&in, out, &ignored, err, sizeof err);
    if (rc != 0) fail_msg("%s: canon_map failed: %s", c->name, err);
    assert_null(ignored);
    assert_int_equal(out->n, 1);
    free(raw);
}

static void test_fixtures_match_canonical(void **state) {
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        canon_out out;
        map_case(&cases[i], &out);
        char *want = ct_read("canonical", cases[i].name, NULL);
        assert_non_null(want);
        if (strcmp(want, out.msg[0].value) != 0)
            fail_msg("%s differs\nwant %s\ngot  %s", cases[i].name, want, out.msg[0].value);
        assert_int_equal(out.msg[0].value_len, strlen(want));
        assert_string_equal(out.msg[0].topic, cases[i].topic);
        assert_string_equal(out.msg[0].key, cases[i].key);
        free(want);
        canon_out_free(&out);
        assert_int_equal(out.n, 0);
        assert_null(out.msg[0].value);
    }
}

static void test_mapping_is_deterministic(void **state) {
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        canon_out a, b;
        map_case(&cases[i], &a);
        map_case(&cases[i], &b);
        assert_int_equal(a.msg[0].value_len, b.msg[0].value_len);
        assert_memory_equal(a.msg[0].value, b.msg[0].value, a.msg[0].value_len);
        assert_string_equal(a.msg[0].key, b.msg[0].key);
        canon_out_free(&a);
        canon_out_free(&b);
    }
}

/* The canonical record minus the four fields that say how it arrived, as text. */
static char *without_arrival(const char *value) {
    cJSON *o = cJSON_Parse(value);
    assert_non_null(o);
    const char *drop[] = {"source", "event_id", "event_type", "observed_at"};
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(cJSON_GetObjectItemCaseSensitive(o, drop[i]));
        cJSON_DeleteItemFromObjectCaseSensitive(o, drop[i]);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void test_poll_equals_webhook(void **state) {
    (void)state;
    int compared = 0;
    for (size_t i = 0; i < NCASES; i++) {
        const fixture_case *c = &cases[i];
        if (!c->resource) continue;
        canon_out wh, po;
        char err[256], type[64];
        const char *ignored = NULL;
        map_case(c, &wh);

        /* The fetcher's message: the bare record that the webhook carried as data. */
        char *raw = ct_read("raw", c->name, NULL);
        cJSON *env = cJSON_Parse(raw);
        char *record = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(env, "data"));
        snprintf(type, sizeof type, "%s.polled", c->resource);
        canon_raw in = ct_poll(record, strlen(record), c->resource, type);
        in.received_at = "2026-01-06T10:00:00+01:00"; /* another arrival time, same instant */
        if (canon_map(&in, &po, &ignored, err, sizeof err) != 0)
            fail_msg("%s via poll: %s", c->name, err);
        assert_int_equal(po.n, 1);
        assert_string_equal(po.msg[0].topic, wh.msg[0].topic);
        assert_string_equal(po.msg[0].key, wh.msg[0].key);

        cJSON *p = cJSON_Parse(po.msg[0].value);
        assert_string_equal(cJSON_GetObjectItem(p, "source")->valuestring, "poll");
        assert_string_equal(cJSON_GetObjectItem(p, "event_type")->valuestring, type);
        assert_string_equal(cJSON_GetObjectItem(p, "event_id")->valuestring, "poll_1");
        assert_string_equal(cJSON_GetObjectItem(p, "observed_at")->valuestring,
                            "2026-01-06T09:00:00Z");
        cJSON_Delete(p);

        char *a = without_arrival(wh.msg[0].value), *b = without_arrival(po.msg[0].value);
        if (strcmp(a, b) != 0)
            fail_msg("%s: poll and webhook differ\nwebhook %s\npoll    %s", c->name, a, b);
        compared++;
        cJSON_free(a);
        cJSON_free(b);
        cJSON_free(record);
        cJSON_Delete(env);
        free(raw);
        canon_out_free(&wh);
        canon_out_free(&po);
    }
    assert_int_equal(compared, 15);
}

/* Entities Trackstar sends no webhooks for (TS_NONE): their raw fixture is the bare
 * record the fetcher polls, mapped byte for byte to the canonical one. */
static const struct {
    const char *name, *resource, *topic, *key;
} polled_only[] = {
    {"order_channel_polled", "order_channels", "trackstar.canonical.order_channels.v1",
     "conn_1|ch_shopify"},
    {"inbound_shipment_supplier_polled", "inbound_shipment_suppliers",
     "trackstar.canonical.inbound_shipment_suppliers.v1", "conn_1|sup_acme"},
    {"order_pack_polled", "order_packs", "trackstar.canonical.order_packs.v1", "conn_1|ord_1"},
};

static void test_polled_only_fixtures(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof polled_only / sizeof polled_only[0]; i++) {
        char err[256], type[64];
        canon_out out;
        size_t len = 0;
        char *raw = ct_read("raw", polled_only[i].name, &len);
        assert_non_null(raw);
        snprintf(type, sizeof type, "%s.polled", polled_only[i].resource);
        canon_raw in = ct_poll(raw, len, polled_only[i].resource, type);
        if (canon_map(&in, &out, NULL, err, sizeof err) != 0)
            fail_msg("%s: %s", polled_only[i].name, err);
        assert_int_equal(out.n, 1);
        char *want = ct_read("canonical", polled_only[i].name, NULL);
        assert_non_null(want);
        if (strcmp(want, out.msg[0].value) != 0)
            fail_msg("%s differs\nwant %s\ngot  %s", polled_only[i].name, want, out.msg[0].value);
        assert_string_equal(out.msg[0].topic, polled_only[i].topic);
        assert_string_equal(out.msg[0].key, polled_only[i].key);
        free(want);
        free(raw);
        canon_out_free(&out);
    }
}

/* The resource header alone (no event type) and hyphenated spellings are enough. */
static void test_poll_resource_spellings(void **state) {
    (void)state;
    char *raw = ct_read("raw", "warehouse_location_created", NULL);
    cJSON *env = cJSON_Parse(raw);
    char *record = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(env, "data"));
    const struct {
        const char *resource, *event_type;
    } v[] = {{"warehouse_locations", NULL},
             {"warehouse-locations", ""},
             {NULL, "warehouse_locations.polled"},
             {"warehouse_locations", "warehouse-locations.polled"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        canon_out out;
        char err[256];
        canon_raw in = ct_poll(record, strlen(record), v[i].resource, v[i].event_type);
        if (canon_map(&in, &out, NULL, err, sizeof err) != 0) fail_msg("case %zu: %s", i, err);
        assert_int_equal(out.n, 1);
        assert_string_equal(out.msg[0].topic, "trackstar.canonical.warehouse_locations.v1");
        assert_non_null(strstr(out.msg[0].value, "\"event_type\":\"warehouse_locations.polled\""));
        canon_out_free(&out);
    }
    cJSON_free(record);
    cJSON_Delete(env);
    free(raw);
}

/* Connection events and secrets: a connection.created without created_date orders before
 * everything of its connection (it may create it, never undo a deletion); no canonical
 * record carries a token, clear or sealed; a polled connection object must name the
 * connection its header names. */
static void test_connection_rules(void **state) {
    (void)state;
    char err[256];
    const char *ignored;
    canon_out out;
    const char *nodate = "{\"connection_id\":\"conn_1\",\"event_type\":\"connection.created\","
                         "\"data\":{\"access_token\":\"tok_clear_1\","
                         "\"access_token_sealed\":\"v2.00000000.AAAA\"}}";
    canon_raw in = ct_webhook(nodate, strlen(nodate), "connection.created", "msg_1");
    assert_int_equal(canon_map(&in, &out, &ignored, err, sizeof err), 0);
    assert_non_null(strstr(out.msg[0].value, "\"source_updated_at\":\"1970-01-01T00:00:00Z\""));
    assert_non_null(strstr(out.msg[0].value, "\"access_token_present\":true"));
    assert_null(strstr(out.msg[0].value, "tok_clear_1"));
    assert_null(strstr(out.msg[0].value, "v2.00000000"));
    canon_out_free(&out);
    /* a deletion without its date is ordered when it was seen: later than it happened */
    const char *del =
        "{\"connection_id\":\"conn_1\",\"event_type\":\"connection.deleted\",\"data\":{}}";
    in = ct_webhook(del, strlen(del), "connection.deleted", "msg_2");
    assert_int_equal(canon_map(&in, &out, &ignored, err, sizeof err), 0);
    assert_non_null(strstr(out.msg[0].value, "\"source_updated_at\":\"" CANON_TEST_RECEIVED));
    canon_out_free(&out);
    const char *obj = "{\"connection_id\":\"conn_2\",\"customer_id\":null}";
    in = ct_poll(obj, strlen(obj), "connections", "connections.polled");
    assert_int_equal(canon_map(&in, &out, &ignored, err, sizeof err), -1);
    assert_non_null(strstr(err, "disagree"));
    canon_out_free(&out);
    const char *ok = "{\"connection_id\":\"conn_1\",\"customer_id\":null}";
    in = ct_poll(ok, strlen(ok), "connections", "connections.polled");
    assert_int_equal(canon_map(&in, &out, &ignored, err, sizeof err), 0);
    assert_string_equal(out.msg[0].key, "conn_1|connection|connection_polled");
    assert_non_null(strstr(out.msg[0].value, "\"customer_id\":null"));
    canon_out_free(&out);
}

/* The fetcher's "<resource>.gone" becomes the canonical delete record: the envelope (the
 * version it supersedes), deleted and deleted_at, on the entity's internal topic. */
static void test_gone_is_a_delete_record(void **state) {
    (void)state;
    static const char body[] = "{\"id\":\"inv_9\",\"source_updated_at\":\"2026-01-05T10:00:00Z\","
                               "\"trackstar_updated_at\":\"2026-01-05T10:20:00.5Z\","
                               "\"deleted_at\":\"2026-01-06T08:00:00Z\"}";
    canon_out out;
    char err[256];
    canon_raw in = ct_poll(body, strlen(body), "inventory", "inventory.gone");
    in.event_id = "gone:1";
    if (canon_map(&in, &out, NULL, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.msg[0].topic, "trackstar.canonical.inventory.v1");
    assert_string_equal(out.msg[0].key, "conn_1|inv_9");
    assert_string_equal(
        out.msg[0].value,
        "{\"schema_version\":1,\"entity\":\"inventory_item\",\"connection_id\":\"conn_1\","
        "\"integration_name\":\"shiphero\",\"id\":\"inv_9\",\"source\":\"poll\",\"event_id\":"
        "\"gone:1\",\"event_type\":\"inventory.gone\",\"source_updated_at\":"
        "\"2026-01-05T10:00:00Z\",\"trackstar_updated_at\":\"2026-01-05T10:20:00.500Z\","
        "\"observed_at\":\"2026-01-06T09:00:01.123Z\",\"deleted\":true,\"deleted_at\":"
        "\"2026-01-06T08:00:00Z\",\"extra\":{}}");
    canon_out_free(&out);
    /* poison: what the writer could not order */
    static const char *const bad[] = {
        "{\"source_updated_at\":\"2026-01-05T10:00:00Z\",\"deleted_at\":\"2026-01-06T08:00:00Z\"}",
        "{\"id\":\"inv_9\",\"deleted_at\":\"2026-01-06T08:00:00Z\"}",
        "{\"id\":\"inv_9\",\"source_updated_at\":\"2026-01-05T10:00:00Z\"}",
        "{\"id\":\"inv_9\",\"source_updated_at\":\"yesterday\",\"deleted_at\":\"2026-01-06T08:00:"
        "00Z\"}",
        "{\"id\":\"inv_9\",\"source_updated_at\":\"2026-01-05T10:00:00Z\",\"trackstar_updated_at\":"
        "7,\"deleted_at\":\"2026-01-06T08:00:00Z\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        in = ct_poll(bad[i], strlen(bad[i]), "inventory", "inventory.gone");
        if (canon_map(&in, &out, NULL, err, sizeof err) == 0) fail_msg("case %zu mapped", i);
        assert_int_equal(out.n, 0);
        canon_out_free(&out);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gone_is_a_delete_record),
        cmocka_unit_test(test_fixtures_match_canonical),
        cmocka_unit_test(test_mapping_is_deterministic),
        cmocka_unit_test(test_poll_equals_webhook),
        cmocka_unit_test(test_polled_only_fixtures),
        cmocka_unit_test(test_poll_resource_spellings),
        cmocka_unit_test(test_connection_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
