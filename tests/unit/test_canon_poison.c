/* test_canon_poison.c - what canon_map refuses (poison: -1 with a reason, nothing
 * published), the value policy (a value that cannot be cast is stored as null and the
 * record lists the change; only identity and version fields are poison), what it
 * deliberately ignores (0 messages with a reason to count), both
 * spellings of event types, the access token never leaving connection.created, unknown
 * fields landing in extra, and money printed as strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "tests/unit/canon_test_util.h"

/* A minimal valid order, with the line items in the middle so a case can replace them. */
#define ORDER_HEAD                                                                                 \
    "{\"connection_id\":\"conn_1\",\"event_type\":\"order.updated\",\"integration_name\":\"x\","   \
    "\"integration_type\":\"wms\",\"data\":{\"id\":\"ord_1\",\"updated_date\":\"2026-01-06T09:00:" \
    "00Z\""
#define ORDER_TAIL "}}"

typedef struct poison_case {
    const char *what;
    const char *body;
    const char *source, *event_type, *resource, *connection_id;
    const char *reason; /* substring expected in errstr */
} poison_case;

static const poison_case poison[] = {
    {"malformed JSON", "{\"connection_id\":", "webhook", "order.updated", NULL, NULL,
     "malformed JSON"},
    {"trailing data", ORDER_HEAD ORDER_TAIL " x", "webhook", "order.updated", NULL, NULL,
     "trailing"},
    {"not an object", "[1,2]", "webhook", "order.updated", NULL, NULL, "not a JSON object"},
    {"invalid UTF-8", ORDER_HEAD ",\"name\":\"\xc3\x28\"" ORDER_TAIL, "webhook", "order.updated",
     NULL, NULL, "UTF-8"},
    {"missing id",
     "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{\"updated_date\":"
     "\"2026-01-06T09:00:00Z\"}}",
     "webhook", "order.updated", NULL, NULL, "missing id"},
    {"numeric id",
     "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{\"id\":12,"
     "\"updated_date\":\"2026-01-06T09:00:00Z\"}}",
     "webhook", "order.updated", NULL, NULL, "wrong type for id"},
    {"empty id",
     "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"\","
     "\"updated_date\":\"2026-01-06T09:00:00Z\"}}",
     "webhook", "order.updated", NULL, NULL, "id is empty"},
    {"missing connection_id (webhook)",
     "{\"event_type\":\"order.updated\",\"data\":{\"id\":\"o\",\"updated_date\":"
     "\"2026-01-06T09:00:00Z\"}}",
     "webhook", "order.updated", NULL, NULL, "missing connection_id"},
    {"missing connection_id (poll)", "{\"id\":\"o\",\"updated_date\":\"2026-01-06T09:00:00Z\"}",
     "poll", "orders.polled", "orders", NULL, "missing connection_id"},
    {"missing updated_date",
     "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":{\"id\":\"o\"}}",
     "webhook", "order.updated", NULL, NULL, "missing updated_date"},
    {"bad updated_date", "{\"id\":\"o\",\"updated_date\":\"last tuesday\"}", "poll",
     "orders.polled", "orders", "conn_1", "bad timestamp at updated_date"},
    {"missing data", "{\"connection_id\":\"c\",\"event_type\":\"order.updated\"}", "webhook",
     "order.updated", NULL, NULL, "missing data"},
    {"data not an object", "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data\":[]}",
     "webhook", "order.updated", NULL, NULL, "wrong type for data"},
    {"escaped NUL in a string", ORDER_HEAD ",\"order_number\":\"#10\\u000001\"" ORDER_TAIL,
     "webhook", "order.updated", NULL, NULL, "NUL character"},
    {"data_truncated",
     "{\"connection_id\":\"c\",\"event_type\":\"order.updated\",\"data_truncated\":true,"
     "\"data_url\":\"https://x/y\",\"data\":{\"id\":\"ord_1\"}}",
     "webhook", "order.updated", NULL, NULL, "data_truncated"},
    {"unknown event type", "{\"connection_id\":\"c\",\"data\":{\"id\":\"o\"}}", "webhook",
     "order.deleted", NULL, NULL, "unknown event_type"},
    {"unknown family", "{\"connection_id\":\"c\",\"data\":{\"id\":\"o\"}}", "webhook",
     "gizmo.created", NULL, NULL, "unknown event_type"},
    {"header and body disagree", ORDER_HEAD ORDER_TAIL, "webhook", "product.updated", NULL, NULL,
     "disagree"},
    {"no event type anywhere", "{\"connection_id\":\"c\",\"data\":{}}", "webhook", NULL, NULL, NULL,
     "missing event_type"},
    {"webhook type with poll source", ORDER_HEAD ORDER_TAIL, "poll", "order.updated", "orders",
     "conn_1", "poll with event_type"},
    {"unknown poll resource", "{\"id\":\"o\",\"updated_date\":\"2026-01-06T09:00:00Z\"}", "poll",
     "gizmos.polled", "gizmos", "conn_1", "unknown poll resource"},
    {"poll resource and type disagree", "{\"id\":\"o\",\"updated_date\":\"2026-01-06T09:00:00Z\"}",
     "poll", "orders.polled", "returns", "conn_1", "disagree"},
    {"no source", ORDER_HEAD ORDER_TAIL, NULL, "order.updated", NULL, NULL, "needs source webhook"},
    {"historical sync without resource",
     "{\"connection_id\":\"c\",\"event_type\":\"connection.historical-sync-completed\","
     "\"data\":{\"oldest_data_date\":\"2025-01-01T00:00:00Z\"}}",
     "webhook", "connection.historical-sync-completed", NULL, NULL, "missing resource"},
    {"sync status without connection", "{\"resource\":\"orders\",\"state\":\"running\"}", "poll",
     "pipeline.sync-status", NULL, NULL, "missing connection_id"},
    {"duplicate warehouse in inventory",
     "{\"id\":\"inv\",\"updated_date\":\"2026-01-06T09:00:00Z\",\"inventory_by_warehouse_id\":"
     "{\"wh_1\":{\"onhand\":1},\"wh_1\":{\"onhand\":2}}}",
     "poll", "inventory.polled", "inventory", "conn_1", "duplicate warehouse id"},
};

/* A case's raw message, with the headers it names. */
static canon_raw case_raw(const char *body, const char *source, const char *event_type,
                          const char *resource, const char *connection_id) {
    canon_raw in = {.body = body,
                    .body_len = strlen(body),
                    .source = source,
                    .event_id = "e",
                    .event_type = event_type,
                    .resource = resource,
                    .connection_id = connection_id,
                    .received_at = CANON_TEST_RECEIVED};
    return in;
}

/* The value policy: the record is kept, the value is null ([] or {} for collections, an
 * element left out of its array), and value_changes says which field, what and why. */
typedef struct changed_case {
    const char *what;
    const char *body;
    const char *source, *event_type, *resource, *connection_id;
    const char *stored;  /* substring of the record: the field as stored */
    const char *changes; /* the record's value_changes, exactly */
    const char *label;   /* the first field as the metric names it */
} changed_case;

#define INV_POLL(map)                                                                              \
    "{\"id\":\"inv\",\"updated_date\":\"2026-01-06T09:00:00Z\",\"inventory_by_warehouse_id\":" map \
    "}"

static const changed_case changed[] = {
    {"quantity as string",
     ORDER_HEAD ",\"line_items\":[{\"product_id\":\"p\",\"quantity\":\"2\"}]" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"product_id\":\"p\",\"sku\":null,\"quantity\":null",
     "[{\"field\":\"line_items.0.quantity\",\"change\":\"nulled\",\"reason\":\"wrong type: "
     "string, want integer\"}]",
     "line_items.*.quantity"},
    {"fractional quantity",
     ORDER_HEAD ",\"line_items\":[{\"product_id\":\"p\",\"quantity\":2.5}]" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"quantity\":null",
     "[{\"field\":\"line_items.0.quantity\",\"change\":\"nulled\",\"reason\":\"not an exact "
     "integer\"}]",
     "line_items.*.quantity"},
    {"quantity beyond 2^53",
     ORDER_HEAD ",\"line_items\":[{\"quantity\":18014398509481984}]" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"quantity\":null",
     "[{\"field\":\"line_items.0.quantity\",\"change\":\"nulled\",\"reason\":\"not an exact "
     "integer\"}]",
     "line_items.*.quantity"},
    {"quantity 2^53 + 1 (parses to 2^53)",
     ORDER_HEAD ",\"line_items\":[{\"quantity\":9007199254740993}]" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"quantity\":null",
     "[{\"field\":\"line_items.0.quantity\",\"change\":\"nulled\",\"reason\":\"not an exact "
     "integer\"}]",
     "line_items.*.quantity"},
    {"line_items not an array", ORDER_HEAD ",\"line_items\":{\"a\":1}" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"line_items\":[]",
     "[{\"field\":\"line_items\",\"change\":\"nulled\",\"reason\":\"wrong type, want "
     "array\"}]",
     "line_items"},
    {"line item not an object, the next keeps its number",
     ORDER_HEAD ",\"line_items\":[3,{\"sku\":\"B\"}]" ORDER_TAIL, "webhook", "order.updated", NULL,
     NULL, "\"line_items\":[{\"line_number\":1,\"product_id\":null,\"sku\":\"B\"",
     "[{\"field\":\"line_items.0\",\"change\":\"dropped\",\"reason\":\"wrong type, want "
     "object\"}]",
     "line_items.*"},
    {"status as number", ORDER_HEAD ",\"status\":3" ORDER_TAIL, "webhook", "order.updated", NULL,
     NULL, "\"status\":null",
     "[{\"field\":\"status\",\"change\":\"nulled\",\"reason\":\"wrong type: number, want "
     "string\"}]",
     "status"},
    {"price as bool", ORDER_HEAD ",\"total_price\":true" ORDER_TAIL, "webhook", "order.updated",
     NULL, NULL, "\"total_price\":null",
     "[{\"field\":\"total_price\",\"change\":\"nulled\",\"reason\":\"wrong type: boolean, "
     "want number\"}]",
     "total_price"},
    {"price as words", ORDER_HEAD ",\"total_price\":\"ten\"" ORDER_TAIL, "webhook", "order.updated",
     NULL, NULL, "\"total_price\":null",
     "[{\"field\":\"total_price\",\"change\":\"nulled\",\"reason\":\"non-numeric text\"}]",
     "total_price"},
    {"price overflows", ORDER_HEAD ",\"total_price\":1e999" ORDER_TAIL, "webhook", "order.updated",
     NULL, NULL, "\"total_price\":null",
     "[{\"field\":\"total_price\",\"change\":\"nulled\",\"reason\":\"non-finite number\"}]",
     "total_price"},
    {"bool as string", ORDER_HEAD ",\"saturday_delivery\":\"no\"" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"saturday_delivery\":null",
     "[{\"field\":\"saturday_delivery\",\"change\":\"nulled\",\"reason\":\"wrong type: "
     "string, want boolean\"}]",
     "saturday_delivery"},
    {"tags with a number", ORDER_HEAD ",\"tags\":[\"a\",1,\"c\"]" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"tags\":[\"a\",\"c\"]",
     "[{\"field\":\"tags.1\",\"change\":\"dropped\",\"reason\":\"wrong type, want "
     "string\"}]",
     "tags.*"},
    {"additional_fields not an object", ORDER_HEAD ",\"additional_fields\":[]" ORDER_TAIL,
     "webhook", "order.updated", NULL, NULL, "\"additional_fields\":{}",
     "[{\"field\":\"additional_fields\",\"change\":\"nulled\",\"reason\":\"wrong type, want "
     "object\"}]",
     "additional_fields"},
    {"channel_object not an object", ORDER_HEAD ",\"channel_object\":\"x\"" ORDER_TAIL, "webhook",
     "order.updated", NULL, NULL, "\"channel_id\":null,\"channel_name\":null",
     "[{\"field\":\"channel_object.channel_id\",\"change\":\"nulled\",\"reason\":\"wrong "
     "type, want object around it\"},{\"field\":\"channel_object.channel_name\",\"change\":"
     "\"nulled\",\"reason\":\"wrong type, want object around it\"}]",
     "channel_object.channel_id"},
    {"impossible date", ORDER_HEAD ",\"created_date\":\"2026-02-30T00:00:00Z\"" ORDER_TAIL,
     "webhook", "order.updated", NULL, NULL, "\"created_at\":null",
     "[{\"field\":\"created_date\",\"change\":\"nulled\",\"reason\":\"bad timestamp\"}]",
     "created_date"},
    {"nested bad date",
     ORDER_HEAD ",\"shipments\":[{\"packages\":[{\"line_items\":[{\"expiration_date\":\"soon\"}]}]}"
                "]" ORDER_TAIL,
     "webhook", "order.updated", NULL, NULL, "\"expiration_date\":null",
     "[{\"field\":\"shipments.0.packages.0.line_items.0.expiration_date\",\"change\":"
     "\"nulled\",\"reason\":\"bad timestamp\"}]",
     "shipments.*.packages.*.line_items.*.expiration_date"},
    {"a deprecated return date that says \"deprecated\" (the OpenAPI example)",
     "{\"connection_id\":\"c\",\"event_type\":\"return.created\",\"data\":{\"id\":\"r\","
     "\"updated_date\":\"2026-01-06T09:00:00Z\",\"status\":\"open\",\"line_items\":[{\"sku\":"
     "\"s\",\"returned_date\":\"deprecated\"}]}}",
     "webhook", "return.created", NULL, NULL, "\"status\":\"open\"",
     "[{\"field\":\"line_items.0.returned_date\",\"change\":\"nulled\",\"reason\":\"bad "
     "timestamp\"}]",
     "line_items.*.returned_date"},
    {"warehouse entry not an object: known by its key", INV_POLL("{\"wh_1\":5}"), "poll",
     "inventory.polled", "inventory", "conn_1",
     "\"warehouses\":[{\"warehouse_id\":\"wh_1\",\"awaiting\":null",
     "[{\"field\":\"inventory_by_warehouse_id.wh_1\",\"change\":\"nulled\",\"reason\":"
     "\"wrong type, want object\"}]",
     "inventory_by_warehouse_id.*"},
    {"warehouse quantity wrong, under a key with a quote",
     INV_POLL("{\"wh\\\"1\":{\"onhand\":\"7\"}}"), "poll", "inventory.polled", "inventory",
     "conn_1", "\"onhand\":null",
     "[{\"field\":\"inventory_by_warehouse_id.wh\\\"1.onhand\",\"change\":\"nulled\","
     "\"reason\":\"wrong type: string, want integer\"}]",
     "inventory_by_warehouse_id.*.onhand"},
    {"inventory_by_warehouse_id not an object", INV_POLL("[]"), "poll", "inventory.polled",
     "inventory", "conn_1", "\"warehouses\":[]",
     "[{\"field\":\"inventory_by_warehouse_id\",\"change\":\"nulled\",\"reason\":\"wrong "
     "type, want object\"}]",
     "inventory_by_warehouse_id"},
};

static void test_value_policy(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
        const changed_case *p = &changed[i];
        canon_raw in = case_raw(p->body, p->source, p->event_type, p->resource, p->connection_id);
        canon_out out;
        char err[256];
        if (canon_map(&in, &out, NULL, err, sizeof err) != 0) fail_msg("%s: %s", p->what, err);
        assert_int_equal(out.n, 1);
        const char *v = out.msg[0].value;
        if (!strstr(v, p->stored)) fail_msg("%s: %s lacks %s", p->what, v, p->stored);
        cJSON *o = cJSON_Parse(v);
        assert_non_null(o);
        char *ch = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "value_changes"));
        if (!ch || strcmp(ch, p->changes) != 0)
            fail_msg("%s: value_changes %s, want %s", p->what, ch ? ch : "(none)", p->changes);
        /* value_changes comes last, after extra. */
        cJSON *last = o->child;
        while (last->next)
            last = last->next;
        assert_string_equal(last->string, "value_changes");
        cJSON_free(ch);
        cJSON_Delete(o);
        assert_true(out.msg[0].nchanges >= 1);
        assert_string_equal(out.msg[0].changed, p->label);
        canon_out_free(&out);
    }
}

