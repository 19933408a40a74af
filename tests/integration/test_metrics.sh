#!/usr/bin/env bash
# test_metrics.sh - every stage's /metrics, read as Prometheus reads it, and the
# operating metrics moving when a connection breaks:
#
#  - promtool check metrics (Debian's prometheus) and the Python client's text parser
#    (python3-prometheus-client) accept each stage's /metrics; each has build_info,
#    the process metrics and librdkafka's statistics; the gateway's latency is a
#    histogram in seconds.
#  - A simulator connection is synced, then its WMS credentials are revoked in the
#    simulator (invalid_credentials: Trackstar stops crawling and reports sync_status
#    error, reads still serve its copy): the fetcher stops polling its streams
#    (fetcher_streams{state="blocked"}), its orders' freshness age keeps growing
#    (fetcher_sync_age_seconds_max at least the time since its last success, at two
#    moments), and the writer counts the open blocking connection error
#    (writer_connection_errors_blocking); Trackstar refusing the connection's token
#    (401) blocks the whole connection (fetcher_connections_blocked); when the simulator
#    resolves the error the writer's count goes back down.
#
# Run by tests/run-integration.sh with the stack up; alone:
#   make up && STACK_ENV=var/stack.env bash tests/integration/test_metrics.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. tests/lib.sh
stack_env
# Debian's python3-prometheus-client lives with Debian's python3, not another one on PATH.
PY=/usr/bin/python3
SCRAPE="$PY tests/integration/lib/metrics_scrape.py"
export PYTHONDONTWRITEBYTECODE=1
scratch_dir
val() { $SCRAPE value "$@"; }

