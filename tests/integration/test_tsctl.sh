#!/usr/bin/env bash
# test_tsctl.sh - bin/tsctl against the simulator and a local stack ($STACK_ENV, as
# tests/run-integration.sh provides): every subcommand's output and its effect.
# Magic links round trip; a link exchange with an auth code minted through the
# simulator's control API registers a connection that reaches the database; its
# backfill is watched to the end and its data checked against the simulator's truth;
# a manual sync triggers the simulator's sync; a connection error shows up and a
# reinstall resolves it; a dead-letter record injected with kcat is listed and
# replayed; --json output parses; the access token never appears in any output.
# Last line: "N passed, M failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BIN_DIR=${BIN_DIR:-bin}
STACK_ENV=${STACK_ENV:-var/stack.env}
if [ ! -s "$STACK_ENV" ] || [ ! -x "$BIN_DIR/tsctl" ]; then
  echo "needs a running stack (\$STACK_ENV=$STACK_ENV) and $BIN_DIR/tsctl"
  echo "0 passed, 1 failed"
  exit 1
fi
# shellcheck disable=SC1090
. "$STACK_ENV"
WORK=$(mktemp -d /tmp/test_tsctl.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/all-output" # everything tsctl printed, for the secret check at the end
: >"$OUT"

# Run tsctl with the stack's settings; stdout to the caller, both streams to $OUT.
T() { "$BIN_DIR/tsctl" --env "$STACK_ENV" "$@" 2> >(tee -a "$OUT" >&2) | tee -a "$OUT"; return "${PIPESTATUS[0]}"; }
TJ() { T --json "$@"; }
sim() { # METHOD PATH [BODY]: the simulator's control / management API
  curl -sS -X "$1" -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -H 'content-type: application/json' \
    ${3:+-d "$3"} "$SIM_URL$2"
}
psql_q() { psql "$DATABASE_URL" -tAc "$1" 2>/dev/null; }
is_json() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

echo "-- help and settings"
ok=1
for c in "link token" "link exchange" "link reinstall" "link magic create" "link magic list" \
         "link magic show" "link magic delete" "connections list" "connections show" \
         "connections delete" errors sync backfill request status "dlq list" "dlq show" \
         "dlq replay" resources records changes inventory orders config; do
  # shellcheck disable=SC2086
  "$BIN_DIR/tsctl" $c --help >"$WORK/h" 2>&1 && grep -q "^usage: tsctl $c" "$WORK/h" || { ok=0; echo "    no help for: $c"; }
done
[ $ok = 1 ] && pass "--help on every subcommand" || fail "--help on every subcommand"
"$BIN_DIR/tsctl" >/dev/null 2>&1; check_eq "no command: usage, exit 2" 2 $?
"$BIN_DIR/tsctl" link >/dev/null 2>&1; check_eq "'tsctl link' lists its subcommands, exit 2" 2 $?
"$BIN_DIR/tsctl" nosuch >/dev/null 2>&1; check_eq "unknown command: exit 2" 2 $?
"$BIN_DIR/tsctl" sync >/dev/null 2>&1; check_eq "missing argument: exit 2" 2 $?
"$BIN_DIR/tsctl" --env /nonexistent.env config >/dev/null 2>&1; check_eq "--env with a missing file: exit 2" 2 $?
T config >"$WORK/config"
if grep -q "$SIM_URL" "$WORK/config" && ! grep -qF "$TRACKSTAR_API_KEY" "$WORK/config"; then
  pass "config: settings from --env, API key masked"
else fail "config" "$(cat "$WORK/config")"; fi
env -i PATH="$PATH" ADMIN_FETCHER="$ADMIN_FETCHER" "$BIN_DIR/tsctl" --json config >"$WORK/cfg.json"
check_eq "FETCHER_ADMIN_URL defaults to stack.env's ADMIN_FETCHER" "$ADMIN_FETCHER" "$(jq -r .FETCHER_ADMIN_URL "$WORK/cfg.json")"

echo "-- magic links"
TJ link magic create --customer "cust-$$" --days 3 --endpoints orders,get_inventory >"$WORK/ml.json"
ML=$(jq -r .id "$WORK/ml.json" 2>/dev/null)
if [ -n "$ML" ] && [ "$ML" != null ] && [ "$(jq -r '.integrations_with_endpoints|join(",")' "$WORK/ml.json")" = "get_orders,get_inventory" ]; then
  pass "magic link created with the endpoint filter"
else fail "magic link create" "$(cat "$WORK/ml.json")"; fi
T link magic list | grep -q "$ML"; check_eq "magic link listed (table)" 0 $?
TJ link magic show "$ML" | jq -e --arg c "cust-$$" '.customer_id == $c' >/dev/null; check_eq "magic link shown" 0 $?
T link magic delete "$ML" | grep -q deleted; check_eq "magic link deleted" 0 $?
TJ link magic list | jq -e --arg id "$ML" 'map(select(.id == $id)) | length == 0' >/dev/null
check_eq "deleted magic link no longer listed" 0 $?
T link magic show "$ML" >/dev/null 2>&1; check_eq "showing a deleted magic link fails (exit 1)" 1 $?
T link magic create --allow shipbob --endpoints get_orders >/dev/null 2>&1
check_eq "--allow with --endpoints refused (exit 2)" 2 $?

echo "-- connecting a customer"
TJ link token --sandbox --logo https://example.com/logo.png --style '{"primaryColor":"#0b5"}' >"$WORK/lt.json"
LT=$(jq -r .link_token "$WORK/lt.json")
if [[ "$LT" == lt_* ]] && jq -e '.link_options.integrationsWithEndpoints == ["get_orders","get_inventory","get_products"] and .link_options.sandbox == true and .link_options.logo == "https://example.com/logo.png" and .link_options.style.primaryColor == "#0b5"' "$WORK/lt.json" >/dev/null; then
  pass "link token with Link options (default endpoints, branding: logo and style)"
else fail "link token" "$(cat "$WORK/lt.json")"; fi
T link token --style 'not json' >/dev/null 2>&1; check_eq "--style must be a JSON object (exit 2)" 2 $?
CODE=$(sim POST /_sim/auth-codes "{\"link_token\":\"$LT\",\"integration_name\":\"sandbox\"}" | jq -r .auth_code)
TJ link exchange "$CODE" --customer "cust-$$" --wait 120 >"$WORK/ex.json"; rc=$?
CONN=$(jq -r .connection_id "$WORK/ex.json" 2>/dev/null)
if [ $rc = 0 ] && [ -n "$CONN" ] && [ "$CONN" != null ] && jq -e 'has("access_token") | not' "$WORK/ex.json" >/dev/null; then
  pass "link exchange registered connection $CONN (no token in the output)"
else fail "link exchange" "rc=$rc $(cat "$WORK/ex.json")"; fi
TOKEN=$(sim GET /_sim/connections | jq -r --arg c "$CONN" '.data[] | select(.connection_id == $c) | .access_token')
T link exchange "$CODE" >/dev/null 2>&1; check_eq "a used auth code is refused (exit 1)" 1 $?
TJ connections list >"$WORK/cl.json"
jq -e --arg c "$CONN" 'map(select(.connection_id == $c and .connection_status == "active")) | length == 1' "$WORK/cl.json" >/dev/null
check_eq "the new connection is in 'connections list' (database)" 0 $?
T connections list --source api | grep -q "$CONN"; check_eq "the new connection is in 'connections list --source api'" 0 $?

echo "-- watching the backfill (the writer paused: done means stored)"
# With the writer stopped, the fetcher finishes the backfill but nothing it fetched is
# stored: --until-done must wait for the writer, and end once it has caught up.
WPID=$(cat "$STACK_VAR/run/writer.pid")
kill -STOP "$WPID"
trap 'kill -CONT "$WPID" 2>/dev/null; rm -rf "$WORK"' EXIT
timeout 300 "$BIN_DIR/tsctl" --env "$STACK_ENV" status "$CONN" --until-done --interval 1 >"$WORK/watch.txt" 2>&1 &
UD=$!
wait_for 150 grep -q "waiting for the writer" "$WORK/watch.txt"
check_eq "status --until-done: the backfill fetched, the writer paused: it waits for the writer" 0 $?
sleep 2
kill -0 "$UD" 2>/dev/null; check_eq "status --until-done still waiting while the writer is paused" 0 $?
kill -CONT "$WPID"
wait "$UD"; check_eq "status --until-done ends once the writer has stored it" 0 $?
grep -q "stored: the normalizer and the writer" "$WORK/watch.txt"; check_eq "status --until-done says it is stored" 0 $?
if grep -q "PROGRESS" "$WORK/watch.txt" && grep -q "orders" "$WORK/watch.txt"; then pass "status shows a progress table"
else fail "status table" "$(tail -5 "$WORK/watch.txt")"; fi
timeout 60 "$BIN_DIR/tsctl" --env "$STACK_ENV" --json status "$CONN" --watch --count 2 --interval 1 >"$WORK/watch.ndjson"
# (a subshell, so that its exit 1 fails the check, not the whole suite)
if [ "$(wc -l <"$WORK/watch.ndjson")" = 2 ] && (while read -r l; do jq -e '.streams | length > 0' <<<"$l" >/dev/null || exit 1; done <"$WORK/watch.ndjson"); then
  pass "status --watch --json: one JSON line per sample"
else fail "status --watch --json" "$(head -c 300 "$WORK/watch.ndjson")"; fi
want=$(sim GET /_sim/connections | jq -r --arg c "$CONN" '.data[] | select(.connection_id == $c) | .counts.orders')
stored() { TJ status "$CONN" | jq -r '.streams[] | select(.resource == "orders") | .stored_records'; }
check_eq "after --until-done, IN DB for orders equals the simulator's order count" "$want" "$(stored)"
TJ status "$CONN" | jq -e '[.streams[] | select(.resource == "orders")][0] | .phase == "incremental" and .progress == 1' >/dev/null
check_eq "orders stream: backfill complete (progress 1, incremental)" 0 $?

echo "-- connection details and data"
TJ connections show "$CONN" >"$WORK/show.json"
if jq -e '.connection.integration_name == "sandbox" and (.resources[] | select(.resource == "orders") | .supported == true and .last_success_at != null and .historical_sync_completed_at != null) and .trackstar != null' "$WORK/show.json" >/dev/null; then
  pass "connections show: integration, supported, first sync, last success"
else fail "connections show" "$(head -c 600 "$WORK/show.json")"; fi
T connections show "$CONN" | grep -q "connection errors:"; check_eq "connections show (table)" 0 $?
jq -e '(.resources[] | select(.resource == "orders") | .trackstar_sync_frequency_s > 0 and .trackstar_last_crawl_end != null)' "$WORK/show.json" >/dev/null
check_eq "connections show: Trackstar's sync frequency and last crawl per resource" 0 $?
T connections show "$CONN" | grep -q "LAST CRAWL"; check_eq "connections show (table): EVERY and LAST CRAWL columns" 0 $?
TJ connections set "$CONN" --webhooks-disabled true --customer "cust-set-$$" >"$WORK/set.json"
check_eq "connections set: PATCH /connections through the fetcher" true "$(jq -r .updated "$WORK/set.json")"
TJ connections show "$CONN" | jq -e --arg c "cust-set-$$" '.trackstar.webhooks_disabled == true and .trackstar.customer_id == $c' >/dev/null
check_eq "connections show: webhooks disabled and the new customer id" 0 $?
TJ connections set "$CONN" --webhooks-disabled false --no-customer >/dev/null
TJ connections show "$CONN" | jq -e '.trackstar.webhooks_disabled == false and .trackstar.customer_id == null' >/dev/null
check_eq "connections set: webhooks enabled again, customer id cleared" 0 $?
T connections set "$CONN" >/dev/null 2>&1; check_eq "connections set without a change: exit 2" 2 $?
T connections show no-such-connection >/dev/null 2>&1; check_eq "connections show of an unknown id fails" 1 $?
TJ inventory "$CONN" >"$WORK/inv.json"
skus=$(psql_q "SELECT count(DISTINCT sku) FROM inventory_items WHERE connection_id = '$CONN' AND sku IS NOT NULL")
if is_json "$WORK/inv.json" && [ "$(jq length "$WORK/inv.json")" = "$skus" ] && [ "$skus" -gt 0 ] \
   && jq -e 'all(.[]; .by_warehouse | type == "object")' "$WORK/inv.json" >/dev/null; then
  pass "inventory --json: one row per SKU ($skus) with per-warehouse breakdown"
else fail "inventory --json" "skus=$skus $(head -c 300 "$WORK/inv.json")"; fi
T inventory "$CONN" --limit 3 | grep -q "(all)"; check_eq "inventory table: totals and warehouse rows" 0 $?
sku1=$(jq -r '.[0].sku' "$WORK/inv.json")
check_eq "inventory --sku filters" 1 "$(TJ inventory "$CONN" --sku "$sku1" | jq length)"
n=$(TJ orders "$CONN" --limit 5 | jq length)
check_eq "orders --limit 5" 5 "$n"
T orders "$CONN" --limit 2 | grep -q "ORDER NUMBER"; check_eq "orders table" 0 $?
# resources: every entity of the registry, with the rows its table holds for the connection
TJ resources "$CONN" >"$WORK/res.json"
bad=$(jq -r '.[] | "\(.resource) \(.table) \(.stored_records)"' "$WORK/res.json" | while read -r r t n; do
  [ "$(psql_q "SELECT count(*) FROM \"$t\" WHERE connection_id = '$CONN'")" = "$n" ] || echo "$r: $n"; done)
if is_json "$WORK/res.json" && [ "$(jq length "$WORK/res.json")" -ge 9 ] && [ -z "$bad" ]; then
  pass "resources --json: every entity, IN DB equal to its table's rows"
else fail "resources --json" "$bad $(head -c 300 "$WORK/res.json")"; fi
T resources | grep -q "wms.orders.v1"; check_eq "resources table" 0 $?
nwh=$(psql_q "SELECT count(*) FROM warehouses WHERE connection_id = '$CONN'")
check_eq "records --json of any entity (warehouses, by its function name)" "$nwh" \
  "$(TJ records "$CONN" get_warehouses --limit 1000 | jq '[.[] | select(.record.entity == "warehouse")] | length')"
T records "$CONN" widgets >/dev/null 2>&1; check_eq "records of an unknown resource: exit 2" 2 $?

echo "-- manual sync and backfill"
before=$(sim GET /_sim/webhooks/stats | jq .enqueued)
TJ sync "$CONN" --resources orders --wait 120 >"$WORK/sync.json"
check_eq "sync: request done" done "$(jq -r .status "$WORK/sync.json")"
after=$(sim GET /_sim/webhooks/stats | jq .enqueued)
if [ "$after" -gt "$before" ]; then pass "sync triggered the simulator's sync, completed later (webhooks $before -> $after: connection.force-sync-completed)"
else fail "sync reached the simulator" "webhooks enqueued $before -> $after"; fi
T sync "$CONN" --resources nonsense >/dev/null 2>&1; check_eq "sync with an unknown resource: exit 2" 2 $?
TJ backfill "$CONN" --from 2020-01-01 --to now --resources orders,returns --wait 120 >"$WORK/bf.json"
if jq -e '.status == "done" and .kind == "backfill" and .resources == ["orders","returns"] and .window_start != null' "$WORK/bf.json" >/dev/null; then
  pass "backfill over a window: request done"
else fail "backfill" "$(cat "$WORK/bf.json")"; fi
RID=$(jq -r .id "$WORK/bf.json")
T request "$RID" | grep -q "backfill"; check_eq "request shows the backfill" 0 $?
T backfill "$CONN" --from 2026-02-01 --to 2026-01-01 >/dev/null 2>&1; check_eq "backfill with --to before --from: exit 2" 2 $?

echo "-- problems: a connection error, then a reinstall"
sim POST /_sim/faults "{\"connection_id\":\"$CONN\",\"missing_permission\":\"get_returns\"}" >/dev/null
wait_for 60 bash -c "\"$BIN_DIR/tsctl\" --env \"$STACK_ENV\" --json errors $CONN | jq -e '.connection_errors | length > 0' >/dev/null"
check_eq "errors: the connection error reached the database" 0 $?
T errors "$CONN" --check >/dev/null; check_eq "errors --check fails while an error is open" 1 $?
T errors | grep -q "$CONN"; check_eq "errors (table) lists it" 0 $?
TJ connections list | jq -e --arg c "$CONN" '.[] | select(.connection_id == $c) | .open_errors >= 1' >/dev/null
check_eq "connections list counts the open error" 0 $?
RT=$(TJ link reinstall "$CONN" | jq -r .link_token)
CODE2=$(sim POST /_sim/auth-codes "{\"link_token\":\"$RT\"}" | jq -r .auth_code)
TJ link exchange "$CODE2" >"$WORK/ex2.json"
check_eq "reinstall keeps the connection id" "$CONN" "$(jq -r .connection_id "$WORK/ex2.json")"
wait_for 60 bash -c "\"$BIN_DIR/tsctl\" --env \"$STACK_ENV\" errors $CONN --check >/dev/null"
check_eq "after the reinstall the error is resolved (errors --check passes)" 0 $?
TJ errors "$CONN" --all | jq -e '.connection_errors | map(select(.active == false)) | length > 0' >/dev/null
check_eq "errors --all shows the resolved error" 0 $?
TJ link reinstall "$CONN" --magic --days 2 | jq -e '.id' >/dev/null; check_eq "link reinstall --magic" 0 $?

echo "-- dead letters"
DT="tsctl.replay.test.$$"
printf '{"n":%d}' $$ | kcat -P -b "$KAFKA_BOOTSTRAP" -t trackstar.dlq.v1 -k "dlq$$|orders|o1" \
  -H dlq_stage=normalizer -H "dlq_reason=test reason $$" -H "dlq_topic=$DT" -H dlq_partition=2 \
  -H dlq_offset=42 -H source=webhook -H "event_id=evt_$$" 2>/dev/null
TJ dlq list --connection "dlq$$" >"$WORK/dlq.json"
REF=$(jq -r '.[-1] | "\(.partition):\(.offset)"' "$WORK/dlq.json" 2>/dev/null)
if jq -e --arg r "test reason $$" --arg t "$DT" '.[-1] | .reason == $r and .topic == $t and .stage == "normalizer" and .original_offset == 42' "$WORK/dlq.json" >/dev/null; then
  pass "dlq list finds the injected record ($REF)"
else fail "dlq list" "$(head -c 400 "$WORK/dlq.json")"; fi
T dlq list --stage normalizer | grep -q "dlq$$|orders|o1"; check_eq "dlq list (table) with a stage filter" 0 $?
TJ dlq show "$REF" | jq -e --argjson n $$ '.value.n == $n and .headers.event_id != null' >/dev/null
check_eq "dlq show: the value and headers" 0 $?
T dlq replay "$REF" --dry-run | grep -q "would replay"; check_eq "dlq replay --dry-run" 0 $?
T dlq replay "$REF" >/dev/null; check_eq "dlq replay" 0 $?
kcat -C -b "$KAFKA_BOOTSTRAP" -t "$DT" -e -q -f '%k\t%s\t%h\n' >"$WORK/replayed.txt" 2>/dev/null
if [ "$(wc -l <"$WORK/replayed.txt")" = 1 ] && grep -qP "^dlq$$\|orders\|o1\t\{\"n\":$$\}\tsource=webhook,event_id=evt_$$\$" "$WORK/replayed.txt"; then
  pass "replayed: original key, value and headers (no dlq_*) on the original topic"
else fail "replayed record" "$(cat "$WORK/replayed.txt")"; fi
T dlq replay --all --connection "dlq$$" >/dev/null; check_eq "dlq replay --all with a filter" 0 $?
check_eq "replay --all produced one more" 2 "$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$DT" -e -q 2>/dev/null | wc -l)"
T dlq show 0:999999999 >/dev/null 2>&1; check_eq "dlq show of a missing record fails" 1 $?
T dlq replay nonsense >/dev/null 2>&1; check_eq "dlq replay of a malformed reference: exit 2" 2 $?

echo "-- deleting the connection"
T connections delete "$CONN" >/dev/null 2>&1; check_eq "delete without --yes: exit 2" 2 $?
printf '%s\n' "$TOKEN" | TJ connections delete "$CONN" --yes --token-stdin >"$WORK/del.json"
check_eq "connections delete" true "$(jq -r .deleted "$WORK/del.json")"
wait_for 60 bash -c "\"$BIN_DIR/tsctl\" --env \"$STACK_ENV\" --json connections list --all | jq -e --arg c $CONN '.[] | select(.connection_id == \$c) | .connection_status == \"deleted\"' >/dev/null"
check_eq "the deletion reached the database" 0 $?
TJ connections list | jq -e --arg c "$CONN" 'map(select(.connection_id == $c)) | length == 0' >/dev/null
check_eq "a deleted connection leaves 'connections list' (kept with --all)" 0 $?

echo "-- JSON everywhere, secrets nowhere"
ok=1
for args in "config" "connections list" "connections list --source api" "errors" "dlq list --limit 3" \
            "link magic list" "status"; do
  # shellcheck disable=SC2086
  TJ $args >"$WORK/j.json" 2>/dev/null && is_json "$WORK/j.json" || { ok=0; echo "    not JSON: $args"; }
done
[ $ok = 1 ] && pass "--json output parses" || fail "--json output parses"
if [ -n "$TOKEN" ] && [ "$TOKEN" != null ] && ! grep -qF "$TOKEN" "$OUT" && ! grep -qF "$TRACKSTAR_API_KEY" "$OUT"; then
  pass "neither the access token nor the API key appears in any tsctl output"
else fail "secrets in the output" "token=${TOKEN:+set}"; fi
finish
