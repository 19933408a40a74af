#!/usr/bin/env bash
# test_token_keys.sh - rotating the key that seals access tokens, in a private
# environment (its own broker, PostgreSQL and simulator: tests/integration/lib/fx_env.sh)
# with webhook-gw and the fetcher, the two processes that hold the key:
#   1. key A seals: connection.created's token goes sealed under A through the raw topic
#      and into fetcher_connections;
#   2. B becomes the sealing key, A still accepted (rolling restart: the fetcher first,
#      then the gateway): a new connection is sealed under B, the old one still polls;
#   3. `fetcher reseal-tokens` seals every stored token under B;
#   4. A retired (restart with B only, reading the raw topic again from its start in a new
#      events group): every connection still polls, a ring of A alone opens none of the
#      stored tokens, and the creation sealed under A is skipped without holding anything;
#   5. no webhook lost across the restarts, no token or key on any topic or in any log.
# Ports: FX_BASE (21000)+ (fx_env.sh), the gateway on FX_BASE+150 and +151.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
# Ports apart from test_fetcher's (fx_env's default 23000): the two can run side by side
# in the integration suite's two lanes.
FX_BASE=${FX_BASE:-21000}
. "$ROOT/tests/integration/lib/fx_env.sh"
trap fx_env_down EXIT

b64key() { head -c 32 /dev/urandom | base64; }
kid() { python3 -c 'import base64,hashlib,hmac,sys; print(hmac.new(base64.b64decode(sys.argv[1]), b"trackstar-pipeline seal key id", hashlib.sha256).hexdigest()[:8])' "$1"; }
KA=$(b64key) KB=$(b64key)
KIDA=$(kid "$KA") KIDB=$(kid "$KB")
WH="whsec_$(head -c 24 /dev/urandom | base64)"
GWP=$((FX_BASE + 150)) GWA=$((FX_BASE + 151))

if ! fx_env_up SIM_WEBHOOK_URL="http://127.0.0.1:$GWP/webhooks/trackstar" SIM_WEBHOOK_SECRETS="$WH" SIM_RETRY_SCALE=0.001; then
  fail "private environment started" "see $FX_DIR"; FX_KEEP=1; finish; exit 1
fi
pass "private environment started (broker, PostgreSQL, simulator)"

# gw NAME KEY: webhook-gw sealing with KEY
gw() {
  fx_bg "$1" env KAFKA_BOOTSTRAP="$FX_BROKER" WEBHOOK_GW_BIND=127.0.0.1 WEBHOOK_GW_PORT=$GWP ADMIN_PORT=$GWA \
    WEBHOOK_SECRETS="$WH" TOKEN_ENCRYPTION_KEY="$2" TRACKSTAR_BASE_URL="$FX_SIM" TRACKSTAR_API_KEY="$FX_API_KEY" \
    LOG_LEVEL=info "$BIN_DIR/webhook-gw"
  fx_wait_http "http://127.0.0.1:$GWA/readyz" 30
}
stop() { local p; p=$(fx_pid "$1"); kill -TERM "$p" 2>/dev/null; for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
conn() { fx_sim_conn "{\"orders\":4,\"products\":2,\"warehouses\":1,\"locations_per_warehouse\":2,\"returns\":1,\"inbound_shipments\":1,\"bills\":1}"; }
sealed_kid() { fx_sql "SELECT split_part(token_sealed, '.', 2) FROM fetcher_connections WHERE connection_id='$1'"; }
raw_kid() { # conn: the key id its connection.created carries on the raw topic
  kcat -b "$FX_BROKER" -C -t trackstar.raw.v1 -e -q -f '%k\t%s\n' 2>/dev/null | grep "^$1|connection|$1" |
    sed -n 's/.*"access_token_sealed":"v2\.\([0-9a-f]*\)\..*/\1/p' | head -1
}
stored_under() { [ "$(sealed_kid "$1")" = "$2" ]; }
poll_now() { # admin-port N conn: a manual sync of orders, carried out
  local id
  id=$(fx_admin_curl -sS -X POST -H 'Content-Type: application/json' --data "{\"connection_id\":\"$2\",\"resources\":[\"orders\"]}" \
    "$(fx_admin "$1")/sync" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || return 1
  fx_wait 60 eval '[ "$(fx_sql "SELECT status FROM fetcher_requests WHERE id=$id")" = done ]'
}

# ---- 1. A seals -------------------------------------------------------------------------
gw gw_a "$KA" && pass "webhook-gw up, sealing with key A ($KIDA)" || fail "webhook-gw up" "$(tail -3 "$FX_DIR/gw_a.log")"
fx_fetcher f_a 1 TOKEN_ENCRYPTION_KEY="$KA" && pass "fetcher up with key A" || fail "fetcher up" "$(tail -3 "$FX_DIR/f_a.log")"
read -r C1 T1 < <(conn)
if fx_wait 60 stored_under "$C1" "$KIDA"; then pass "connection.created through the gateway: stored sealed under A"
else fail "stored under A" "[$(sealed_kid "$C1")]"; fi
check_eq "on the raw topic its token is sealed under A" "$KIDA" "$(raw_kid "$C1")"
poll_now 1 "$C1" && pass "the connection polls" || fail "the connection polls" ""

# ---- 2. B seals, A still opens: rolling restart, the fetcher first -------------------------
stop f_a && fx_fetcher f_b 2 TOKEN_ENCRYPTION_KEY="$KB" TOKEN_DECRYPTION_KEYS="$KA" \
  && pass "fetcher restarted: B seals, A accepted" || fail "fetcher restart (B, A)" "$(tail -3 "$FX_DIR/f_b.log")"
t0=$(date +%s%3N)
stop gw_a && gw gw_b "$KB" && pass "gateway restarted: B seals ($(($(date +%s%3N) - t0)) ms from SIGTERM to ready)" \
  || fail "gateway restart (B)" "$(tail -3 "$FX_DIR/gw_b.log")"
read -r C2 T2 < <(conn)
if fx_wait 60 stored_under "$C2" "$KIDB"; then pass "a new connection: sealed under B on the raw topic and at rest"
else fail "new connection under B" "[$(sealed_kid "$C2")]"; fi
check_eq "... its raw-topic token under B" "$KIDB" "$(raw_kid "$C2")"
check_eq "the old connection is still sealed under A" "$KIDA" "$(sealed_kid "$C1")"
poll_now 2 "$C1" && pass "the old connection still polls (A opens it)" || fail "old connection polls under (B, A)" ""

# ---- 3. re-seal ---------------------------------------------------------------------------
# reseal KEY [OLDER]: the command, with only the settings it needs
reseal() { env DATABASE_URL="$FX_DB" TRACKSTAR_API_KEY="$FX_API_KEY" TOKEN_ENCRYPTION_KEY="$1" TOKEN_DECRYPTION_KEYS="${2:-}" "$FX_FETCHER" reseal-tokens; }
out=$(reseal "$KB" "$KA"); rc=$?
summary=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["resealed"], d["already_current"], d["failed"], d["sealing_key_id"])' 2>/dev/null)
check_eq "fetcher reseal-tokens: 1 re-sealed, 1 already under B, none failed (exit 0)" "0:1 1 0 $KIDB" "$rc:$summary"
check_eq "every stored token is sealed under B" "$KIDB $KIDB" "$(sealed_kid "$C1") $(sealed_kid "$C2")"
out=$(reseal "$KB")
check_eq "a second run has nothing left to do" "0 2" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["resealed"], d["already_current"])')"

