#!/usr/bin/env bash
# The walking skeleton's path of one record, on the running local stack:
# a signed order.created, then order.updated, then a replay of the first event, then an
# update older than the stored one. The database must end with exactly the newest
# version: one order row, its line items replaced, no duplicate, nothing dead-lettered.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"

TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
CONN="conn_skel_$RANDOM$RANDOM"
ORDER="ord_$RANDOM"
post() { python3 "$ROOT/tests/integration/lib/webhook.py" --url "$WEBHOOK_URL" --secret "$WEBHOOK_SECRET" "$@"; }
sql() { psql "$DATABASE_URL" -XtA -F'|' -c "$1"; }
metric() { curl -fsS "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

order_json() { # event_type updated_date status line_items_json
  cat <<JSON
{"connection_id":"$CONN","event_type":"$1","integration_name":"shiphero","integration_type":"wms",
 "data":{"id":"$ORDER","warehouse_customer_id":"wc_1","warehouse_id":"wh_1","created_date":"2026-01-05T10:00:00Z",
 "updated_date":"$2","reference_id":"SHOP-$ORDER","order_number":"$ORDER","status":"$3","raw_status":"$3",
 "channel":null,"channel_object":{"channel_id":"ch_1","channel_name":"Shopify"},"type":"d2c","trading_partner":null,
 "shipping_method":null,"service_level":"ground","shipping_method_id":"sm_1","shipping_method_name":"UPS Ground",
 "carrier_id":"ups","carrier_name":"UPS","scac":"UPSN","is_third_party_freight":false,
 "third_party_freight_account_number":null,"first_party_freight_account_number":null,"invoice_currency_code":"USD",
 "total_price":59.5,"total_tax":4.5,"total_discount":0,"total_shipping":5,
 "ship_to_address":{"full_name":"Ann Lee","company":null,"address1":"1 Main St","address2":null,"address3":null,
   "city":"Austin","state":"TX","postal_code":"78701","country":"US","phone_number":null,"email_address":null},
 "line_items":$4,"tags":["vip"],"required_ship_date":null,"saturday_delivery":false,"signature_required":false,
 "international_duty_paid_by":null,"shipments":[],"external_system_url":null,"trackstar_tags":[],"additional_fields":{}}}
JSON
}
TWO_ITEMS='[{"product_id":"prod_1","sku":"TSHIRT-M","quantity":2,"unit_price":25,"is_picked":false,"discount_amount":null},
            {"product_id":"prod_2","sku":"CAP","quantity":1,"unit_price":9.5,"is_picked":false,"discount_amount":null}]'
ONE_ITEM='[{"product_id":"prod_1","sku":"TSHIRT-M","quantity":3,"unit_price":25,"is_picked":true,"discount_amount":null}]'

order_json order.created 2026-01-05T10:00:00Z open "$TWO_ITEMS" > "$TMP/created.json"
order_json order.updated 2026-01-06T09:00:00Z fulfilled "$ONE_ITEM" > "$TMP/updated.json"
order_json order.updated 2026-01-05T12:00:00Z cancelled "$TWO_ITEMS" > "$TMP/older.json"

r=$(post --body-file "$TMP/created.json" --id "msg_created_$ORDER"); check_eq "order.created answered 2xx" 2 "${r:0:1}"
# The first version must be in the database before the update, so that the
# update really replaces a stored row (and its line items).
if wait_for 30 bash -c "[ \"\$(psql '$DATABASE_URL' -XtAc \"SELECT status FROM orders WHERE connection_id='$CONN' AND id='$ORDER'\")\" = open ]"; then
  pass "order.created reached PostgreSQL"
else fail "order.created reached PostgreSQL" "no row after 30 s"; fi
check_eq "created: two line items" 2 "$(sql "SELECT count(*) FROM order_line_items WHERE connection_id='$CONN' AND order_id='$ORDER'")"

r=$(post --body-file "$TMP/updated.json" --id "msg_updated_$ORDER"); check_eq "order.updated answered 2xx" 2 "${r:0:1}"
r=$(post --body-file "$TMP/created.json" --id "msg_created_$ORDER"); check_eq "replay of order.created answered 2xx" 2 "${r:0:1}"
r=$(post --body-file "$TMP/older.json" --id "msg_older_$ORDER"); check_eq "older order.updated answered 2xx" 2 "${r:0:1}"

# Wait until the newest version is in PostgreSQL, then a few seconds more: the replay and
# the older version were posted before the wait began, and each hop takes well under a
# second, so by then they have been through the writer too (and must not have won). The
# stack is never idle (the simulator's WMS keeps changing), so "the writer went quiet"
# is no signal.
newest_in() { [ "$(sql "SELECT status FROM orders WHERE connection_id='$CONN' AND id='$ORDER'")" = fulfilled ]; }
if wait_for 60 newest_in; then pass "the newest version reached PostgreSQL"; else fail "the newest version reached PostgreSQL" "$(sql "SELECT status FROM orders WHERE connection_id='$CONN' AND id='$ORDER'")"; fi
sleep 3

check_eq "exactly one order row" 1 "$(sql "SELECT count(*) FROM orders WHERE connection_id='$CONN' AND id='$ORDER'")"
check_eq "the newest version wins" "fulfilled|2026-01-06 09:00:00+00|59.5|Shopify" \
  "$(sql "SELECT status, source_updated_at AT TIME ZONE 'UTC' || '+00', total_price, channel_name FROM orders WHERE connection_id='$CONN' AND id='$ORDER'")"
check_eq "line items are the newest version's" "0|TSHIRT-M|3|25|t" \
  "$(sql "SELECT line_number, sku, quantity, unit_price, is_picked FROM order_line_items WHERE connection_id='$CONN' AND order_id='$ORDER' ORDER BY line_number")"
check_eq "stored record is the canonical order" "order|fulfilled|webhook|msg_updated_$ORDER" \
  "$(sql "SELECT record->>'entity', record->>'status', record->>'source', record->>'event_id' FROM orders WHERE connection_id='$CONN' AND id='$ORDER'")"

dlq=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t trackstar.dlq.v1 -e -q -f '%k\n' 2>/dev/null | grep -c "^$CONN|" || true)
check_eq "nothing dead-lettered" 0 "$dlq"
finish