/* A record without a change has no value_changes; more than CANON_MAX_CHANGES are cut
 * with a count, and the metric's list stops at the bound too. */
static void test_value_changes_bounded(void **state) {
    (void)state;
    canon_out out;
    char err[256];
    const char *clean = ORDER_HEAD ",\"status\":\"open\"" ORDER_TAIL;
    canon_raw in = ct_webhook(clean, strlen(clean), "order.updated", "e");
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    assert_null(strstr(out.msg[0].value, "value_changes"));
    assert_int_equal(out.msg[0].nchanges, 0);
    assert_null(out.msg[0].changed);
    canon_out_free(&out);

    size_t n = CANON_MAX_CHANGES + 6, cap = 64 + n * 16;
    char *body = malloc(cap);
    assert_non_null(body);
    int len = snprintf(body, cap, "%s,\"tags\":[", ORDER_HEAD);
    for (size_t i = 0; i < n; i++)
        len += snprintf(body + len, cap - (size_t)len, "%s%zu", i ? "," : "", i);
    len += snprintf(body + len, cap - (size_t)len, "]%s", ORDER_TAIL);
    in = ct_webhook(body, (size_t)len, "order.updated", "e");
    if (canon_map(&in, &out, NULL, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(out.msg[0].nchanges, n);
    assert_non_null(strstr(out.msg[0].value, "\"field\":\"tags.63\""));
    assert_null(strstr(out.msg[0].value, "\"field\":\"tags.64\""));
    assert_non_null(strstr(out.msg[0].value, "{\"field\":null,\"change\":\"truncated\","
                                             "\"reason\":\"6 more changes not listed\"}]}"));
    const char *f = out.msg[0].changed;
    for (int k = 0; k < CANON_MAX_CHANGES; k++, f += strlen(f) + 1)
        assert_string_equal(f, "tags.*");
    canon_out_free(&out);
    free(body);
}

static void run_poison(const poison_case *p, canon_raw *in) {
    canon_out out;
    char err[256];
    const char *ignored = "unset";
    memset(&out, 0xab, sizeof out); /* canon_map must initialise it */
    int rc = canon_map(in, &out, &ignored, err, sizeof err);
    if (rc != -1) fail_msg("%s: accepted (rc %d, n %d)", p->what, rc, out.n);
    assert_int_equal(out.n, 0);
    assert_null(ignored);
    if (!strstr(err, p->reason)) fail_msg("%s: reason '%s' lacks '%s'", p->what, err, p->reason);
    canon_out_free(&out);
}

static void test_poison_inputs(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof poison / sizeof poison[0]; i++) {
        const poison_case *p = &poison[i];
        canon_raw in = case_raw(p->body, p->source, p->event_type, p->resource, p->connection_id);
        run_poison(p, &in);
    }
}

/* A raw NUL byte is valid UTF-8, and cJSON-style parsing would end the C string
 * there, storing a silently shortened value: it must be poison. */
static void test_raw_nul_in_string(void **state) {
    (void)state;
    static const char body[] = ORDER_HEAD ",\"order_number\":\"#10\0"
                                          "01\"" ORDER_TAIL;
    poison_case p = {"raw NUL in a string", body, "webhook", "order.updated", NULL, NULL,
                     "NUL character"};
    canon_raw in = ct_webhook(body, sizeof body - 1, "order.updated", "e");
    run_poison(&p, &in);
}

static void test_poison_limits(void **state) {
    (void)state;
    /* Empty body, and a body one byte over the bound. */
    poison_case empty = {"empty", "", "webhook", "order.updated", NULL, NULL, "empty body"};
    canon_raw in = ct_webhook("", 0, "order.updated", "e");
    run_poison(&empty, &in);
    in.body = NULL;
    run_poison(&empty, &in);

    size_t n = CANON_MAX_BODY + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    poison_case large = {"large", "", "webhook", "order.updated", NULL, NULL, "body larger"};
    in = ct_webhook(big, n, "order.updated", "e");
    run_poison(&large, &in);
    free(big);

    /* An id one byte over CANON_MAX_ID; exactly CANON_MAX_ID is fine. */
    char body[CANON_MAX_ID + 128], id[CANON_MAX_ID + 2];
    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"updated_date\":\"2026-01-06T09:00:00Z\"}", id);
    poison_case longid = {"long id", body, "poll", NULL, NULL, NULL, "longer than"};
    in = ct_poll(body, strlen(body), "orders", "orders.polled");
    run_poison(&longid, &in);
    id[CANON_MAX_ID] = '\0';
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"updated_date\":\"2026-01-06T09:00:00Z\"}", id);
    in = ct_poll(body, strlen(body), "orders", "orders.polled");
    canon_out out;
    char err[256];
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    assert_int_equal(out.n, 1);
    canon_out_free(&out);

    /* A bad received_at header is ours to reject too. */
    poison_case recv = {"received_at", "", NULL, NULL, NULL, NULL, "received_at"};
    const char *ok = "{\"id\":\"o\",\"updated_date\":\"2026-01-06T09:00:00Z\"}";
    in = ct_poll(ok, strlen(ok), "orders", "orders.polled");
    in.received_at = "not a time";
    run_poison(&recv, &in);

    /* Nothing to write to: -1, without touching NULL. */
    assert_int_equal(canon_map(&in, NULL, NULL, err, sizeof err), -1);
    assert_int_equal(canon_map(NULL, &out, NULL, NULL, 0), -1);
    assert_int_equal(out.n, 0);
}

