#!/usr/bin/env python3
"""gw_events.py - write one webhook body per event type for the webhook-gw integration
test, and a manifest of what the gateway must do with each.

Usage: gw_events.py OUTDIR
Writes OUTDIR/ev_<n>.json and prints one TSV line per event:
    name  event_type_sent  canonical_event_type  expected_key  body_file

The expected keys are written out from the contract (docs/webhook-gw.md), not computed
with the gateway's own table, so the test checks one against the other.
"""
import json
import os
import sys

CONN = "conn_it_1"

# (event type as sent, canonical event type, resource, data, expected record id)
RECORD = lambda rid, **kw: dict({"id": rid, "updated_date": "2026-01-05T10:00:00Z"}, **kw)
CASES = [
    ("order.created", "order.created", "orders", RECORD("ord_1", status="open"), "ord_1"),
    ("order.updated", "order.updated", "orders", RECORD("ord_1", status="fulfilled"), "ord_1"),
    ("order.shipment.created", "order.shipment.created", "orders", RECORD("ord_2"), "ord_2"),
    ("inventory.created", "inventory.created", "inventory", RECORD("inv_1", sku="SKU-1"), "inv_1"),
    ("inventory.updated", "inventory.updated", "inventory", RECORD("inv_1", onhand=5), "inv_1"),
    ("inventory_ledger.created", "inventory_ledger.created", "inventory_ledger", RECORD("led_1"), "led_1"),
    ("inventory_ledger.updated", "inventory_ledger.updated", "inventory_ledger", RECORD("led_1"), "led_1"),
    ("product.created", "product.created", "products", RECORD("prd_1"), "prd_1"),
    ("product.updated", "product.updated", "products", RECORD("prd_1"), "prd_1"),
    ("inbound-shipment.created", "inbound-shipment.created", "inbound_shipments", RECORD("asn_1"), "asn_1"),
    ("inbound-shipment.updated", "inbound-shipment.updated", "inbound_shipments", RECORD("asn_1"), "asn_1"),
    ("inbound-shipment.receipt.created", "inbound-shipment.receipt.created", "inbound_shipments",
     RECORD("asn_1"), "asn_1"),
    ("inbound_shipment.created", "inbound-shipment.created", "inbound_shipments", RECORD("asn_2"), "asn_2"),
    ("inbound_shipment.updated", "inbound-shipment.updated", "inbound_shipments", RECORD("asn_2"), "asn_2"),
    ("inbound_shipment.receipt.created", "inbound-shipment.receipt.created", "inbound_shipments",
     RECORD("asn_2"), "asn_2"),
    ("return.created", "return.created", "returns", RECORD("ret_1"), "ret_1"),
    ("return.updated", "return.updated", "returns", RECORD("ret_1"), "ret_1"),
    ("bill.created", "bill.created", "bills", RECORD("bil_1"), "bil_1"),
    ("bill.updated", "bill.updated", "bills", RECORD("bil_1"), "bil_1"),
    ("shipping-method.created", "shipping-method.created", "shipping_methods", RECORD("shm_1"), "shm_1"),
    ("shipping-method.updated", "shipping-method.updated", "shipping_methods", RECORD("shm_1"), "shm_1"),
    ("shipping_method.created", "shipping-method.created", "shipping_methods", RECORD("shm_2"), "shm_2"),
    ("shipping_method.updated", "shipping-method.updated", "shipping_methods", RECORD("shm_2"), "shm_2"),
    ("warehouse.created", "warehouse.created", "warehouses", RECORD("wh_1"), "wh_1"),
    ("warehouse.updated", "warehouse.updated", "warehouses", RECORD("wh_1"), "wh_1"),
    ("warehouse-location.created", "warehouse-location.created", "warehouse_locations", RECORD("loc_1"), "loc_1"),
    ("warehouse-location.updated", "warehouse-location.updated", "warehouse_locations", RECORD("loc_1"), "loc_1"),
    ("warehouse-customer.created", "warehouse-customer.created", "warehouse_customers", RECORD("cus_1"), "cus_1"),
    ("warehouse-customer.updated", "warehouse-customer.updated", "warehouse_customers", RECORD("cus_1"), "cus_1"),
    ("labor_activity.created", "labor_activity.created", "labor_activities", RECORD("lab_1"), "lab_1"),
    ("cart-order.created", "cart-order.created", "cart_orders", RECORD("co_1"), "co_1"),
    ("cart-order.updated", "cart-order.updated", "cart_orders", RECORD("co_1"), "co_1"),
    ("cart-order.cart-shipment.created", "cart-order.cart-shipment.created", "cart_orders", RECORD("co_1"), "co_1"),
    ("cart-product.created", "cart-product.created", "cart_products", RECORD("cp_1"), "cp_1"),
    ("cart-product.updated", "cart-product.updated", "cart_products", RECORD("cp_1"), "cp_1"),
    ("cart-warehouse.created", "cart-warehouse.created", "cart_warehouses", RECORD("cw_1"), "cw_1"),
    ("cart-warehouse.updated", "cart-warehouse.updated", "cart_warehouses", RECORD("cw_1"), "cw_1"),
    ("freight-shipment.created", "freight-shipment.created", "freight_shipments", RECORD("fs_1"), "fs_1"),
    ("freight-shipment.updated", "freight-shipment.updated", "freight_shipments", RECORD("fs_1"), "fs_1"),
    ("carrier-invoice-line-item.created", "carrier-invoice-line-item.created", "carrier_invoice_line_items",
     RECORD("cil_1"), "cil_1"),
    ("carrier-file.created", "carrier-file.created", "carrier_files", RECORD("cf_1"), "cf_1"),
    ("connection.created", "connection.created", "connection",
     {"created_date": "2026-01-05T10:00:00Z", "access_token": "tok_MUST_NOT_BE_LOGGED"}, CONN),
    ("connection.deleted", "connection.deleted", "connection", {"deleted_date": "2026-01-05T10:00:00Z"}, CONN),
    ("connection.historical-sync-completed", "connection.historical-sync-completed", "connection",
     {"resource": "get_orders", "oldest_data_date": "2025-01-01T00:00:00Z",
      "newest_data_date": "2026-01-05T00:00:00Z"}, "get_orders"),
    ("connection-error.created", "connection-error.created", "connection",
     {"failed_url": "https://wms.example/api/returns", "error_message": "Missing permissions",
      "affected_endpoints": [{"endpoint": "GET /wms/returns", "preventing_sync": False}]},
     "https://wms.example/api/returns"),
    ("connection-error.updated", "connection-error.updated", "connection",
     {"failed_url": "https://wms.example/api/returns", "error_message": "Still missing"},
     "https://wms.example/api/returns"),
    ("connection-error.deleted", "connection-error.deleted", "connection",
     {"failed_url": "https://wms.example/api/returns"}, "https://wms.example/api/returns"),
    ("connection.sync-job-completed", "connection.sync-job-completed", "connection", {}, CONN),
    # Unknown types are kept: resource from the prefix.
    ("widget.created", "widget.created", "widget", RECORD("w_1"), "w_1"),
    ("order.deleted", "order.deleted", "orders", RECORD("ord_9"), "ord_9"),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for n, (sent, canon, resource, data, rid) in enumerate(CASES):
        env = {"connection_id": CONN, "event_type": sent, "integration_name": "sandbox-wms",
               "integration_type": "general" if resource == "connection" else "wms", "data": data}
        if sent.endswith(".updated"):
            env["previous_attributes"] = {"status": "open", "line_items.1.received_quantity": 1}
        # Unusual but valid bytes: pretty-printed, non-ASCII, a trailing newline. The raw
        # topic must hold exactly these bytes, not a re-serialisation.
        body = (json.dumps(env, indent=1, ensure_ascii=False).replace('"sandbox-wms"', '"sandbox-wms é 雪"')
                + "\n").encode("utf-8")
        path = os.path.join(out, "ev_%d.json" % n)
        with open(path, "wb") as f:
            f.write(body)
        print("\t".join(["ev_%d_%s" % (n, sent), sent, canon, "%s|%s|%s" % (CONN, resource, rid), path]))


if __name__ == "__main__":
    main()
