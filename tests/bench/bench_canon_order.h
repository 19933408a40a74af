/* bench_canon_order.h - the canonical orders the writer benchmarks write: one
 * wms.orders.v1 record of about 2.7 KB per order (2 line items, 1 shipment with 1 line
 * item, 1 package with 1 line item), rendered from (order number, day, status), so that
 * bench_writer_db (the database layer and the bare loop) and bench_writer_topic (the
 * writer process, from the topic) write byte-identical records.
 *
 * Header-only (static functions) because the benches are single-file programs; this is
 * test tooling, not product code.
 */
#ifndef TS_BENCH_CANON_ORDER_H
#define TS_BENCH_CANON_ORDER_H

#include <stdio.h>
#include <stdlib.h>

/* Every order's connection_id: the records' Kafka key is "<connection_id>|<id>". */
#define BENCH_CANON_CONNECTION "conn_b"

static const char BENCH_CANON_ORDER_FMT[] =
    "{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":\"conn_b\",\"integration_name\":"
    "\"shiphero\","
    "\"id\":\"ord_%d\",\"source\":\"webhook\",\"event_id\":\"msg_%d_%d\",\"event_type\":\"order."
    "updated\","
    "\"source_updated_at\":\"2026-01-%02dT09:00:00Z\",\"trackstar_updated_at\":null,\"observed_"
    "at\":\"2026-01-06T09:00:01.123Z\","
    "\"created_at\":\"2026-01-05T10:00:00Z\",\"warehouse_customer_id\":\"wc_1\",\"warehouse_id\":"
    "\"wh_1\","
    "\"reference_id\":\"SHOP-%d\",\"order_number\":\"%d\",\"status\":\"%s\",\"raw_status\":"
    "\"Shipped\",\"type\":\"d2c\","
    "\"channel\":null,\"channel_id\":\"ch_1\",\"channel_name\":\"Shopify\",\"trading_partner\":"
    "null,\"service_level\":\"ground\","
    "\"shipping_method\":null,\"shipping_method_id\":\"sm_1\",\"shipping_method_name\":\"UPS "
    "Ground\",\"carrier_id\":\"ups\","
    "\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"is_third_party_freight\":false,\"third_party_"
    "freight_account_number\":null,"
    "\"first_party_freight_account_number\":null,\"currency\":\"USD\",\"total_price\":\"59.5\","
    "\"total_tax\":\"4.5\","
    "\"total_discount\":\"0\",\"total_shipping\":\"5\",\"required_ship_date\":null,\"saturday_"
    "delivery\":false,"
    "\"signature_required\":false,\"international_duty_paid_by\":null,"
    "\"ship_to_address\":{\"full_name\":\"Ann Lee\",\"company\":null,\"address1\":\"1 Main "
    "St\",\"address2\":null,\"address3\":null,"
    "\"city\":\"Austin\",\"state\":\"TX\",\"postal_code\":\"78701\",\"country\":\"US\",\"phone_"
    "number\":null,\"email_address\":null},"
    "\"line_items\":[{\"line_number\":0,\"product_id\":\"prod_1\",\"sku\":\"TSHIRT-M\","
    "\"quantity\":2,\"unit_price\":\"25\",\"is_picked\":true,\"discount_amount\":null},"
    "{\"line_number\":1,\"product_id\":\"prod_2\",\"sku\":\"CAP\",\"quantity\":1,\"unit_price\":"
    "\"9.5\",\"is_picked\":true,\"discount_amount\":null}],"
    "\"shipments\":[{\"shipment_id\":\"shp_%d\",\"warehouse_id\":\"wh_1\",\"status\":\"shipped\","
    "\"raw_status\":\"shipped\","
    "\"shipped_at\":\"2026-01-06T08:00:00Z\",\"shipping_method\":null,"
    "\"ship_to_address\":{\"full_name\":\"Ann Lee\",\"company\":null,\"address1\":\"1 Main "
    "St\",\"address2\":null,\"address3\":null,"
    "\"city\":\"Austin\",\"state\":\"TX\",\"postal_code\":\"78701\",\"country\":\"US\",\"phone_"
    "number\":null,\"email_address\":null},"
    "\"ship_from_address\":{\"address1\":\"9 Dock "
    "Rd\",\"address2\":null,\"address3\":null,\"city\":\"Reno\",\"state\":\"NV\",\"postal_code\":"
    "\"89501\",\"country\":\"US\"},"
    "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_1\",\"sku\":\"TSHIRT-M\","
    "\"quantity\":2,\"parent_product_id\":null}],"
    "\"packages\":[{\"package_id\":\"pkg_%d\",\"package_name\":\"12x9x4\",\"tracking_number\":\"1Z%"
    "08d\",\"tracking_url\":null,"
    "\"shipping_method\":null,\"carrier\":null,\"shipping_method_id\":\"sm_1\",\"shipping_method_"
    "name\":\"UPS Ground\",\"carrier_id\":\"ups\","
    "\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"shipping_cost\":\"7.1\",\"measurements\":{"
    "\"length\":\"12\",\"width\":\"9\",\"height\":\"4\","
    "\"unit\":\"in\",\"weight\":\"1.2\",\"weight_unit\":\"lb\"},\"line_items\":[{\"line_number\":0,"
    "\"inventory_item_id\":\"inv_1\","
    "\"sku\":\"TSHIRT-M\",\"quantity\":2,\"lot_id\":null,\"expiration_date\":null,\"parent_product_"
    "id\":null}]}]}],"
    "\"tags\":[\"vip\"],\"trackstar_tags\":[],\"external_system_url\":null,\"additional_fields\":{}"
    ",\"extra\":{}}";

/* n orders ord_0 .. ord_<n-1>, all with source_updated_at 2026-01-<day> and the status:
 * the insert set is (6, "open"), the update set (7, "fulfilled"), every order newer. */
static char **bench_canon_orders(int n, int day, const char *status) {
    char **v = malloc((size_t)n * sizeof *v);
    for (int i = 0; i < n; i++) {
        v[i] = malloc(sizeof BENCH_CANON_ORDER_FMT + 256);
        snprintf(v[i], sizeof BENCH_CANON_ORDER_FMT + 256, BENCH_CANON_ORDER_FMT, i, i, day, day, i,
                 i, status, i, i, i);
    }
    return v;
}

#endif
