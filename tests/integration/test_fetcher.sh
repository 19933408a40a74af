#!/usr/bin/env bash
# The fetcher against the Trackstar simulator, in a private environment (its own dev
# broker, PostgreSQL and simulator on ports 23000+; tests/integration/lib/fx_env.sh):
#
#   connections   from the link exchange (admin endpoint), connection.created on the raw
#                 topic, and the connection-add command; tokens sealed, never logged
#   first sync    streams wait for connection.historical-sync-completed, or for
#                 GET /connections/{id} on a connection older than the pipeline
#   backfill      every resource's truth reaches the raw topic, byte for byte, with the
#                 contract's key and headers; sync status published per state change
#   incremental   the WMS changes records; a manual sync (admin and command) asks
#                 Trackstar to crawl, waits for the crawl and brings every new version;
#                 a window backfill runs Trackstar's on-demand sync, then re-reads it
#   errors        5xx retried with backoff; 401 blocks until connection-error.deleted;
#                 a resource Trackstar cannot crawl (sync_status error) is shown blocked
#                 and not polled; 501 / missing action = unsupported
#   rate limits   a 429 burst: it waits, and never more than 10 requests in a second
#   SIGKILL       in the middle of a backfill: it resumes from the stored cursor and
#                 nothing is skipped
#   replicas      two replicas: each connection polled by exactly one, all covered;
#                 one dies, the other takes everything over
#   SIGTERM       exits 0 within seconds
#   org budget    a replica starting with many connections reads GET /connections
#                 pages, not each connection, within FETCHER_ORG_RATE, without 429s
#   restart       ... and restarting with nothing to sync reads what it learnt back from
#                 PostgreSQL: at most N/100 + 10 API-key requests, no 429
#   one sweep     two replicas read GET /connections once a round between them: one
#                 sweeps, and hands the other its connections on the assignment topic
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/integration/lib/fx_env.sh"
CHECK="python3 $ROOT/tests/integration/lib/fx_check.py"
trap fx_env_down EXIT

missing=$("$FX_FETCHER" --help | awk '/^  [A-Z_]+ /{print $1}' | while read -r v; do
  grep -q "\`$v\`" "$ROOT/docs/fetcher.md" "$ROOT/README.md" || echo "$v"; done)
check_eq "docs/fetcher.md (or the README) names every configuration variable" "" "$missing"

if ! fx_env_up; then
  fail "private environment started" "see $FX_DIR"; FX_KEEP=1; finish; exit 1
fi
pass "private environment started (broker, PostgreSQL, simulator)"
DAY=86400
iso_ago() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ; }
# Every resource of the registry (common/entities.h), as the fetcher lists them.
RESOURCES=$("$FX_FETCHER" --help | sed -n 's/^Resources: *//p')
NRES=$(wc -w <<<"$RESOURCES")

streams_settled() { # conn: every stream row exists and none is running
  [ "$(fx_sql "SELECT count(*) FROM fetcher_streams WHERE connection_id='$1' AND state IN ('idle','unsupported','failed','blocked')")" = "$NRES" ]
}
stream_state() { fx_sql "SELECT state FROM fetcher_streams WHERE connection_id='$1' AND resource='$2'"; }
state_is() { [ "$(stream_state "$1" "$2")" = "$3" ]; }
covered() { # conn resource...: truth of each resource on the raw topic (or in $RAW_RECORD)
  local conn=$1 r out raw=${RAW_RECORD:-$FX_DIR/raw.json}; shift
  [ -n "${RAW_RECORD:-}" ] || fx_raw "$raw"
  # every truth from one process, then one pass over the raw dump for every resource (it
  # runs to tens of MB): a process per resource and a read per resource were three
  # minutes of a loaded run
  mkdir -p "$FX_DIR/truth"
  $CHECK truths "$FX_SIM" "$FX_API_KEY" "$conn" "$FX_DIR/truth" "$@" >/dev/null || return 1
  cp "$FX_DIR/truth/${!#}.jsonl" "$FX_DIR/truth.jsonl"
  out=$($CHECK covered-many "$raw" "$conn" "$FX_DIR/truth" "$@") || { echo "$out"; return 1; }
}
request_done() { [ "$(fx_sql "SELECT status FROM fetcher_requests WHERE id=$1")" = done ]; }
post_admin() { fx_admin_curl -sS -X POST -H 'Content-Type: application/json' --data "$3" "$(fx_admin "$1")$2"; }
json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ---------------------------------------------------------------- replica f1
fx_fetcher f1 1 FETCHER_HIST_CHECK_S=3600 FETCHER_PAGE_LIMIT=200 FETCHER_BACKOFF_BASE_MS=100 \
  FETCHER_FAILED_RETRY_S=600 && pass "fetcher ready (/readyz)" || fail "fetcher ready (/readyz)" "$(tail -3 "$FX_DIR/f1.log")"
check_eq "own tables migrated" 7 "$(fx_sql "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'fetcher_%'")"

# A connection older than the pipeline: added by command, first sync already done.
# 300 orders: two pages and more at FETCHER_PAGE_LIMIT=200, and a window of 10 days
# backfilled below holds dozens. It had 1000, which cost minutes and asserted nothing more:
# order packs take one request per packed order (~80%) under the connection's 10 requests
# a second, and every check of the raw topic reads a dump of it.
read -r C CTOK < <(fx_sim_conn '{"integration_name":"sandbox","orders":300,"emit_created":0}')
# Recorded as published, like B, F and G below: the fetcher re-reads every complete listing
# after each of Trackstar's crawls (every few seconds here), so on a loaded machine the dev
# broker had dropped a connection's first messages before a dump of the topic was taken
# (C's warehouse customers, A's first orders, C's unchanged order packs at the incremental
# check: loaded runs of 2026-12-05). C's recording runs until that incremental check.
fx_raw_record "$FX_DIR/raw_c.json"
C_RECORDER=$FX_RECORDER
out=$(printf '%s\n' "$CTOK" | fx_cmd connection-add "$C" sandbox)
check_eq "connection-add stores the connection" "$C" "$(printf '%s' "$out" | json_get connection_id)"
# order packs take one request per packed order (~240 of these 300) under the
# connection's 10 requests a second; the wait leaves room for a loaded sanitized run
if fx_wait 180 streams_settled "$C"; then pass "older connection: GET /connections/{id} shows first syncs, all $NRES streams ran"
else fail "older connection: all $NRES streams ran" "$(fx_sql "SELECT resource, state, last_error FROM fetcher_streams WHERE connection_id='$C'")"; fi
# shellcheck disable=SC2086
c_covered() { RAW_RECORD=$FX_DIR/raw_c.json covered "$C" "$@"; }
fx_wait 20 c_covered $RESOURCES # the recorder reads behind the fetcher
out=$(c_covered $RESOURCES) && pass "full backfill: every record of every resource on the raw topic, byte for byte" \
  || fail "full backfill covers the truth" "$out"
