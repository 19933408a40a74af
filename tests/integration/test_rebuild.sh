#!/usr/bin/env bash
# test_rebuild.sh - `tsctl rebuild`: drop the database and rebuild it from the raw topic,
# through the normal normalizer and writer in consumer groups of their own; the tables must
# equal the ones before, row for row, apart from bookkeeping (db_updated_at, the writer's
# partition fences, the fetcher's own state, which is not on the raw topic, and
# sync_accuracy and inventory_onhand_snapshots, which measure when and which versions were
# applied: a rebuild applies them later, and a batch of history keeps only each record's
# newest).
#
# It runs on a stack of its own (ports REBUILD_PORT_BASE, default 26000), so
# that the raw topic holds this test's history only (the dev broker keeps ~5 MiB per
# partition). The history: three simulator connections backfilled, crawl ticks with their
# webhooks and polls, an inventory item removed (a delete from a complete listing), one
# connection deleted, one deleted and purged (and a late webhook of it): the rebuild must
# leave the purged one out, from the purge markers' topic, although its records are still
# on the raw topic.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. "$ROOT/tests/lib.sh"
BIN_DIR=${BIN_DIR:-bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
export BIN_DIR
BASE=${REBUILD_PORT_BASE:-26000}
WORK=$(mktemp -d /tmp/test_rebuild.XXXXXX)
export STACK_VAR=$WORK/stack STACK_PORT_BASE=$BASE
cleanup() { deploy/stack/stack.sh down >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT
t_start=$(date +%s)
if ! deploy/stack/stack.sh up >"$WORK/up.log" 2>&1; then
  tail -5 "$WORK/up.log"; fail "private stack started" "see above"; finish; exit 1
fi
. "$STACK_VAR/stack.env"
lap() { echo "  ..    [$(( $(date +%s) - t_start )) s] $*"; }
pass "private stack up on ports $BASE+"
lap "stack up"
sql() { psql "$DATABASE_URL" -XtA -F'|' -c "$1"; }
sim() { curl -sS -X "$1" -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -H 'content-type: application/json' ${3:+-d "$3"} "$SIM_URL$2"; }
T() { "$BIN_DIR/tsctl" --env "$STACK_VAR/stack.env" "$@" </dev/null; }
metric() { curl -fsS "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
drained() {
  local a b c d
  a=$(metric "$ADMIN_WRITER" writer_batches_total); c=$(metric "$ADMIN_NORMALIZER" normalizer_messages_in_total)
  sleep 1.5
  b=$(metric "$ADMIN_WRITER" writer_batches_total); d=$(metric "$ADMIN_NORMALIZER" normalizer_messages_in_total)
  [ "$a" = "$b" ] && [ "$c" = "$d" ]
}

SIZES='"orders":25,"products":8,"warehouses":2,"locations_per_warehouse":2,"returns":3,"inbound_shipments":3,"bills":3,"shipping_methods":2'
A=$(sim POST /_sim/connections "{\"integration_name\":\"sandbox\",$SIZES}" | jq -r .connection_id)
B=$(sim POST /_sim/connections "{\"integration_name\":\"sandbox\",$SIZES}" | jq -r .connection_id)
C=$(sim POST /_sim/connections "{\"integration_name\":\"sandbox\",$SIZES}" | jq -r .connection_id)
# The orders in Trackstar's copy: some of the 25 per connection may be older than the
# historical sync's window (docs/simulator.md).
WANT=0
for c in "$A" "$B" "$C"; do
  WANT=$((WANT + $(sim GET "/_sim/truth/orders?connection_id=$c&limit=100" | jq '.data | length')))
done
backfilled() { [ "$(sql "SELECT count(DISTINCT connection_id) FROM orders")" = 3 ] && [ "$(sql "SELECT count(*) FROM orders")" = "$WANT" ]; }
wait_for 120 backfilled && pass "three connections backfilled" || fail "three connections backfilled" "$(sql "SELECT count(*) FROM orders")"
lap "backfilled"
token() { sim GET /_sim/connections | jq -r --arg c "$1" '.data[] | select(.connection_id == $c) | .access_token'; }

# history: changes by webhook and by poll, a record gone, a connection deleted, one purged
sim POST /_sim/faults '{"webhook_duplicate":20,"webhook_out_of_order":20}' >/dev/null
sim POST /_sim/crawl '{"mutations":15}' >/dev/null
# the hourly resources: Trackstar's crawl of a 12-hour one lasts minutes on this stack
T sync "$A" --resources orders,inventory,products,returns,inbound_shipments,bills --wait 120 >/dev/null 2>&1
sim POST /_sim/crawl '{"mutations":15}' >/dev/null
INV=$(sim GET "/_sim/truth/inventory?connection_id=$A&limit=1000" | jq -r '.data[0].id')
sim POST "/_sim/connections/$A/records" "{\"resource\":\"inventory\",\"id\":\"$INV\",\"removed\":true}" >/dev/null
T backfill "$A" --from 2020-01-01 --resources inventory --wait 120 >/dev/null 2>&1
gone() { [ "$(sql "SELECT deleted_at IS NOT NULL FROM inventory_items WHERE connection_id='$A' AND id='$INV'")" = t ]; }
wait_for 30 gone && pass "a record found gone (deleted_at set)" || fail "record found gone" ""
for c in "$B" "$C"; do
  curl -sS -X DELETE -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -H "x-trackstar-access-token: $(token "$c")" "$SIM_URL/connections" >/dev/null
done
deleted() { [ "$(sql "SELECT count(*) FROM connections WHERE status = 'deleted'")" = 2 ]; }
wait_for 60 deleted && pass "two connections deleted" || fail "two connections deleted" "$(sql "SELECT connection_id, status FROM connections")"
queue_empty() { [ "$(sim GET /_sim/webhooks/stats | jq .pending)" = 0 ]; }
wait_for 60 queue_empty; wait_for 60 drained
lap "history made"
T connections purge "$B" --yes >/dev/null 2>&1 && pass "one purged" || fail "one purged" ""
jq -c --arg c "$B" '.connection_id = $c | .data.id = "inv_late"' tests/fixtures/raw/inventory_updated.json >"$WORK/late.json"
python3 tests/integration/lib/webhook.py --url "$WEBHOOK_URL" --secret "$WEBHOOK_SECRET" --body-file "$WORK/late.json" >/dev/null
sim DELETE /_sim/faults >/dev/null
wait_for 60 drained

# The tables, row for row, without bookkeeping.
# How a version was observed (source, event_id, event_type, observed_at) is left out: two
# observations of one version with the same content are the same version
# (writer/db_version.h), and a replay that meets both in one batch may keep the other one.
dump() { # URL FILE: one session writes a query per table, a second one runs them
  psql "$1" -XtAq >"$2.sql" <<'SQL'
SELECT format(E'\\echo == %s\nSELECT coalesce(string_agg(r::text, E''\\n'' ORDER BY r::text), '''') FROM (SELECT %s FROM %I) r;',
              t.table_name,
              (SELECT string_agg(CASE WHEN c.column_name = 'record' AND c.data_type = 'jsonb'
                                      THEN 'record - ''{source,event_id,event_type,observed_at}''::text[] AS record'
                                      ELSE quote_ident(c.column_name) END, ', ' ORDER BY c.ordinal_position)
                 FROM information_schema.columns c
                WHERE c.table_schema = 'public' AND c.table_name = t.table_name
                  AND c.column_name NOT IN ('db_updated_at', 'source', 'event_id', 'event_type', 'observed_at')),
              t.table_name)
  FROM information_schema.tables t
 WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'
   AND t.table_name NOT IN ('schema_migrations', 'writer_partitions', 'sync_accuracy', 'inventory_onhand_snapshots') AND t.table_name NOT LIKE 'fetcher\_%'
 ORDER BY t.table_name;
SQL
  psql "$1" -XtAq -f "$2.sql" >"$2"
}
lap "purged"
# The fetcher stops first (it polls after every crawl of Trackstar's copy and reports its
# sync status each time), and what it produced goes through, so that the tables compared
# are the raw topic's last word.
kill -TERM "$(cat "$STACK_VAR/run/fetcher.pid")"
# Trackstar's copy takes the WMS's pending changes now (their webhooks go out), instead
# of at its next crawl, which could come after the comparison.
sim POST /_sim/ingest '{}' >/dev/null
queue_empty() { [ "$(sim GET /_sim/webhooks/stats | jq .pending)" = 0 ]; }
wait_for 60 queue_empty || true
sleep 2
wait_for 60 drained || true
dump "$DATABASE_URL" "$WORK/before.txt"
rows=$(grep -vc '^==' "$WORK/before.txt")
check_eq "the purged connection has no row before the rebuild" 0 "$(grep -c -F "$B" "$WORK/before.txt")"
echo "  ..    $rows rows in $(grep -c '^==' "$WORK/before.txt") tables before; raw topic: $(kcat -b "$KAFKA_BOOTSTRAP" -C -t trackstar.raw.v1 -o beginning -e -q -f '.\n' | wc -l) messages"

# Drop the database (the stages that use it stopped), create it empty, rebuild it.
kill -TERM "$(cat "$STACK_VAR/run/writer.pid")"
sleep 3
ADMIN_DB="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
psql "$ADMIN_DB" -XqAc "DROP DATABASE trackstar WITH (FORCE)" && psql "$ADMIN_DB" -XqAc "CREATE DATABASE trackstar" \
  && pass "database dropped and created empty" || fail "database dropped" ""
t0=$(date +%s)
T rebuild --database-url "$DATABASE_URL" --admin-ports $((BASE + 150)) --log-dir "$WORK" --timeout 300 \
  --migrations "$ROOT/writer/migrations" >"$WORK/rebuild.out" 2>"$WORK/rebuild.err"; rc=$?
check_eq "tsctl rebuild succeeds" 0 "$rc"
grep -E 'normalizer [0-9]+/[0-9]+ raw' "$WORK/rebuild.err" | tail -1 | sed 's/^/  ..    /'
grep -q "1 purged connections carried over" "$WORK/rebuild.err" && pass "it reports progress and carries the purge marker over" \
  || fail "progress and purge marker" "$(head -5 "$WORK/rebuild.err")"
echo "  ..    rebuild took $(( $(date +%s) - t0 )) s"
check_eq "no error in the rebuild's normalizer and writer logs" 0 "$(cat "$WORK"/rebuild-*.log | grep -c '"level":"error"')"
dump "$DATABASE_URL" "$WORK/after.txt"
if diff -q "$WORK/before.txt" "$WORK/after.txt" >/dev/null; then
  pass "the rebuilt tables equal the ones before, row for row ($rows rows)"
else
  fail "the rebuilt tables equal the ones before" "$(diff "$WORK/before.txt" "$WORK/after.txt" | head -8)"
fi
echo "  ..    test time $(( $(date +%s) - t_start )) s"
finish
