#!/usr/bin/env bash
# test_zz_secrets_in_logs.sh - security checks over the whole run (named to sort last, so
# that every other suite has written its logs first):
#  - no secret in any log of the stack (every file in $STACK_VAR/logs): the API key, the
#    webhook secret (with and without whsec_), the token encryption key, and every access
#    token the simulator handed out (GET /_sim/connections);
#  - access tokens encrypted at rest: after a connection.created went through the
#    pipeline, the fetcher_* tables hold the connection but no plaintext token (nor does
#    any other table), and no topic of the broker carries one: not the raw topic (where
#    webhook-gw puts it sealed), not the dead letters, not the public wms.* topics;
#  - no secret in --help output, /metrics or /readyz;
#  - admin endpoints on their own port: the webhook port answers 404 on /metrics,
#    /healthz and /readyz, the admin ports answer them and listen on 127.0.0.1 only;
#  - the secrets files of the stack (secrets.env, stack.env) are readable by their owner
#    only (0600);
#  - only parameterised SQL in writer/ and fetcher/ (tests/faults/check_sql.py).
# Secrets are never printed: findings name the secret, not its value.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"
BIN_DIR=${BIN_DIR:-bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR=$ROOT/$BIN_DIR ;; esac
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
chmod 700 "$TMP"
# shellcheck disable=SC1090,SC1091
. "$STACK_VAR/secrets.env"
simctl() { curl -sS --max-time 20 -X "$1" -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -H 'Content-Type: application/json' ${3:+--data "$3"} "$SIM_URL$2"; }

# ---- a connection whose access token goes through the whole pipeline ------------------
conn=$(simctl POST /_sim/connections '{"orders":3,"products":2,"returns":1,"inbound_shipments":1,"bills":1,"emit_created":1}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["connection_id"])')
if [ -n "$conn" ]; then pass "simulator connection created (connection.created carries its access token)"
else fail "simulator connection created" "no connection id"; fi
stored() { [ "$(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM fetcher_connections WHERE connection_id = '$conn'")" = 1 ]; }
if wait_for 60 stored; then pass "the fetcher stored the connection (fetcher_connections)"
else fail "the fetcher stored the connection" "no fetcher_connections row after 60 s"; fi
canon() { [ "$(psql "$DATABASE_URL" -XtAc "SELECT access_token_present FROM connections WHERE connection_id = '$conn'")" = t ]; }
if wait_for 60 canon; then pass "the writer recorded it: connections.access_token_present = true"
else fail "the writer recorded the connection" "no connections row with access_token_present after 60 s"; fi

# ---- the secrets of this run (values stay in $TMP, mode 700) ---------------------------
{
  printf 'TRACKSTAR_API_KEY\t%s\n' "$TRACKSTAR_API_KEY"
  printf 'WEBHOOK_SECRET\t%s\n' "$WEBHOOK_SECRET"
  printf 'WEBHOOK_SECRET (key part)\t%s\n' "${WEBHOOK_SECRET#whsec_}"
  printf 'TOKEN_ENCRYPTION_KEY\t%s\n' "$TOKEN_ENCRYPTION_KEY"
  printf 'ADMIN_TOKEN\t%s\n' "$ADMIN_TOKEN"
  simctl GET /_sim/connections | python3 -c '
import json, sys
for c in json.load(sys.stdin)["data"]:
    if c.get("access_token"):
        print("access token of %s\t%s" % (c["connection_id"], c["access_token"]))'
} >"$TMP/secrets.tsv"
ntok=$(grep -c '^access token' "$TMP/secrets.tsv")
[ "$ntok" -ge 1 ] && pass "$ntok access tokens and 5 configured secrets to look for" || fail "access tokens read from the simulator" "none"

# scan NAME FILES...: every secret must be absent from every file given
scan() {
  local what=$1 hits=() name value f
  shift
  while IFS=$'\t' read -r name value; do
    [ ${#value} -ge 8 ] || continue   # too short to search for meaningfully (never the case here)
    for f in "$@"; do
      [ -f "$f" ] && grep -qF -- "$value" "$f" && hits+=("$name in $(basename "$f")")
    done
  done <"$TMP/secrets.tsv"
  if [ ${#hits[@]} -eq 0 ]; then pass "no secret in $what"; else fail "no secret in $what" "${hits[*]:0:5}"; fi
}

# ---- logs --------------------------------------------------------------------------------
mapfile -t logs < <(find "$STACK_VAR/logs" -type f)
scan "any of the ${#logs[@]} log files of the run ($(cd "$STACK_VAR/logs" && ls | tr '\n' ' '))" "${logs[@]}"

# ---- at rest ----------------------------------------------------------------------------------
pg_dump "$DATABASE_URL" --data-only --no-owner -f "$TMP/db.sql" 2>"$TMP/pg_dump.err" ||
  fail "pg_dump of the database" "$(head -1 "$TMP/pg_dump.err")"
scan "the database (every table, fetcher_* included)" "$TMP/db.sql"
sealed=$(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM fetcher_connections WHERE length(token_sealed) > 0")
if [ "${sealed:-0}" -ge 1 ]; then pass "fetcher_connections holds $sealed sealed tokens (and, above, no plaintext one)"
else fail "fetcher_connections holds sealed tokens" "none"; fi
# Every topic the broker holds, read from the beginning: the raw topic (webhook bodies and
# polls), the dead letters, the public wms.* topics and anything else. Keys, values and
# headers; each topic into its own file so that a finding names the topic.
mapfile -t topics < <(kcat -b "$KAFKA_BOOTSTRAP" -L 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p' | grep -v '^__' | sort -u)
mkdir -p "$TMP/topics"
total=0
for t in "${topics[@]}"; do
  kcat -b "$KAFKA_BOOTSTRAP" -C -t "$t" -e -q -f '%k %h %s\n' 2>/dev/null >"$TMP/topics/$t"
  total=$((total + $(wc -l <"$TMP/topics/$t")))
done
raw_n=$(wc -l <"$TMP/topics/trackstar.raw.v1" 2>/dev/null || echo 0)
dlq_n=$(wc -l <"$TMP/topics/trackstar.dlq.v1" 2>/dev/null || echo 0)
if [ "${raw_n:-0}" -gt 0 ] && [ "$(ls "$TMP/topics" | grep -c '^wms\.')" -ge 10 ]; then
  scan "every topic of the broker (${#topics[@]} topics, $total messages: raw $raw_n, dead letters $dlq_n)" "$TMP"/topics/*
else fail "every topic could be read" "topics: ${topics[*]:0:20}"; fi
sealed_n=$(grep -c '"access_token_sealed":"v2\.' "$TMP/topics/trackstar.raw.v1")
clear_n=$(grep -cE '"access_token" *: *"[^"]' "$TMP/topics/trackstar.raw.v1")
if [ "$sealed_n" -ge 1 ] && [ "$clear_n" = 0 ]; then pass "the raw topic holds $sealed_n sealed access tokens and none in clear"
else fail "raw topic: tokens sealed, none in clear" "sealed $sealed_n, in clear $clear_n"; fi

# ---- other outputs -------------------------------------------------------------------------
for b in webhook-gw fetcher normalizer writer; do
  env WEBHOOK_SECRETS="$WEBHOOK_SECRET" TRACKSTAR_API_KEY="$TRACKSTAR_API_KEY" DATABASE_URL="$DATABASE_URL" \
    TOKEN_ENCRYPTION_KEY="$TOKEN_ENCRYPTION_KEY" ADMIN_TOKEN="$ADMIN_TOKEN" "$BIN_DIR/$b" --help >"$TMP/help-$b.txt" 2>&1
done
scan "--help output (secrets set in the environment)" "$TMP"/help-*.txt
for a in "$ADMIN_WEBHOOK_GW" "$ADMIN_FETCHER" "$ADMIN_NORMALIZER" "$ADMIN_WRITER"; do
  curl -sS --max-time 5 "$a/metrics" >>"$TMP/admin.txt"; curl -sS --max-time 5 "$a/readyz" >>"$TMP/admin.txt"
done
scan "/metrics and /readyz of every stage" "$TMP/admin.txt"

# ---- admin endpoints on their own port ---------------------------------------------------------
gw_base=${WEBHOOK_URL%/webhooks/*}
for p in /metrics /healthz /readyz; do
  check_eq "webhook port answers 404 on $p" 404 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$gw_base$p")"
done
for a in "$ADMIN_WEBHOOK_GW" "$ADMIN_FETCHER" "$ADMIN_NORMALIZER" "$ADMIN_WRITER"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$a/metrics")
  port=${a##*:}
  listen=$(ss -Hltn "sport = :$port" 2>/dev/null | awk '{print $4}' | sort -u | tr '\n' ' ')
  if [ "$code" = 200 ] && [ "$listen" = "127.0.0.1:$port " ]; then pass "admin port $port: /metrics 200, listening on 127.0.0.1 only"
  else fail "admin port $port on 127.0.0.1 only" "metrics $code, listening on [$listen]"; fi
done

# ---- secrets files: owner only ------------------------------------------------------------------
for f in "$STACK_VAR/secrets.env" "$STACK_VAR/stack.env"; do
  check_eq "$(basename "$f") is mode 600" 600 "$(stat -c %a "$f")"
done

# ---- only parameterised SQL -------------------------------------------------------------------
if python3 "$ROOT/tests/faults/check_sql.py" >"$TMP/sql.txt" 2>&1; then pass "only parameterised SQL in writer/ and fetcher/ ($(grep '\.\.' "$TMP/sql.txt" | sed 's/^ *\.\. *//'))"
else fail "only parameterised SQL in writer/ and fetcher/" "$(grep FAIL "$TMP/sql.txt" | head -3 | tr '\n' ' ')"; fi
finish