out=$($CHECK headers "$FX_DIR/raw_c.json" "$C") && pass "keys and headers follow the raw-topic contract ($out)" || fail "raw headers" "$out"
# a run after each of Trackstar's crawls: running, idle, running, idle ...
st=$($CHECK statuses "$FX_DIR/raw_c.json" "$C" orders)
[[ "$st" =~ ^running\ idle(\ running\ idle)*(\ running)?$ ]] && pass "sync status published on each change ($st)" \
  || fail "sync status published on each change" "$st"
check_eq "cursor moved to trackstar_updated_date after the backfill" "trackstar_updated_date|t" \
  "$(fx_sql "SELECT cursor_field, cursor_at IS NOT NULL FROM fetcher_streams WHERE connection_id='$C' AND resource='orders'")"
check_eq "order packs: a per-order run with a cursor on the orders' updated_date" "updated_date|t" \
  "$(fx_sql "SELECT cursor_field, cursor_at IS NOT NULL FROM fetcher_streams WHERE connection_id='$C' AND resource='order_packs'")"
grep -q '"resource":"order_packs","kind":"per order"' <(grep "\"connection_id\":\"$C\"" "$FX_DIR/f1.log") \
  && pass "order packs read per order (packed orders listed, then each one's packs)" || fail "order packs read per order" "$(grep order_packs "$FX_DIR/f1.log" | head -3)"
check_eq "inventory is a snapshot: no cursor" "" "$(fx_sql "SELECT cursor_at FROM fetcher_streams WHERE connection_id='$C' AND resource='inventory'")"
sealed=$(fx_sql "SELECT token_sealed FROM fetcher_connections WHERE connection_id='$C'")
[[ "$sealed" == v2.* && "$sealed" != *"$CTOK"* ]] && pass "token sealed at rest" || fail "token sealed at rest" "$sealed"

# Link exchange through the admin endpoint: the first sync is still running.
code=$(fx_simctl POST /_sim/auth-codes '{"integration_name":"shipbob"}' | json_get auth_code)
resp=$(post_admin 1 /connections/exchange "{\"auth_code\":\"$code\",\"customer_id\":\"cust_fx_1\"}")
A=$(printf '%s' "$resp" | json_get connection_id 2>/dev/null)
[ -n "$A" ] && pass "POST /connections/exchange stores the connection" || fail "POST /connections/exchange" "$resp"
check_eq "the exchange's customer_id is stored on the connection" cust_fx_1 \
  "$(fx_sql "SELECT customer_id FROM fetcher_connections WHERE connection_id='$A'")"
polled_customer() { # conn: customer_id of the newest connections.polled on the raw topic
  fx_raw "$FX_DIR/raw.json"
  python3 -c 'import json,sys
c = None
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m.get("key") == "%s|connections|%s" % (sys.argv[2], sys.argv[2]):
        c = json.loads(m["payload"]).get("customer_id")
print(c)' "$FX_DIR/raw.json" "$1"
}
a_polled() { [ "$(polled_customer "$A")" = cust_fx_1 ]; }
if fx_wait 20 a_polled; then pass "GET /connections/{id} published as connections.polled, with customer_id"
else fail "connections.polled published" "$(polled_customer "$A")"; fi
if fx_wait 20 state_is "$A" orders waiting_for_historical_sync; then pass "new connection waits for its historical sync"
else fail "new connection waits for its historical sync" "$(stream_state "$A" orders)"; fi
sleep 2
fx_raw "$FX_DIR/raw.json"
check_eq "nothing polled before the historical sync" 0 "$(grep -c "\"key\":\"$A|orders|" "$FX_DIR/raw.json")"
fx_simctl POST "/_sim/connections/$A/historical-sync" '{}' >/dev/null
fx_raw_record "$FX_DIR/raw_a.json" # as C's above
for r in $RESOURCES; do
  # oldest_data_date as Trackstar reports it: the oldest record of the first sync
  old=$($CHECK oldest "$FX_SIM" "$FX_API_KEY" "$A" "$r")
  [ "$r" = orders ] && oldest=$old
  fx_publish_event connection.historical-sync-completed "{\"connection_id\":\"$A\",\"event_type\":\"connection.historical-sync-completed\",\"integration_name\":\"shipbob\",\"integration_type\":\"general\",\"data\":{\"resource\":\"$r\",\"oldest_data_date\":\"$old\",\"newest_data_date\":\"$(iso_ago 0)\"}}"
done
if fx_wait 120 streams_settled "$A"; then pass "connection.historical-sync-completed starts the backfill"
else fail "historical-sync-completed starts the backfill" "$(fx_sql "SELECT resource, state FROM fetcher_streams WHERE connection_id='$A'")"; fi
hist_rows() { [ "$(fx_sql "SELECT count(*) FROM fetcher_historical_syncs WHERE connection_id='$A' AND source='webhook' AND oldest_data_date IS NOT NULL")" = "$NRES" ]; }
fx_wait 20 hist_rows && pass "historical syncs recorded from the webhook with their oldest date" \
  || fail "historical syncs recorded from the webhook" "$(fx_sql "SELECT resource, source, oldest_data_date FROM fetcher_historical_syncs WHERE connection_id='$A'")"
