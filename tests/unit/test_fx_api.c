/* test_fx_api.c - what the fetcher reads from Trackstar's management answers and from
 * connection events: supported resources, first-sync flags (both documented shapes of
 * GET /connections/{id}), the link exchange, event parsing, the sync-status body and
 * the polled record's event id; plus the resource names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher/fx_api.h"
#include "fetcher/fx_events.h"
#include "fetcher/fx_pub.h"
#include "fetcher/fx_res.h"

#define BIT(r) (1u << (r))

static void integrations_list(void **state) {
    (void)state;
    const char *b =
        "{\"data\":[{\"integration_name\":\"shipbob\",\"available_actions\":[\"get_orders\","
        "\"create_order\",\"get_inventory\",\"get_warehouse_locations\"]},"
        "{\"integration_name\":\"cool\",\"available_actions\":[],\"list_operations\":"
        "[{\"action\":\"get_bills\",\"url\":\"/wms/billing\"}]}]}";
    fx_integ g[4];
    int n;
    assert_int_equal(fx_api_parse_integrations(b, strlen(b), g, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(g[0].name, "shipbob");
    assert_int_equal(g[0].reads,
                     BIT(FX_RES_ORDERS) | BIT(FX_RES_INVENTORY) | BIT(FX_RES_WAREHOUSE_LOCATIONS));
    assert_int_equal(g[1].reads, BIT(FX_RES_BILLS));
    assert_int_equal(fx_api_parse_integrations("{}", 2, g, 4, &n), -1);
}

static void connection_both_shapes(void **state) {
    (void)state;
    const char *list =
        "{\"data\":[{\"connection_id\":\"c1\",\"integration_name\":\"sandbox\","
        "\"available_actions\":[\"get_orders\",\"get_returns\"],"
        "\"historical_sync_completed\":{\"get_orders\":true,\"get_returns\":false}}]}";
    const char *obj =
        "{\"data\":{\"connection_id\":\"c1\",\"integration_name\":\"sandbox\","
        "\"sync_schedules\":[{\"function_name\":\"get_orders\",\"sync_status\":\"enabled\"},"
        "{\"function_name\":\"get_returns\",\"sync_status\":\"first_sync_in_progress\"}]}}";
    fx_conn_info ci;
    assert_int_equal(fx_api_parse_connection(list, strlen(list), &ci), 0);
    assert_int_equal(ci.hist_done, BIT(FX_RES_ORDERS));
    assert_true(ci.actions_known);
    assert_int_equal(ci.actions, BIT(FX_RES_ORDERS) | BIT(FX_RES_RETURNS));
    assert_string_equal(ci.integration, "sandbox");
    assert_int_equal(fx_api_parse_connection(obj, strlen(obj), &ci), 0);
    assert_int_equal(ci.hist_done, BIT(FX_RES_ORDERS));
    assert_false(ci.actions_known);
    assert_int_equal(fx_api_parse_connection("{\"data\":[]}", 11, &ci), -1);
}

static void exchange_answer(void **state) {
    (void)state;
    const char *b = "{\"access_token\":\"secret_tok\",\"connection_id\":\"c9\",\"integration_"
                    "name\":\"shipbob\","
                    "\"customer_id\":null,\"available_actions\":[]}";
    char id[FX_ID_MAX], integ[FX_ID_MAX], *tok;
    assert_int_equal(fx_api_parse_exchange(b, strlen(b), id, integ, &tok), 0);
    assert_string_equal(id, "c9");
    assert_string_equal(integ, "shipbob");
    assert_string_equal(tok, "secret_tok");
    fx_crypto_free_secret(tok);
    const char *nok = "{\"connection_id\":\"c9\"}";
    assert_int_equal(fx_api_parse_exchange(nok, strlen(nok), id, integ, &tok), -1);
    assert_null(tok);
}

static void connection_events(void **state) {
    (void)state;
    assert_int_equal(fx_event_kind_of("connection.created"), FX_EV_CREATED);
    assert_int_equal(fx_event_kind_of("connection.historical-sync-completed"), FX_EV_HIST_DONE);
    assert_int_equal(fx_event_kind_of("order.updated"), FX_EV_NONE);
    assert_int_equal(fx_event_kind_of(NULL), FX_EV_NONE);
    fx_event ev;
    const char *c =
        "{\"connection_id\":\"c1\",\"event_type\":\"connection.created\",\"integration_name\":"
        "\"shipbob\","
        "\"integration_type\":\"general\",\"data\":{\"created_date\":\"2026-01-05T10:00:00Z\","
        "\"access_token\":\"tok_1\"}}";
    assert_int_equal(fx_event_parse(FX_EV_CREATED, c, strlen(c), &ev), 0);
    assert_string_equal(ev.conn, "c1");
    assert_string_equal(ev.integration, "shipbob");
    assert_string_equal(ev.token, "tok_1");
    assert_int_equal(ev.created_ms, 1767607200000LL);
    fx_event_clear(&ev);
    const char *h =
        "{\"connection_id\":\"c1\",\"event_type\":\"connection.historical-sync-completed\","
        "\"integration_name\":\"x\",\"data\":{\"resource\":\"inbound-shipments\","
        "\"oldest_data_date\":\"2025-01-01T00:00:00Z\",\"newest_data_date\":\"2025-05-01T00:00:"
        "00Z\"}}";
    assert_int_equal(fx_event_parse(FX_EV_HIST_DONE, h, strlen(h), &ev), 0);
    assert_int_equal(ev.res, FX_RES_INBOUND_SHIPMENTS);
    assert_int_equal(ev.oldest_ms, 1735689600000LL);
    fx_event_clear(&ev);
    const char *notok = "{\"connection_id\":\"c1\",\"data\":{}}";
    assert_int_equal(fx_event_parse(FX_EV_CREATED, notok, strlen(notok), &ev), -1);
    fx_event_clear(&ev);
    assert_int_equal(fx_event_parse(FX_EV_DELETED, "{\"data\":{}}", 11, &ev),
                     -1); /* no connection */
    fx_event_clear(&ev);
}

