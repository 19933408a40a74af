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
#include "entities.h"

#define KEY_A "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define KEY_B "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="

#define BIT(r) (1u << (r))

/* What get_orders reads: orders, their channels and their packs. */
#define ORDERS_READ (BIT(TS_ENT_ORDERS) | BIT(TS_ENT_ORDER_CHANNELS) | BIT(TS_ENT_ORDER_PACKS))

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
    /* get_orders reads order channels and packs too (the registry's WITH(orders)) */
    assert_int_equal(g[0].reads,
                     ORDERS_READ | BIT(TS_ENT_INVENTORY) | BIT(TS_ENT_WAREHOUSE_LOCATIONS));
    assert_int_equal(g[1].reads, BIT(TS_ENT_BILLS));
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
    const char *o = NULL;
    size_t ol = 0;
    assert_int_equal(fx_api_parse_connection(list, strlen(list), &ci, &o, &ol), 0);
    /* the object's bytes as served: the list's first element, then the object itself */
    assert_ptr_equal(o, list + strlen("{\"data\":["));
    assert_int_equal(ol, strlen(list) - strlen("{\"data\":[]}"));
    assert_int_equal(ci.hist_done, ORDERS_READ);
    assert_true(ci.actions_known);
    assert_int_equal(ci.actions, ORDERS_READ | BIT(TS_ENT_RETURNS));
    assert_string_equal(ci.integration, "sandbox");
    assert_int_equal(fx_api_parse_connection(obj, strlen(obj), &ci, &o, &ol), 0);
    assert_ptr_equal(o, obj + strlen("{\"data\":"));
    assert_int_equal(ol, strlen(obj) - strlen("{\"data\":}"));
    assert_int_equal(ci.hist_done, ORDERS_READ);
    assert_true(ci.sched[TS_ENT_ORDER_CHANNELS].known); /* get_orders' schedule is theirs */
    assert_false(ci.sched[TS_ENT_INBOUND_SHIPMENT_SUPPLIERS].known);
    assert_false(ci.actions_known);
    assert_int_equal(fx_api_parse_connection("{\"data\":[]}", 11, &ci, NULL, NULL), -1);
    assert_int_equal(fx_api_parse_connection("{\"data\": 7}", 11, &ci, NULL, NULL), -1);
    assert_int_equal(fx_api_parse_connection("{\"data\":{\"a\":}}", 15, &ci, NULL, NULL), -1);
}

/* A page of GET /connections: every element naming a connection is handed with its bytes
 * as served and what it says; one without a connection_id is skipped; next_token read
 * ("" when null, the last page); a body that is not a list envelope refused. */
typedef struct listed {
    int n;
    char ids[4][16];
    char objs[4][256];
    fx_conn_info info[4];
} listed;

static void on_listed(void *arg, const char *id, const char *obj, size_t len,
                      const fx_conn_info *info) {
    listed *l = arg;
    assert_true(l->n < 4);
    snprintf(l->ids[l->n], sizeof l->ids[0], "%s", id);
    snprintf(l->objs[l->n], sizeof l->objs[0], "%.*s", (int)len, obj);
    l->info[l->n++] = *info;
}