from_expected=$(date -u -d "@$(($(date -u -d "$oldest" +%s) - FX_MARGIN_S))" +%Y-%m-%dT%H:%M:%SZ)
grep -q "\"resource\":\"orders\",\"kind\":\"backfill\",\"from\":\"$from_expected\"" <(grep "\"connection_id\":\"$A\"" "$FX_DIR/f1.log" | grep '"run started"') \
  && pass "backfill starts at oldest_data_date" || fail "backfill starts at oldest_data_date" "$(grep "$A" "$FX_DIR/f1.log" | grep 'run started' | head -1)"
# shipbob lacks get_bills (501): every other resource
a_covered() { RAW_RECORD=$FX_DIR/raw_a.json covered "$A" $(tr ' ' '\n' <<<"$RESOURCES" | grep -vx bills); }
fx_wait 20 a_covered # the recorder reads behind the fetcher
out=$(a_covered) \
  && pass "link-exchanged connection backfilled (every resource it supports)" || fail "link-exchanged connection backfilled" "$out"
kill "$FX_RECORDER"; wait "$FX_RECORDER" 2>/dev/null

# connection.created on the raw topic (what the gateway publishes), token inside.
read -r B BTOK < <(fx_sim_conn '{"integration_name":"sandbox","orders":150,"emit_created":0}')
b_date=$(iso_ago 2)
b_created="{\"connection_id\":\"$B\",\"event_type\":\"connection.created\",\"integration_name\":\"sandbox\",\"integration_type\":\"general\",\"data\":{\"created_date\":\"$b_date\",\"access_token\":\"$BTOK\"}}"
# Recorded as published: the suite's earlier steps fill the dev broker's ~5 MiB per
# partition, and a dump taken after the backfill missed its first orders (a sanitized run).
fx_raw_record "$FX_DIR/raw_b.json"
fx_publish_event connection.created "$b_created"
if fx_wait 60 streams_settled "$B"; then pass "connection.created: connection stored and polled"
else fail "connection.created: connection stored and polled" "$(fx_sql "SELECT count(*) FROM fetcher_connections WHERE connection_id='$B'")"; fi
b_covered() { RAW_RECORD=$FX_DIR/raw_b.json covered "$B" orders; }
fx_wait 20 b_covered # the recorder reads behind the fetcher
out=$(b_covered) && pass "connection.created connection backfilled" || fail "connection.created connection backfilled" "$out"
kill "$FX_RECORDER"; wait "$FX_RECORDER" 2>/dev/null
if grep -qF -e "$BTOK" -e "$CTOK" "$FX_DIR/f1.log" "$FX_DIR/postgres.log"; then fail "access tokens never logged" "found in a log"
else pass "access tokens never logged"; fi
fx_publish_event connection.deleted "{\"connection_id\":\"$B\",\"event_type\":\"connection.deleted\",\"integration_name\":\"sandbox\",\"integration_type\":\"general\",\"data\":{\"deleted_date\":\"$(iso_ago 0)\"}}"
if fx_wait 20 state_is "$B" orders blocked; then pass "connection.deleted stops its streams"
else fail "connection.deleted stops its streams" "$(stream_state "$B" orders)"; fi
check_eq "connection.deleted wipes the sealed token" "deleted|t" \
  "$(fx_sql "SELECT state, token_sealed IS NULL FROM fetcher_connections WHERE connection_id='$B'")"