static void test_ignored_event_types(void **state) {
    (void)state;
    static const char *types[] = {
        "cart-order.created",
        "cart-product.updated",
        "carrier-invoice-line-item.created",
        "freight-shipment.updated",
        "connection.force-sync-completed",
        "connection.sync-job-stuck",
        "install.failed",
    };
    const char *body = "{\"connection_id\":\"c\",\"data\":{\"id\":\"x\"}}";
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        canon_out out;
        char err[256];
        const char *ignored = NULL;
        canon_raw in = ct_webhook(body, strlen(body), types[i], "e");
        if (canon_map(&in, &out, &ignored, err, sizeof err) != 0) fail_msg("%s: %s", types[i], err);
        assert_int_equal(out.n, 0);
        if (!ignored) fail_msg("%s: no ignored reason", types[i]);
    }
    /* Polled resources we do not model. */
    canon_out out;
    const char *ignored = NULL;
    char err[256];
    const char *rec = "{\"id\":\"co_1\",\"updated_date\":\"2026-01-06T09:00:00Z\"}";
    canon_raw in = ct_poll(rec, strlen(rec), "cart_orders", "cart_orders.polled");
    assert_int_equal(canon_map(&in, &out, &ignored, err, sizeof err), 0);
    assert_int_equal(out.n, 0);
    assert_non_null(ignored);
}

