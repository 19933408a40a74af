#!/usr/bin/env bash
# tests/faults/truth_run.sh - the truth test: Trackstar as unkind as production, for one API
# generation, on a private stack. Several connections change on many ticks while the
# simulator's world runs with its harsh defaults: changes reach Trackstar's copy late
# (its crawls, every sync_frequency) with updated_dates already in the past, versions of
# one record share an updated_date, inventory quantities change without touching it,
# records change while the fetcher pages (small, often short pages), webhooks are
# duplicated, taken newest-first and a share of them never delivered; the fetcher is
# SIGKILLed once. Afterwards every table must equal the simulator's truth for every
# resource (ids, versions and content): 0 missed, 0 stale. The world's own counters must
# show that each of those cases happened.
#
# Run through tests/integration/test_truth_2025.sh / test_truth_2026.sh (make test).
# Settings (environment):
#   TRUTH_API             2025 (no trackstar_* dates or filters) or 2026  (2026)
#   TRUTH_NAME            scratch directory build/truth-<name>            (api<TRUTH_API>)
#   FAULT_PORT_BASE       stack ports, in 24000-24800                     (24000)
#   TRUTH_SEED            random seed                                      ($RANDOM)
#   TRUTH_CONNECTIONS     simulator connections                            (5)
#   TRUTH_SECONDS         length of the changing phase                     (30)
#   TRUTH_MUTATIONS       changes per connection per tick                  (10)
#   TRUTH_DROP_PERCENT    resource webhooks never delivered                (10)
#   TRUTH_CONVERGE_S      time allowed to converge once the WMS is still   (150)
#   TRUTH_POLL_S          fetcher poll interval where Trackstar reports no crawl times (2)
#   BIN_DIR               bin or bin-san
# Last line "N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. "$ROOT/tests/lib.sh"

export BIN_DIR=${BIN_DIR:-bin}
API=${TRUTH_API:-2026}
case $API in 2025) DATES=0 ;; 2026) DATES=1 ;; *) echo "TRUTH_API must be 2025 or 2026"; exit 2 ;; esac
NAME=${TRUTH_NAME:-api$API}
export STACK_VAR=$ROOT/build/truth-$NAME
export STACK_PORT_BASE=${FAULT_PORT_BASE:-24000}
SEED=${TRUTH_SEED:-$RANDOM}
CONNS=${TRUTH_CONNECTIONS:-5}
SECONDS_RUN=${TRUTH_SECONDS:-30}
MUTATIONS=${TRUTH_MUTATIONS:-10}
DROP=${TRUTH_DROP_PERCENT:-10}
CONVERGE_S=${TRUTH_CONVERGE_S:-150}
RANDOM=$SEED

case $STACK_PORT_BASE in *[!0-9]*) echo "bad FAULT_PORT_BASE"; exit 2 ;; esac
if [ "$STACK_PORT_BASE" -lt 24000 ] || [ "$STACK_PORT_BASE" -gt 24800 ]; then
  echo "truth: FAULT_PORT_BASE must be in 24000-24800 (ports up to base+432 are used)"; exit 2
fi

# ---- the stack -----------------------------------------------------------------------
# The simulator runs its harsh defaults (ingestion lag, equal timestamps, quantity-only
# changes, id-ordered short pages); only its clock is faster: Trackstar crawls hourly
# resources every 21.6 s and 12-hourly ones every 22 s (capped), long against the whole
# seconds of its timestamps, as an hour is in production. No start-up connections: the
# test makes them, so that connection.created reaches the fetcher.
export SIM_EXTRA_ENV="SIM_CONNECTIONS=0 SIM_RETRY_SCALE=0.001 SIM_HISTORICAL_SYNC_MS=0 SIM_SEED=$SEED SIM_WEBHOOK_CONCURRENCY=8 SIM_SYNC_SCALE=0.006 SIM_SYNC_FREQUENCY_MAX_S=22 SIM_TRACKSTAR_DATES=$DATES"
# The fetcher: small pages (records change while it pages through several), Trackstar's
# crawl times looked at every second, short backoffs. Its clock is scaled like the
# simulator's: polls every 2 s where Trackstar tells nothing (a fetcher that does not
# read crawl times polls far more often than Trackstar crawls), and a margin of 1 s
# behind the cursor (production: 300 s against an hour's sync_frequency).
export FETCHER_PAGE_LIMIT=2 FETCHER_CONN_CHECK_S=1 FETCHER_HIST_CHECK_S=1 FETCHER_REFRESH_MS=500
export FETCHER_CURSOR_OVERLAP_S=1 FETCHER_SYNC_WAIT_S=30 FETCHER_JOB_CHECK_S=1
for r in ORDERS INVENTORY PRODUCTS WAREHOUSES WAREHOUSE_LOCATIONS SHIPPING_METHODS RETURNS INBOUND_SHIPMENTS BILLS; do
  export "FETCHER_INTERVAL_${r}_S=${TRUTH_POLL_S:-2}"
