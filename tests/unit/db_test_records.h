/* db_test_records.h - canonical record templates for the test_db_* tests (our own
 * examples in the style of docs/canonical-model.md) and a generator that makes versions
 * of one record: a given id, version time, a changed text field and a child array whose
 * length follows the variant, so that "which version is stored" is visible in SQL.
 */
#ifndef DB_TEST_RECORDS_H
#define DB_TEST_RECORDS_H

#include <cjson/cJSON.h>

#include "db_test_util.h"
#include "writer/db_spec.h"
#include "writer/db_version.h"

typedef struct tent {
    const char *name;
    const char *topic;
    const char *tmpl;
    const char *table;
    const char *key_col;     /* the second key column of table */
    const char *id_field;    /* record field carrying that key ("id" for entities) */
    const char *field;       /* a text field that each variant changes */
    const char *child_array; /* NULL when the entity has no children */
    const char *child_table;
    const char *parent_col;
} tent;

#define ENV(entity, id, evt)                                                                       \
    "{\"schema_version\":1,\"entity\":\"" entity "\",\"connection_id\":\"conn_t\","                \
    "\"integration_name\":\"shiphero\",\"id\":\"" id "\",\"source\":\"webhook\","                  \
    "\"event_id\":\"msg_1\",\"event_type\":\"" evt                                                 \
    "\",\"source_updated_at\":\"2026-01-06T09:00:00Z\","                                           \
    "\"trackstar_updated_at\":null,\"observed_at\":\"2026-01-06T09:00:01.123Z\","

#define MEAS                                                                                       \
    "\"measurements\":{\"length\":\"12\",\"width\":\"9\",\"height\":\"4\",\"unit\":\"in\","        \
    "\"weight\":\"1.2\",\"weight_unit\":\"lb\"}"
#define ADDR                                                                                       \
    "{\"full_name\":\"Ann Lee\",\"company\":null,\"address1\":\"1 Main "                           \
    "St\",\"address2\":null,\"address3\":null,\"city\":\"Austin\",\"state\":\"TX\",\"postal_"      \
    "code\":\"78701\",\"country\":\"US\",\"phone_number\":null,\"email_address\":null}"
#define FROM                                                                                       \
    "{\"address1\":\"9 Dock "                                                                      \
    "Rd\",\"address2\":null,\"address3\":null,\"city\":\"Reno\",\"state\":\"NV\",\"postal_code\":" \
    "\"89501\",\"country\":\"US\"}"

static const char T_ORDER[] = ENV(
    "order", "ord_1",
    "order.updated") "\"created_at\":\"2026-01-05T10:00:00Z\",\"warehouse_customer_id\":\"wc_1\","
                     "\"warehouse_id\":\"wh_1\","
                     "\"reference_id\":\"SHOP-1001\",\"order_number\":\"1001\",\"status\":"
                     "\"fulfilled\",\"raw_status\":\"Shipped\","
                     "\"type\":\"d2c\",\"channel\":null,\"channel_id\":\"ch_1\",\"channel_name\":"
                     "\"Shopify\",\"trading_partner\":null,"
                     "\"service_level\":\"ground\",\"shipping_method\":null,\"shipping_method_id\":"
                     "\"sm_1\",\"shipping_method_name\":\"UPS Ground\","
                     "\"carrier_id\":\"ups\",\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"is_third_"
                     "party_freight\":false,"
                     "\"third_party_freight_account_number\":null,\"first_party_freight_account_"
                     "number\":null,\"currency\":\"USD\","
                     "\"total_price\":\"59.5\",\"total_tax\":\"4.5\",\"total_discount\":\"0\","
                     "\"total_shipping\":\"5\",\"required_ship_date\":null,"
                     "\"saturday_delivery\":false,\"signature_required\":false,\"international_"
                     "duty_paid_by\":null,"
                     "\"ship_to_address\":" ADDR ","
                     "\"line_items\":[{\"line_number\":0,\"product_id\":\"prod_1\",\"sku\":"
                     "\"TSHIRT-M\",\"quantity\":2,\"unit_price\":\"25\",\"is_picked\":true,"
                     "\"discount_amount\":null}],"
                     "\"shipments\":[{\"shipment_id\":\"shp_1\",\"warehouse_id\":\"wh_1\","
                     "\"status\":\"shipped\",\"raw_status\":\"shipped\","
                     "\"shipped_at\":\"2026-01-06T08:00:00Z\",\"shipping_method\":null,\"ship_to_"
                     "address\":" ADDR ",\"ship_from_address\":" FROM ","
                     "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_1\",\"sku\":"
                     "\"TSHIRT-M\",\"quantity\":2,\"parent_product_id\":null}],"
                     "\"packages\":[{\"package_id\":\"pkg_1\",\"package_name\":\"12x9x4\","
                     "\"tracking_number\":\"1Z999\",\"tracking_url\":\"https://t.example/1Z999\","
                     "\"shipping_method\":null,\"carrier\":null,\"shipping_method_id\":\"sm_1\","
                     "\"shipping_method_name\":\"UPS Ground\",\"carrier_id\":\"ups\","
                     "\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"shipping_cost\":\"7.1\"," MEAS
                     ","
                     "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_1\",\"sku\":"
                     "\"TSHIRT-M\",\"quantity\":2,\"lot_id\":null,"
                     "\"expiration_date\":null,\"parent_product_id\":null}]}]}],"
                     "\"tags\":[\"vip\",\"source:web\"],\"trackstar_tags\":[],\"external_system_"
                     "url\":null,\"additional_fields\":{},\"extra\":{}}";

