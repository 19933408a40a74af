#!/usr/bin/env bash
# test_hardening.sh - the admin ports and the database connection, as an outsider and
# a broken environment would meet them (docs/testing.md, "Admin ports and secrets"):
#  - the fetcher's admin actions need the ADMIN_TOKEN bearer: 401 without or with a
#    wrong one, 2xx with it; /healthz, /readyz and /metrics stay open; tsctl sends it;
#  - admin actions run off the thread that answers /healthz: with the database a black
#    hole (accepts, never answers), /healthz answers at once, a full queue answers 503 at
#    once, and a stuck action is answered 503 at its deadline;
#  - a malformed DATABASE_URL holding a password: the password appears in no log line
#    (fetcher, writer, tsctl) and in no admin answer;
#  - /healthz follows the main loop: a writer blocked on a table lock answers 503 once
#    its heartbeat is HEALTHZ_STALE_S old, and 200 again when the lock goes.
# Uses the test stack ($STACK_ENV) and starts private processes on free ports in
# STACK_PORT_BASE+150..+400.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"
# shellcheck disable=SC1090,SC1091
. "$STACK_VAR/secrets.env" # TOKEN_ENCRYPTION_KEY
BIN_DIR=${BIN_DIR:-bin}
case $BIN_DIR in /*) ;; *) BIN_DIR=$ROOT/$BIN_DIR ;; esac
LIB=$ROOT/tests/integration/lib
WORK=$(mktemp -d /tmp/test_hardening.XXXXXX)
PIDS=()
HB_DB=hard_hb_$$
ADMIN_DB="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  psql "$ADMIN_DB" -qXc "DROP DATABASE IF EXISTS $HB_DB WITH (FORCE)" >/dev/null 2>&1
  if [ "$T_FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap cleanup EXIT
base=${STACK_PORT_BASE:-27000}
read -r HOLE F1 F2 W1 BPORT W2 < <(python3 "$LIB/free_ports.py" 6 $((base + 150)) $((base + 400)))
code() { curl -s -o "$WORK/body" -w '%{http_code}' --max-time 20 "$@"; }
auth=(-H "Authorization: Bearer $ADMIN_TOKEN")

echo "-- the fetcher's admin actions need the bearer token"
authcode=$(curl -s -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -d '{"integration_name":"sandbox"}' \
  "$SIM_URL/_sim/auth-codes" | python3 -c 'import json,sys; print(json.load(sys.stdin)["auth_code"])')
exch() { code -X POST -H 'Content-Type: application/json' --data "{\"auth_code\":\"$authcode\"}" "$@" "$ADMIN_FETCHER/connections/exchange"; }
check_eq "POST /connections/exchange without a token: 401" 401 "$(exch)"
check_eq "... with a wrong token: 401" 401 "$(exch -H 'Authorization: Bearer wrong-token-0123456789')"
check_eq "... with a token in another scheme: 401" 401 "$(exch -H "Authorization: Basic $ADMIN_TOKEN")"
st=$(exch "${auth[@]}")
conn=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("connection_id",""))' "$WORK/body" 2>/dev/null)
if [ "$st" = 201 ] && [ -n "$conn" ]; then pass "... with ADMIN_TOKEN: 201, connection $conn stored"
else fail "POST /connections/exchange with the token" "$st $(cat "$WORK/body")"; fi
sync_body="{\"connection_id\":\"$conn\",\"resources\":[\"orders\"]}"
check_eq "POST /sync without a token: 401" 401 "$(code -X POST --data "$sync_body" "$ADMIN_FETCHER/sync")"
check_eq "POST /sync with ADMIN_TOKEN: 202" 202 "$(code -X POST --data "$sync_body" "${auth[@]}" "$ADMIN_FETCHER/sync")"
check_eq "POST /backfill without a token: 401" 401 "$(code -X POST --data "$sync_body" "$ADMIN_FETCHER/backfill")"
check_eq "GET /streams without a token: 401" 401 "$(code "$ADMIN_FETCHER/streams")"
check_eq "GET /streams with ADMIN_TOKEN: 200" 200 "$(code "${auth[@]}" "$ADMIN_FETCHER/streams")"
for p in /healthz /readyz /metrics; do check_eq "$p needs no token: 200" 200 "$(code "$ADMIN_FETCHER$p")"; done
if env -u ADMIN_TOKEN FETCHER_ADMIN_URL="$ADMIN_FETCHER" "$BIN_DIR/tsctl" sync "$conn" >"$WORK/tsctl.out" 2>&1 </dev/null; then fail "tsctl without ADMIN_TOKEN is refused" "$(cat "$WORK/tsctl.out")"
else grep -q 'HTTP 401' "$WORK/tsctl.out" && pass "tsctl without ADMIN_TOKEN: refused (HTTP 401)" ||
  fail "tsctl without ADMIN_TOKEN is refused with 401" "$(cat "$WORK/tsctl.out")"; fi
"$BIN_DIR/tsctl" --env "$STACK_ENV" --json sync "$conn" >"$WORK/tsctl2.out" 2>&1 </dev/null &&
  pass "tsctl with stack.env sends ADMIN_TOKEN: sync accepted" || fail "tsctl sends the token" "$(cat "$WORK/tsctl2.out")"
denied=$(curl -s "$ADMIN_FETCHER/metrics" | awk '$1 == "admin_requests_denied_total" { print $2 }')
[ "${denied:-0}" -ge 6 ] && pass "refusals counted: admin_requests_denied_total $denied" || fail "admin_requests_denied_total" "${denied:-none}"

echo "-- admin actions off the /healthz thread: the database a black hole"
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
open(sys.argv[2], "w").close()
held = []
while True:
    c, _ = s.accept(); held.append(c)  # accept, never answer
' "$HOLE" "$WORK/hole.ready" &
PIDS+=($!)
wait_for 30 test -e "$WORK/hole.ready" || fail "black-hole listener ready"
fetcher() { # NAME ADMIN_PORT DATABASE_URL [VAR=value...]
  local name=$1 port=$2 url=$3; shift 3
  env KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP" ADMIN_PORT="$port" TRACKSTAR_BASE_URL="$TRACKSTAR_BASE_URL" \
    TRACKSTAR_API_KEY="$TRACKSTAR_API_KEY" TOKEN_ENCRYPTION_KEY="$TOKEN_ENCRYPTION_KEY" ADMIN_TOKEN="$ADMIN_TOKEN" \
    FETCHER_GROUP="hard-$name-$$" FETCHER_EVENTS_GROUP="hard-$name-ev-$$" DATABASE_URL="$url" "$@" \
    "$BIN_DIR/fetcher" 2>"$WORK/$name.log" &
  PIDS+=($!)
  wait_for 20 curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"
}
fetcher hole "$F1" "postgresql://postgres:pw@127.0.0.1:$HOLE/x?connect_timeout=60" HEALTHZ_STALE_S=600 ||
  fail "fetcher with a black-hole database starts its admin port" "$(tail -3 "$WORK/hole.log")"
A=http://127.0.0.1:$F1
t0=$(date +%s%N)
curl -s -o "$WORK/stuck.body" -w '%{http_code}' --max-time 40 -X POST --data "$sync_body" "${auth[@]}" "$A/sync" \
  >"$WORK/stuck.code" &
stuck=$!
sleep 1
queued=()
for i in $(seq 1 17); do # fill the queue (16) behind the stuck one
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 40 -X POST --data "$sync_body" "${auth[@]}" "$A/sync" >>"$WORK/queue.codes" &
  queued+=($!)
done
sleep 1
hz=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$A/healthz")
[ "${hz%% *}" = 200 ] && pass "/healthz answers while actions hang on the database (${hz#* } s)" || fail "/healthz while actions hang" "$hz"
m=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$A/metrics")
check_eq "/metrics answers too" 200 "$m"
wait "$stuck"
took=$((($(date +%s%N) - t0) / 1000000))
if [ "$(cat "$WORK/stuck.code")" = 503 ] && grep -q 'timed out' "$WORK/stuck.body" && [ "$took" -lt 20000 ]; then
  pass "a stuck action is answered 503 at its deadline (after $took ms)"
else fail "stuck action answered 503 at its deadline" "$(cat "$WORK/stuck.code") $(cat "$WORK/stuck.body") after $took ms"; fi
wait "${queued[@]}"
busy=$(awk '$1 == 503 && $2 < 5 { n++ } END { print n + 0 }' "$WORK/queue.codes")
late=$(awk '$1 == 503 && $2 >= 5 { n++ } END { print n + 0 }' "$WORK/queue.codes")
if [ "$busy" -ge 1 ] && [ $((busy + late)) = 17 ]; then
  pass "a full queue answers 503 at once ($busy of 17); the $late queued ones 503 at their deadline"
else fail "full queue answers 503 at once" "$(tr '\n' ' ' <"$WORK/queue.codes")"; fi

echo "-- a malformed DATABASE_URL with a password: the password is shown nowhere"
PW='S3cr%tPw'
BAD="postgresql://trackstar:$PW@127.0.0.1:$PGPORT/trackstar"
fetcher badurl "$F2" "$BAD" || fail "fetcher with a malformed DATABASE_URL starts its admin port" "$(tail -3 "$WORK/badurl.log")"
check_eq "an admin action answers 503" 503 "$(code -X POST --data "$sync_body" "${auth[@]}" "http://127.0.0.1:$F2/sync")"
grep -q 'DATABASE_URL is malformed' "$WORK/body" && ! grep -q 'S3cr' "$WORK/body" &&
  pass "... with a fixed message naming DATABASE_URL, without the password: $(cat "$WORK/body")" ||
  fail "admin answer without the password" "$(cat "$WORK/body")"
env KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP" ADMIN_PORT="$W1" DATABASE_URL="$BAD" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" \
  "$BIN_DIR/writer" 2>"$WORK/writer_badurl.log" &
PIDS+=($!)
logged() { grep -q 'DATABASE_URL is malformed' "$1"; }
wait_for 10 logged "$WORK/writer_badurl.log" && wait_for 10 logged "$WORK/badurl.log" ||
  fail "fetcher and writer log the failed connection" "$(tail -2 "$WORK/writer_badurl.log")"
DATABASE_URL="$BAD" "$BIN_DIR/tsctl" orders x >"$WORK/tsctl_badurl.log" 2>&1 </dev/null
leaks=$(grep -l 'S3cr' "$WORK/badurl.log" "$WORK/writer_badurl.log" "$WORK/tsctl_badurl.log" 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')
if [ -z "$leaks" ] && logged "$WORK/tsctl_badurl.log"; then
  pass "the password is in no log line (fetcher $(grep -c malformed "$WORK/badurl.log"), writer $(grep -c malformed "$WORK/writer_badurl.log") retries, tsctl)"
else fail "the password is in no log line" "found in: $leaks"; fi

echo "-- /healthz follows the main loop's heartbeat"
DEV_BROKER_PORT=$BPORT DEV_BROKER_READY_FILE=$WORK/broker.ready LOG_LEVEL=warn "$BIN_DIR/dev-broker" 2>"$WORK/broker.log" &
PIDS+=($!)
wait_for 10 test -s "$WORK/broker.ready" || fail "dev broker starts"
psql "$ADMIN_DB" -qXc "CREATE DATABASE $HB_DB" >/dev/null
DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$HB_DB" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" \
  LOG_LEVEL=warn "$BIN_DIR/writer" --migrate 2>"$WORK/writer_hb.log" || fail "writer --migrate" "$(tail -3 "$WORK/writer_hb.log")"
env KAFKA_BOOTSTRAP="127.0.0.1:$BPORT" ADMIN_PORT="$W2" HEALTHZ_STALE_S=3 \
  KAFKA_CONSUMER_EXTRA=session.timeout.ms=6000,heartbeat.interval.ms=500 \
  DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$HB_DB" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" \
  "$BIN_DIR/writer" 2>>"$WORK/writer_hb.log" &
PIDS+=($!)
H=http://127.0.0.1:$W2
wait_for 30 curl -fsS -o /dev/null "$H/readyz" || fail "writer starts" "$(tail -3 "$WORK/writer_hb.log")"
hz() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$H/healthz"; }
check_eq "writer idle: /healthz 200" 200 "$(hz)"
# Hold the orders table, then give the writer an order: its transaction waits on the lock.
psql "postgresql://postgres@127.0.0.1:$PGPORT/$HB_DB" -qXc "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(12); COMMIT" >/dev/null 2>&1 &
locker=$!
sleep 0.5
kcat -P -b "127.0.0.1:$BPORT" -t trackstar.canonical.orders.v1 -k "conn_1|ord_1" "$ROOT/tests/fixtures/canonical/order_updated.json" 2>/dev/null
stale() { [ "$(hz)" = 503 ]; }
if wait_for 10 stale; then pass "main loop blocked on a table lock: /healthz 503 ($(curl -s --max-time 5 "$H/healthz" | tr -d '\n'))"
else fail "blocked main loop makes /healthz fail" "$(hz)"; fi
wait "$locker"
fresh() { [ "$(hz)" = 200 ]; }
if wait_for 15 fresh; then pass "lock released: the loop turns again and /healthz is 200"
else fail "/healthz back to 200" "$(hz)"; fi
applied() { [ "$(psql "postgresql://postgres@127.0.0.1:$PGPORT/$HB_DB" -XtAc "SELECT count(*) FROM orders")" = 1 ]; }
wait_for 10 applied && pass "and the order was applied" || fail "order applied after the lock" ""
finish
