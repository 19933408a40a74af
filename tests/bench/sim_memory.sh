#!/usr/bin/env bash
# sim_memory.sh - the simulator serves 10 connections x 10,000 orders (100k in total):
# page through every order of every connection twice and print the simulator's RSS
# before, between and after. Memory must stay flat: the second pass may not grow RSS by
# more than 10% over the first (records are rendered on demand, nothing is cached).
set -u
cd "$(dirname "$0")/../.."
BIN_DIR=${BIN_DIR:-bin}
CONNS=${SIM_BENCH_CONNECTIONS:-10}
ORDERS=${SIM_BENCH_ORDERS:-10000}
PORT=$(python3 -c 'import random;print(random.randint(31000,31999))')
LOG=$(mktemp /tmp/sim_memory.XXXXXX)

# GET rate raised: this measures memory, not the rate limiter
SIM_PORT=$PORT SIM_CONNECTIONS=$CONNS SIM_ORDERS=$ORDERS SIM_GET_RATE=100000 LOG_LEVEL=warn \
    "$BIN_DIR/trackstar-sim" 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/_sim/health" >/dev/null && break; sleep 0.1; done

SIM_PID=$PID SIM_URL="http://127.0.0.1:$PORT" python3 - <<'PY'
import json, os, sys, time, urllib.request

URL, PID, KEY = os.environ["SIM_URL"], os.environ["SIM_PID"], "sim_api_key_dev"

def rss_kb():
    with open("/proc/%s/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def get(path, token=None):
    req = urllib.request.Request(URL + path)
    req.add_header("x-trackstar-api-key", KEY)
    if token:
        req.add_header("x-trackstar-access-token", token)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())

conns = get("/_sim/connections")["data"]

def one_pass():
    n, t0 = 0, time.time()
    for c in conns:
        tok, nxt = c["access_token"], None
        while True:
            b = get("/wms/orders?limit=1000" + ("&page_token=" + nxt if nxt else ""), c["access_token"])
            n += len(b["data"])
            nxt = b["next_token"]
            if not nxt:
                break
    return n, time.time() - t0

start = rss_kb()
print("connections: %d, RSS at start: %d kB" % (len(conns), start))
n1, s1 = one_pass()
after1 = rss_kb()
print("pass 1: %d orders in %.1f s, RSS %d kB" % (n1, s1, after1))
n2, s2 = one_pass()
after2 = rss_kb()
print("pass 2: %d orders in %.1f s, RSS %d kB" % (n2, s2, after2))
growth = (after2 - after1) / after1 * 100
print("RSS before %d kB, after %d kB; second pass grew RSS by %.1f%%" % (after1, after2, growth))
expected = sum(c["counts"]["orders"] for c in conns)
if n1 != expected or n2 != expected:
    print("FAIL: paged %d/%d orders, expected %d" % (n1, n2, expected)); sys.exit(1)
if growth > 10:
    print("FAIL: memory is not flat"); sys.exit(1)
print("ok: flat")
PY