static const char T_INVENTORY[] =
    ENV("inventory_item", "inv_1",
        "inventory.updated") "\"created_at\":\"2025-11-01T00:00:00Z\",\"warehouse_customer_id\":"
                             "\"wc_1\",\"name\":\"T-shirt M\",\"sku\":\"TSHIRT-M\","
                             "\"unit_cost\":\"4.2\",\"active\":true,\"awaiting\":50,\"onhand\":120,"
                             "\"committed\":20,\"unfulfillable\":5,\"fulfillable\":95,"
                             "\"unsellable\":0,\"sellable\":95,\"substitute_skus\":[],"
                             "\"warehouses\":[{\"warehouse_id\":\"wh_1\",\"awaiting\":50,"
                             "\"onhand\":120,\"committed\":20,\"unfulfillable\":5,\"fulfillable\":"
                             "95,\"unsellable\":0,\"sellable\":95}],"
                             "\"locations\":[{\"line_number\":0,\"location_id\":\"loc_A1\","
                             "\"warehouse_id\":\"wh_1\",\"quantity\":120}],"
                             "\"lots\":[{\"lot_id\":\"LOT-A\",\"warehouse_id\":\"wh_1\",\"onhand\":"
                             "30,\"expiration_date\":\"2026-12-31T00:00:00Z\"}]," MEAS
                             ",\"trackstar_tags\":[],\"external_system_url\":null,\"additional_"
                             "fields\":{},\"extra\":{}}";

static const char T_PRODUCT[] =
    ENV("product", "prod_1",
        "product.updated") "\"created_at\":\"2025-11-01T00:00:00Z\",\"warehouse_customer_id\":\"wc_"
                           "1\",\"name\":\"T-shirt M\",\"sku\":\"TSHIRT-M\","
                           "\"gtin\":\"0123456789012\",\"unit_price\":\"25\",\"is_kit\":false,"
                           "\"active\":true,"
                           "\"inventory_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_"
                           "1\",\"sku\":\"TSHIRT-M\",\"unit_quantity\":1}],"
                           "\"supplier\":null,\"supplier_id\":\"sup_1\",\"supplier_name\":\"Acme\","
                           "\"country_of_origin\":\"US\",\"harmonized_code\":\"6109.10\","
                           "\"supplier_products\":[{\"line_number\":0,\"supplier_id\":\"sup_1\","
                           "\"supplier_name\":\"Acme\",\"external_id\":\"AC-1\",\"unit_cost\":\"4."
                           "2\"}],"
                           "\"trackstar_tags\":[],\"external_system_url\":null,\"additional_"
                           "fields\":{},\"extra\":{}}";

static const char T_WAREHOUSE[] =
    ENV("warehouse", "wh_1",
        "warehouse.updated") "\"created_at\":\"2024-01-01T00:00:00Z\",\"name\":\"Reno "
                             "DC\",\"code\":\"RNO\",\"address\":" FROM ","
                             "\"trackstar_tags\":[],\"additional_fields\":{},\"extra\":{}}";

