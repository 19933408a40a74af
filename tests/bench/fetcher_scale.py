#!/usr/bin/env python3
"""fetcher_scale.py - what the fetcher costs as connections grow (issue 24).

For each N in BENCH_SCALE_NS (default "100 1000"; BENCH_SCALE_LARGE=1 adds 10000), on a
fresh local stack of its own (deploy/stack/stack.sh, STACK_PORT_BASE=BENCH_SCALE_PORT_BASE,
default 25400, state under build/bench-scale-stack):

1. bulk-create N simulator connections with small data (20 orders, 10 products, 1
   warehouse with 5 locations, 2 of each other resource), historical sync pending and
   connection.created sent for each, as a link exchange does;
2. wait until the fetcher's first sync of every stream of every connection is done, judged
   from the database: fetcher_streams rows with last_success_at set and backfill_done, N x
   the streams of one connection (the simulator's pending functions at creation);
3. report the API requests made meanwhile by rate-limit scope (the simulator's
   /_sim/requests/stats): total, useful (2xx) and answered 429; fetcher RSS and RSS per
   connection above its RSS before the connections came; fetcher CPU during the sync;
4. fetcher CPU over 30 s of idling after that;
5. restart the fetcher with nothing to sync and count the requests and 429s of its first
   60 s.

Figures only, no thresholds: it prints one table and BENCH lines without goals.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.environ.get("BIN_DIR", "bin")
if not os.path.isabs(BIN_DIR):
    BIN_DIR = os.path.join(ROOT, BIN_DIR)
PORT_BASE = int(os.environ.get("BENCH_SCALE_PORT_BASE", "25400"))
VAR = os.environ.get("BENCH_SCALE_VAR", os.path.join(ROOT, "build", "bench-scale-stack"))
NS = [int(n) for n in os.environ.get("BENCH_SCALE_NS", "100 1000").split()]
if os.environ.get("BENCH_SCALE_LARGE", "0") == "1" and 10000 not in NS:
    NS.append(10000)
SYNC_TIMEOUT_S = int(os.environ.get("BENCH_SCALE_TIMEOUT_S", "1800"))
IDLE_S = 30
RESTART_S = 60
CLK_TCK = os.sysconf("SC_CLK_TCK")
SMALL = {"orders": 20, "products": 10, "warehouses": 1, "locations_per_warehouse": 5, "returns": 2,
         "inbound_shipments": 2, "bills": 2, "shipping_methods": 2, "warehouse_customers": 2}


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def stack(cmd):
    env = dict(os.environ, STACK_PORT_BASE=str(PORT_BASE), STACK_VAR=VAR, BIN_DIR=BIN_DIR,
               LOG_LEVEL=os.environ.get("LOG_LEVEL", "warn"),
               SIM_EXTRA_ENV="SIM_CONNECTIONS=0 " + os.environ.get("SIM_EXTRA_ENV", ""))
    r = subprocess.run([os.path.join(ROOT, "deploy", "stack", "stack.sh"), cmd], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("stack.sh %s failed: %s" % (cmd, r.stderr.strip().splitlines()[-1:]))


def stack_env():
    env = {}
    with open(os.path.join(VAR, "stack.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v.strip("'\"")
    return env


class Sim:
    def __init__(self, url, key):
        self.url, self.key = url, key

    def call(self, method, path, body=None, timeout=600):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("x-trackstar-api-key", self.key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def psql(env, sql):
    r = subprocess.run(["psql", env["DATABASE_URL"], "-XtAq", "-F", " ", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("psql: " + r.stderr.strip())
    return r.stdout.strip()


def fetcher_pid():
    with open(os.path.join(VAR, "run", "fetcher.pid")) as f:
        return int(f.read().strip())


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def requests(sim):
    st, s = sim.call("GET", "/_sim/requests/stats")
    if st != 200:
        raise RuntimeError("GET /_sim/requests/stats -> %d" % st)
    tok, key = s["access_token"], s["api_key"]
    return {"total": tok["total"] + key["total"], "ok": tok["ok"] + key["ok"],
            "http_429": tok["http_429"] + key["http_429"], "api_key": key["total"],
            "api_key_429": key["http_429"], "token": tok["total"], "token_429": tok["http_429"]}


def run_one(n):
    note("N=%d: starting a fresh stack on ports %d+ (%s)" % (n, PORT_BASE, VAR))
    stack("down")
    subprocess.run(["rm", "-rf", VAR], check=True)
    stack("up")
    env = stack_env()
    sim = Sim(env["SIM_URL"], env["TRACKSTAR_API_KEY"])
    pid = fetcher_pid()
    time.sleep(2)  # let the fetcher settle: its base is what it holds with no connection
    rss_base = rss_kb(pid)
    sim.call("DELETE", "/_sim/requests/stats")
    cpu0 = cpu_s(pid)
    t0 = time.time()
    st, b = sim.call("POST", "/_sim/connections/bulk",
                     dict(SMALL, count=n, historical_sync="pending", emit_created=1))
    if st != 201 or b["created"] != n:
        raise RuntimeError("bulk create -> %d %s" % (st, str(b)[:200]))
    st, one = sim.call("GET", "/_sim/connections?offset=%d&limit=1" % b["first_offset"])
    streams = len(one["data"][0]["historical_sync_pending"])
    want = n * streams
    note("N=%d: %d connections made in %.1f s; waiting for %d streams' first sync" %
         (n, n, time.time() - t0, want))
    rss_peak, done, last_note = rss_base, 0, 0
    while True:
        done = int(psql(env, "SELECT count(*) FROM fetcher_streams WHERE last_success_at IS NOT NULL"
                             " AND backfill_done"))
        rss_peak = max(rss_peak, rss_kb(pid))
        if done >= want:
            break
        if time.time() - t0 > SYNC_TIMEOUT_S:
            raise RuntimeError("N=%d: %d of %d streams synced after %d s" % (n, done, want, SYNC_TIMEOUT_S))
        if time.time() - last_note > 30:
            note("N=%d: %d of %d streams synced after %.0f s" % (n, done, want, time.time() - t0))
            last_note = time.time()
        time.sleep(0.5)
    sync_s = time.time() - t0
    cpu_sync = cpu_s(pid) - cpu0
    req = requests(sim)
    rss_done = rss_kb(pid)
    note("N=%d: first sync of all done in %.1f s; idling %d s" % (n, sync_s, IDLE_S))
    c0 = cpu_s(pid)
    sim.call("DELETE", "/_sim/requests/stats")
    time.sleep(IDLE_S)
    idle_cpu_pct = 100.0 * (cpu_s(pid) - c0) / IDLE_S
    idle_req = requests(sim)
    note("N=%d: restarting the fetcher; counting %d s" % (n, RESTART_S))
    sim.call("DELETE", "/_sim/requests/stats")
    r0 = time.time()
    stack("restart-fetcher")
    time.sleep(max(0.0, RESTART_S - (time.time() - r0)))
    restart = requests(sim)
    rss_restart = rss_kb(fetcher_pid())
    stack("down")
    return {"n": n, "streams": want, "sync_s": sync_s, "requests": req["total"], "useful": req["ok"],
            "http_429": req["http_429"], "api_key": req["api_key"], "api_key_429": req["api_key_429"],
            "rss_base_kb": rss_base, "rss_done_kb": rss_done, "rss_peak_kb": rss_peak,
            "rss_per_conn_kb": (rss_done - rss_base) / n, "cpu_sync_s": cpu_sync,
            "idle_cpu_pct": idle_cpu_pct, "idle_requests": idle_req["total"],
            "restart_requests": restart["total"], "restart_429": restart["http_429"],
            "restart_api_key": restart["api_key"], "restart_rss_kb": rss_restart}


def main():
    for b in ("fetcher", "trackstar-sim", "webhook-gw", "normalizer", "writer", "dev-broker"):
        if not os.access(os.path.join(BIN_DIR, b), os.X_OK):
            note("missing %s/%s (run make first)" % (BIN_DIR, b))
            return 2
    rows = []
    try:
        for n in NS:
            rows.append(run_one(n))
    except Exception as e:  # a bench that could not measure: not a missed goal
        note("FAILED: %s: %s (stack state kept in %s)" % (type(e).__name__, e, VAR))
        return 2
    finally:
        if not os.environ.get("BENCH_SCALE_KEEP"):
            try:
                stack("down")
            except Exception as e:
                note("stack down: %s" % e)
    print("fetcher scale: N connections x (20 orders, 10 products, 1 warehouse, 5 locations, 2 of the rest),"
          " historical sync pending, connection.created each")
    head = ("%6s %7s %7s %9s %8s %7s %8s %8s %8s %9s %7s %8s %8s %8s %8s" %
            ("N", "streams", "sync s", "requests", "useful", "429", "api-key", "RSS MiB", "KB/conn",
             "sync CPU", "idle %", "idle req", "restart", "rst key", "rst 429"))
    print(head)
    print("-" * len(head))
    for r in rows:
        print("%6d %7d %7.1f %9d %8d %7d %8d %8.1f %8.1f %8.1fs %7.2f %8d %8d %8d %8d" %
              (r["n"], r["streams"], r["sync_s"], r["requests"], r["useful"], r["http_429"], r["api_key"],
               r["rss_done_kb"] / 1024, r["rss_per_conn_kb"], r["cpu_sync_s"], r["idle_cpu_pct"],
               r["idle_requests"], r["restart_requests"], r["restart_api_key"], r["restart_429"]))
    print("requests: API requests during the first sync (the simulator's count), useful: answered 2xx,\n"
          "api-key: of them to the organisation's shared budget; KB/conn: fetcher RSS above its base / N;\n"
          "idle %%: fetcher CPU over the %d s after, of one core, and idle req: the requests meanwhile (polls\n"
          "after the simulator's crawls); restart: requests in the %d s after a restart with nothing to sync\n"
          "(rst key: to the API-key budget, rst 429: answered 429), polls after crawls included" % (IDLE_S, RESTART_S))
    for r in rows:
        n = r["n"]
        tags = "stage=fetcher n=%d" % n
        print("BENCH name=fetcher_scale.n%d.first_sync value=%.1f unit=s %s streams=%d" % (n, r["sync_s"], tags, r["streams"]))
        print("BENCH name=fetcher_scale.n%d.requests value=%d unit=requests %s useful=%d http_429=%d api_key=%d"
              % (n, r["requests"], tags, r["useful"], r["http_429"], r["api_key"]))
        print("BENCH name=fetcher_scale.n%d.http_429 value=%d unit=answers %s" % (n, r["http_429"], tags))
        print("BENCH name=fetcher_scale.n%d.rss_per_conn value=%.1f unit=KB %s rss_base_kb=%d rss_done_kb=%d"
              % (n, r["rss_per_conn_kb"], tags, r["rss_base_kb"], r["rss_done_kb"]))
        print("BENCH name=fetcher_scale.n%d.idle_cpu value=%.2f unit=%%core %s idle_requests=%d"
              % (n, r["idle_cpu_pct"], tags, r["idle_requests"]))
        print("BENCH name=fetcher_scale.n%d.restart_requests value=%d unit=requests %s http_429=%d api_key=%d"
              % (n, r["restart_requests"], tags, r["restart_429"], r["restart_api_key"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