static void status_body(void **state) {
    (void)state;
    fx_status s = {.connection_id = "c1",
                   .integration = "shipbob",
                   .resource = "orders",
                   .state = "failed",
                   .last_started_ms = 1767607200000LL,
                   .last_success_ms = 0,
                   .records_seen = 42,
                   .last_error = "HTTP 503: \"down\"",
                   .updated_ms = 1767607201500LL};
    sbuf b = {0};
    assert_int_equal(fx_status_json(&b, &s), 0);
    assert_string_equal(
        b.p,
        "{\"connection_id\":\"c1\",\"integration_name\":\"shipbob\",\"resource\":\"orders\","
        "\"state\":\"failed\",\"last_started_at\":\"2026-01-05T10:00:00.000Z\","
        "\"last_success_at\":null,\"records_seen\":42,"
        "\"last_error\":\"HTTP 503: \\\"down\\\"\",\"updated_at\":\"2026-01-05T10:00:01.500Z\"}");
    sbuf_free(&b);
}

static void event_ids(void **state) {
    (void)state;
    char id[FX_EVENT_ID_MAX];
    fx_pub_event_id(id, sizeof id, "c1", "orders", "ord_1", "2026-01-06T09:00:00Z", NULL);
    assert_string_equal(id, "poll:c1:orders:ord_1:2026-01-06T09:00:00Z");
    fx_pub_event_id(id, sizeof id, "c1", "orders", "ord_1", "2026-01-06T09:00:00Z",
                    "2026-01-06T09:05:00Z");
    assert_string_equal(id, "poll:c1:orders:ord_1:2026-01-06T09:00:00Z:2026-01-06T09:05:00Z");
}

static void resource_names(void **state) {
    (void)state;
    static const char *names[FX_RES_COUNT] = {
        "orders",           "inventory", "products",          "warehouses", "warehouse_locations",
        "shipping_methods", "returns",   "inbound_shipments", "bills"};
    for (int r = 0; r < FX_RES_COUNT; r++) {
        assert_string_equal(fx_res_infos[r].name, names[r]);
        assert_int_equal(fx_res_lookup(names[r]), r);
        assert_int_equal(fx_res_lookup(fx_res_infos[r].function), r);
    }
    assert_int_equal(fx_res_lookup("billing"), FX_RES_BILLS);
    assert_int_equal(fx_res_lookup("shipping-methods"), FX_RES_SHIPPING_METHODS);
    assert_int_equal(fx_res_lookup("get_labor_activities"), -1);
    assert_int_equal(fx_res_infos[FX_RES_WAREHOUSES].default_interval_s, 43200);
    assert_int_equal(fx_res_infos[FX_RES_ORDERS].default_interval_s, 3600);
    assert_int_equal(fx_res_infos[FX_RES_INVENTORY].kind, FX_KIND_SNAPSHOT);
}

/* Complete listings: read whole (no cursor), with the writer's table to compare with. */
static void complete_listings(void **state) {
    (void)state;
    static const struct {
        fx_res res;
        const char *table;
    } want[] = {{FX_RES_INVENTORY, "inventory_items"},
                {FX_RES_WAREHOUSES, "warehouses"},
                {FX_RES_WAREHOUSE_LOCATIONS, "warehouse_locations"},
                {FX_RES_SHIPPING_METHODS, "shipping_methods"}};
    int complete = 0;
    for (int r = 0; r < FX_RES_COUNT; r++) {
        assert_int_equal(fx_res_infos[r].table != NULL,
                         fx_res_infos[r].kind != FX_KIND_INCREMENTAL);
        complete += fx_res_infos[r].table != NULL;
    }
    assert_int_equal(complete, (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(fx_res_infos[want[i].res].table, want[i].table);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integrations_list), cmocka_unit_test(connection_both_shapes),
        cmocka_unit_test(exchange_answer),   cmocka_unit_test(connection_events),
        cmocka_unit_test(status_body),       cmocka_unit_test(event_ids),
        cmocka_unit_test(resource_names),    cmocka_unit_test(complete_listings),
    };
    return cmocka_run_group_tests_name("fx_api", tests, NULL, NULL);
}