static const char T_LOCATION[] =
    ENV("warehouse_location", "loc_1",
        "warehouse-location.updated") "\"created_at\":\"2024-01-01T00:00:00Z\",\"warehouse_id\":"
                                      "\"wh_1\",\"name\":\"A-01-01\",\"type\":\"bin\"," MEAS
                                      ",\"additional_fields\":{},\"extra\":{}}";

static const char T_SHIPPING_METHOD[] =
    ENV("shipping_method", "sm_1",
        "shipping-method.updated") "\"created_at\":\"2024-01-01T00:00:00Z\",\"name\":\"UPS "
                                   "Ground\",\"carrier\":null,\"carrier_id\":\"ups\","
                                   "\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"additional_"
                                   "fields\":{},\"extra\":{}}";

static const char T_RETURN[] =
    ENV("return", "ret_1",
        "return.updated") "\"created_at\":\"2026-01-10T00:00:00Z\",\"warehouse_customer_id\":\"wc_"
                          "1\",\"status\":\"received\",\"raw_status\":\"Closed\","
                          "\"order_id\":\"ord_1\",\"notes\":[],"
                          "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_1\","
                          "\"sku\":\"TSHIRT-M\",\"expected_quantity\":1,\"received_quantity\":1,"
                          "\"restocked_quantity\":1,\"return_reason\":\"too "
                          "small\",\"quantity\":1,\"warehouse_id\":null,\"returned_at\":null}],"
                          "\"shipments\":[{\"line_number\":0,\"tracking_number\":\"9400111\","
                          "\"shipped_at\":\"2026-01-10T00:00:00Z\",\"arrived_at\":null,"
                          "\"warehouse_id\":\"wh_1\",\"carrier\":null,\"carrier_id\":\"usps\","
                          "\"carrier_name\":\"USPS\",\"scac\":null,\"shipping_cost\":null," MEAS ","
                          "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_1\","
                          "\"sku\":\"TSHIRT-M\",\"quantity\":1,"
                          "\"receiving_details\":[{\"line_number\":0,\"quantity\":1,\"condition\":"
                          "\"new\",\"disposition\":\"restocked\"}]}]}],"
                          "\"trackstar_tags\":[],\"external_system_url\":null,\"additional_"
                          "fields\":{},\"extra\":{}}";

static const char T_INBOUND[] =
    ENV("inbound_shipment", "asn_1",
        "inbound-shipment.updated") "\"created_at\":\"2026-01-02T00:00:00Z\",\"warehouse_customer_"
                                    "id\":\"wc_1\",\"purchase_order_number\":\"PO-77\","
                                    "\"status\":\"receiving\",\"raw_status\":\"Partially "
                                    "Received\",\"supplier\":null,\"supplier_id\":\"sup_1\","
                                    "\"supplier_name\":\"Acme\","
                                    "\"expected_arrival_date\":\"2026-01-08T00:00:00Z\","
                                    "\"warehouse_id\":\"wh_1\",\"expected_quantity_total\":100,"
                                    "\"received_quantity_total\":50,"
                                    "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":"
                                    "\"inv_1\",\"sku\":\"TSHIRT-M\",\"expected_quantity\":100,"
                                    "\"received_quantity\":50,"
                                    "\"unit_cost\":\"4.2\",\"external_id\":null}],"
                                    "\"receipts\":[{\"receipt_id\":\"rcpt_1\",\"arrived_at\":"
                                    "\"2026-01-09T00:00:00Z\","
                                    "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":"
                                    "\"inv_1\",\"sku\":\"TSHIRT-M\",\"quantity\":50}]}],"
                                    "\"ship_from_address\":" FROM
                                    ",\"tracking_numbers\":[\"MSKU123\"],\"notes\":[],"
                                    "\"trackstar_tags\":[],\"external_system_url\":null,"
                                    "\"additional_fields\":{},\"extra\":{}}";

static const char T_BILL[] =
    ENV("bill", "bill_1",
        "bill.updated") "\"created_at\":\"2026-01-06T08:00:00Z\",\"warehouse_customer_id\":\"wc_"
                        "1\",\"object_id\":\"ord_1\",\"object_type\":\"order\","
                        "\"charge_type\":\"pick_and_pack\",\"amount\":\"3.25\",\"currency\":"
                        "\"USD\",\"additional_fields\":{},\"extra\":{}}";

static const char T_WAREHOUSE_CUSTOMER[] =
    ENV("warehouse_customer", "wc_1",
        "warehouse-customer.updated") "\"created_at\":\"2025-06-01T00:00:00Z\",\"name\":"
                                      "\"Acme Apparel\",\"email\":\"ops@acme.example\","
                                      "\"additional_fields\":{},\"extra\":{}}";

