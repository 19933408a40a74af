#!/usr/bin/env bash
# test_purge.sh - `tsctl connections purge` on the running local stack ($STACK_ENV): a
# simulator connection is backfilled (rows in many tables, keys on every compacted topic),
# then deleted in Trackstar, then purged. Afterwards: no row of it in any table (every
# table with a connection_id column, found from the schema, and a pg_dump of the whole
# database that holds no trace of its id); a fresh reader of every compacted topic from
# the beginning finds no live record of it; a late webhook of it is skipped; a second
# purge finds nothing, and gets in while the writer is under load. Refusals: an active
# connection, and no confirmation.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"
BIN_DIR=${BIN_DIR:-bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
sql() { psql "$DATABASE_URL" -XtA -F'|' -c "$1"; }
metric() { curl -fsS "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
sim() { curl -sS -X "$1" -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -H 'content-type: application/json' ${3:+-d "$3"} "$SIM_URL$2"; }
T() { "$BIN_DIR/tsctl" --env "$STACK_ENV" "$@" </dev/null; }
COMPACTED="wms.connection_events.v1 wms.orders.v1 wms.inventory.v1 wms.products.v1 wms.warehouses.v1
  wms.warehouse_locations.v1 wms.shipping_methods.v1 wms.returns.v1 wms.inbound_shipments.v1 wms.bills.v1"
# keys of connection $1 whose last message on the compacted topics is a record
live_keys() {
  local t
  for t in $COMPACTED; do
    kcat -b "$KAFKA_BOOTSTRAP" -C -t "$t" -o beginning -e -q -J 2>/dev/null
  done | jq -r --arg p "$1|" 'select(.key != null and (.key | startswith($p))) | [.topic, .key, (.payload == null)] | @tsv' |
    awk -F'\t' '{last[$1 FS $2] = $3} END {for (k in last) if (last[k] == "false") print k}' | sort
}
# every table with a connection_id column, and its rows of connection $1
rows_everywhere() {
  local t n total=0
  for t in $(sql "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'connection_id' AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = current_schema())"); do
    n=$(sql "SELECT count(*) FROM \"$t\" WHERE connection_id = '$1'")
    [ "$n" -gt 0 ] && echo "$t=$n"
    total=$((total + n))
  done
  echo "total=$total"
}

SC=$(sim POST /_sim/connections '{"integration_name":"sandbox","orders":15,"products":8,"warehouses":2,"locations_per_warehouse":2,"returns":2,"inbound_shipments":2,"bills":2,"shipping_methods":2}' | jq -r .connection_id)
TOK=$(sim GET /_sim/connections | jq -r --arg c "$SC" '.data[] | select(.connection_id == $c) | .access_token')
# The orders in Trackstar's copy: some of the 15 may be older than the historical sync's
# window (docs/simulator.md).
WANT=$(sim GET "/_sim/truth/orders?connection_id=$SC&limit=100" | jq '.data | length')
backfilled() { [ "$(sql "SELECT count(*) FROM orders WHERE connection_id='$SC'")" = "$WANT" ] && [ "$(sql "SELECT count(*) FROM inventory_items WHERE connection_id='$SC'")" -gt 0 ]; }
if wait_for 120 backfilled; then pass "connection $SC backfilled"; else fail "connection backfilled" "$(rows_everywhere "$SC" | tail -1)"; fi
before=$(rows_everywhere "$SC" | tail -1)
nkeys=$(live_keys "$SC" | wc -l)
echo "  ..    before: $before rows; $nkeys live keys on the compacted topics; tables: $(rows_everywhere "$SC" | grep -v total= | paste -sd' ')"
[ "$nkeys" -gt 20 ] && pass "its records are on the compacted topics" || fail "records on the topics" "$nkeys keys"

T connections purge "$SC" --yes >"$TMP/active.out" 2>&1; rc=$?
check_eq "an active connection is refused (exit 1)" 1 "$rc"
grep -q "delete it first" "$TMP/active.out" && pass "... saying to delete it first" || fail "refusal names the reason" "$(cat "$TMP/active.out")"

# Deleted in Trackstar: connection.deleted flows through the pipeline.
curl -sS -X DELETE -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -H "x-trackstar-access-token: $TOK" "$SIM_URL/connections" >/dev/null
deleted() { [ "$(sql "SELECT status FROM connections WHERE connection_id='$SC'")" = deleted ]; }
wait_for 60 deleted && pass "connection deleted (connection.deleted reached the database)" || fail "connection deleted" "$(sql "SELECT status FROM connections WHERE connection_id='$SC'")"
# Records read before the deletion may still be on their way to the tables (the backfill
# of its other resources ran on after the orders were in): the count the purge must
# report is the one after they have landed, unchanged for three seconds.
prev= before=$(rows_everywhere "$SC" | tail -1)
i=0
while [ "$before" != "$prev" ] && [ $((i += 1)) -le 20 ]; do
  sleep 3; prev=$before; before=$(rows_everywhere "$SC" | tail -1)
done
[ "$before" = "$prev" ] || fail "the connection's rows stop changing after its deletion" "$prev then $before"

T connections purge "$SC" >"$TMP/noconfirm.out" 2>&1; rc=$?
check_eq "without --yes and no terminal: not confirmed (exit 2)" 2 "$rc"
check_eq "... and nothing removed" "$before" "$(rows_everywhere "$SC" | tail -1)"

t0=$(date +%s%N)
T --json connections purge "$SC" --yes >"$TMP/purge.json" 2>"$TMP/purge.err"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "tsctl connections purge --yes succeeds" 0 "$rc"
echo "  ..    purge: $(jq -c . "$TMP/purge.json") in $ms ms"
check_eq "it reports every row it removed" "${before#total=}" "$(jq -r .rows_deleted "$TMP/purge.json")"

check_eq "no row of the connection in any table with a connection_id column" "total=0" "$(rows_everywhere "$SC" | tail -1)"
pg_dump "$DATABASE_URL" >"$TMP/dump.sql" 2>/dev/null
check_eq "no trace of its id anywhere in a pg_dump of the database" 0 "$(grep -c -F "$SC" "$TMP/dump.sql")"
check_eq "a fresh reader of every compacted topic finds no live record of it" "" "$(live_keys "$SC")"

# A late delivery of the connection is skipped, and stays off the topics.
skipped0=$(metric "$ADMIN_WRITER" writer_purged_skipped_total)
jq -c --arg c "$SC" '.connection_id = $c | .data.id = "inv_late"' "$ROOT/tests/fixtures/raw/inventory_updated.json" >"$TMP/late.json"
r=$(python3 "$ROOT/tests/integration/lib/webhook.py" --url "$WEBHOOK_URL" --secret "$WEBHOOK_SECRET" --body-file "$TMP/late.json")
check_eq "a late webhook of it is accepted by the gateway" 2 "${r:0:1}"
skipped() { [ "$(metric "$ADMIN_WRITER" writer_purged_skipped_total)" -gt "$skipped0" ]; }
wait_for 30 skipped && pass "... and skipped by the writer (writer_purged_skipped_total)" || fail "late record skipped" "$(metric "$ADMIN_WRITER" writer_purged_skipped_total)"
sleep 3
check_eq "still no row and no live key afterwards" "total=0|" "$(rows_everywhere "$SC" | tail -1)|$(live_keys "$SC")"

# Under a steady load of webhooks (another connection) the writer holds the purge lock
# from one batch to the next, one batch always in flight: a purge that waits for the lock
# must get it after the batch being applied, not when the load stops. Counted, not timed:
# while the purge waits, a watcher in PostgreSQL counts the writer's commits (each one
# rewrites its partition fences in writer_partitions). A purge that finds nothing takes the
# lock all the same.
. "$ROOT/tests/bench/bench_lib.sh"
bench_build "$TMP/loadgen" tests/bench/loadgen.c
[[ $WEBHOOK_URL =~ ^http://([0-9.]+):([0-9]+)(/.*)$ ]] || fail "WEBHOOK_URL parses" "$WEBHOOK_URL"
LOAD_CONN=conn_purge_load_$$ LOAD_RATE=300 LOAD_S=10
PURGE_KEY=$(sed -nE 's/^#define PURGE_LOCK_KEY "([0-9]+)".*/\1/p' "$ROOT/common/purge.h")
WEBHOOK_SECRET=$WEBHOOK_SECRET "$TMP/loadgen" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" \
  "$LOAD_CONN" $LOAD_RATE $LOAD_S 8 1 "$TMP/load.csv" >"$TMP/load.out" 2>&1 &
load_pid=$!
busy() { [ "$(sql "SELECT count(*) > 300 FROM orders WHERE connection_id = '$LOAD_CONN'")" = t ]; }
wait_for 30 busy || fail "the load reaches the database" "$(cat "$TMP/load.out")"
psql "$DATABASE_URL" -XqtA >"$TMP/watch.out" 2>&1 <<SQL &
DO \$\$
DECLARE
  waiting boolean;
  seen boolean := false;
  fence text;
  last text;
  commits int := 0;
  t0 timestamptz := clock_timestamp();
BEGIN
  WHILE clock_timestamp() < t0 + interval '30 s' LOOP
    waiting := EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0
                       AND objid = $PURGE_KEY AND objsubid = 1 AND mode = 'ExclusiveLock'
                       AND NOT granted);
    -- the purge has the lock: counted up to here
    EXIT WHEN NOT waiting AND (seen OR EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                       AND classid = 0 AND objid = $PURGE_KEY AND objsubid = 1
                       AND mode = 'ExclusiveLock' AND granted));
    IF waiting THEN
      SELECT string_agg(xmin::text, ',' ORDER BY topic, partition) INTO fence FROM writer_partitions;
      IF seen AND fence IS DISTINCT FROM last THEN commits := commits + 1; END IF;
      seen := true;
      last := fence;
    END IF;
    PERFORM pg_sleep(0.002);
  END LOOP;
  RAISE NOTICE 'watch: seen=% commits=%', seen, commits;
END \$\$;
SQL
watch_pid=$!
sleep 0.5
T --json connections purge "$SC" --yes >"$TMP/again.json" 2>/dev/null; rc=$?
wait "$watch_pid"
check_eq "a second purge, under load, succeeds and finds nothing" "0|0|0" "$rc|$(jq -r .rows_deleted "$TMP/again.json")|$(jq -r .tombstones "$TMP/again.json")"
watch=$(sed -nE 's/.*watch: seen=([a-z]+) commits=([0-9]+).*/\1 \2/p' "$TMP/watch.out")
check "... and got the lock within three of the writer's commits (waited: ${watch% *}, commits meanwhile: ${watch#* })" test "${watch#* }" -le 3
wait "$load_pid"; rc=$?
check_eq "the load was accepted: $(cat "$TMP/load.out")" "0|0" "$rc|$(sed -nE 's/.* non2xx=([0-9]+).*/\1/p' "$TMP/load.out")"
landed() { [ "$(sql "SELECT count(*) FROM orders WHERE connection_id = '$LOAD_CONN'")" = $((LOAD_RATE * LOAD_S)) ]; }
wait_for 60 landed && pass "... and every order of it landed" || fail "every order of the load landed" "$(sql "SELECT count(*) FROM orders WHERE connection_id = '$LOAD_CONN'")"
finish