# The same connection.created again (a replay, or Svix's late retry: the same body) and
# one dated before the deletion: neither brings it back.
ignored() { [ "$(grep -c "\"connection.created not newer.*\"connection_id\":\"$1\"" "$FX_DIR/f1.log")" -ge "$2" ]; }
fx_publish_event connection.created "$b_created"
fx_publish_event connection.created "${b_created/$b_date/$(iso_ago 3600)}"
if fx_wait 20 ignored "$B" 2; then pass "a replayed and an older connection.created after connection.deleted: both ignored"
else fail "replayed connection.created ignored" "$(grep "$B" "$FX_DIR/f1.log" | tail -3)"; fi
check_eq "... and the connection stays deleted, without a token" "deleted|t" \
  "$(fx_sql "SELECT state, token_sealed IS NULL FROM fetcher_connections WHERE connection_id='$B'")"
# Out of order: the deletion arrives before the creation it follows.
read -r E ETOK < <(fx_sim_conn '{"integration_name":"sandbox","orders":5,"emit_created":0}')
fx_publish_event connection.deleted "{\"connection_id\":\"$E\",\"event_type\":\"connection.deleted\",\"integration_name\":\"sandbox\",\"integration_type\":\"general\",\"data\":{\"deleted_date\":\"$(iso_ago 0)\"}}"
fx_publish_event connection.created "{\"connection_id\":\"$E\",\"event_type\":\"connection.created\",\"integration_name\":\"sandbox\",\"integration_type\":\"general\",\"data\":{\"created_date\":\"$(iso_ago 30)\",\"access_token\":\"$ETOK\"}}"
if fx_wait 20 ignored "$E" 1; then
  check_eq "connection.deleted before its connection.created: stays deleted, no token, never polled" "deleted|t|0" \
    "$(fx_sql "SELECT state, token_sealed IS NULL, (SELECT count(*) FROM fetcher_streams WHERE connection_id='$E') FROM fetcher_connections WHERE connection_id='$E'")"
else fail "connection.deleted before its connection.created" "$(grep "$E" "$FX_DIR/f1.log" | tail -3)"; fi
resp=$(post_admin 1 /sync "{\"connection_id\":\"$B\"}")
check_eq "a manual sync of a deleted connection is refused" "the connection is deleted: it is not polled any more" \
  "$(printf '%s' "$resp" | json_get error 2>/dev/null)"
# Monotonic, not sticky: a creation dated after the deletion is a new life.
sleep 1
fx_publish_event connection.created "${b_created/$b_date/$(iso_ago 0)}"
b_active() { [ "$(fx_sql "SELECT state, token_sealed IS NOT NULL FROM fetcher_connections WHERE connection_id='$B'")" = "active|t" ]; }
if fx_wait 20 b_active; then pass "a connection.created dated after the deletion makes it active again"
else fail "a newer connection.created revives" "$(fx_sql "SELECT state FROM fetcher_connections WHERE connection_id='$B'")"; fi

# ---------------------------------------------------------------- incremental, manual sync, window backfill
fx_simctl POST "/_sim/connections/$C/crawl" '{"mutations":60}' >/dev/null
# A crawl takes the changes made before its start, in whole seconds: the force sync must
# start in a later second than the changes to be sure to take them all.
sleep 1.2
resp=$(post_admin 1 /sync "{\"connection_id\":\"$C\",\"resources\":[\"orders\",\"returns\",\"inbound_shipments\",\"products\",\"inventory\"]}")
rid=$(printf '%s' "$resp" | json_get id 2>/dev/null)
if [ -n "$rid" ] && fx_wait 60 request_done "$rid"; then pass "POST /sync carried out"; else fail "POST /sync carried out" "$resp"; fi
grep -q '"POST /connections/sync accepted; polling when its crawl has ended"' "$FX_DIR/f1.log" \
  && pass "manual sync asked Trackstar to sync (POST /connections/sync) and waited for its crawl" \
  || fail "POST /connections/sync sent" "no log line"
packs_cursor0=$(fx_sql "SELECT extract(epoch FROM cursor_at)::bigint FROM fetcher_streams WHERE connection_id='$C' AND resource='order_packs'")
fx_wait 20 c_covered orders returns inbound_shipments products inventory order_packs
out=$(c_covered orders returns inbound_shipments products inventory order_packs) && pass "incremental poll brings every changed record's new version (order packs too)" \
  || fail "incremental poll brings every new version" "$out"
kill "$C_RECORDER"; wait "$C_RECORDER" 2>/dev/null
grep -q "\"resource\":\"orders\",\"kind\":\"incremental\"" <(grep "\"connection_id\":\"$C\"" "$FX_DIR/f1.log") \
  && pass "second run is incremental" || fail "second run is incremental" ""
packs_cursor1=$(fx_sql "SELECT extract(epoch FROM cursor_at)::bigint FROM fetcher_streams WHERE connection_id='$C' AND resource='order_packs'")
[ -n "$packs_cursor0" ] && [ -n "$packs_cursor1" ] && [ "$packs_cursor1" -ge "$packs_cursor0" ] \
  && pass "order packs cursor kept or advanced after the second run ($packs_cursor0 -> $packs_cursor1)" \
  || fail "order packs cursor after the second run" "$packs_cursor0 -> $packs_cursor1"
out=$(fx_cmd sync "$C" warehouses)
rid=$(printf '%s' "$out" | json_get id 2>/dev/null)
if [ -n "$rid" ] && fx_wait 60 request_done "$rid"; then pass "fetcher sync (command) carried out"; else fail "fetcher sync (command)" "$out"; fi
# Messages produced from now on, by their Kafka timestamps: the dev broker drops a
# partition's oldest messages beyond ~5 MiB, so counts of the whole topic can shrink.
bf_ms=$(date +%s%3N)
start=$(iso_ago $((20 * DAY))); end=$(iso_ago $((10 * DAY)))
in_window=$(python3 - "$FX_DIR/truth.jsonl" "$start" "$end" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1]) if sys.argv[2] <= json.loads(l)["updated_date"] <= sys.argv[3]))
PY
)
$CHECK truth "$FX_SIM" "$FX_API_KEY" "$C" orders "$FX_DIR/truth.jsonl" >/dev/null
in_window=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if sys.argv[2] <= json.loads(l)["updated_date"] <= sys.argv[3]))' "$FX_DIR/truth.jsonl" "$start" "$end")
resp=$(post_admin 1 /backfill "{\"connection_id\":\"$C\",\"resources\":[\"orders\"],\"start\":\"$start\",\"end\":\"$end\"}")
rid=$(printf '%s' "$resp" | json_get id 2>/dev/null)
if [ -n "$rid" ] && fx_wait 60 request_done "$rid"; then pass "POST /backfill carried out"; else fail "POST /backfill carried out" "$resp"; fi
detail=$(fx_admin_curl -fsS "$(fx_admin 1)/requests?id=$rid" | json_get detail)
case $detail in *"on-demand sync odsj_"*completed*) pass "the backfill ran Trackstar's on-demand sync to completed first ($detail)" ;;
  *) fail "the backfill ran Trackstar's on-demand sync" "$detail" ;; esac
fx_raw "$FX_DIR/raw.json"
new=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if l.startswith("{") and (lambda m: (m.get("key") or "").startswith(sys.argv[2]) and m.get("ts", 0) >= int(sys.argv[3]))(json.loads(l))))' "$FX_DIR/raw.json" "$C|orders|" "$bf_ms")
[ "$in_window" -gt 0 ] && [ "$new" -ge "$in_window" ] && pass "window backfill re-read the $in_window orders of the window" \
  || fail "window backfill re-read the window" "window $in_window, new messages $new"
check_eq "request status readable" done "$(fx_admin_curl -fsS "$(fx_admin 1)/requests?id=$rid" | json_get status)"
fx_admin_curl -fsS "$(fx_admin 1)/streams?connection_id=$C" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==int(sys.argv[1]) and all("state" in s for s in d)' "$NRES" \
  && pass "GET /streams shows the sync status" || fail "GET /streams" ""

