/* fuzz_canon.c - libFuzzer target for canon_map(): the input is the raw-topic body, mapped
 * once as a webhook and once as a poll. The first byte picks the event type / resource
 * from a list, so every entity and connection-event mapper is reached; the rest is the
 * body. Any crash, leak or sanitizer report is a bug. On success the output must be
 * well-formed: every message has a topic, a key and NUL-terminated JSON of value_len bytes.
 * Build and run: tests/fuzz/run.sh canon <seconds>.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/canon.h"

static const char *const webhook_types[] = {
    "order.updated",
    "order.shipment.created",
    "inventory.updated",
    "product.created",
    "warehouse.created",
    "warehouse-location.created",
    "shipping_method.updated",
    "return.updated",
    "inbound-shipment.receipt.created",
    "bill.created",
    "connection.created",
    "connection.deleted",
    "connection.historical-sync-completed",
    "connection-error.created",
    "connection-error.deleted",
    "cart-order.created",
    "",
    "warehouse-customer.updated",
    "inventory_ledger.created",
    "labor_activity.updated",
};
static const char *const resources[] = {
    "orders",
    "inventory",
    "products",
    "warehouses",
    "warehouse_locations",
    "shipping_methods",
    "returns",
    "inbound_shipments",
    "bills",
    "warehouse_customers",
    "inventory_ledger",
    "order_channels",
    "inbound_shipment_suppliers",
    "labor_activities",
    "order_packs",
    "",
};

static void check(const canon_out *out, int rc) {
    if (rc != 0 && out->n != 0) abort();
    for (int i = 0; i < out->n; i++) {
        const canon_msg *m = &out->msg[i];
        if (!m->topic || !m->key || !m->value || strlen(m->value) != m->value_len) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    canon_out out;
    const char *ignored;
    char err[256];
    uint8_t pick = size ? data[0] : 0;
    const char *body = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;

    canon_raw wh = {.body = body,
                    .body_len = len,
                    .source = "webhook",
                    .event_id = "msg_fuzz",
                    .event_type =
                        webhook_types[pick % (sizeof webhook_types / sizeof *webhook_types)],
                    .received_at = "2026-01-06T09:00:01.123Z"};
    check(&out, canon_map(&wh, &out, &ignored, err, sizeof err));
    canon_out_free(&out);

    /* Also with the type taken from the body alone, and as the fetcher's sync status. */
    wh.event_type = (pick & 0x80) ? "pipeline.sync-status" : NULL;
    check(&out, canon_map(&wh, &out, &ignored, err, sizeof err));
    canon_out_free(&out);

    canon_raw poll = {.body = body,
                      .body_len = len,
                      .source = "poll",
                      .event_id = "poll_fuzz",
                      .connection_id = "conn_1",
                      .integration_name = "sim",
                      .resource = resources[pick % (sizeof resources / sizeof *resources)],
                      .received_at = "2026-01-06T09:00:01.123Z"};
    check(&out, canon_map(&poll, &out, &ignored, err, sizeof err));
    canon_out_free(&out);
    return 0;
}