static const char T_INVENTORY_LEDGER[] =
    ENV("inventory_ledger_entry", "led_1",
        "inventory-ledger.created") "\"created_at\":\"2026-01-06T08:00:00Z\",\"entry_date\":"
                                    "\"2026-01-06T07:59:30.500Z\",\"inventory_item_id\":\"inv_1\","
                                    "\"sku\":\"SKU-1\",\"quantity\":-3,\"raw_event_type\":"
                                    "\"shipment_pick\",\"ledger_event_type\":\"order_shipment\","
                                    "\"reason\":null,\"object_id\":\"ord_1\",\"object_type\":"
                                    "\"order\",\"warehouse_id\":\"wh_1\",\"location_id\":"
                                    "\"loc_A1\",\"additional_fields\":{},\"extra\":{}}";

static const char T_ORDER_CHANNEL[] =
    ENV("order_channel", "ch_1",
        "order_channels.polled") "\"created_at\":\"2025-03-01T00:00:00Z\",\"name\":\"Shopify\","
                                 "\"warehouse_customer_id\":\"wc_1\",\"additional_fields\":{},"
                                 "\"extra\":{}}";

static const char T_SUPPLIER[] =
    ENV("inbound_shipment_supplier", "sup_1",
        "inbound_shipment_suppliers.polled") "\"created_at\":\"2024-11-20T08:00:00Z\",\"name\":"
                                             "\"Acme Textiles\",\"warehouse_customer_id\":null,"
                                             "\"additional_fields\":{},\"extra\":{}}";

static const char T_LABOR_ACTIVITY[] =
    ENV("labor_activity", "la_1",
        "labor-activity.updated") "\"created_at\":\"2026-01-06T08:00:00Z\",\"user_id\":\"usr_7\","
                                  "\"user_first_name\":\"Dana\",\"user_last_name\":null,"
                                  "\"warehouse_id\":\"wh_1\",\"activity_type\":\"pick\","
                                  "\"activity_start_time\":\"2026-01-06T07:59:30.500Z\","
                                  "\"activity_end_time\":null,\"associated_object_type\":"
                                  "\"order\",\"associated_object_id\":\"ord_1\",\"quantity\":3,"
                                  "\"additional_fields\":{},\"extra\":{}}";

static const char T_ORDER_PACK[] = ENV(
    "order_pack", "ord_1",
    "order_packs.polled") "\"order_id\":\"ord_1\",\"carrier\":null,\"carrier_id\":\"ups\","
                          "\"carrier_name\":\"UPS\",\"scac\":null,\"shipping_method\":null,"
                          "\"shipping_method_id\":\"sm_1\",\"shipping_method_name\":\"Ground\","
                          "\"ship_to_address\":null,\"packs\":[{\"pack_id\":\"pkg_1\","
                          "\"measurements\":null,\"line_items\":[{\"line_number\":0,"
                          "\"inventory_item_id\":\"inv_1\",\"sku\":\"SKU-1\",\"quantity\":2}]}],"
                          "\"order_line_items\":[],\"additional_fields\":{},\"extra\":{}}";

static const char T_SYNC_STATUS[] =
    ENV("connection_event", "connection|sync_status|orders",
        "pipeline.sync-status") "\"kind\":\"sync_status\",\"resource\":\"orders\",\"state\":"
                                "\"succeeded\",\"last_started_at\":\"2026-01-06T09:00:00.250Z\","
                                "\"last_success_at\":\"2026-01-06T09:00:04.900Z\",\"records_seen\":"
                                "1250,\"last_error\":null,\"extra\":{}}";

static const char T_HISTORICAL[] =
    ENV("connection_event", "connection|historical_sync_completed|orders",
        "connection.historical-sync-completed") "\"kind\":\"historical_sync_completed\","
                                                "\"resource\":\"orders\",\"oldest_data_date\":"
                                                "\"2025-12-01T00:00:00Z\","
                                                "\"newest_data_date\":\"2026-01-01T00:00:00Z\","
                                                "\"extra\":{}}";