# ---------------------------------------------------------------- errors
read -r D DTOK < <(fx_sim_conn '{"integration_name":"sandbox","orders":100,"emit_created":0}')
printf '%s\n' "$DTOK" | fx_cmd connection-add "$D" sandbox >/dev/null
fx_wait 60 streams_settled "$D" || fail "error connection settled" ""
m5=$(fx_metric "$(fx_admin 1)" fetcher_http_5xx_total)
fx_simctl POST /_sim/faults "{\"connection_id\":\"$D\",\"http_5xx\":3}" >/dev/null
out=$(fx_cmd sync "$D" orders); rid=$(printf '%s' "$out" | json_get id)
if fx_wait 60 request_done "$rid" && state_is "$D" orders idle; then pass "5xx answers retried with backoff, run succeeds"
else fail "5xx retried" "$(fx_sql "SELECT state, last_error FROM fetcher_streams WHERE connection_id='$D' AND resource='orders'")"; fi
# the first 503 may hit the POST /connections/sync (then the polls go ahead anyway)
n5=$(($(fx_metric "$(fx_admin 1)" fetcher_http_5xx_total) - m5))
[ "$n5" -ge 2 ] && pass "injected 503s seen by the polls ($n5) and retried" || fail "503s retried" "$n5"
grep -q '"page failed, retrying".*"backoff_ms"' "$FX_DIR/f1.log" && pass "retries logged with their backoff" || fail "retries logged" ""

# Trackstar cannot crawl returns (a missing permission): reads would serve its stale copy,
# so the stream is shown blocked and not polled; the other resources go on.
fx_simctl POST /_sim/faults "{\"connection_id\":\"$D\",\"missing_permission\":\"get_returns\"}" >/dev/null
if fx_wait 30 state_is "$D" returns blocked; then pass "sync_status error: the resource shown blocked"
else fail "sync_status error: the resource shown blocked" "$(stream_state "$D" returns)"; fi
out=$(fx_cmd sync "$D" returns orders); rid=$(printf '%s' "$out" | json_get id)
if fx_wait 30 request_done "$rid" && state_is "$D" orders idle; then pass "a sync skips it (said in the request) and polls the others"
else fail "a sync skips the blocked resource" "$(fx_sql "SELECT resource, state FROM fetcher_streams WHERE connection_id='$D'")"; fi
fx_simctl POST /_sim/faults "{\"connection_id\":\"$D\",\"clear_errors\":true}" >/dev/null
if fx_wait 30 state_is "$D" returns idle; then pass "once Trackstar syncs it again the resource is idle"
else fail "resource unblocked after the error cleared" "$(stream_state "$D" returns)"; fi

# 401 means a bad key or access token (§1.1): the connection is blocked.
fx_simctl POST /_sim/faults "{\"connection_id\":\"$D\",\"http_401\":50}" >/dev/null
out=$(fx_cmd sync "$D" orders); rid=$(printf '%s' "$out" | json_get id)
if fx_wait 30 state_is "$D" orders blocked; then pass "401: connection blocked"; else fail "401: connection blocked" "$(stream_state "$D" orders)"; fi
check_eq "blocked state stored" blocked "$(fx_sql "SELECT state FROM fetcher_connections WHERE connection_id='$D'")"
fx_simctl POST /_sim/faults "{\"connection_id\":\"$D\",\"http_401\":0}" >/dev/null
fx_publish_event connection-error.deleted "{\"connection_id\":\"$D\",\"event_type\":\"connection-error.deleted\",\"integration_name\":\"sandbox\",\"integration_type\":\"general\",\"data\":{}}"
fx_wait 20 bash -c "[ \"\$(psql '$FX_DB' -XtAc \"SELECT state FROM fetcher_connections WHERE connection_id='$D'\")\" = active ]"
out=$(fx_cmd sync "$D" orders); rid=$(printf '%s' "$out" | json_get id)
if fx_wait 30 request_done "$rid" && state_is "$D" orders idle; then pass "connection-error.deleted unblocks it"
else fail "connection-error.deleted unblocks it" "$(stream_state "$D" orders)"; fi

read -r E ETOK < <(fx_sim_conn '{"integration_name":"sandbox","orders":50,"emit_created":0,"available_actions":["get_orders","get_products"]}')
printf '%s\n' "$ETOK" | fx_cmd connection-add "$E" sandbox >/dev/null
if fx_wait 30 state_is "$E" bills unsupported && fx_wait 30 state_is "$E" orders idle; then pass "actions the connection lacks are unsupported, the rest polled"
else fail "unsupported resources" "$(fx_sql "SELECT resource, state FROM fetcher_streams WHERE connection_id='$E'")"; fi

# ---------------------------------------------------------------- SIGTERM
pid=$(fx_pid f1); t0=$(date +%s%N); kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" 2>/dev/null; rc=$?
if kill -0 "$pid" 2>/dev/null; then fail "SIGTERM: exits within 10 s" "still running"
else check_eq "SIGTERM: exits 0 within $(( ($(date +%s%N) - t0) / 1000000 )) ms" 0 "$rc"; fi

# ---------------------------------------------------------------- 429 burst
# 300 orders: at FETCHER_PAGE_LIMIT=25 a dozen pages and more, then ~240 order packs
# requests: half a minute at the token's limit, long enough to show it is kept (it had
# 1000: two minutes more at the same rate)
read -r F FTOK < <(fx_sim_conn '{"integration_name":"sandbox","orders":300,"emit_created":0}')
printf '%s\n' "$FTOK" | fx_cmd connection-add "$F" sandbox >/dev/null
fx_simctl POST /_sim/faults "{\"connection_id\":\"$F\",\"http_429\":25}" >/dev/null
mark=$(wc -l <"$FX_DIR/sim.log")
# recorded as published: with every resource (order packs too) this suite puts more on the
# raw topic than the dev broker keeps, so a dump afterwards may have lost the first orders
fx_raw_record "$FX_DIR/raw_f.json"
fx_fetcher f2 2 FETCHER_PAGE_LIMIT=25 FETCHER_STREAM_PARALLEL=4 || fail "f2 ready" ""
if fx_wait 200 streams_settled "$F"; then pass "429 burst: the backfill completes"; else fail "429 burst: backfill completes" ""; fi
tail -n +"$mark" "$FX_DIR/sim.log" >"$FX_DIR/sim429.log"
read -r maxps throttled total max3 < <($CHECK rate "$FX_DIR/sim429.log" /wms/ "$F")
# Judged over three seconds too (at most 3 x 10 + 1), as the organisation's budget below:
# the simulator logs a request when it arrives, and under a loaded sanitized run requests
# the fetcher spaced out arrive bunched (13 in one calendar second, a rehearsal of
# 2026-12-05, every other second at most 10).
[ "$max3" -le 31 ] &&
  pass "never more than 10 requests a second with one token (max $max3 in three seconds, $maxps in one, $total requests)" \
  || fail "never more than 10 requests a second with one token" "max $max3 in three seconds, $maxps in one"