/* Both spellings of the event types Trackstar has written two ways; the canonical
 * event_type is always the hyphenated one. */
static void test_event_type_spellings(void **state) {
    (void)state;
    static const struct {
        const char *type, *data, *canonical, *topic;
    } t[] = {
        {"shipping-method.created", "{\"id\":\"s\",\"updated_date\":\"2026-01-01\"}",
         "shipping-method.created", "trackstar.canonical.shipping_methods.v1"},
        {"shipping_method.created", "{\"id\":\"s\",\"updated_date\":\"2026-01-01\"}",
         "shipping-method.created", "trackstar.canonical.shipping_methods.v1"},
        {"inbound_shipment.receipt.created", "{\"id\":\"a\",\"updated_date\":\"2026-01-01\"}",
         "inbound-shipment.receipt.created", "trackstar.canonical.inbound_shipments.v1"},
        {"inbound-shipment.created", "{\"id\":\"a\",\"updated_date\":\"2026-01-01\"}",
         "inbound-shipment.created", "trackstar.canonical.inbound_shipments.v1"},
        {"warehouse_location.updated", "{\"id\":\"l\",\"updated_date\":\"2026-01-01\"}",
         "warehouse-location.updated", "trackstar.canonical.warehouse_locations.v1"},
        {"warehouse_customer.created", "{\"id\":\"w\",\"updated_date\":\"2026-01-01\"}",
         "warehouse-customer.created", "trackstar.canonical.warehouse_customers.v1"},
        {"inventory_ledger.created", "{\"id\":\"e\",\"updated_date\":\"2026-01-01\"}",
         "inventory-ledger.created", "trackstar.canonical.inventory_ledger.v1"},
        {"inventory-ledger.updated", "{\"id\":\"e\",\"updated_date\":\"2026-01-01\"}",
         "inventory-ledger.updated", "trackstar.canonical.inventory_ledger.v1"},
        {"labor_activity.created", "{\"id\":\"la\",\"updated_date\":\"2026-01-01\"}",
         "labor-activity.created", "trackstar.canonical.labor_activities.v1"},
        {"labor-activity.updated", "{\"id\":\"la\",\"updated_date\":\"2026-01-01\"}",
         "labor-activity.updated", "trackstar.canonical.labor_activities.v1"},
        {"connection_error.created", "{\"failed_url\":\"u\"}", "connection-error.created",
         "wms.connection_events.v1"},
        {"connection.historical_sync_completed", "{\"resource\":\"returns\"}",
         "connection.historical-sync-completed", "wms.connection_events.v1"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char body[512], err[256], want[128];
        canon_out out;
        /* The body carries no event_type: the header alone decides. */
        snprintf(body, sizeof body, "{\"connection_id\":\"c\",\"data\":%s}", t[i].data);
        canon_raw in = ct_webhook(body, strlen(body), t[i].type, "e");
        if (canon_map(&in, &out, NULL, err, sizeof err) != 0) fail_msg("%s: %s", t[i].type, err);
        assert_int_equal(out.n, 1);
        assert_string_equal(out.msg[0].topic, t[i].topic);
        snprintf(want, sizeof want, "\"event_type\":\"%s\"", t[i].canonical);
        if (!strstr(out.msg[0].value, want)) fail_msg("%s: %s", t[i].type, out.msg[0].value);
        canon_out_free(&out);
    }
}

static void test_access_token_never_published(void **state) {
    (void)state;
    size_t len = 0;
    char *raw = ct_read("raw", "connection_created", &len), err[256];
    assert_non_null(raw);
    assert_non_null(strstr(raw, "SECRET_TOKEN")); /* the fixture does carry one */
    canon_out out;
    canon_raw in = ct_webhook(raw, len, "connection.created", "e");
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    assert_null(strstr(out.msg[0].value, "SECRET"));
    assert_null(strstr(out.msg[0].value, "access_token\""));
    assert_non_null(strstr(out.msg[0].value, "\"access_token_present\":true"));
    canon_out_free(&out);
    free(raw);

    /* Poison connection.created: the reason names the field, never the token. */
    const char *bad = "{\"connection_id\":\"c\",\"data\":{\"created_date\":\"bad\","
                      "\"access_token\":\"SECRET_TOKEN\"}}";
    in = ct_webhook(bad, strlen(bad), "connection.created", "e");
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), -1);
    assert_null(strstr(err, "SECRET"));
    assert_non_null(strstr(err, "created_date"));

    const char *none = "{\"connection_id\":\"c\",\"data\":{\"created_date\":null}}";
    in = ct_webhook(none, strlen(none), "connection.created", "e");
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    assert_non_null(strstr(out.msg[0].value, "\"access_token_present\":false"));
    canon_out_free(&out);
}