static const char T_CONN_ERROR[] =
    ENV("connection_event", "connection|connection_error_updated|https://x/returns",
        "connection-error.updated") "\"kind\":\"connection_error_updated\",\"resource\":null,"
                                    "\"failed_url\":\"https://x/returns\","
                                    "\"error_message\":\"Missing permissions\",\"error_type\":null,"
                                    "\"affected_endpoints\":[{\"endpoint\":\"GET "
                                    "/wms/returns\",\"preventing_sync\":false}],"
                                    "\"created_at\":\"2026-01-03T00:00:00Z\",\"last_seen_at\":"
                                    "\"2026-01-03T00:00:00Z\",\"extra\":{}}";

#define CE "wms.connection_events.v1"
static const tent tents[] = {
    {"orders", "wms.orders.v1", T_ORDER, "orders", "id", "id", "status", "line_items",
     "order_line_items", "order_id"},
    {"inventory", "wms.inventory.v1", T_INVENTORY, "inventory_items", "id", "id", "name",
     "warehouses", "inventory_levels", "inventory_item_id"},
    {"products", "wms.products.v1", T_PRODUCT, "products", "id", "id", "name", "inventory_items",
     "product_inventory_items", "product_id"},
    {"warehouses", "wms.warehouses.v1", T_WAREHOUSE, "warehouses", "id", "id", "name", NULL, NULL,
     NULL},
    {"warehouse_locations", "wms.warehouse_locations.v1", T_LOCATION, "warehouse_locations", "id",
     "id", "name", NULL, NULL, NULL},
    {"shipping_methods", "wms.shipping_methods.v1", T_SHIPPING_METHOD, "shipping_methods", "id",
     "id", "name", NULL, NULL, NULL},
    {"returns", "wms.returns.v1", T_RETURN, "returns", "id", "id", "status", "line_items",
     "return_line_items", "return_id"},
    {"inbound_shipments", "wms.inbound_shipments.v1", T_INBOUND, "inbound_shipments", "id", "id",
     "status", "line_items", "inbound_shipment_line_items", "inbound_shipment_id"},
    {"bills", "wms.bills.v1", T_BILL, "bills", "id", "id", "charge_type", NULL, NULL, NULL},
    {"warehouse_customers", "wms.warehouse_customers.v1", T_WAREHOUSE_CUSTOMER,
     "warehouse_customers", "id", "id", "name", NULL, NULL, NULL},
    {"inventory_ledger", "wms.inventory_ledger.v1", T_INVENTORY_LEDGER, "inventory_ledger", "id",
     "id", "sku", NULL, NULL, NULL},
    {"order_channels", "wms.order_channels.v1", T_ORDER_CHANNEL, "order_channels", "id", "id",
     "name", NULL, NULL, NULL},
    {"inbound_shipment_suppliers", "wms.inbound_shipment_suppliers.v1", T_SUPPLIER,
     "inbound_shipment_suppliers", "id", "id", "name", NULL, NULL, NULL},
    {"labor_activities", "wms.labor_activities.v1", T_LABOR_ACTIVITY, "labor_activities", "id",
     "id", "activity_type", NULL, NULL, NULL},
    {"order_packs", "wms.order_packs.v1", T_ORDER_PACK, "order_packs", "id", "id",
     "shipping_method_name", "packs", "order_pack_packs", "order_id"},
    {"sync_status", CE, T_SYNC_STATUS, "sync_status", "resource", "resource", "state", NULL, NULL,
     NULL},
    {"historical_syncs", CE, T_HISTORICAL, "historical_syncs", "resource", "resource",
     "integration_name", NULL, NULL, NULL},
    {"connection_errors", CE, T_CONN_ERROR, "connection_errors", "error_key", "failed_url",
     "error_message", NULL, NULL, NULL},
};
#define NTENTS ((int)(sizeof tents / sizeof tents[0]))

/* The template named name (a test's own table: the test fails when it is missing). */
static inline const tent *tent_named(const char *name) {
    for (int i = 0; i < NTENTS; i++)
        if (strcmp(tents[i].name, name) == 0) return &tents[i];
    fail_msg("no test record template %s", name);
    return NULL;
}

/* Children of a variant: 1 + variant % 3. */
static inline int tent_children(int variant) {
    return 1 + variant % 3;
}

/* A version of entity e: record key id, version "2026-01-01T00:00:00Z" + minutes, field =
 * "v<variant>", child array of tent_children(variant) elements. bad: 0 good, 1 wrong JSON
 * type in a typed column (refused in C), 2 a raw tab inside a string (cJSON's grammar, and
 * so the writer's parser, accepts it; jsonb refuses it with 22P02: refused by PostgreSQL in
 * PostgreSQL). Returns a malloc'd string. */