[ "$throttled" -ge 25 ] && pass "the 429 burst was answered ($throttled 429s) and waited out" || fail "429s seen" "$throttled"
grep -q "\"connection_id\":\"$F\",\"resource\":\"[a-z_]*\",\"state\":\"rate_limited\"" "$FX_DIR/f2.log" \
  && pass "rate_limited state reported" || fail "rate_limited state reported" ""
out=$(RAW_RECORD=$FX_DIR/raw_f.json covered "$F" orders) && pass "nothing lost to the 429s" || fail "nothing lost to the 429s" "$out"
kill "$FX_RECORDER"; wait "$FX_RECORDER" 2>/dev/null
kill -TERM "$(fx_pid f2)"; wait "$(fx_pid f2)" 2>/dev/null

# ---------------------------------------------------------------- SIGKILL in the middle of a backfill
read -r G GTOK < <(fx_sim_conn '{"integration_name":"sandbox","orders":2500,"emit_created":0,"historical_sync":"pending"}')
printf '%s\n' "$GTOK" | fx_cmd connection-add "$G" sandbox >/dev/null
fx_simctl POST "/_sim/connections/$G/historical-sync" '{}' >/dev/null
g_oldest=$($CHECK oldest "$FX_SIM" "$FX_API_KEY" "$G" orders)
fx_publish_event connection.historical-sync-completed "{\"connection_id\":\"$G\",\"event_type\":\"connection.historical-sync-completed\",\"integration_name\":\"sandbox\",\"integration_type\":\"general\",\"data\":{\"resource\":\"orders\",\"oldest_data_date\":\"$g_oldest\",\"newest_data_date\":\"$(iso_ago 0)\"}}"
KILLENV=(FETCHER_PAGE_LIMIT=25 FETCHER_WINDOW_TARGET_PAGES=3 FETCHER_WINDOW_INITIAL_S=43200 FETCHER_STREAM_PARALLEL=1
  FETCHER_HIST_CHECK_S=3600 FETCHER_RATE_PER_TOKEN=5)
# Recorded as published: by the end of the suite the broker no longer holds the first of them.
fx_raw_record "$FX_DIR/raw_g.json"
fx_fetcher f3 3 "${KILLENV[@]}" || fail "f3 ready" ""
mid_run() { [ "$(fx_sql "SELECT (cursor_at IS NOT NULL AND run_started_at IS NOT NULL AND records_seen > 200) FROM fetcher_streams WHERE connection_id='$G' AND resource='orders'")" = t ]; }
if fx_wait 60 mid_run; then pass "backfill under way with a stored cursor"
else fail "backfill under way" "$(date -u +%T) $(fx_sql "SELECT state, cursor_at, run_started_at, records_seen FROM fetcher_streams WHERE connection_id='$G' AND resource='orders'")"; fi
kill -KILL "$(fx_pid f3)"; wait "$(fx_pid f3)" 2>/dev/null
cur=$(fx_sql "SELECT cursor_at FROM fetcher_streams WHERE connection_id='$G' AND resource='orders'")
sleep 1 # the recorder reads what was published before the kill
n1=$(grep -c "\"key\":\"$G|orders|" "$FX_DIR/raw_g.json")
[ "$n1" -lt 2500 ] && pass "killed (SIGKILL) after $n1 of 2500 orders, cursor $cur" || fail "killed in the middle" "$n1 already published"
fx_fetcher f3b 3 "${KILLENV[@]}" || fail "f3 restarted" ""
# The token's 5 requests a second are shared with the connection's 14 other streams, each
# polled again after every one of the simulator's scaled crawls (every few seconds): the
# backfill's ~90 pages get 0.5 to 1.3 a second, on the old loop as on the new. 90 s
# failed both on a quiet machine with G alone; 240 s leaves room.
if fx_wait 240 state_is "$G" orders idle; then pass "backfill resumed and finished after the restart"; else fail "backfill resumed" "$(stream_state "$G" orders)"; fi
first=$(grep "\"connection_id\":\"$G\",\"resource\":\"orders\"" "$FX_DIR/f3b.log" | grep -m1 '"run started"' | sed -E 's/.*"from":"([^"]*)".*/\1/')
python3 -c 'import sys; sys.exit(0 if sys.argv[1] > sys.argv[2] else 1)' "$first" "$g_oldest" \
  && pass "resumed from the stored cursor ($first), not from the start" || fail "resumed from the stored cursor" "from $first"
sleep 1
out=$(RAW_RECORD=$FX_DIR/raw_g.json covered "$G" orders) && pass "after SIGKILL + restart nothing is skipped" \
  || fail "after SIGKILL nothing is skipped" "$out"
kill "$FX_RECORDER"; wait "$FX_RECORDER" 2>/dev/null
kill -TERM "$(fx_pid f3b)"; wait "$(fx_pid f3b)" 2>/dev/null

# ---------------------------------------------------------------- two replicas
HS=()
for i in 1 2 3 4 5 6 7 8; do
  read -r h htok < <(fx_sim_conn '{"integration_name":"sandbox","orders":60,"emit_created":0}')
  printf '%s\n' "$htok" | fx_cmd connection-add "$h" sandbox >/dev/null
  HS+=("$h")