static void connection_pages(void **state) {
    (void)state;
    const char *page =
        "{\"data\":[{\"connection_id\":\"c1\",\"integration_name\":\"sandbox\","
        "\"available_actions\":[\"get_orders\"],\"historical_sync_completed\":{\"get_orders\":true}"
        "},"
        " {\"integration_name\":\"no-id\"},"
        "{\"connection_id\":\"c2\", \"sync_schedules\":[{\"function_name\":\"get_orders\","
        "\"sync_frequency\":3600,\"sync_status\":\"enabled\"}]}],"
        "\"next_token\":\"tok+/=\",\"total_count\":250}";
    listed l = {0};
    char next[64];
    assert_int_equal(
        fx_api_parse_connection_page(page, strlen(page), on_listed, &l, next, sizeof next), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.ids[0], "c1");
    assert_string_equal(l.ids[1], "c2");
    assert_string_equal(next, "tok+/=");
    /* the element exactly as served, and what it says (as fx_api_parse_connection reads it) */
    assert_string_equal(l.objs[1],
                        "{\"connection_id\":\"c2\", \"sync_schedules\":[{\"function_name\":"
                        "\"get_orders\",\"sync_frequency\":3600,\"sync_status\":\"enabled\"}]}");
    assert_true(l.info[0].actions_known);
    assert_int_equal(l.info[0].hist_done, ORDERS_READ);
    assert_string_equal(l.info[0].integration, "sandbox");
    assert_true(l.info[1].sched[TS_ENT_ORDERS].known);
    assert_int_equal(l.info[1].sched[TS_ENT_ORDERS].frequency_ms, 3600000);
    assert_int_equal(l.info[1].hist_done, ORDERS_READ); /* enabled: its first sync is done */

    const char *last = "{\"data\":[],\"next_token\":null}";
    memset(&l, 0, sizeof l);
    assert_int_equal(
        fx_api_parse_connection_page(last, strlen(last), on_listed, &l, next, sizeof next), 0);
    assert_int_equal(l.n, 0);
    assert_string_equal(next, "");
    const char *bad[] = {"{\"data\":{\"connection_id\":\"c1\"}}", "{\"next_token\":null}",
                         "{\"data\":[{\"connection_id\":\"c1\"}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(
            fx_api_parse_connection_page(bad[i], strlen(bad[i]), on_listed, &l, next, sizeof next),
            -1);
}

/* sync_schedules: Trackstar's promise per resource. A crawl in progress (its start after
 * the last end, or sync_status sync_in_progress) does not replace the last ended one. */
static void schedules_and_promise(void **state) {
    (void)state;
    const char *body =
        "{\"data\":{\"webhooks_disabled\":true,\"sync_schedules\":["
        "{\"function_name\":\"get_orders\",\"sync_frequency\":3600,\"sync_status\":\"enabled\","
        "\"last_crawl_start\":\"2026-01-06T09:00:00Z\",\"last_crawl_end\":\"2026-01-06T09:04:00Z\"}"
        ","
        "{\"function_name\":\"get_warehouses\",\"sync_frequency\":43200,"
        "\"sync_status\":\"sync_in_progress\",\"last_crawl_start\":\"2026-01-06T10:00:00Z\","
        "\"last_crawl_end\":\"2026-01-06T09:04:00Z\"},"
        "{\"function_name\":\"get_returns\",\"sync_status\":\"error\",\"last_crawl_start\":null,"
        "\"last_crawl_end\":null}]}}";
    fx_conn_info ci;
    assert_int_equal(fx_api_parse_connection(body, strlen(body), &ci, NULL, NULL), 0);
    assert_int_equal(ci.webhooks_disabled, 1);
    const fx_schedule *o = &ci.sched[TS_ENT_ORDERS], *w = &ci.sched[TS_ENT_WAREHOUSES];
    assert_true(o->known && !o->running && !o->error);
    assert_int_equal(o->frequency_ms, 3600000);
    assert_int_equal(o->crawl_end_ms - o->crawl_start_ms, 240000);
    assert_true(w->running);
    assert_true(ci.sched[TS_ENT_RETURNS].error);
    assert_false(ci.sched[TS_ENT_BILLS].known);
    fx_promise p = {0};
    fx_schedule_promise(o, &p);
    assert_int_equal(p.crawl_start_ms, o->crawl_start_ms);
    assert_int_equal(p.frequency_ms, 3600000);
    fx_promise q = {.crawl_start_ms = 1000, .crawl_end_ms = 2000};
    fx_schedule_promise(w, &q); /* in progress: the ended crawl stays */
    assert_int_equal(q.crawl_start_ms, 1000);
    assert_int_equal(q.frequency_ms, 43200000);
    fx_promise e = {0};
    fx_schedule_promise(&ci.sched[TS_ENT_RETURNS], &e);
    assert_int_equal(e.crawl_end_ms, 0);
}