done
export FETCHER_BACKOFF_CAP_MS=2000 FETCHER_FAILED_RETRY_S=3
export STACK_BROKER_PARTITIONS=8

. "$ROOT/tests/faults/faultlib.sh"
WORK=$STACK_VAR/work
TICK_PID=
cleanup() {
  [ -n "$TICK_PID" ] && kill "$TICK_PID" 2>/dev/null
  fl_stack_down
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "truth[$NAME]: the $API API, seed $SEED, $CONNS connections, ${SECONDS_RUN}s of changes, binaries in $BIN_DIR"
T0=$(date +%s)
if ! fl_stack_up; then fail "stack started" "see $STACK_VAR/logs"; finish; exit 1; fi
mkdir -p "$WORK"
pass "private stack up on ports $STACK_PORT_BASE+ (the $API API: SIM_TRACKSTAR_DATES=$DATES)"

# ---- connections ----------------------------------------------------------------------
: >"$WORK/conns"
for ((i = 0; i < CONNS; i++)); do
  integ=sandbox; [ $((i % 3)) -eq 2 ] && integ=extensiv-3pl-central
  # The inventory ledger is enabled on request: every other connection has it, so the
  # comparison covers both (a ledger to match, and none polled where it is off).
  ledger=false; [ $((i % 2)) -eq 0 ] && ledger=true
  fl_simctl POST /_sim/connections \
    "{\"integration_name\":\"$integ\",\"ledger\":$ledger,\"orders\":40,\"products\":12,\"warehouses\":2,\"locations_per_warehouse\":3,\"returns\":8,\"inbound_shipments\":5,\"bills\":8,\"shipping_methods\":3,\"warehouse_customers\":1}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["connection_id"])' >>"$WORK/conns" || true
done
check_eq "$CONNS simulator connections created" "$CONNS" "$(wc -l <"$WORK/conns")"
CONN_LIST=$(paste -sd, "$WORK/conns")
backfilled() {
  local n
  n=$(psql "$DATABASE_URL" -XtAc "SELECT count(DISTINCT connection_id) FROM orders" 2>/dev/null)
  [ "${n:-0}" -ge "$CONNS" ]
}
if wait_for 90 backfilled; then pass "backfill: every connection's orders polled ($(($(date +%s) - T0)) s)"
else fail "backfill" "orders of $(psql "$DATABASE_URL" -XtAc "SELECT count(DISTINCT connection_id) FROM orders") connections"; fi

# ---- the changing phase ------------------------------------------------------------------
fl_simctl POST /_sim/faults "{\"webhook_drop_percent\":$DROP}" >/dev/null
ticker() {
  local t=0
  while :; do
    fl_simctl POST /_sim/crawl "{\"mutations\":$MUTATIONS}" >/dev/null 2>&1
    t=$((t + 1))
    [ $((t % 4)) -eq 0 ] && fl_simctl POST /_sim/faults '{"webhook_duplicate":40,"webhook_out_of_order":40}' >/dev/null 2>&1
    sleep 1
  done
}
ticker &
TICK_PID=$!
sleep $((SECONDS_RUN / 3 + RANDOM % (SECONDS_RUN / 3)))
fl_kill_stage fetcher
sleep $((SECONDS_RUN - SECONDS_RUN / 3 - SECONDS_RUN / 6))
kill "$TICK_PID" 2>/dev/null; wait "$TICK_PID" 2>/dev/null; TICK_PID=
fl_simctl POST /_sim/faults '{"webhook_drop_percent":0}' >/dev/null
fl_check_alive
fl_log "the WMS is still now; Trackstar's crawls catch up, then the pipeline"

# ---- convergence -----------------------------------------------------------------------
# Trackstar's copy catches up with the WMS within a crawl (22 s and its length here), and
# the simulator delivers what it has queued; then the database must reach the truth.
settled() {
  fl_simctl GET /_sim/connections | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
sys.exit(0 if all(sum(c["pending"].values()) == 0 for c in d) else 1)'
}
if wait_for 60 settled; then pass "Trackstar's copy caught up with the WMS (no change pending)"
else fail "Trackstar's copy caught up" "changes still pending after 60 s"; fi
drained() { [ "$(fl_sim_stat pending)" = 0 ]; }
if wait_for 120 drained; then pass "every webhook delivered or given up (simulator queue empty)"
else fail "simulator queue drained" "pending $(fl_sim_stat pending)"; fi
# Each attempt is a full comparison (report and summary): the one that passes is the
# verdict, with no second comparison only to print its report (as fault_run.sh).
t0=$(date +%s)
rc=1
while [ $(( $(date +%s) - t0 )) -lt "$CONVERGE_S" ]; do
  python3 "$ROOT/tests/faults/compare_truth.py" --sim "$SIM_URL" --api-key "$TRACKSTAR_API_KEY" \
    --db "$DATABASE_URL" --connections "$CONN_LIST" --summary-json "$WORK/summary.json" >"$WORK/compare.out" 2>&1
  rc=$?
  [ $rc -eq 0 ] && break
  sleep 3
done
conv=$(( $(date +%s) - t0 ))
if [ $rc -ne 0 ]; then # timed out: the report of the database as it is now
  python3 "$ROOT/tests/faults/compare_truth.py" --sim "$SIM_URL" --api-key "$TRACKSTAR_API_KEY" \
    --db "$DATABASE_URL" --connections "$CONN_LIST" --summary-json "$WORK/summary.json" >"$WORK/compare.out" 2>&1
  rc=$?
fi
sed 's/^/        /' "$WORK/compare.out"
if [ $rc -eq 0 ]; then pass "every table equals the truth, $conv s after the WMS went still: 0 missed, 0 stale"
else fail "every table equals the truth (0 missed, 0 stale)" "$(tail -1 "$WORK/compare.out")"; fi
# Order channels and suppliers have no webhooks: only the complete listing learns that the
# WMS removed one, and the row must be marked deleted (the comparison leaves those out).
gone=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["entities"]
print(sum(e[r]["deleted"] for r in ("order_channels", "inbound_shipment_suppliers")))' "$WORK/summary.json" 2>/dev/null)
if [ "${gone:-0}" -gt 0 ]; then pass "removed order channels and suppliers marked deleted ($gone rows)"
else fail "removed order channels and suppliers marked deleted" "${gone:-no summary}"; fi

# ---- the evidence: each unkind case happened ----------------------------------------------
fl_simctl GET /_sim/connections >"$WORK/world.json"
STATS=$(fl_simctl GET /_sim/webhooks/stats)
python3 - "$WORK/world.json" "$STATS" "$DATES" <<'EOF' >"$WORK/world.out"; rc=$?
import json, sys
conns = json.load(open(sys.argv[1]))["data"]
stats = json.loads(sys.argv[2])
w = {}
for c in conns:
    for k, v in c["world"].items():
        w[k] = w.get(k, 0) + v
cases = [("late ingestion (visible after its updated_date)", w["late"]),
         ("equal updated_date on consecutive copies", w["equal_updated"]),
         ("quantity-only inventory changes", w["quantity_only"]),
         ("changes behind the fetcher's page position", w["mid_paging"]),
         ("short pages", w["short_pages"]),
         ("webhooks duplicated", stats["duplicated"]),
         ("webhooks withheld (never delivered)", stats["withheld"]),
         ("Trackstar crawls", w["crawls"])]
bad = 0
for name, n in cases:
    print(f"{name}: {n}")
    bad += n == 0
sys.exit(1 if bad else 0)
EOF
sed 's/^/        /' "$WORK/world.out"
if [ $rc -eq 0 ]; then pass "every unkind case happened (counts above)"
else fail "every unkind case happened" "a case did not occur: see the counts above"; fi
check_eq "one fetcher SIGKILL" 1 "${#FL_KILLS[@]}"
if [ "$DATES" = 0 ]; then
  n=$(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM orders WHERE trackstar_updated_at IS NOT NULL")
  check_eq "the 2025 API: no trackstar_updated_at stored" 0 "$n"
  # the fetcher ran on updated_date after the trackstar_* filters were refused
  fields=$(psql "$DATABASE_URL" -XtAc "SELECT string_agg(DISTINCT cursor_field, ',') FROM fetcher_streams WHERE cursor_at IS NOT NULL")
  check_eq "the 2025 API: every cursor on updated_date" updated_date "$fields"
else
  # complete listings (inventory, warehouses, their locations, shipping methods) have no
  # cursor; order packs list the packed orders by their updated_date (the version each
  # record takes: docs/fetcher.md), under the same cursor rule
  fields=$(psql "$DATABASE_URL" -XtAc "SELECT string_agg(DISTINCT cursor_field, ',') FROM fetcher_streams WHERE cursor_at IS NOT NULL AND resource <> 'order_packs'")
  check_eq "the 2026 API: every incremental cursor on trackstar_updated_date" trackstar_updated_date "$fields"
fi

fl_stack_down
markers=$(fl_crash_markers)
if [ -z "$markers" ]; then pass "no crash, sanitizer report or unique violation in any log"
else fail "no crash, sanitizer report or unique violation in any log" "$(echo "$markers" | head -3)"; fi
echo "  ..    total time $(( $(date +%s) - T0 )) s; logs in $STACK_VAR/logs"
finish
