/* test_gw_envelope.c - webhook-gw: event type -> canonical name, resource and key rule
 * (both spellings, unknown types), envelope parsing and the raw topic's key, and the
 * rebuild of a truncated event from its download. Table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook-gw/gw_envelope.h"

typedef struct {
    const char *in;
    const char *canonical;
    const char *resource;
    gw_event_kind kind;
    int known;
} lookup_case;

static const lookup_case lookup_cases[] = {
    {"order.created", "order.created", "orders", GW_KIND_RECORD, 1},
    {"order.updated", "order.updated", "orders", GW_KIND_RECORD, 1},
    {"order.shipment.created", "order.shipment.created", "orders", GW_KIND_RECORD, 1},
    {"inventory.created", "inventory.created", "inventory", GW_KIND_RECORD, 1},
    {"inventory.updated", "inventory.updated", "inventory", GW_KIND_RECORD, 1},
    {"inventory_ledger.created", "inventory_ledger.created", "inventory_ledger", GW_KIND_RECORD, 1},
    {"inventory-ledger.updated", "inventory_ledger.updated", "inventory_ledger", GW_KIND_RECORD, 1},
    {"product.created", "product.created", "products", GW_KIND_RECORD, 1},
    {"product.updated", "product.updated", "products", GW_KIND_RECORD, 1},
    {"inbound-shipment.created", "inbound-shipment.created", "inbound_shipments", GW_KIND_RECORD,
     1},
    {"inbound_shipment.updated", "inbound-shipment.updated", "inbound_shipments", GW_KIND_RECORD,
     1},
    {"inbound-shipment.receipt.created", "inbound-shipment.receipt.created", "inbound_shipments",
     GW_KIND_RECORD, 1},
    {"inbound_shipment.receipt.created", "inbound-shipment.receipt.created", "inbound_shipments",
     GW_KIND_RECORD, 1},
    {"return.created", "return.created", "returns", GW_KIND_RECORD, 1},
    {"return.updated", "return.updated", "returns", GW_KIND_RECORD, 1},
    {"bill.created", "bill.created", "bills", GW_KIND_RECORD, 1},
    {"bill.updated", "bill.updated", "bills", GW_KIND_RECORD, 1},
    {"shipping-method.created", "shipping-method.created", "shipping_methods", GW_KIND_RECORD, 1},
    {"shipping_method.created", "shipping-method.created", "shipping_methods", GW_KIND_RECORD, 1},
    {"shipping_method.updated", "shipping-method.updated", "shipping_methods", GW_KIND_RECORD, 1},
    {"warehouse.created", "warehouse.created", "warehouses", GW_KIND_RECORD, 1},
    {"warehouse.updated", "warehouse.updated", "warehouses", GW_KIND_RECORD, 1},
    {"warehouse-location.created", "warehouse-location.created", "warehouse_locations",
     GW_KIND_RECORD, 1},
    {"warehouse_location.updated", "warehouse-location.updated", "warehouse_locations",
     GW_KIND_RECORD, 1},
    {"warehouse-customer.created", "warehouse-customer.created", "warehouse_customers",
     GW_KIND_RECORD, 1},
    {"labor_activity.created", "labor_activity.created", "labor_activities", GW_KIND_RECORD, 1},
    {"cart-order.cart-shipment.created", "cart-order.cart-shipment.created", "cart_orders",
     GW_KIND_RECORD, 1},
    {"cart-product.updated", "cart-product.updated", "cart_products", GW_KIND_RECORD, 1},
    {"freight-shipment.created", "freight-shipment.created", "freight_shipments", GW_KIND_RECORD,
     1},
    {"carrier-file.created", "carrier-file.created", "carrier_files", GW_KIND_RECORD, 1},
    {"connection.created", "connection.created", "connection", GW_KIND_CONNECTION, 1},
    {"connection.deleted", "connection.deleted", "connection", GW_KIND_CONNECTION, 1},
    {"connection.historical-sync-completed", "connection.historical-sync-completed", "connection",
     GW_KIND_HISTORICAL_SYNC, 1},
    {"connection.historical_sync_completed", "connection.historical-sync-completed", "connection",
     GW_KIND_HISTORICAL_SYNC, 1},
    {"connection-error.created", "connection-error.created", "connection", GW_KIND_CONNECTION_ERROR,
     1},
    {"connection-error.updated", "connection-error.updated", "connection", GW_KIND_CONNECTION_ERROR,
     1},
    {"connection-error.deleted", "connection-error.deleted", "connection", GW_KIND_CONNECTION_ERROR,
     1},
    {"connection.sync-job-stuck", "connection.sync-job-stuck", "connection", GW_KIND_CONNECTION, 1},
    {"Order.Updated", "order.updated", "orders", GW_KIND_RECORD, 1},
    /* Known resource, action not in the table: kept, counted as unknown. */
    {"order.deleted", "order.deleted", "orders", GW_KIND_RECORD, 0},
    {"shipping_method.deleted", "shipping-method.deleted", "shipping_methods", GW_KIND_RECORD, 0},
    {"connection.something-new", "connection.something-new", "connection", GW_KIND_CONNECTION, 0},
    /* Unknown resource: a resource is still derived for the key. */
    {"widget.created", "widget.created", "widget", GW_KIND_RECORD, 0},
    {"fancy-widget.updated", "fancy-widget.updated", "fancy_widget", GW_KIND_RECORD, 0},
    {"Weird!.created", "Weird!.created", "unknown", GW_KIND_RECORD, 0},
    {"", "", "unknown", GW_KIND_RECORD, 0},
    {"nodot", "nodot", "nodot", GW_KIND_RECORD, 0},
    {".created", ".created", "unknown", GW_KIND_RECORD, 0},
};