/* On-demand sync jobs: {id, status, ...} or {data: {...}}. */
static void job_answer(void **state) {
    (void)state;
    char id[FX_ID_MAX], status[16];
    const char *a = "{\"id\":\"odsj_1\",\"connection_id\":\"c1\",\"function_name\":\"get_orders\","
                    "\"status\":\"open\"}";
    assert_int_equal(fx_api_parse_job(a, strlen(a), id, status, sizeof status), 0);
    assert_string_equal(id, "odsj_1");
    assert_string_equal(status, "open");
    const char *b = "{\"data\":{\"id\":\"odsj_2\",\"status\":\"stuck\"}}";
    assert_int_equal(fx_api_parse_job(b, strlen(b), id, status, sizeof status), 0);
    assert_string_equal(status, "stuck");
    assert_int_equal(fx_api_parse_job("{\"id\":\"x\"}", 10, id, status, sizeof status), -1);
    assert_int_equal(fx_api_parse_job("nope", 4, id, status, sizeof status), -1);
}

static void exchange_answer(void **state) {
    (void)state;
    const char *b = "{\"access_token\":\"secret_tok\",\"connection_id\":\"c9\",\"integration_"
                    "name\":\"shipbob\","
                    "\"customer_id\":null,\"available_actions\":[]}";
    char id[FX_ID_MAX], integ[FX_ID_MAX], cust[FX_ID_MAX], *tok;
    assert_int_equal(fx_api_parse_exchange(b, strlen(b), id, integ, cust, &tok), 0);
    assert_string_equal(id, "c9");
    assert_string_equal(integ, "shipbob");
    assert_string_equal(cust, "");
    assert_string_equal(tok, "secret_tok");
    seal_free_secret(tok);
    const char *withc =
        "{\"access_token\":\"t\",\"connection_id\":\"c9\",\"customer_id\":\"cust_7\"}";
    assert_int_equal(fx_api_parse_exchange(withc, strlen(withc), id, integ, cust, &tok), 0);
    assert_string_equal(cust, "cust_7");
    seal_free_secret(tok);
    const char *nok = "{\"connection_id\":\"c9\"}";
    assert_int_equal(fx_api_parse_exchange(nok, strlen(nok), id, integ, cust, &tok), -1);
    assert_null(tok);
}