# ---- 4. A retired ------------------------------------------------------------------------
out=$(reseal "$KA"); rc=$?
check_eq "key A alone opens none of the stored tokens (reseal-tokens fails on both, exit 1)" "1:2" \
  "$rc:$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["failed"])')"
# Retired, and (a new events group) replaying the raw topic from its start: the creation
# sealed under A no longer opens, but its connection is stored and newer, so it is
# skipped and nothing waits for a key.
stop f_b && fx_fetcher f_c 3 TOKEN_ENCRYPTION_KEY="$KB" FETCHER_EVENTS_GROUP="replay-$RANDOM" \
  && pass "fetcher restarted with B only (A retired), replaying the raw topic" \
  || fail "fetcher restart (B)" "$(tail -3 "$FX_DIR/f_c.log")"
n=0; for c in "$C1" "$C2"; do poll_now 3 "$c" && n=$((n + 1)); done
check_eq "both connections still poll with A retired" 2 "$n"
skipped() { grep 'token not opened; skipped' "$FX_DIR/f_c.log" | grep -q "\"connection_id\":\"$C1\""; }
if fx_wait 30 skipped; then pass "the replayed creation sealed under the retired key is skipped, nothing held"
else fail "replay skips the old creation" "$(grep "$C1" "$FX_DIR/f_c.log" | tail -2)"; fi

# ---- 5. nothing lost, nothing leaked ------------------------------------------------------
stats=$(fx_simctl GET /_sim/webhooks/stats)
check_eq "no webhook failed or dropped across the restarts; none pending" "0 0 0" \
  "$(printf '%s' "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["failed"], d["dropped"], d["pending"])')"
for t in $(kcat -b "$FX_BROKER" -L 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p' | grep -v '^__'); do
  kcat -b "$FX_BROKER" -C -t "$t" -e -q -f '%k %h %s\n' 2>/dev/null
done >"$FX_DIR/all_topics.txt"
if [ -s "$FX_DIR/all_topics.txt" ] && ! grep -qF -e "$T1" -e "$T2" -e "$KA" -e "$KB" "$FX_DIR/all_topics.txt" "$FX_DIR"/*.log; then
  pass "no token and no key on any topic ($(wc -l <"$FX_DIR/all_topics.txt") messages) or in any log"
else fail "no token or key on the topics or in the logs" "found"; fi
grep -h -e '"level":"error"' -e 'Sanitizer' -e 'runtime error' "$FX_DIR"/f_*.log "$FX_DIR"/gw_*.log >"$FX_DIR/errors.txt" 2>/dev/null
[ ! -s "$FX_DIR/errors.txt" ] && pass "no error (nor sanitizer report) logged" || fail "no error logged" "$(head -3 "$FX_DIR/errors.txt")"
[ "$T_FAILED" -gt 0 ] && FX_KEEP=1 && echo "  (kept $FX_DIR)"
finish
