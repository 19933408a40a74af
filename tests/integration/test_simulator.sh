#!/usr/bin/env bash
# test_simulator.sh - drives bin/trackstar-sim as a client: pagination against the truth
# endpoint, field sets against tests/simulator/fields, rate limits, Svix-signed webhooks
# verified by an independent Python receiver, retries, historical sync, faults.
# Last line: "N passed, M failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
BIN_DIR=${BIN_DIR:-bin}
LIB=tests/integration/lib
WORK=$(mktemp -d /tmp/test_simulator.XXXXXX)
SECRETS="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# a free port in 31000-31999 (the range reserved for simulator tests)
free_port() {
    python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(31000, 31999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); s.close(); print(p); break
    except OSError:
        s.close()
PY
}

[ -x "$BIN_DIR/trackstar-sim" ] || { echo "missing $BIN_DIR/trackstar-sim (run make)"; echo "0 passed, 1 failed"; exit 1; }

RPORT=$(free_port)
python3 $LIB/sim_webhook_receiver.py --port "$RPORT" --secrets "$SECRETS" --log "$WORK/webhooks.jsonl" &
PIDS+=($!)
SPORT=$(free_port)
while [ "$SPORT" = "$RPORT" ]; do SPORT=$(free_port); done
SIM_PORT=$SPORT SIM_WEBHOOK_URL="http://127.0.0.1:$RPORT/hook" SIM_WEBHOOK_SECRETS="$SECRETS" \
    SIM_RETRY_SCALE=0.001 SIM_SYNC_SCALE=0.0005 SIM_SYNC_JOB_MS=1000 SIM_CONNECTIONS=2 SIM_ORDERS=2500 SIM_PRODUCTS=60 SIM_HISTORICAL_SYNC_MS=0 \
    SIM_API_KEY=sim_test_key LOG_LEVEL=warn \
    "$BIN_DIR/trackstar-sim" 2>"$WORK/sim.log" &
PIDS+=($!)

export SIM_URL="http://127.0.0.1:$SPORT" SIM_API_KEY=sim_test_key WEBHOOK_LOG="$WORK/webhooks.jsonl" \
    RECEIVER_URL="http://127.0.0.1:$RPORT" FIELDS_DIR=tests/simulator/fields
for _ in $(seq 100); do
    curl -sf "$SIM_URL/_sim/health" >/dev/null && curl -s -o /dev/null "$RECEIVER_URL/" && break
    sleep 0.1
done

passed=0
failed=0
run() {
    local name=$1
    local out
    out=$(timeout 120 python3 $LIB/sim_checks.py "$name" 2>&1)
    if [ $? -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS $name: ${out#ok: }"
    else
        failed=$((failed + 1))
        echo "FAIL $name: $out"
    fi
}

run paginate
run fields
run ratelimit
run webhook
run retries
run history
run errors
run signature_faults
run management
run world
run jobs
run drop
run ledger
run named
run labor
run packs
run bulk

if [ "$failed" -gt 0 ]; then
    echo "--- simulator log (tail)"
    tail -20 "$WORK/sim.log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