echo "-- every stage's /metrics through two real parsers"
check "promtool is installed (Debian prometheus)" command -v promtool
check "python3-prometheus-client is installed" $PY -c 'import prometheus_client'
# librdkafka reports its statistics every 15 s: on a stack just started, wait for them.
has_sample() { curl -fsS --max-time 5 "$1/metrics" | grep -q "^$2{"; }
wait_for 40 has_sample "$ADMIN_WRITER" kafka_consumer_lag_messages
wait_for 40 has_sample "$ADMIN_NORMALIZER" kafka_consumer_lag_messages
for url in $ADMIN_WEBHOOK_GW $ADMIN_FETCHER; do wait_for 40 has_sample "$url" kafka_broker_rtt_seconds; done
for s in webhook-gw:$ADMIN_WEBHOOK_GW fetcher:$ADMIN_FETCHER normalizer:$ADMIN_NORMALIZER writer:$ADMIN_WRITER; do
  stage=${s%%:*} url=${s#*:}
  curl -fsS --max-time 5 "$url/metrics" >"$TMP/$stage.prom" || fail "$stage /metrics answers" "curl failed"
  if promtool check metrics <"$TMP/$stage.prom" >"$TMP/$stage.lint" 2>&1; then pass "$stage: promtool check metrics"
  else fail "$stage: promtool check metrics" "$(head -3 "$TMP/$stage.lint")"; fi
  $SCRAPE check "$url" "$stage" >"$TMP/$stage.out" 2>&1
  grep -E '^  (ok|FAIL) ' "$TMP/$stage.out"
  add_counts "$TMP/$stage.out" "$stage: metrics_scrape.py"
done

echo "-- a connection breaks: freshness and error metrics move"
conn=$(simctl POST /_sim/connections '{"orders":5,"products":2,"emit_created":1}' |
  $PY -c 'import json,sys; print(json.load(sys.stdin)["connection_id"])')
synced() { [ -n "$(psql "$DATABASE_URL" -XtAc "SELECT 1 FROM fetcher_streams WHERE connection_id = '$conn' AND resource = 'orders' AND last_success_at IS NOT NULL")" ]; }
if [ -n "$conn" ] && wait_for 90 synced; then pass "a new connection's orders synced once"
else fail "a new connection's orders synced once" "no last_success_at for $conn"; fi
blocked0=$(val "$ADMIN_FETCHER" fetcher_connections_blocked)
errors0=$(val "$ADMIN_WRITER" writer_connection_errors_blocking)
simctl POST /_sim/faults "{\"connection_id\":\"$conn\",\"invalid_credentials\":true}" >/dev/null
# The fetcher sees sync_status error at its next look at the connection (every
# FETCHER_CONN_CHECK_S) and stops polling the streams.
streams_blocked() { b=$(val "$ADMIN_FETCHER" fetcher_streams state=blocked resource=orders); [ "$b" != none ] && [ "$b" -ge 1 ]; }
if wait_for 60 streams_blocked; then pass "fetcher_streams{state=blocked,resource=orders} = $b"
else fail "fetcher_streams{state=blocked,resource=orders}" "$b"; fi
more_errors() { [ "$(val "$ADMIN_WRITER" writer_connection_errors_blocking)" -gt "$errors0" ]; }
if wait_for 60 more_errors; then pass "writer_connection_errors_blocking rises ($errors0 -> $(val "$ADMIN_WRITER" writer_connection_errors_blocking))"
else fail "writer_connection_errors_blocking rises" "still $(val "$ADMIN_WRITER" writer_connection_errors_blocking)"; fi
# Freshness: the broken connection's orders no longer sync, so the oldest age is at
# least the time since that stream's last success, and keeps up with it. The gauge is
# recomputed every 5 s (FX_FRESH_PERIOD_MS, fetcher/fx_fresh.h): it may trail by that.
stale_ok() {
  local since age
  since=$(psql "$DATABASE_URL" -XtAc "SELECT floor(extract(epoch FROM now() - last_success_at)) FROM fetcher_streams WHERE connection_id = '$conn' AND resource = 'orders'")
  age=$(val "$ADMIN_FETCHER" fetcher_sync_age_seconds_max resource=orders)
  echo "age $age, since last success $since"
  [ "$age" != none ] && [ "$age" -ge $((since - 7)) ]
}
first=$(stale_ok) && r1=0 || r1=1
sleep 6
second=$(stale_ok) && r2=0 || r2=1
# The gauge is the oldest over every connection of the shared stack: another one's sync
# may lower it between the samples, never below the broken stream's own age.
s1=${first##* }; s2=${second##* }
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$s2" -gt "$s1" ]; then pass "fetcher_sync_age_seconds_max{orders} grows with the broken stream ($first; then $second)"
else fail "fetcher_sync_age_seconds_max{orders} grows with the broken stream" "$first; then $second"; fi
check_eq "fetcher_sync_interval_seconds{orders} is exported" 1 "$([ "$(val "$ADMIN_FETCHER" fetcher_sync_interval_seconds resource=orders)" != none ] && echo 1)"
# Trackstar refuses a connection's token (401 on its data requests): the whole connection
# is blocked. Another connection, whose streams still poll.
conn2=$(simctl POST /_sim/connections '{"orders":2,"products":1,"emit_created":1}' |
  $PY -c 'import json,sys; print(json.load(sys.stdin)["connection_id"])')
synced2() { [ -n "$(psql "$DATABASE_URL" -XtAc "SELECT 1 FROM fetcher_streams WHERE connection_id = '$conn2' AND resource = 'orders' AND last_success_at IS NOT NULL")" ]; }
wait_for 90 synced2 || fail "a second connection synced once" "no last_success_at for $conn2"
simctl POST /_sim/faults "{\"connection_id\":\"$conn2\",\"http_401\":1000}" >/dev/null
curl -fsS -X POST -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' --data "{\"connection_id\":\"$conn2\",\"resources\":[\"orders\"]}" \
  "$ADMIN_FETCHER/sync" >/dev/null || fail "manual sync requested" "POST /sync failed"
more_blocked() { [ "$(val "$ADMIN_FETCHER" fetcher_connections_blocked)" -gt "$blocked0" ]; }
if wait_for 60 more_blocked; then pass "a 401 blocks the connection: fetcher_connections_blocked rises ($blocked0 -> $(val "$ADMIN_FETCHER" fetcher_connections_blocked))"
else fail "a 401 blocks the connection: fetcher_connections_blocked rises" "still $(val "$ADMIN_FETCHER" fetcher_connections_blocked)"; fi
simctl DELETE /_sim/faults >/dev/null
simctl POST /_sim/faults "{\"connection_id\":\"$conn\",\"invalid_credentials\":false}" >/dev/null
fewer_errors() { [ "$(val "$ADMIN_WRITER" writer_connection_errors_blocking)" -le "$errors0" ]; }
if wait_for 60 fewer_errors; then pass "writer_connection_errors_blocking falls back when the error is resolved"
else fail "writer_connection_errors_blocking falls back" "still $(val "$ADMIN_WRITER" writer_connection_errors_blocking)"; fi

finish