done
R=(FX_LOG_LEVEL=debug)
FX_LOG_LEVEL=debug fx_fetcher r1 4 FETCHER_PAGE_LIMIT=20 || fail "r1 ready" ""
FX_LOG_LEVEL=debug fx_fetcher r2 5 FETCHER_PAGE_LIMIT=20 || fail "r2 ready" ""
all_settled() { local h; for h in "${HS[@]}"; do streams_settled "$h" || return 1; done; }
both_own() {
  local a b
  a=$(fx_metric "$(fx_admin 4)" fetcher_connections_owned); b=$(fx_metric "$(fx_admin 5)" fetcher_connections_owned)
  [ "${a:-0}" -gt 0 ] && [ "${b:-0}" -gt 0 ]
}
if fx_wait 60 both_own && fx_wait 150 all_settled; then pass "two replicas share the connections; every stream ran"
else fail "two replicas share the connections" "r1 $(fx_metric "$(fx_admin 4)" fetcher_connections_owned) r2 $(fx_metric "$(fx_admin 5)" fetcher_connections_owned)"; fi
sleep 2
m1=$(wc -l <"$FX_DIR/r1.log"); m2=$(wc -l <"$FX_DIR/r2.log")
rids=()
for h in "${HS[@]}"; do rids+=("$(post_admin 4 /sync "{\"connection_id\":\"$h\",\"resources\":[\"orders\"]}" | json_get id)"); done
for rid in "${rids[@]}"; do fx_wait 60 request_done "$rid" || fail "sync request $rid done" ""; done
ok=1 detail=""
for h in "${HS[@]}"; do
  # runs follow Trackstar's crawls too: however many there were, all by one replica
  a=$(tail -n +"$m1" "$FX_DIR/r1.log" | grep -c "\"msg\":\"run started\",\"connection_id\":\"$h\",\"resource\":\"orders\"")
  b=$(tail -n +"$m2" "$FX_DIR/r2.log" | grep -c "\"msg\":\"run started\",\"connection_id\":\"$h\",\"resource\":\"orders\"")
  { [ "$a" -gt 0 ] && [ "$b" -eq 0 ]; } || { [ "$a" -eq 0 ] && [ "$b" -gt 0 ]; } || { ok=0; detail+=" $h:$a/$b"; }
done
[ $ok = 1 ] && pass "each connection polled by exactly one replica (8 of 8 covered)" || fail "each stream polled by exactly one replica" "$detail"
# During the hand-over no connection was polled by both at once: the one that gave it
# up stopped before the other began.
python3 - "$FX_DIR/r1.log" "$FX_DIR/r2.log" <<'PY' && pass "hand-over: the old owner stopped before the new one started" || fail "hand-over without overlap" ""
import json, sys, collections
spans = collections.defaultdict(dict)
for idx, path in enumerate(sys.argv[1:]):
    for line in open(path):
        if '"msg":"GET"' not in line:
            continue
        e = json.loads(line)
        s = spans[e["connection_id"]].setdefault(idx, [e["ts"], e["ts"]])
        s[0] = min(s[0], e["ts"]); s[1] = max(s[1], e["ts"])
bad = [c for c, s in spans.items() if len(s) == 2 and not (s[0][1] < s[1][0] or s[1][1] < s[0][0])]
# a connection that changed hands is fine only if the spans do not overlap
sys.exit(1 if bad else 0)
PY
kill -KILL "$(fx_pid r2)"; wait "$(fx_pid r2)" 2>/dev/null
takeover() { [ "$(fx_metric "$(fx_admin 4)" fetcher_connections_owned)" -ge 8 ]; }
if fx_wait 60 takeover; then pass "a replica dies: the other takes over all its connections"; else fail "take-over" ""; fi
rids=()
for h in "${HS[@]}"; do rids+=("$(post_admin 4 /sync "{\"connection_id\":\"$h\",\"resources\":[\"orders\"]}" | json_get id)"); done
n=0; for rid in "${rids[@]}"; do fx_wait 60 request_done "$rid" && n=$((n + 1)); done
check_eq "after the take-over every connection is polled" 8 "$n"

# ---------------------------------------------------------------- the organisation's budget
# GET /connections and GET /connections/{id} need only the API key: one budget for the
# whole organisation (the simulator: 10 a second). A replica that starts with many
# connections due reads the paginated list (a page per 100 connections) instead of asking
# each: at most N/100 + 10 such requests in its first 10 s, and no 429. Before the sweep
# it asked each one, FETCHER_ORG_RATE a second (35 requests over ~9 s here).
kill -TERM "$(fx_pid r1)"; wait "$(fx_pid r1)" 2>/dev/null
OS=()
for i in $(seq 20); do
  read -r h htok < <(fx_sim_conn '{"integration_name":"sandbox","orders":3,"emit_created":0}')
  printf '%s\n' "$htok" | fx_cmd connection-add "$h" sandbox >/dev/null
  OS+=("$h")
done
nconn=$(fx_sql "SELECT count(*) FROM fetcher_connections WHERE state = 'active'")
mark=$(($(wc -l <"$FX_DIR/sim.log") + 1))
# the checks' production intervals (fx_env's 1 s would make every second a new start)
o1_t0=$SECONDS
fx_fetcher o1 6 FETCHER_ORG_RATE=4 FETCHER_CONN_CHECK_S=60 FETCHER_HIST_CHECK_S=300 || fail "o1 ready" ""
all_o_settled() { local h; for h in "${OS[@]}"; do streams_settled "$h" || return 1; done; }
fx_wait 90 all_o_settled || fail "the 20 new connections synced" ""
tail -n +"$mark" "$FX_DIR/sim.log" >"$FX_DIR/sim_org.log"
read -r pages singles throttled < <($CHECK conn_reads "$FX_DIR/sim_org.log" 10)
[ "$pages" -ge 1 ] && [ $((pages + singles)) -le $((nconn / 100 + 10)) ] && [ "$throttled" -eq 0 ] &&
  pass "$nconn connections at start: $pages page(s) of GET /connections and $singles GET /connections/{id} in the first 10 s (at most $((nconn / 100 + 10))), no 429" ||
  fail "a start with many connections reads the list, within the organisation's budget" "$pages pages, $singles single reads in 10 s, $throttled 429s, for $nconn connections"
read -r maxps throttled total max3 < <($CHECK rate "$FX_DIR/sim_org.log" /connections)
# Judged over three seconds (at most 3 x 4 + 1): arrivals bunch at a second's edge under
# load, while the fetcher before its budget sent 35 a second, with 424 429s.
[ "$max3" -le 13 ] && [ "$throttled" -eq 0 ] &&
  pass "API-key requests at most $max3 in three seconds, $maxps in one (FETCHER_ORG_RATE=4), no 429 ($total requests)" ||
  fail "API-key requests keep to the organisation's budget" "max $max3 in three seconds ($maxps in one), $throttled 429s, $total requests"
kill -TERM "$(fx_pid o1)"; wait "$(fx_pid o1)" 2>/dev/null

# ---------------------------------------------------------------- a restart that costs nothing
# What GET /connections/{id} answered (actions, sync schedules, crawl errors, when it was
# asked) is stored: a replica restarting with nothing left to sync reads it back and asks
# the organisation's budget only what it does not know yet. At most N/100 + 10 API-key
# requests in its first 20 s, none refused (the code before it asked about all N at once).
# The checks' gap is the production one (60 s; o1 checked every connection a moment ago).
# GET /integrations/wms, which the simulator allows once a minute for the organisation, is
# stored too: the restart, within a minute of o1's start, takes it from the database (it
# asked again and was refused once before it was stored).
fx_simctl DELETE /_sim/requests/stats >/dev/null
mark=$(($(wc -l <"$FX_DIR/sim.log") + 1))
fx_fetcher o2 7 FETCHER_ORG_RATE=4 FETCHER_CONN_CHECK_S=60 FETCHER_HIST_CHECK_S=300 || fail "o2 ready" ""
sleep 20
tail -n +"$mark" "$FX_DIR/sim.log" >"$FX_DIR/sim_restart.log"
read -r _ _ integ _ < <($CHECK rate "$FX_DIR/sim_restart.log" /integrations/wms)
check_eq "a restart $((SECONDS - o1_t0)) s after the last start reads GET /integrations/wms's answer back" 0 "${integ:-x}"
read -r keyreqs n429 < <(fx_simctl GET /_sim/requests/stats | python3 -c 'import json,sys
s = json.load(sys.stdin)
print(s["api_key"]["total"], s["api_key"]["http_429"] + s["access_token"]["http_429"])')
limit=$((nconn / 100 + 10))
[ "${keyreqs:-999}" -le "$limit" ] && [ "${n429:-1}" -eq 0 ] &&
  pass "restart with $nconn connections synced: $keyreqs API-key requests in 20 s (at most $limit), no 429" ||
  fail "a restart asks the API-key budget at most N/100 + 10 times" "$keyreqs API-key requests in 20 s for $nconn connections (at most $limit), $n429 429s"
kill -TERM "$(fx_pid o2)"; wait "$(fx_pid o2)" 2>/dev/null

# ---------------------------------------------------------------- one sweep for two replicas
# The list cannot be filtered by owner: two replicas each reading it would read it twice a
# round. The owner of partition 0 sweeps; each listed connection the other owns goes to it
# on the assignment topic, and it asks nothing itself. Rounds of 8 s here (its grace: 2 s).
# With 4 s rounds (1 s of grace) a SANITIZE run saw the sweeper's round come 1.05 s after
# the other's connections were due, twice in a row, and the other swept both times.
fx_fetcher s1 4 FETCHER_ORG_RATE=4 FETCHER_CONN_CHECK_S=8 FETCHER_HIST_CHECK_S=8 || fail "s1 ready" ""
fx_fetcher s2 5 FETCHER_ORG_RATE=4 FETCHER_CONN_CHECK_S=8 FETCHER_HIST_CHECK_S=8 || fail "s2 ready" ""
fx_wait 60 both_own || fail "s1 and s2 share the connections" ""
sleep 8 # the first looks: each asks for what its start found due at once
sweep_counts() {
  local i
  for i in 4 5; do
    printf '%s %s %s ' "$(fx_metric "$(fx_admin $i)" fetcher_connection_sweep_pages_total)" \
      "$(fx_metric "$(fx_admin $i)" fetcher_connection_listings_handed_total)" \
      "$(fx_metric "$(fx_admin $i)" fetcher_connection_listings_applied_total)"
  done
}
read -r p1 h1 a1 p2 h2 a2 < <(sweep_counts)
sleep 24
read -r q1 g1 b1 q2 g2 b2 < <(sweep_counts)
pages1=$((${q1%.*} - ${p1%.*})) pages2=$((${q2%.*} - ${p2%.*}))
handed=$((${g1%.*} + ${g2%.*} - ${h1%.*} - ${h2%.*})) applied=$((${b1%.*} + ${b2%.*} - ${a1%.*} - ${a2%.*}))
# The counters are read a moment apart: a listing handed over before the first reading can
# be applied after it, so the two counts need not match. A listing later than the other's
# grace (2 s here; under ASan it happens) lets that one sweep once itself: allowed, once.
# Before, both read the list every round (3 pages each here).
lo=$((pages1 < pages2 ? pages1 : pages2)) hi=$((pages1 > pages2 ? pages1 : pages2))
[ "$lo" -le 1 ] && [ "$hi" -ge 2 ] && [ "$handed" -gt 0 ] && [ "$applied" -gt 0 ] &&
  pass "two replicas, 24 s of 8 s rounds: one swept ($pages1 + $pages2 pages), $handed listings handed over, $applied applied by the other" ||
  fail "one sweep serves both replicas" "pages $pages1 and $pages2, $handed handed over, $applied applied"
kill -TERM "$(fx_pid s1)" "$(fx_pid s2)"; wait "$(fx_pid s1)" "$(fx_pid s2)" 2>/dev/null

grep -h -e '"level":"error"' -e 'Sanitizer' -e 'runtime error' "$FX_DIR"/f*.log "$FX_DIR"/r*.log "$FX_DIR"/o*.log "$FX_DIR"/s[12].log >"$FX_DIR/errors.txt" 2>/dev/null
[ ! -s "$FX_DIR/errors.txt" ] && pass "no error (nor sanitizer report) logged" || fail "no error logged" "$(head -3 "$FX_DIR/errors.txt")"
[ "$T_FAILED" -gt 0 ] && FX_KEEP=1 && echo "  (kept $FX_DIR)"
finish