static void test_lookup_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof lookup_cases / sizeof lookup_cases[0]; i++) {
        const lookup_case *c = &lookup_cases[i];
        gw_event_info ev;
        gw_event_lookup(c->in, &ev);
        if (strcmp(ev.canonical, c->canonical) || strcmp(ev.resource, c->resource) ||
            ev.kind != c->kind || ev.known != c->known) {
            print_error("case '%s': got canonical '%s' resource '%s' kind %d known %d\n", c->in,
                        ev.canonical, ev.resource, ev.kind, ev.known);
            fail();
        }
        if (c->known) {
            char name[GW_EVENT_TYPE_MAX + 1];
            assert_true(ev.known_index >= 0 && ev.known_index < gw_event_type_count());
            assert_int_equal(gw_event_type_name(ev.known_index, name, sizeof name), 0);
            assert_string_equal(name, c->canonical);
        } else {
            assert_int_equal(ev.known_index, -1);
        }
    }
}

/* Every canonical name maps to itself, and the OpenAPI's 39 webhook names are all known. */
static void test_every_known_type_round_trips(void **state) {
    (void)state;
    char name[GW_EVENT_TYPE_MAX + 1];
    for (int i = 0; i < gw_event_type_count(); i++) {
        gw_event_info ev;
        assert_int_equal(gw_event_type_name(i, name, sizeof name), 0);
        gw_event_lookup(name, &ev);
        assert_int_equal(ev.known, 1);
        assert_int_equal(ev.known_index, i);
        assert_string_equal(ev.canonical, name);
        assert_string_not_equal(ev.resource, "unknown");
    }
    assert_true(gw_event_type_count() >= 39);
    assert_int_equal(gw_event_type_name(gw_event_type_count(), name, sizeof name), -1);
    assert_int_equal(gw_event_type_name(-1, name, sizeof name), -1);
}

typedef struct {
    const char *body;
    gw_env_result result;
    const char *key; /* expected key when OK */
    int truncated;
    const char *data_url;
} parse_case;

