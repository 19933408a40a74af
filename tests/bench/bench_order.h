/* bench_order.h - the order webhook every benchmark sends: one Trackstar order.updated
 * envelope of about 2 KB (two line items, one shipment with one package), rendered
 * from (connection, order number, version) so that the normalizer benchmark and the
 * end-to-end load generator use byte-identical documents for the same inputs.
 *
 * Header-only (static functions) because the benches are single-file programs built by
 * their scripts; this is test tooling, not product code.
 */
#ifndef TS_BENCH_ORDER_H
#define TS_BENCH_ORDER_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Big enough for the rendered envelope with the longest ids bench_order_render accepts. */
#define BENCH_ORDER_MAX 4096
/* Versions are one second apart from this base, so a newer version always has a
 * strictly newer updated_date (the writer orders versions by it). 2026-01-01T00:00:00Z. */
#define BENCH_ORDER_BASE_EPOCH 1767225600LL

static const char *const bench_order_status[] = {"open",   "confirmed", "processing",
                                                 "picked", "packed",    "fulfilled"};
#define BENCH_ORDER_NSTATUS ((int)(sizeof bench_order_status / sizeof bench_order_status[0]))

/* updated_date of a version, as "YYYY-MM-DDTHH:MM:SSZ" (out >= 21 bytes). */
static inline void bench_order_updated(int version, char out[32]) {
    time_t t = (time_t)(BENCH_ORDER_BASE_EPOCH + version);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Render order `num` of connection `conn` at `version` (1, 2, ...) into out.
 * Returns the length, or -1 when it does not fit (the caller's ids are too long). */
static inline int bench_order_render(const char *conn, long num, int version, char *out,
                                     size_t len) {
    char updated[32];
    bench_order_updated(version, updated);
    const char *status = bench_order_status[(version - 1) % BENCH_ORDER_NSTATUS];
    /* An update carries the changed fields' old values, as Trackstar's do; a create none. */
    char prev[64] = "";
    if (version > 1)
        snprintf(prev, sizeof prev, ",\"previous_attributes\":{\"status\":\"%s\"}",
                 bench_order_status[(version - 2) % BENCH_ORDER_NSTATUS]);
    int n = snprintf(
        out, len,
        "{\"connection_id\":\"%s\",\"event_type\":\"%s\",\"integration_name\":\"shiphero\","
        "\"integration_type\":\"wms\",\"data\":{\"id\":\"ord_%ld\",\"warehouse_customer_id\":\"wc_"
        "1\","
        "\"warehouse_id\":\"wh_%ld\",\"created_date\":\"2026-01-01T00:00:00Z\",\"updated_date\":\"%"
        "s\","
        "\"reference_id\":\"SHOP-%ld\",\"order_number\":\"%ld\",\"status\":\"%s\",\"raw_status\":"
        "\"%s\","
        "\"channel\":\"shopify\",\"channel_object\":{\"channel_id\":\"ch_1\",\"channel_name\":"
        "\"Shopify\"},"
        "\"type\":\"d2c\",\"trading_partner\":null,\"shipping_method\":null,\"service_level\":"
        "\"ground\","
        "\"shipping_method_id\":\"sm_1\",\"shipping_method_name\":\"UPS "
        "Ground\",\"carrier_id\":\"ups\","
        "\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"is_third_party_freight\":false,"
        "\"third_party_freight_account_number\":null,\"first_party_freight_account_number\":null,"
        "\"invoice_currency_code\":\"USD\",\"total_price\":%ld.5,\"total_tax\":4.5,\"total_"
        "discount\":0,"
        "\"total_shipping\":5,\"ship_to_address\":{\"full_name\":\"Ann Lee\",\"company\":null,"
        "\"address1\":\"%ld Main "
        "St\",\"address2\":null,\"address3\":null,\"city\":\"Austin\",\"state\":\"TX\","
        "\"postal_code\":\"78701\",\"country\":\"US\",\"phone_number\":null,\"email_address\":null}"
        ","
        "\"line_items\":[{\"product_id\":\"prod_1\",\"sku\":\"TSHIRT-M\",\"quantity\":%d,\"unit_"
        "price\":25,"
        "\"is_picked\":false,\"discount_amount\":null},{\"product_id\":\"prod_2\",\"sku\":\"CAP\","
        "\"quantity\":1,\"unit_price\":9.5,\"is_picked\":false,\"discount_amount\":null}],"
        "\"tags\":[\"vip\"],\"required_ship_date\":null,\"saturday_delivery\":false,"
        "\"signature_required\":false,\"international_duty_paid_by\":null,"
        "\"shipments\":[{\"shipment_id\":\"shp_%ld\",\"warehouse_id\":\"wh_%ld\",\"raw_status\":"
        "\"shipped\","
        "\"status\":\"shipped\",\"shipped_date\":\"%s\",\"shipping_method\":null,"
        "\"line_items\":[{\"inventory_item_id\":\"inv_1\",\"sku\":\"TSHIRT-M\",\"quantity\":2,"
        "\"parent_product_id\":null}],\"ship_to_address\":{\"full_name\":\"Ann "
        "Lee\",\"company\":null,"
        "\"address1\":\"%ld Main "
        "St\",\"address2\":null,\"address3\":null,\"city\":\"Austin\",\"state\":\"TX\","
        "\"postal_code\":\"78701\",\"country\":\"US\",\"phone_number\":null,\"email_address\":null}"
        ","
        "\"ship_from_address\":{\"address1\":\"9 Dock Rd\",\"address2\":null,\"address3\":null,"
        "\"city\":\"Reno\",\"state\":\"NV\",\"postal_code\":\"89501\",\"country\":\"US\"},"
        "\"packages\":[{\"package_id\":\"pkg_%ld\",\"package_name\":\"12x9x4\",\"tracking_number\":"
        "\"1Z%08ld\","
        "\"tracking_url\":null,\"shipping_method\":null,\"carrier\":null,\"shipping_method_id\":"
        "\"sm_1\","
        "\"shipping_method_name\":\"UPS Ground\",\"carrier_id\":\"ups\",\"carrier_name\":\"UPS\","
        "\"scac\":\"UPSN\",\"shipping_cost\":7.1,\"measurements\":{\"length\":12,\"width\":9,"
        "\"height\":4,"
        "\"unit\":\"in\",\"weight\":1.2,\"weight_unit\":\"lb\"},\"line_items\":[{\"inventory_item_"
        "id\":\"inv_1\","
        "\"sku\":\"TSHIRT-M\",\"quantity\":2,\"lot_id\":null,\"expiration_date\":null,"
        "\"parent_product_id\":null}]}]}],\"external_system_url\":null,\"trackstar_tags\":[],"
        "\"additional_fields\":{}}%s}",
        conn, version == 1 ? "order.created" : "order.updated", num, num % 4 + 1, updated, num, num,
        status, status, num % 1000 + 10, num % 1000 + 1, version + 1, num, num % 4 + 1, updated,
        num % 1000 + 1, num, num, prev);
    if (n < 0 || (size_t)n >= len) return -1;
    return n;
}

#endif