static void connection_events(void **state) {
    (void)state;
    assert_int_equal(fx_event_kind_of("connection.created"), FX_EV_CREATED);
    assert_int_equal(fx_event_kind_of("connection.historical-sync-completed"), FX_EV_HIST_DONE);
    assert_int_equal(fx_event_kind_of("order.updated"), FX_EV_NONE);
    assert_int_equal(fx_event_kind_of(NULL), FX_EV_NONE);
    fx_event ev;
    seal_ring ring;
    char err[160];
    assert_int_equal(seal_ring_parse(KEY_A, NULL, &ring, err, sizeof err), 0);
    /* before webhook-gw sealed tokens (or a body written by hand): clear */
    const char *c =
        "{\"connection_id\":\"c1\",\"event_type\":\"connection.created\",\"integration_name\":"
        "\"shipbob\","
        "\"integration_type\":\"general\",\"data\":{\"created_date\":\"2026-01-05T10:00:00Z\","
        "\"access_token\":\"tok_1\"}}";
    assert_int_equal(fx_event_parse(FX_EV_CREATED, c, strlen(c), &ring, &ev), 0);
    assert_string_equal(ev.conn, "c1");
    assert_string_equal(ev.integration, "shipbob");
    assert_string_equal(ev.token, "tok_1");
    assert_false(ev.sealed);
    assert_string_equal(ev.customer, "");
    assert_int_equal(ev.event_ms, 1767607200000LL);
    fx_event_clear(&ev);
    /* as webhook-gw publishes it: sealed for this connection, customer_id in the envelope */
    char *sealed = seal_seal(&ring, "c1", "tok_2", err, sizeof err), body[512];
    snprintf(body, sizeof body,
             "{\"connection_id\":\"c1\",\"event_type\":\"connection.created\","
             "\"customer_id\":\"cust_9\",\"data\":{\"created_date\":\"2026-01-05T10:00:00Z\","
             "\"access_token_sealed\":\"%s\"}}",
             sealed);
    assert_int_equal(fx_event_parse(FX_EV_CREATED, body, strlen(body), &ring, &ev), 0);
    assert_true(ev.sealed);
    assert_string_equal(ev.token, "tok_2");
    assert_string_equal(ev.customer, "cust_9");
    fx_event_clear(&ev);
    /* a key this ring lacks: parsed, token NULL, the reason names the key id */
    seal_ring other;
    assert_int_equal(seal_ring_parse(KEY_B, NULL, &other, err, sizeof err), 0);
    assert_int_equal(fx_event_parse(FX_EV_CREATED, body, strlen(body), &other, &ev), 0);
    assert_null(ev.token);
    assert_non_null(strstr(ev.seal_err, ring.keys[0].kid));
    fx_event_clear(&ev);
    /* sealed for another connection: does not open */
    snprintf(body, sizeof body,
             "{\"connection_id\":\"c2\",\"data\":{\"access_token_sealed\":\"%s\"}}", sealed);
    assert_int_equal(fx_event_parse(FX_EV_CREATED, body, strlen(body), &ring, &ev), 0);
    assert_null(ev.token);
    assert_int_equal(ev.event_ms, 0);
    fx_event_clear(&ev);
    free(sealed);
    const char *d =
        "{\"connection_id\":\"c1\",\"data\":{\"deleted_date\":\"2026-01-05T10:00:01Z\"}}";
    assert_int_equal(fx_event_parse(FX_EV_DELETED, d, strlen(d), &ring, &ev), 0);
    assert_int_equal(ev.event_ms, 1767607201000LL);
    fx_event_clear(&ev);
    const char *h =
        "{\"connection_id\":\"c1\",\"event_type\":\"connection.historical-sync-completed\","
        "\"integration_name\":\"x\",\"data\":{\"resource\":\"inbound-shipments\","
        "\"oldest_data_date\":\"2025-01-01T00:00:00Z\",\"newest_data_date\":\"2025-05-01T00:00:"
        "00Z\"}}";
    assert_int_equal(fx_event_parse(FX_EV_HIST_DONE, h, strlen(h), &ring, &ev), 0);
    assert_int_equal(ev.res, TS_ENT_INBOUND_SHIPMENTS);
    assert_int_equal(ev.oldest_ms, 1735689600000LL);
    fx_event_clear(&ev);
    const char *notok = "{\"connection_id\":\"c1\",\"data\":{}}";
    assert_int_equal(fx_event_parse(FX_EV_CREATED, notok, strlen(notok), &ring, &ev), -1);
    fx_event_clear(&ev);
    assert_int_equal(fx_event_parse(FX_EV_DELETED, "{\"data\":{}}", 11, &ring, &ev),
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

/* Complete listings (read whole every run, no cursor; their records can be found gone):
 * inventory, warehouses, shipping methods, order channels, suppliers, and every
 * warehouse's locations. */
static void complete_listings(void **state) {
    (void)state;
    static const ts_entity_id complete[] = {TS_ENT_INVENTORY, TS_ENT_WAREHOUSES,
                                            TS_ENT_SHIPPING_METHODS, TS_ENT_ORDER_CHANNELS,
                                            TS_ENT_INBOUND_SHIPMENT_SUPPLIERS};
    int n = 0;
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        n += ts_entities[r].poll == TS_POLL_COMPLETE;
    assert_int_equal(n, (int)(sizeof complete / sizeof complete[0]));
    for (size_t i = 0; i < sizeof complete / sizeof complete[0]; i++)
        assert_int_equal(ts_entities[complete[i]].poll, TS_POLL_COMPLETE);
    assert_int_equal(ts_entities[TS_ENT_WAREHOUSE_LOCATIONS].poll, TS_POLL_PER_WAREHOUSE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integrations_list),     cmocka_unit_test(connection_both_shapes),
        cmocka_unit_test(exchange_answer),       cmocka_unit_test(connection_events),
        cmocka_unit_test(status_body),           cmocka_unit_test(event_ids),
        cmocka_unit_test(schedules_and_promise), cmocka_unit_test(job_answer),
        cmocka_unit_test(complete_listings),     cmocka_unit_test(connection_pages),
    };
    return cmocka_run_group_tests_name("fx_api", tests, NULL, NULL);
}