/* Unknown fields anywhere are kept in extra under dot paths; known ones never are. */
static void test_unknown_fields_land_in_extra(void **state) {
    (void)state;
    const char *body =
        ORDER_HEAD ",\"brand_new\":{\"x\":[1,\"two\"]},\"status\":\"open\","
                   "\"line_items\":[{\"sku\":\"A\"},{\"sku\":\"B\",\"engraving\":\"hi\"}],"
                   "\"ship_to_address\":{\"city\":\"X\",\"geo\":{\"lat\":1.5}},"
                   "\"channel_object\":{\"channel_id\":\"c1\",\"store\":\"s\"},"
                   "\"brand_new\":\"duplicate key: first wins\"" ORDER_TAIL;
    canon_out out;
    char err[256];
    canon_raw in = ct_webhook(body, strlen(body), "order.updated", "e");
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    cJSON *o = cJSON_Parse(out.msg[0].value);
    cJSON *extra = cJSON_GetObjectItemCaseSensitive(o, "extra");
    assert_true(cJSON_IsObject(extra));
    char *s = cJSON_PrintUnformatted(extra);
    /* Order: nested ones as the canonical walk meets them, then top-level, then the
     * leftovers of flattened objects. */
    assert_string_equal(s,
                        "{\"ship_to_address.geo\":{\"lat\":1.5},\"line_items.1.engraving\":\"hi\","
                        "\"brand_new\":{\"x\":[1,\"two\"]},\"channel_object.store\":\"s\"}");
    cJSON_free(s);
    /* Known fields are mapped, not duplicated into extra. */
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "open");
    assert_string_equal(cJSON_GetObjectItem(o, "channel_id")->valuestring, "c1");
    /* And the last key of every record is extra. */
    cJSON *last = o->child;
    while (last->next)
        last = last->next;
    assert_string_equal(last->string, "extra");
    cJSON_Delete(o);
    canon_out_free(&out);
}

