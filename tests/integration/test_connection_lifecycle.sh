#!/usr/bin/env bash
# test_connection_lifecycle.sh - a connection's life through the whole local stack
# ($STACK_ENV, as tests/run-integration.sh provides), from signed webhooks to the
# fetcher's state, the database and the public topic:
#   customer_id   set at Trackstar, read by the fetcher (GET /connections/{id}), shown in
#                 sync_overview, `tsctl connections list` (table and --json) and on
#                 wms.connection_events.v1 (connection_polled);
#   the token     connection.created's token reaches the raw topic sealed only;
#   deletion      DELETE /connections -> connection.deleted: the fetcher stops polling at
#                 once and wipes the token; the database says deleted;
#   replays       the very same connection.created request again (a replay within the
#                 signature window) and Svix's late retry of it (same svix-id, new
#                 timestamp): the connection stays deleted in the fetcher's state, in
#                 `connections` and in sync_overview;
#   out of order  connection.deleted before its connection.created: deleted everywhere.
# Last line: "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"
BIN_DIR=${BIN_DIR:-bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR=$ROOT/$BIN_DIR ;; esac
WORK=$(mktemp -d /tmp/test_conn_life.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 700 "$WORK"
SIGN="python3 $ROOT/tests/integration/lib/gw_sign.py"
FLOG="$STACK_VAR/logs/fetcher.log"

sim() { curl -sS --max-time 20 -X "$1" -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" -H 'Content-Type: application/json' ${3:+--data "$3"} "$SIM_URL$2"; }
q() { psql "$DATABASE_URL" -XtA -F'|' -c "$1"; }
T() { "$BIN_DIR/tsctl" --env "$STACK_ENV" "$@"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }
iso_ago() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ; }
# send NAME BODY ID TS: post a signed webhook, as Trackstar would; prints the status
send() {
  printf '%s' "$2" >"$WORK/$1.json"
  $SIGN send "$WEBHOOK_URL" --body "$WORK/$1.json" --secret "$WEBHOOK_SECRET" --id "$3" --ts "$4" | cut -f1
}
created_body() { # conn token created_date
  printf '{"connection_id":"%s","event_type":"connection.created","integration_name":"sandbox","integration_type":"general","data":{"created_date":"%s","access_token":"%s"}}' "$1" "$3" "$2"
}
fstate() { q "SELECT state, token_sealed IS NULL FROM fetcher_connections WHERE connection_id = '$1'"; }
dbstatus() { q "SELECT status FROM connections WHERE connection_id = '$1'"; }

# ---- a connection with a customer, linked by its signed connection.created ---------------
read -r C CTOK < <(sim POST /_sim/connections '{"orders":3,"products":2,"returns":1,"inbound_shipments":1,"bills":1,"customer_id":"cust_life_1","emit_created":0}' |
  jget 'd["connection_id"] + " " + d["access_token"]')
C_CREATED=$(sim GET "/connections/$C" | jget 'd["data"][0]["created_at"]')
ID1="msg_life_$RANDOM$RANDOM"
TS1=$(date +%s)
check_eq "connection.created (signed, token in clear) accepted" 200 "$(send created "$(created_body "$C" "$CTOK" "$C_CREATED")" "$ID1" "$TS1")"
active() { [ "$(fstate "$C")" = "active|f" ] && [ "$(dbstatus "$C")" = active ]; }
if wait_for 60 active; then pass "stored by the fetcher (token sealed) and active in the database"
else fail "connection stored" "fetcher [$(fstate "$C")] db [$(dbstatus "$C")]"; fi
kcat -b "$KAFKA_BOOTSTRAP" -C -t trackstar.raw.v1 -e -q -f '%k\t%s\n' 2>/dev/null | grep "^$C|connection|$C" >"$WORK/raw_c.txt"
if grep -q '"access_token_sealed":"v2\.' "$WORK/raw_c.txt" && ! grep -qF "$CTOK" "$WORK/raw_c.txt"; then
  pass "the raw topic holds connection.created with the token sealed, never in clear"
else fail "token sealed on the raw topic" "$(grep -c . "$WORK/raw_c.txt") messages"; fi

# ---- customer_id everywhere --------------------------------------------------------------
customer() { [ "$(q "SELECT customer_id FROM sync_overview WHERE connection_id = '$C'")" = cust_life_1 ]; }
if wait_for 60 customer; then pass "customer_id in sync_overview (from GET /connections/{id}, connections.polled)"
else fail "customer_id in sync_overview" "[$(q "SELECT customer_id FROM sync_overview WHERE connection_id = '$C'")]"; fi
T connections list >"$WORK/list.txt" 2>&1
head -1 "$WORK/list.txt" | grep -q CUSTOMER && grep "^$C " "$WORK/list.txt" | grep -q cust_life_1 \
  && pass "tsctl connections list shows the customer" || fail "tsctl connections list customer" "$(head -2 "$WORK/list.txt")"
check_eq "tsctl --json connections list has customer_id" cust_life_1 \
  "$(T --json connections list | jget "[c['customer_id'] for c in d if c['connection_id'] == '$C'][0]")"
T connections show "$C" 2>/dev/null | grep -q 'customer.*cust_life_1' && pass "tsctl connections show shows the customer" \
  || fail "tsctl connections show customer" ""
kcat -b "$KAFKA_BOOTSTRAP" -C -t wms.connection_events.v1 -e -q -f '%k\t%s\n' 2>/dev/null | grep "^$C|" >"$WORK/events_c.txt"
grep -F "$C|connection|connection_polled" "$WORK/events_c.txt" | grep -q '"customer_id":"cust_life_1"' \
  && pass "wms.connection_events.v1 carries customer_id (connection_polled)" || fail "customer_id on the topic" "$(cut -f1 "$WORK/events_c.txt" | sort -u | tr '\n' ' ')"
grep -F "$C|connection|connection_created" "$WORK/events_c.txt" | grep -q '"access_token_present":true,"customer_id":null' \
  && pass "connection_created: access_token_present, customer_id null (the webhook carries none)" || fail "connection_created record" ""

# ---- deletion: polling stops at once, the token is wiped ----------------------------------
printf '%s\n' "$CTOK" | T connections delete "$C" --yes --token-stdin >/dev/null 2>&1
check_eq "tsctl connections delete: DELETE /connections answered" 0 $?
deleted() { [ "$(fstate "$C")" = "deleted|t" ] && [ "$(dbstatus "$C")" = deleted ]; }
if wait_for 60 deleted; then pass "connection.deleted: fetcher state deleted, token wiped; database deleted"
else fail "connection deleted" "fetcher [$(fstate "$C")] db [$(dbstatus "$C")]"; fi
released() { grep "\"connection released\"" "$FLOG" | grep -q "\"connection_id\":\"$C\""; }
wait_for 20 released && pass "the fetcher let the connection go" || fail "fetcher released the connection" ""
mark=$(wc -l <"$FLOG")
if ! T sync "$C" >"$WORK/sync.txt" 2>&1 && grep -q 'connection is deleted' "$WORK/sync.txt"; then
  pass "a manual sync of the deleted connection is refused"
else fail "manual sync of a deleted connection refused" "$(head -2 "$WORK/sync.txt")"; fi
first_observed=$(q "SELECT created_record->>'observed_at' FROM connections WHERE connection_id = '$C'")

# ---- the same connection.created again: a replay, then Svix's late retry -------------------
check_eq "replay (same svix-id, timestamp and signature) accepted by the gateway" 200 \
  "$(send replay "$(created_body "$C" "$CTOK" "$C_CREATED")" "$ID1" "$TS1")"
sleep 1
retry_at=$(date -u +%Y-%m-%dT%H:%M:%S)
check_eq "late retry (same svix-id and body, new timestamp) accepted" 200 \
  "$(send retry "$(created_body "$C" "$CTOK" "$C_CREATED")" "$ID1" "$(date +%s)")"
ignored() { [ "$(tail -n +"$mark" "$FLOG" | grep '"connection.created not newer' | grep -c "\"connection_id\":\"$C\"")" -ge 2 ]; }
applied() { # the writer saw the late retry: its record is the newest one
  python3 -c 'import sys; sys.exit(0 if sys.argv[1] >= sys.argv[2] else 1)' \
    "$(q "SELECT created_record->>'observed_at' FROM connections WHERE connection_id = '$C'")" "$retry_at"
}
if wait_for 60 ignored; then pass "fetcher: both seen and ignored (older than the deletion)"
else fail "fetcher ignored the replays" "$(tail -n +"$mark" "$FLOG" | grep "$C" | tail -2)"; fi
check_eq "fetcher: still deleted, no token" "deleted|t" "$(fstate "$C")"
if wait_for 60 applied; then pass "writer: the replays reached the connections row (record $first_observed -> newer)"
else fail "writer applied the replays" "$(q "SELECT created_record->>'observed_at' FROM connections WHERE connection_id = '$C'")"; fi
check_eq "database: connections and sync_overview still say deleted" "deleted|deleted" \
  "$(q "SELECT c.status || '|' || o.connection_status FROM connections c JOIN sync_overview o USING (connection_id) WHERE connection_id = '$C'")"
check_eq "no poll of the deleted connection since its deletion" 0 \
  "$(tail -n +"$mark" "$FLOG" | grep '"run started"' | grep -c "\"connection_id\":\"$C\"")"

# ---- out of order: the deletion first, then its (older) creation ---------------------------
read -r E ETOK < <(sim POST /_sim/connections '{"orders":1,"products":1,"returns":0,"inbound_shipments":0,"bills":0,"emit_created":0}' |
  jget 'd["connection_id"] + " " + d["access_token"]')
now=$(date +%s)
printf -v del '{"connection_id":"%s","event_type":"connection.deleted","integration_name":"sandbox","integration_type":"general","data":{"deleted_date":"%s"}}' "$E" "$(iso_ago 0)"
check_eq "connection.deleted of a connection not seen yet: accepted" 200 "$(send del_e "$del" "msg_life_del_$RANDOM" "$now")"
check_eq "... then its connection.created: accepted" 200 \
  "$(send created_e "$(created_body "$E" "$ETOK" "$(iso_ago 60)")" "msg_life_cr_$RANDOM" "$now")"
e_done() { [ "$(dbstatus "$E")" = deleted ] && [ -n "$(q "SELECT created_version FROM connections WHERE connection_id = '$E'")" ]; }
ignored_e() { grep '"connection.created not newer' "$FLOG" | grep -q "\"connection_id\":\"$E\""; }
if wait_for 60 e_done && wait_for 30 ignored_e; then
  check_eq "out of order: deleted in the fetcher (no token, never polled) and in the database" "deleted|t|0|deleted" \
    "$(fstate "$E")|$(q "SELECT count(*) FROM fetcher_streams WHERE connection_id = '$E'")|$(dbstatus "$E")"
else fail "out of order: stays deleted" "fetcher [$(fstate "$E")] db [$(dbstatus "$E")]"; fi

# ---- nothing printed a token ------------------------------------------------------------
if grep -rqF -e "$CTOK" -e "$ETOK" "$WORK"/*.txt; then fail "no token in any output of this suite" "found"
else pass "no token in any output of this suite"; fi
finish