static inline char *tent_make(const tent *e, const char *id, int minutes, int variant, int bad) {
    cJSON *r = cJSON_Parse(e->tmpl);
    assert_non_null(r);
    char ts[32], val[32];
    snprintf(ts, sizeof ts, "2026-01-%02dT%02d:%02d:00Z", 1 + minutes / 1440, (minutes / 60) % 24,
             minutes % 60);
    snprintf(val, sizeof val, bad == 2 ? "TABMARK" : "v%d", variant);
    cJSON_ReplaceItemInObjectCaseSensitive(r, "source_updated_at", cJSON_CreateString(ts));
    cJSON_ReplaceItemInObjectCaseSensitive(r, e->id_field, cJSON_CreateString(id));
    if (strcmp(e->id_field, "id") != 0) {
        char full[128];
        snprintf(full, sizeof full, "connection|%s|%s",
                 cJSON_GetStringValue(cJSON_GetObjectItem(r, "kind")), id);
        cJSON_ReplaceItemInObjectCaseSensitive(r, "id", cJSON_CreateString(full));
    }
    cJSON_ReplaceItemInObjectCaseSensitive(r, e->field, cJSON_CreateString(val));
    if (bad == 1)
        cJSON_ReplaceItemInObjectCaseSensitive(r, "observed_at", cJSON_CreateNumber(12345));
    if (e->child_array) {
        cJSON *arr = cJSON_GetObjectItem(r, e->child_array);
        cJSON *proto = cJSON_Duplicate(cJSON_GetArrayItem(arr, 0), 1);
        cJSON *fresh = cJSON_CreateArray();
        for (int k = 0; k < tent_children(variant); k++) {
            cJSON *c = cJSON_Duplicate(proto, 1);
            if (cJSON_GetObjectItem(c, "line_number"))
                cJSON_ReplaceItemInObjectCaseSensitive(c, "line_number", cJSON_CreateNumber(k));
            if (strcmp(e->child_array, "warehouses") == 0) {
                char wh[16];
                snprintf(wh, sizeof wh, "wh_%d", k);
                cJSON_ReplaceItemInObjectCaseSensitive(c, "warehouse_id", cJSON_CreateString(wh));
            }
            cJSON_AddItemToArray(fresh, c);
        }
        cJSON_Delete(proto);
        cJSON_ReplaceItemInObjectCaseSensitive(r, e->child_array, fresh);
    }
    char *out = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    if (bad == 2) {
        char *m = strstr(out, "TABMARK");
        assert_non_null(m);
        memcpy(m, "a\tb", 3); /* "TABMARK" -> "a<tab>b" */
        memmove(m + 3, m + 7, strlen(m + 7) + 1);
    }
    char *copy = strdup(out);
    cJSON_free(out);
    return copy;
}

/* rec (malloc'd, freed) with top-level member key set to the string val (NULL: null).
 * Returns a malloc'd string. */
static inline char *tent_set(char *rec, const char *key, const char *val) {
    cJSON *r = cJSON_Parse(rec);
    assert_non_null(r);
    free(rec);
    cJSON_ReplaceItemInObjectCaseSensitive(r, key,
                                           val ? cJSON_CreateString(val) : cJSON_CreateNull());
    char *out = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    char *copy = strdup(out);
    cJSON_free(out);
    return copy;
}

/* The same record as a poll observed it (source, event id and time differ). */
static inline char *tent_poll(char *rec) {
    rec = tent_set(rec, "source", "poll");
    rec = tent_set(rec, "event_id", "poll:conn_t:x");
    return tent_set(rec, "observed_at", "2026-01-06T09:00:02.456Z");
}

/* 1 when e's table orders versions by source_updated_at, trackstar_updated_at and the
 * poll rule (writer/db_version.h), 0 for the plain rule (connection-level tables). */
static inline int tent_total(const tent *e) {
    cJSON *r = cJSON_Parse(e->tmpl);
    assert_non_null(r);
    int i = wdb_spec_find(e->topic, cJSON_GetStringValue(cJSON_GetObjectItem(r, "entity")),
                          cJSON_GetStringValue(cJSON_GetObjectItem(r, "kind")));
    cJSON_Delete(r);
    assert_true(i >= 0);
    return wdb_version_total(wdb_specs[i]);
}

#endif