static const parse_case parse_cases[] = {
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o1\"}}",
     GW_ENV_OK, "c1|orders|o1", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"shipping_method.created\",\"data\":{\"id\":"
     "\"sm9\"}}",
     GW_ENV_OK, "c1|shipping_methods|sm9", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"inventory.updated\",\"data\":{\"id\":12345}}",
     GW_ENV_OK, "c1|inventory|12345", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"connection.created\",\"data\":{\"created_date\":"
     "\"x\",\"access_token\":\"t\"}}",
     GW_ENV_OK, "c1|connection|c1", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"connection.deleted\",\"data\":{\"deleted_date\":"
     "\"x\"}}",
     GW_ENV_OK, "c1|connection|c1", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"connection.historical-sync-completed\",\"data\":{"
     "\"resource\":\"get_orders\"}}",
     GW_ENV_OK, "c1|connection|get_orders", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"connection-error.created\",\"data\":{\"failed_"
     "url\":\"https://wms/x\",\"error_message\":\"m\"}}",
     GW_ENV_OK, "c1|connection|https://wms/x", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"connection-error.deleted\",\"data\":{\"error_"
     "message\":\"only a message\"}}",
     GW_ENV_OK, "c1|connection|only a message", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"widget.created\",\"data\":{\"id\":\"w1\"}}",
     GW_ENV_OK, "c1|widget|w1", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\"}", GW_ENV_OK, "c1|orders|", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o1\"},\"data_"
     "truncated\":true,\"data_url\":\"https://t/x\"}",
     GW_ENV_OK, "c1|orders|o1", 1, "https://t/x"},
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o1\"},\"data_"
     "truncated\":false,\"data_url\":\"https://t/x\"}",
     GW_ENV_OK, "c1|orders|o1", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o1\"},\"data_"
     "truncated\":true}",
     GW_ENV_OK, "c1|orders|o1", 0, ""},
    {"not json", GW_ENV_MALFORMED, NULL, 0, NULL},
    {"", GW_ENV_MALFORMED, NULL, 0, NULL},
    {"[1,2]", GW_ENV_MALFORMED, NULL, 0, NULL},
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\"", GW_ENV_MALFORMED, NULL, 0, NULL},
    {"{\"event_type\":\"order.updated\",\"data\":{}}", GW_ENV_MISSING_FIELD, NULL, 0, NULL},
    {"{\"connection_id\":\"c1\",\"data\":{}}", GW_ENV_MISSING_FIELD, NULL, 0, NULL},
    {"{\"connection_id\":\"\",\"event_type\":\"order.updated\"}", GW_ENV_MISSING_FIELD, NULL, 0,
     NULL},
    {"{\"connection_id\":5,\"event_type\":\"order.updated\"}", GW_ENV_MISSING_FIELD, NULL, 0, NULL},
    {"{\"connection_id\":\"a|b\",\"event_type\":\"order.updated\"}", GW_ENV_BAD_FIELD, NULL, 0,
     NULL},
    {"{\"connection_id\":\"a b\",\"event_type\":\"order.updated\"}", GW_ENV_BAD_FIELD, NULL, 0,
     NULL},
    /* Valid JSON the arena parser refuses (a NUL in a string): still taken, the key from
     * cJSON's reading (cut at the NUL); the normalizer dead-letters such a record. */
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o\\u00001\"}}",
     GW_ENV_OK, "c1|orders|o", 0, ""},
    {"{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o\\u00001\"}} "
     "x",
     GW_ENV_MALFORMED, NULL, 0, NULL},
};

static void test_parse_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case *c = &parse_cases[i];
        gw_envelope env;
        gw_env_result r = gw_envelope_parse(c->body, strlen(c->body), &env);
        if (r != c->result) {
            print_error("case %zu: result %s, want %s\n", i, gw_env_result_name(r),
                        gw_env_result_name(c->result));
            fail();
        }
        if (r != GW_ENV_OK) continue;
        char key[GW_KEY_MAX + 1];
        size_t n = gw_envelope_key(&env, key, sizeof key);
        assert_int_equal(n, strlen(key));
        assert_string_equal(key, c->key);
        assert_int_equal(env.truncated, c->truncated);
        assert_string_equal(env.data_url, c->data_url);
    }
}

/* The parser reads exactly len bytes: bytes after them do not count. */
static void test_parse_respects_length(void **state) {
    (void)state;
    const char *body = "{\"connection_id\":\"c1\",\"event_type\":\"order.updated\"}GARBAGE";
    gw_envelope env;
    size_t len = strlen(body) - strlen("GARBAGE");
    assert_int_equal(gw_envelope_parse(body, len, &env), GW_ENV_OK);
    assert_int_equal(gw_envelope_parse(body, strlen(body), &env), GW_ENV_MALFORMED);
}

/* Bounds: the longest connection id and event type pass, one byte more does not; a
 * long record id is cut, never overflowing the key. */