/* Money is a string everywhere, with the shortest round-trip text; quantities stay ints. */
static void test_money_as_strings(void **state) {
    (void)state;
    const char *body =
        ORDER_HEAD ",\"total_price\":59.50,\"total_tax\":0,\"total_discount\":\"0.10\","
                   "\"total_shipping\":1E2,\"line_items\":[{\"quantity\":3,\"unit_price\":19.99,"
                   "\"discount_amount\":-0.0}]" ORDER_TAIL;
    canon_out out;
    char err[256];
    canon_raw in = ct_webhook(body, strlen(body), "order.updated", "e");
    assert_int_equal(canon_map(&in, &out, NULL, err, sizeof err), 0);
    const char *v = out.msg[0].value;
    assert_non_null(strstr(v, "\"total_price\":\"59.5\""));
    assert_non_null(strstr(v, "\"total_tax\":\"0\""));
    assert_non_null(strstr(v, "\"total_discount\":\"0.1\""));
    assert_non_null(strstr(v, "\"total_shipping\":\"100\""));
    assert_non_null(strstr(v, "\"quantity\":3,\"unit_price\":\"19.99\""));
    assert_non_null(strstr(v, "\"discount_amount\":\"0\""));
    canon_out_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poison_inputs),
        cmocka_unit_test(test_value_policy),
        cmocka_unit_test(test_value_changes_bounded),
        cmocka_unit_test(test_poison_limits),
        cmocka_unit_test(test_raw_nul_in_string),
        cmocka_unit_test(test_ignored_event_types),
        cmocka_unit_test(test_event_type_spellings),
        cmocka_unit_test(test_access_token_never_published),
        cmocka_unit_test(test_unknown_fields_land_in_extra),
        cmocka_unit_test(test_money_as_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
