#!/usr/bin/env bash
# test_consumers.sh - the consumer examples of docs/consuming.md, run as another team
# would run them, against the local stack's public topics:
#  - docs/examples/consumer.c compiles with -Wall -Wextra -Werror;
#  - a new simulator connection's orders reach wms.orders.v1; the C consumer and the
#    Python consumer (docs/examples/consumer.py, Debian's python3-confluent-kafka: the
#    topics are LZ4-compressed) each apply every one of them (the last message per key:
#    "upsert <key> <record>", "delete <key>");
#  - each stops cleanly on SIGTERM (exit 0) having committed its offsets: started again
#    in the same group, it applies none of them a second time.
# Run by tests/run-integration.sh with the stack up; alone:
#   make up && STACK_ENV=var/stack.env bash tests/integration/test_consumers.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. tests/lib.sh
stack_env
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

if cc -std=c11 -Wall -Wextra -Werror docs/examples/consumer.c -lrdkafka -lcjson -o "$TMP/consumer" 2>"$TMP/cc.err"; then
  pass "docs/examples/consumer.c compiles (-Wall -Wextra -Werror)"
else fail "docs/examples/consumer.c compiles" "$(head -5 "$TMP/cc.err")"; fi
check "python3-confluent-kafka is installed (Debian's python3)" /usr/bin/python3 -c 'import confluent_kafka'

conn=$(simctl POST /_sim/connections '{"orders":4,"products":1,"emit_created":1}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["connection_id"])')
n_orders() { psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM orders WHERE connection_id = '$conn'"; }
# The orders in Trackstar's copy: one of the 4 may be older than the historical sync's
# window (docs/simulator.md).
want=$(simctl GET "/_sim/truth/orders?connection_id=$conn&limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
all_stored() { [ "$(n_orders)" -ge "${want:-4}" ]; }
if [ -n "$conn" ] && wait_for 90 all_stored; then pass "a new connection's $want orders went through the pipeline"
else fail "a new connection's orders went through the pipeline" "$(n_orders) orders of $conn"; fi
ids=$(psql "$DATABASE_URL" -XtAc "SELECT id FROM orders WHERE connection_id = '$conn' ORDER BY id")

# run LOG CMD...: start a consumer in the background, logging to LOG; its pid in $pid
run() { local log=$1; shift; "$@" >"$log" 2>"$log.err" & pid=$!; PIDS+=("$pid"); }
applied_all() { # LOG: every order of the connection applied
  local id; for id in $ids; do grep -q "^upsert $conn|$id {" "$1" || return 1; done
}
stop_ok() { kill -TERM "$1"; local i; for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1"; }

for c in "C:$TMP/consumer" "Python:/usr/bin/python3 docs/examples/consumer.py"; do
  lang=${c%%:*} cmd=${c#*:}
  group="consumer-example-$lang-$$"
  # shellcheck disable=SC2086
  run "$TMP/$lang.1" $cmd "$KAFKA_BOOTSTRAP" "$group" wms.orders.v1
  if wait_for 60 applied_all "$TMP/$lang.1"; then pass "$lang consumer applies every order of the connection from wms.orders.v1"
  else fail "$lang consumer applies every order" "$(tail -n 3 "$TMP/$lang.1" "$TMP/$lang.1.err")"; fi
  stop_ok "$pid"; rc=$?
  check_eq "$lang consumer exits 0 on SIGTERM" 0 "$rc"
  # Same group again: the committed offsets hold, so nothing of this connection comes back.
  # shellcheck disable=SC2086
  run "$TMP/$lang.2" $cmd "$KAFKA_BOOTSTRAP" "$group" wms.orders.v1
  sleep 8
  stop_ok "$pid"
  check_eq "$lang consumer, restarted in its group, applies none of them again (offsets committed)" 0 \
    "$(grep -c "^upsert $conn|" "$TMP/$lang.2")"
done

finish