static void test_field_bounds(void **state) {
    (void)state;
    char cid[GW_CONN_ID_MAX + 2], body[8192];
    memset(cid, 'c', sizeof cid);
    cid[GW_CONN_ID_MAX] = '\0';
    gw_envelope env;
    snprintf(body, sizeof body, "{\"connection_id\":\"%s\",\"event_type\":\"order.updated\"}", cid);
    assert_int_equal(gw_envelope_parse(body, strlen(body), &env), GW_ENV_OK);
    cid[GW_CONN_ID_MAX] = 'c';
    cid[GW_CONN_ID_MAX + 1] = '\0';
    snprintf(body, sizeof body, "{\"connection_id\":\"%s\",\"event_type\":\"order.updated\"}", cid);
    assert_int_equal(gw_envelope_parse(body, strlen(body), &env), GW_ENV_BAD_FIELD);

    char et[GW_EVENT_TYPE_MAX + 2];
    memset(et, 'e', sizeof et);
    et[GW_EVENT_TYPE_MAX + 1] = '\0';
    snprintf(body, sizeof body, "{\"connection_id\":\"c\",\"event_type\":\"%s\"}", et);
    assert_int_equal(gw_envelope_parse(body, strlen(body), &env), GW_ENV_BAD_FIELD);

    char rid[GW_RECORD_ID_MAX * 2];
    memset(rid, 'r', sizeof rid);
    rid[sizeof rid - 1] = '\0';
    snprintf(body, sizeof body,
             "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"%s\"}}",
             rid);
    assert_int_equal(gw_envelope_parse(body, strlen(body), &env), GW_ENV_OK);
    assert_int_equal(strlen(env.record_id), GW_RECORD_ID_MAX);
    char key[GW_KEY_MAX + 1];
    assert_int_equal(gw_envelope_key(&env, key, sizeof key),
                     strlen("c|orders|") + GW_RECORD_ID_MAX);
}

static const char truncated_body[] =
    "{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"integration_name\":\"x\","
    "\"data\":{\"id\":\"o1\"},\"data_truncated\":true,\"data_url\":\"https://t/x\"}";

static void test_full_from_envelope(void **state) {
    (void)state;
    gw_envelope env;
    assert_int_equal(gw_envelope_parse(truncated_body, strlen(truncated_body), &env), GW_ENV_OK);
    const char *full = "{\"connection_id\":\"c1\",\"event_type\":\"order.updated\",\"data\":{"
                       "\"id\":\"o1\",\"lines\":[1,2]}}";
    char *out = (char *)1;
    size_t olen = 99;
    char err[128];
    assert_int_equal(gw_envelope_full(truncated_body, strlen(truncated_body), &env, full,
                                      strlen(full), &out, &olen, err, sizeof err),
                     0);
    assert_null(out); /* publish the download unchanged */
    assert_int_equal(olen, 0);
}

static void test_full_from_bare_record(void **state) {
    (void)state;
    gw_envelope env;
    assert_int_equal(gw_envelope_parse(truncated_body, strlen(truncated_body), &env), GW_ENV_OK);
    const char *records[] = {"{\"id\":\"o1\",\"status\":\"open\"}",
                             "{\"data\":{\"id\":\"o1\",\"status\":\"open\"}}"};
    for (int i = 0; i < 2; i++) {
        char *out = NULL;
        size_t olen = 0;
        char err[128];
        assert_int_equal(gw_envelope_full(truncated_body, strlen(truncated_body), &env, records[i],
                                          strlen(records[i]), &out, &olen, err, sizeof err),
                         0);
        assert_non_null(out);
        assert_int_equal(olen, strlen(out));
        assert_non_null(strstr(out, "\"status\":\"open\""));
        assert_null(strstr(out, "data_truncated"));
        assert_null(strstr(out, "data_url"));
        assert_non_null(strstr(out, "\"integration_name\":\"x\""));
        gw_envelope again;
        assert_int_equal(gw_envelope_parse(out, olen, &again), GW_ENV_OK);
        assert_int_equal(again.truncated, 0);
        assert_string_equal(again.record_id, "o1");
        free(out);
    }
}

static void test_full_rejects_mixups(void **state) {
    (void)state;
    gw_envelope env;
    assert_int_equal(gw_envelope_parse(truncated_body, strlen(truncated_body), &env), GW_ENV_OK);
    const char *bad[] = {
        "{\"id\":\"OTHER\"}",
        "{\"connection_id\":\"c2\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o1\"}}",
        "[1]",
        "<html>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL;
        size_t olen = 0;
        char err[128] = "";
        assert_int_equal(gw_envelope_full(truncated_body, strlen(truncated_body), &env, bad[i],
                                          strlen(bad[i]), &out, &olen, err, sizeof err),
                         -1);
        assert_null(out);
        assert_true(err[0] != '\0');
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_table),
        cmocka_unit_test(test_every_known_type_round_trips),
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_respects_length),
        cmocka_unit_test(test_field_bounds),
        cmocka_unit_test(test_full_from_envelope),
        cmocka_unit_test(test_full_from_bare_record),
        cmocka_unit_test(test_full_rejects_mixups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
