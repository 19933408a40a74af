#!/usr/bin/env bash
# webhook_gw.sh - how fast webhook-gw takes signed webhooks with durable acks, against
# nginx answering 200 to the same requests on the same machine in the same run.
#
#  1. max rate: wrk (closed loop) against nginx, then against webhook-gw, at each number
#     of connections in BENCH_CONNECTIONS (default "64 256"); prints every rate with
#     wrk's p50/p99, and the ratio of each server's best rate. Two concurrencies because
#     the two servers saturate differently: nginx answers at once and is bound by the
#     CPU it shares with wrk from a few dozen connections on, while each webhook-gw
#     answer waits for a Kafka round trip (~1-2 ms), so at 64 connections it is partly
#     bound by that latency rather than by CPU.
#  2. fixed rate: gw_loadgen (tests/bench/gw_loadgen.c, built here with cc) sends
#     BENCH_FIXED_RATE req/s open-loop; latency from each request's due time, so
#     queueing counts (wrk2 is not in Debian; wrk cannot hold a rate).
#
# Signing: Svix signatures cover the timestamp and wrk's Lua has no HMAC, so a pool of
# BENCH_POOL requests (distinct bodies and ids) is pre-signed by gw_sign.py right before
# each phase; every phase ends well inside Svix's 5-minute tolerance. webhook-gw verifies
# every request in full (the dedupe table is off, so every request is published).
#
# Goals (issue 4): webhook-gw >= 0.5 x nginx's rate; p99 < 20 ms at 5,000 req/s.
# Exits 1 when a goal is missed or a request failed. Ports: free ones in 22000-22999.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${BIN_DIR:-bin}
case $BIN_DIR in /*) ;; *) BIN_DIR=$ROOT/$BIN_DIR ;; esac
LIB=$ROOT/tests/integration/lib
DURATION=${BENCH_DURATION:-10}
CONNS_LIST=${BENCH_CONNECTIONS:-64 256}
THREADS=${BENCH_THREADS:-2}
FIXED_RATE=${BENCH_FIXED_RATE:-5000}
FIXED_CONNS=${BENCH_FIXED_CONNECTIONS:-64}
POOL=${BENCH_POOL:-5000}
WORK=$(mktemp -d /tmp/bench_webhook_gw.XXXXXX)

BROKER_PID= GW_PID= NGINX_PID=
cleanup() {
    for p in $GW_PID $NGINX_PID $BROKER_PID; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] && echo "work dir kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
die() { echo "bench: $*" >&2; exit 1; }

for t in wrk nginx python3 cc curl; do command -v "$t" >/dev/null || die "$t is not installed"; done
for b in dev-broker webhook-gw; do [ -x "$BIN_DIR/$b" ] || die "missing $BIN_DIR/$b (run make)"; done

read -r BPORT GPORT APORT NPORT < <(python3 "$LIB/free_ports.py" 4 22000 23000)
SECRET=$(python3 -c 'import base64,os; print("whsec_" + base64.b64encode(os.urandom(24)).decode())')
PATH_=/webhooks/trackstar

# ---- servers -----------------------------------------------------------------------

DEV_BROKER_PORT=$BPORT DEV_BROKER_READY_FILE=$WORK/broker.ready LOG_LEVEL=warn \
    "$BIN_DIR/dev-broker" 2>"$WORK/broker.log" &
BROKER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/broker.ready" ] && break; sleep 0.1; done
[ -s "$WORK/broker.ready" ] || die "dev broker did not start"

KAFKA_BOOTSTRAP=127.0.0.1:$BPORT WEBHOOK_GW_BIND=127.0.0.1 WEBHOOK_GW_PORT=$GPORT ADMIN_PORT=$APORT \
    WEBHOOK_SECRETS=$SECRET WEBHOOK_GW_MAX_INFLIGHT=100000 LOG_LEVEL=warn \
    TOKEN_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64) \
    "$BIN_DIR/webhook-gw" 2>"$WORK/gw.log" &
GW_PID=$!

mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NPORT;
        client_max_body_size 2m;
        client_body_buffer_size 2m;
        location / {
            default_type application/json;
            return 200 '{"status":"accepted"}';
        }
    }
}
EOF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx/start.log" &
NGINX_PID=$!

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = "$2" ]; }
for _ in $(seq 150); do ready "http://127.0.0.1:$APORT/readyz" 200 && break; sleep 0.1; done
ready "http://127.0.0.1:$APORT/readyz" 200 || die "webhook-gw not ready (see $WORK/gw.log)"
for _ in $(seq 50); do ready "http://127.0.0.1:$NPORT/" 200 && break; sleep 0.1; done
ready "http://127.0.0.1:$NPORT/" 200 || die "nginx did not start: $(cat "$WORK/nginx/start.log")"

cc -O2 -o "$WORK/gw_loadgen" "$ROOT/tests/bench/gw_loadgen.c" || die "cannot build gw_loadgen"

# A realistic order.updated body (~1.4 KB); @N@ makes each record id distinct.
cat >"$WORK/template.json" <<'EOF'
{"connection_id":"conn_bench_1","event_type":"order.updated","integration_name":"sandbox-wms","integration_type":"wms","data":{"id":"ord_@N@","warehouse_customer_id":"wc_1","warehouse_id":"wh_1","order_number":"SO-@N@","reference_id":"REF-@N@","status":"fulfilled","channel":"shopify","channel_object":{"channel_id":"ch_1","channel_name":"Shopify"},"trading_partner":null,"shipping_method_id":"sm_1","shipping_method":"UPS Ground","service_level":"ground","invoice_currency_code":"USD","total_price":129.5,"total_tax":10.36,"total_discount":0,"total_shipping":7.99,"ship_to_address":{"full_name":"Ada Lovelace","company":null,"address1":"1 Analytical Way","address2":null,"city":"London","state":"LDN","postal_code":"NW1","country":"GB"},"line_items":[{"product_id":"prd_1","sku":"SKU-1","quantity":2,"unit_price":40.0,"discount_amount":0},{"product_id":"prd_2","sku":"SKU-2","quantity":1,"unit_price":49.5,"discount_amount":0}],"shipments":[{"shipment_id":"shp_@N@","shipped_date":"2026-01-05T10:00:00Z","tracking_number":"1Z999","carrier":"UPS","packages":[{"package_id":"pkg_1","tracking_number":"1Z999"}]}],"created_date":"2026-01-05T09:00:00Z","updated_date":"2026-01-05T10:00:00Z","additional_fields":{},"trackstar_tags":[]},"previous_attributes":{"status":"open"}}
EOF
sign_pool() {
    python3 "$LIB/gw_sign.py" pool "$WORK/pool" "$POOL" --secret "$SECRET" --template "$WORK/template.json" \
        --path "$PATH_" || die "cannot sign the pool"
}
cat >"$WORK/wrk.lua" <<EOF
dofile("$WORK/pool/pool.lua")
local i = 0
function init(args) i = math.random(#pool) end
function request()
    i = i % #pool + 1
    local r = pool[i]
    return wrk.format("POST", "$PATH_", {["Content-Type"] = "application/json",
        ["svix-id"] = r.id, ["svix-timestamp"] = r.ts, ["svix-signature"] = r.sig}, r.body)
end
EOF

# ---- 1. max rate, wrk ----------------------------------------------------------------

run_wrk() { # run_wrk NAME PORT SECONDS CONNECTIONS -> NAME.wrk
    wrk -t"$THREADS" -c"$4" -d"$3s" --latency -s "$WORK/wrk.lua" "http://127.0.0.1:$2$PATH_" >"$WORK/$1.wrk" 2>&1
}
wrk_rate() { awk '/^Requests\/sec/ { print int($2) }' "$WORK/$1.wrk"; }
wrk_pct() { # wrk_pct NAME 50% -> milliseconds
    awk -v p="$2" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
        else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
        printf "%.2f", v }' "$WORK/$1.wrk"
}
wrk_bad() { awk '/Non-2xx/ { n = $NF } /Socket errors/ { n += 0 } END { print n + 0 }' "$WORK/$1.wrk"; }

sign_pool
FIRST_CONNS=${CONNS_LIST%% *}
run_wrk warm_nginx "$NPORT" 2 "$FIRST_CONNS"
run_wrk warm_gw "$GPORT" 2 "$FIRST_CONNS"
NGINX_RATE=0 GW_RATE=0 GW_BAD=0
for c in $CONNS_LIST; do
    run_wrk "nginx_c$c" "$NPORT" "$DURATION" "$c"
    run_wrk "gw_c$c" "$GPORT" "$DURATION" "$c"
    r=$(wrk_rate "nginx_c$c"); [ "${r:-0}" -gt "$NGINX_RATE" ] && NGINX_RATE=$r
    r=$(wrk_rate "gw_c$c"); [ "${r:-0}" -gt "$GW_RATE" ] && GW_RATE=$r
    GW_BAD=$((GW_BAD + $(wrk_bad "gw_c$c")))
done
RATIO=$(awk -v a="$GW_RATE" -v b="$NGINX_RATE" 'BEGIN { printf "%.2f", b ? a / b : 0 }')

# ---- 2. fixed rate, gw_loadgen --------------------------------------------------------

sign_pool
"$WORK/gw_loadgen" 127.0.0.1 "$NPORT" "$FIXED_RATE" "$DURATION" "$FIXED_CONNS" "$WORK/pool/pool.bin" >"$WORK/fixed_nginx.out" 2>&1
"$WORK/gw_loadgen" 127.0.0.1 "$GPORT" "$FIXED_RATE" "$DURATION" "$FIXED_CONNS" "$WORK/pool/pool.bin" >"$WORK/fixed_gw.out" 2>&1
kv() { tr ' ' '\n' <"$WORK/$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

metric() { curl -s "http://127.0.0.1:$APORT/metrics" | awk -v m="$1" '$1 ~ "^"m { s += $2 } END { print s + 0 }'; }
ACCEPTED=$(metric webhook_accepted_total)
REJECTED=$(metric webhook_rejected_total)
UNAVAIL=$(metric webhook_unavailable_total)

# ---- report ----------------------------------------------------------------------------

echo
echo "webhook-gw benchmark ($(nproc) cores; wrk -t$THREADS -d${DURATION}s at -c ${CONNS_LIST// /, -c }; body $(stat -c %s "$WORK/template.json") bytes)"
printf '%-34s %10s %9s %9s %8s\n' "run" "req/s" "p50 ms" "p99 ms" "non-2xx"
for c in $CONNS_LIST; do
    printf '%-34s %10s %9s %9s %8s\n' "nginx return 200 (wrk -c$c)" "$(wrk_rate "nginx_c$c")" \
        "$(wrk_pct "nginx_c$c" 50%)" "$(wrk_pct "nginx_c$c" 99%)" "$(wrk_bad "nginx_c$c")"
    printf '%-34s %10s %9s %9s %8s\n' "webhook-gw verify+ack (wrk -c$c)" "$(wrk_rate "gw_c$c")" \
        "$(wrk_pct "gw_c$c" 50%)" "$(wrk_pct "gw_c$c" 99%)" "$(wrk_bad "gw_c$c")"
done
printf '%-34s %10s   (best %s / best %s)\n' "ratio webhook-gw / nginx" "$RATIO" "$GW_RATE" "$NGINX_RATE"
for t in nginx gw; do
    name=$([ $t = gw ] && echo "webhook-gw" || echo "nginx")
    printf '%-34s %10s %9s %9s %8s   (p99.9 %s ms, max %s ms)\n' "$name fixed $FIXED_RATE/s (gw_loadgen)" \
        "$(kv fixed_$t.out achieved_rate)" "$(kv fixed_$t.out p50_ms)" "$(kv fixed_$t.out p99_ms)" \
        "$(($(kv fixed_$t.out 4xx) + $(kv fixed_$t.out 5xx) + $(kv fixed_$t.out errors)))" \
        "$(kv fixed_$t.out p999_ms)" "$(kv fixed_$t.out max_ms)"
done
echo "webhook-gw metrics: accepted=$ACCEPTED rejected=$REJECTED unavailable=$UNAVAIL"

GW_P99_FIXED=$(kv fixed_gw.out p99_ms)
# Machine-readable results (docs/benchmarks.md).
echo "BENCH name=webhook_gw.rate stage=webhook-gw value=$GW_RATE unit=req/s baseline=$NGINX_RATE baseline_name=nginx_return_200 goal=ratio>=0.5"
echo "BENCH name=webhook_gw.p99_at_$FIXED_RATE stage=webhook-gw value=${GW_P99_FIXED:-0} unit=ms goal=value<20"
ok=1
awk -v r="$RATIO" 'BEGIN { exit !(r >= 0.5) }' && echo "goal rate >= 0.5 x nginx: met ($RATIO)" ||
    { echo "goal rate >= 0.5 x nginx: MISSED ($RATIO)"; ok=0; }
awk -v p="$GW_P99_FIXED" 'BEGIN { exit !(p != "" && p < 20) }' && echo "goal p99 < 20 ms at $FIXED_RATE/s: met ($GW_P99_FIXED ms)" ||
    { echo "goal p99 < 20 ms at $FIXED_RATE/s: MISSED (${GW_P99_FIXED:-?} ms)"; ok=0; }
[ "$REJECTED" = 0 ] && [ "$UNAVAIL" = 0 ] && [ "$GW_BAD" = 0 ] || { echo "some requests failed"; ok=0; }
[ $ok = 1 ]
