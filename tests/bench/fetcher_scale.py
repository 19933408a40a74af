#!/usr/bin/env python3
"""fetcher_scale.py - what the fetcher costs as connections grow (issue 24).

For each N in BENCH_SCALE_NS (default "100 1000"; BENCH_SCALE_LARGE=1 adds 10000) and each
replica count R in BENCH_SCALE_REPLICAS (default "1 2"), on a fresh local stack of its own
(deploy/stack/stack.sh with STACK_FETCHER_REPLICAS=R, STACK_PORT_BASE=BENCH_SCALE_PORT_BASE,
default 25400, state under build/bench-scale-stack):

1. bulk-create N simulator connections with small data (20 orders, 10 products, 1
   warehouse with 5 locations, 2 of each other resource), historical sync pending and
   connection.created sent for each, as a link exchange does;
2. wait until the first sync of every stream of every connection is done, judged from the
   database: every connection has a fetcher_streams row for each resource the fetcher
   keeps, and each row has last_success_at set and backfill_done, or is unsupported;
3. report the API requests made meanwhile by rate-limit scope (the simulator's
   /_sim/requests/stats): total, useful (2xx) and answered 429; the rate bound the limits
   allow (docs/benchmarks.md, "fetcher scale") and bound/actual; each replica's RSS above
   its base per connection it owns (fetcher_connections_owned on its admin port), right
   after the sync and at steady state (the end of the idle window), and its peak (VmHWM);
4. once the simulator saw no request and delivered no webhook for QUIET_S, none left
   pending (the sync's tail is over, the connections' 100,000 webhooks too; at most
   SETTLE_S), each replica's CPU over IDLE_S of idling;
5. restart one fetcher (replica 1) with nothing to sync and count the API-key requests and
   429s of the next 60 s; with two replicas, halfway through replica 1's sweep of
   GET /connections (the group's round interrupted: the harsher case);
6. print one table with each goal next to its figure, BENCH lines (informational: a missed
   goal is marked, never an error), fetcher_scale.json and fetcher_scale.png (gnuplot) in
   BENCH_RESULTS_DIR (make bench's results directory) or build/bench-scale.

Crawls are realistic by default: the simulator runs with SIM_SYNC_SCALE=1 (hourly crawls)
and the fetcher with its production FETCHER_CONN_CHECK_S (60) and FETCHER_CURSOR_OVERLAP_S
(300), so idle is idle; BENCH_SCALE_SIM_SYNC_SCALE=0.001 gives the stack's scaled crawls
(and its scaled fetcher clocks) instead.
"""
import json
import os
import shutil
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
OUT = os.environ.get("BENCH_RESULTS_DIR") or os.path.join(ROOT, "build", "bench-scale")
NS = [int(n) for n in os.environ.get("BENCH_SCALE_NS", "100 1000").split()]
if os.environ.get("BENCH_SCALE_LARGE", "0") == "1" and 10000 not in NS:
    NS.append(10000)
REPLICAS = [int(r) for r in os.environ.get("BENCH_SCALE_REPLICAS", "1 2").split()]
SIM_SYNC_SCALE = os.environ.get("BENCH_SCALE_SIM_SYNC_SCALE", "1")
REALISTIC = float(SIM_SYNC_SCALE) >= 1
SYNC_TIMEOUT_S = int(os.environ.get("BENCH_SCALE_TIMEOUT_S", "1800"))
IDLE_S = int(os.environ.get("BENCH_SCALE_IDLE_S", "30"))
# Idle starts once the simulator saw no request and sent no webhook for QUIET_S, with none
# pending (the first sync's tail: the connections' first GET /connections/{id}, the polls
# they start, their historical-sync webhooks), at most SETTLE_S after the sync; 0
# measures right after the sync.
QUIET_S = int(os.environ.get("BENCH_SCALE_QUIET_S", "5"))
SETTLE_S = int(os.environ.get("BENCH_SCALE_SETTLE_S", "180"))
RESTART_S = 60
CLK_TCK = os.sysconf("SC_CLK_TCK")
SMALL = {"orders": 20, "products": 10, "warehouses": 1, "locations_per_warehouse": 5, "returns": 2,
         "inbound_shipments": 2, "bills": 2, "shipping_methods": 2, "warehouse_customers": 2}
# The simulator's documented limits (docs/simulator.md, "Rate limits") and the settings the
# bound uses: GETs a second per access token, API-key requests a second for the
# organisation, the historical sync's delay (SIM_HISTORICAL_SYNC_MS, the stack's default).
SIM_TOKEN_RATE = 10.0
SIM_KEY_RATE = 10.0
SIM_HIST_S = 5.0
ORG_RATE = float(os.environ.get("FETCHER_ORG_RATE", "5"))  # the fetcher's share per replica
# Goals (issue 24).
GOAL_RATIO, GOAL_429_PCT, GOAL_KB_OWNED, GOAL_IDLE_PCT = 0.8, 1.0, 10.0, 2.0


def restart_key_goal(n):
    return n / 100.0 + 10


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def stack(cmd, replicas=1):
    env = dict(os.environ, STACK_PORT_BASE=str(PORT_BASE), STACK_VAR=VAR, BIN_DIR=BIN_DIR,
               STACK_FETCHER_REPLICAS=str(replicas), LOG_LEVEL=os.environ.get("LOG_LEVEL", "warn"),
               SIM_EXTRA_ENV="SIM_CONNECTIONS=0 SIM_SYNC_SCALE=%s %s" %
               (SIM_SYNC_SCALE, os.environ.get("SIM_EXTRA_ENV", "")))
    if REALISTIC:  # the fetcher's production clocks, not the stack's scaled ones
        env.setdefault("FETCHER_CONN_CHECK_S", "60")
        env.setdefault("FETCHER_CURSOR_OVERLAP_S", "300")
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


def replica_name(i):
    return "fetcher" if i == 1 else "fetcher%d" % i


def fetcher_pid(i=1):
    with open(os.path.join(VAR, "run", replica_name(i) + ".pid")) as f:
        return int(f.read().strip())


def admin_url(env, i):
    return env["ADMIN_FETCHER"] if i == 1 else env["ADMIN_FETCHER%d" % i]


def metric(env, i, name):
    """An unlabelled metric of replica i (its admin /metrics), or None."""
    try:
        with urllib.request.urlopen(admin_url(env, i) + "/metrics", timeout=10) as r:
            for line in r.read().decode().splitlines():
                if line.split(" ")[0] == name:
                    return int(float(line.split()[-1]))
    except (OSError, ValueError):
        pass
    return None


def owned(env, i):
    return metric(env, i, "fetcher_connections_owned")


def mid_round(env, n):
    """Wait (at most two check gaps) until replica 1 is halfway through a sweep of
    GET /connections: a restart then interrupts the group's round, the harsher case (the
    other replica's connections come due while the restarted sweeper starts again). Says
    how far it got."""
    pages = (n + 99) // 100
    start = metric(env, 1, "fetcher_connection_sweep_pages_total")
    t_end = time.time() + 130
    while time.time() < t_end:
        now = metric(env, 1, "fetcher_connection_sweep_pages_total")
        if start is not None and now is not None and now > start:
            time.sleep(pages / ORG_RATE / 2)
            return "halfway through replica 1's sweep (%d pages)" % pages
        time.sleep(0.25)
    return "replica 1 did not sweep in 130 s: restarted anyway"


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


def hwm_kb(pid):
    """VmHWM: the peak RSS of the process so far."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def activity(sim):
    """What the simulator has served and sent so far: API requests, webhook delivery
    attempts; and the webhooks it still has to deliver."""
    st, w = sim.call("GET", "/_sim/webhooks/stats")
    if st != 200:
        raise RuntimeError("GET /_sim/webhooks/stats -> %d" % st)
    return (requests(sim)["total"], w["attempts"]), w["pending"]


def settle(sim):
    """Wait until the simulator saw no request and sent no webhook for QUIET_S with none
    pending, at most SETTLE_S; returns the seconds waited (SETTLE_S when it never went
    quiet). Webhooks count: the connections' historical-sync-completed events (ten each)
    are still arriving after the sync, and storing them is work, not idling."""
    t0 = time.time()
    if SETTLE_S <= 0:
        return 0.0
    last, _ = activity(sim)
    quiet_since = time.time()
    while time.time() - t0 < SETTLE_S:
        time.sleep(1)
        now, pending = activity(sim)
        if now != last or pending:
            last, quiet_since = now, time.time()
        elif time.time() - quiet_since >= QUIET_S:
            break
    return time.time() - t0


def requests(sim):
    st, s = sim.call("GET", "/_sim/requests/stats")
    if st != 200:
        raise RuntimeError("GET /_sim/requests/stats -> %d" % st)
    tok, key = s["access_token"], s["api_key"]
    return {"total": tok["total"] + key["total"], "ok": tok["ok"] + key["ok"],
            "http_429": tok["http_429"] + key["http_429"], "api_key": key["total"],
            "api_key_ok": key["ok"], "api_key_429": key["http_429"], "token": tok["total"],
            "token_ok": tok["ok"], "token_429": tok["http_429"]}


def bound_s(n, replicas, req):
    """The shortest first sync the limits allow (docs/benchmarks.md, "fetcher scale"):
    no connection is done before its historical sync (SIM_HIST_S) and its own useful token
    GETs at SIM_TOKEN_RATE a second (connections run in parallel, each on its own token),
    and the N connections' useful API-key requests share the organisation's budget: the
    simulator's SIM_KEY_RATE, or less if the replicas' FETCHER_ORG_RATE shares add up to
    less. Returns (bound, bound with the simulator's limits alone)."""
    u_tok, u_key = req["token_ok"] / n, req["api_key_ok"] / n
    per_conn = SIM_HIST_S + u_tok / SIM_TOKEN_RATE
    sim_only = max(per_conn, n * u_key / SIM_KEY_RATE)
    with_cfg = max(per_conn, n * u_key / min(SIM_KEY_RATE, ORG_RATE * replicas))
    return with_cfg, sim_only


def run_one(n, replicas):
    note("N=%d, %d replica(s): starting a fresh stack on ports %d+ (%s)" % (n, replicas, PORT_BASE, VAR))
    stack("down", 9)
    subprocess.run(["rm", "-rf", VAR], check=True)
    stack("up", replicas)
    env = stack_env()
    sim = Sim(env["SIM_URL"], env["TRACKSTAR_API_KEY"])
    ids = list(range(1, replicas + 1))
    pids = {i: fetcher_pid(i) for i in ids}
    time.sleep(8)  # let the replicas settle (group joined): the base is what each holds with no connection
    rss_base = {i: rss_kb(pids[i]) for i in ids}
    sim.call("DELETE", "/_sim/requests/stats")
    cpu0 = {i: cpu_s(pids[i]) for i in ids}
    t0 = time.time()
    st, b = sim.call("POST", "/_sim/connections/bulk",
                     dict(SMALL, count=n, historical_sync="pending", emit_created=1))
    if st != 201 or b["created"] != n:
        raise RuntimeError("bulk create -> %d %s" % (st, str(b)[:200]))
    # The first sync of all: every connection has a row for each resource the fetcher keeps
    # (K, the resources seen in the table), and every row is synced (a first run done,
    # the backfill with it) or unsupported. Counting N x the simulator's pending first
    # syncs instead (11 a connection) ended the clock with 28,676 of 140,000 streams
    # (order packs, labor activities, warehouse customers, ...) still in their backfill at
    # N = 10,000.
    note("N=%d: %d connections made in %.1f s; waiting for every stream's first sync" %
         (n, n, time.time() - t0))
    sql = ("SELECT count(DISTINCT resource), count(*),"
           " count(*) FILTER (WHERE last_success_at IS NOT NULL AND backfill_done),"
           " count(*) FILTER (WHERE state = 'unsupported' AND NOT backfill_done)"
           " FROM fetcher_streams")
    last_note = 0
    while True:
        k, rows, done, unsupported = (int(v) for v in psql(env, sql).split())
        want = n * k - unsupported
        if k and rows == n * k and done >= want:
            break
        if time.time() - t0 > SYNC_TIMEOUT_S:
            raise RuntimeError("N=%d: %d of %d streams synced after %d s" % (n, done, want, SYNC_TIMEOUT_S))
        if time.time() - last_note > 30:
            note("N=%d: %d of %d streams synced (%d rows of %d resources) after %.0f s"
                 % (n, done, want, rows, k, time.time() - t0))
            last_note = time.time()
        time.sleep(0.5)
    sync_s = time.time() - t0
    cpu_sync = sum(cpu_s(pids[i]) - cpu0[i] for i in ids)
    req = requests(sim)
    rss_done = {i: rss_kb(pids[i]) for i in ids}
    rss_peak = {i: hwm_kb(pids[i]) for i in ids}
    own = {i: owned(env, i) for i in ids}
    if replicas == 1 and own[1] is None:
        own[1] = n
    bound, bound_sim = bound_s(n, replicas, req)
    note("N=%d: first sync of all done in %.1f s (owned %s); waiting for %d s without requests"
         " or webhooks (at most %d s)" % (n, sync_s, own, QUIET_S, SETTLE_S))
    settle_s = settle(sim)
    note("N=%d: idling %d s from %.0f s after the sync" % (n, IDLE_S, settle_s))
    c0 = {i: cpu_s(pids[i]) for i in ids}
    sim.call("DELETE", "/_sim/requests/stats")
    time.sleep(IDLE_S)
    idle = {i: 100.0 * (cpu_s(pids[i]) - c0[i]) / IDLE_S for i in ids}
    idle_req = requests(sim)
    # RSS held at steady state: at the end of the idle window, after the sync's tail
    rss_idle = {i: rss_kb(pids[i]) for i in ids}
    rss_peak = {i: max(rss_peak[i], hwm_kb(pids[i])) for i in ids}
    per_owned = {i: ((rss_idle[i] - rss_base[i]) / own[i] if own[i] else None) for i in ids}
    per_owned_sync = {i: ((rss_done[i] - rss_base[i]) / own[i] if own[i] else None) for i in ids}
    where = mid_round(env, n) if replicas > 1 else "one replica"
    note("N=%d: restarting fetcher replica 1 (%s); counting %d s" % (n, where, RESTART_S))
    sim.call("DELETE", "/_sim/requests/stats")
    r0 = time.time()
    stack("restart-fetcher", replicas)
    time.sleep(max(0.0, RESTART_S - (time.time() - r0)))
    restart = requests(sim)
    stack("down", replicas)
    kb = [v for v in per_owned.values() if v is not None]
    return {"n": n, "replicas": replicas, "streams": want, "sync_s": sync_s,
            "bound_s": bound, "bound_sim_s": bound_sim, "ratio": bound / sync_s,
            "ratio_sim": bound_sim / sync_s,
            "useful_token_per_conn": req["token_ok"] / n, "useful_key_per_conn": req["api_key_ok"] / n,
            "requests": req["total"], "useful": req["ok"], "req_per_useful": req["total"] / max(1, req["ok"]),
            "http_429": req["http_429"], "pct_429": 100.0 * req["http_429"] / max(1, req["total"]),
            "api_key": req["api_key"], "api_key_429": req["api_key_429"],
            "rss_base_kb": rss_base, "rss_done_kb": rss_done, "rss_idle_kb": rss_idle,
            "rss_peak_kb": rss_peak, "owned": own, "kb_per_owned": per_owned,
            "kb_per_owned_sync": per_owned_sync, "settle_s": settle_s,
            "kb_per_owned_max": max(kb) if kb else None, "cpu_sync_s": cpu_sync,
            "idle_cpu_pct": idle, "idle_cpu_max": max(idle.values()), "idle_requests": idle_req["total"],
            "idle_api_key": idle_req["api_key"], "idle_429": idle_req["http_429"],
            "restart_requests": restart["total"], "restart_429": restart["http_429"],
            "restart_api_key": restart["api_key"], "restart_key_goal": restart_key_goal(n)}


def mark(ok):
    return "ok" if ok else "MISS"


def table(rows):
    print("fetcher scale: N connections x (20 orders, 10 products, 1 warehouse, 5 locations, 2 of the rest),"
          " historical sync pending, connection.created each; SIM_SYNC_SCALE=%s (%s)" %
          (SIM_SYNC_SCALE, "hourly crawls, production fetcher clocks" if REALISTIC else "scaled crawls"))
    head = ("%6s %2s %6s %7s %7s %11s %9s %11s %12s %14s %18s" %
            ("N", "R", "streams", "sync s", "bound s", "bound/act", "req/use", "429 (%)",
             "KB/owned", "idle %core", "restart key, 429"))
    print(head)
    print("%6s %2s %6s %7s %7s %11s %9s %11s %12s %14s %18s" %
          ("", "", "", "", "", ">=%.1f" % GOAL_RATIO, "", "<=%.0f%%" % GOAL_429_PCT,
           "<=%.0f" % GOAL_KB_OWNED, "<=%.0f" % GOAL_IDLE_PCT, "<=N/100+10, 0"))
    print("-" * len(head))
    for r in rows:
        kb = r["kb_per_owned_max"]
        rk_ok = r["restart_api_key"] <= r["restart_key_goal"] and r["restart_429"] == 0
        print("%6d %2d %6d %7.1f %7.1f %6.2f %4s %9.2f %6d %4.2f %4s %7s %4s %9.2f %4s %6d,%3d %4s" %
              (r["n"], r["replicas"], r["streams"], r["sync_s"], r["bound_s"], r["ratio"],
               mark(r["ratio"] >= GOAL_RATIO), r["req_per_useful"], r["http_429"], r["pct_429"],
               mark(r["pct_429"] <= GOAL_429_PCT), "-" if kb is None else "%.1f" % kb,
               mark(kb is not None and kb <= GOAL_KB_OWNED), r["idle_cpu_max"],
               mark(r["idle_cpu_max"] <= GOAL_IDLE_PCT), r["restart_api_key"], r["restart_429"], mark(rk_ok)))
    print("per replica: owned connections, RSS base -> after the sync -> steady (end of idle), peak (MiB),"
          " KB per owned steady (after the sync), idle %core:")
    for r in rows:
        for i in sorted(r["owned"]):
            kb, kbs = r["kb_per_owned"][i], r["kb_per_owned_sync"][i]
            print("  N=%d R=%d replica %d: owned %s, RSS %.1f -> %.1f -> %.1f, peak %.1f, %s (%s) KB/owned,"
                  " idle %.2f" %
                  (r["n"], r["replicas"], i, r["owned"][i], r["rss_base_kb"][i] / 1024,
                   r["rss_done_kb"][i] / 1024, r["rss_idle_kb"][i] / 1024, r["rss_peak_kb"][i] / 1024,
                   "-" if kb is None else "%.1f" % kb, "-" if kbs is None else "%.1f" % kbs,
                   r["idle_cpu_pct"][i]))
    for r in rows:
        print("  N=%d R=%d: useful requests per connection %.1f token + %.1f API-key; bound with the simulator's"
              " limits alone %.1f s (ratio %.2f); requests %d, useful %d, API-key %d (429: %d); sync CPU %.1f s;"
              " idle from %.0f s after the sync, requests %d (API-key %d, 429 %d); restart requests %d" %
              (r["n"], r["replicas"], r["useful_token_per_conn"], r["useful_key_per_conn"], r["bound_sim_s"],
               r["ratio_sim"], r["requests"], r["useful"], r["api_key"], r["api_key_429"], r["cpu_sync_s"],
               r["settle_s"], r["idle_requests"], r["idle_api_key"], r["idle_429"], r["restart_requests"]))
    print("R: fetcher replicas; bound s: max(%g s historical sync + token GETs per connection / %g, N x API-key\n"
          "requests per connection / min(%g, FETCHER_ORG_RATE %g x R)); req/use: requests per useful (2xx) one;\n"
          "KB/owned: RSS above base per owned connection at the end of the idle window (largest replica); idle:\n"
          "CPU of the busiest replica over %d s once the simulator saw no request and sent no webhook for %d s\n"
          "(at most %d s after the sync); restart: API-key requests and 429s in the %d s after restarting replica 1.\n"
          "ok/MISS: the goal above the column (issue 24); a MISS is a figure, not a failure of the bench." %
          (SIM_HIST_S, SIM_TOKEN_RATE, SIM_KEY_RATE, ORG_RATE, IDLE_S, QUIET_S, SETTLE_S, RESTART_S))


def bench_lines(rows):
    for r in rows:
        n, rep = r["n"], r["replicas"]
        base = "fetcher_scale.n%d.r%d" % (n, rep)
        tags = "stage=fetcher n=%d replicas=%d sim_sync_scale=%s" % (n, rep, SIM_SYNC_SCALE)
        print("BENCH name=%s.first_sync value=%.1f unit=s %s streams=%d bound_s=%.1f bound_sim_s=%.1f"
              % (base, r["sync_s"], tags, r["streams"], r["bound_s"], r["bound_sim_s"]))
        print("BENCH name=%s.bound_ratio value=%.2f unit=ratio %s aim=>=%.1f" % (base, r["ratio"], tags, GOAL_RATIO))
        print("BENCH name=%s.requests_per_useful value=%.3f unit=ratio %s requests=%d useful=%d api_key=%d"
              % (base, r["req_per_useful"], tags, r["requests"], r["useful"], r["api_key"]))
        print("BENCH name=%s.http_429_pct value=%.3f unit=%% %s http_429=%d aim=<=%g"
              % (base, r["pct_429"], tags, r["http_429"], GOAL_429_PCT))
        if r["kb_per_owned_max"] is not None:
            print("BENCH name=%s.rss_per_owned value=%.1f unit=KB %s aim=<=%g"
                  % (base, r["kb_per_owned_max"], tags, GOAL_KB_OWNED))
        print("BENCH name=%s.idle_cpu value=%.2f unit=%%core %s idle_requests=%d aim=<=%g"
              % (base, r["idle_cpu_max"], tags, r["idle_requests"], GOAL_IDLE_PCT))
        print("BENCH name=%s.restart_api_key value=%d unit=requests %s http_429=%d requests=%d aim=<=%g"
              % (base, r["restart_api_key"], tags, r["restart_429"], r["restart_requests"], r["restart_key_goal"]))


def chart(rows):
    """fetcher_scale.png in OUT: each figure against N, one line per replica count."""
    if not shutil.which("gnuplot"):
        note("gnuplot is not installed (Debian: apt-get install -y gnuplot-nox): no fetcher_scale.png")
        return
    data = os.path.join(OUT, "fetcher_scale.dat")
    with open(data, "w") as f:
        for rep in sorted(set(r["replicas"] for r in rows)):
            f.write("# replicas=%d: n sync_s bound_s ratio req_per_useful pct_429 kb_per_owned idle"
                    " restart_key\n" % rep)
            for r in sorted((r for r in rows if r["replicas"] == rep), key=lambda r: r["n"]):
                f.write("%d %.2f %.2f %.3f %.4f %.4f %s %.3f %d\n" % (
                    r["n"], r["sync_s"], r["bound_s"], r["ratio"], r["req_per_useful"], r["pct_429"],
                    "NaN" if r["kb_per_owned_max"] is None else "%.2f" % r["kb_per_owned_max"],
                    r["idle_cpu_max"], r["restart_api_key"]))
            f.write("\n\n")
    reps = sorted(set(r["replicas"] for r in rows))
    png = os.path.join(OUT, "fetcher_scale.png")

    def plot(col, key, title, goal=None):
        """One panel: column col (rows' key) against N per replica count; goal a horizontal
        line (the y range takes it in), or a gnuplot expression of x (N) drawn dashed."""
        parts = ["'%s' index %d using 1:%d with linespoints title '%d replica%s'" %
                 (data, k, col, rep, "" if rep == 1 else "s") for k, rep in enumerate(reps)]
        g = ""
        if isinstance(goal, (int, float)):
            g = ("set arrow 1 from graph 0, first %g to graph 1, first %g nohead dashtype 2 lc rgb 'red'\n"
                 "set label 1 'goal' at graph 0.02, first %g offset 0,0.6 tc rgb 'red'\n" % (goal, goal, goal))
        elif goal:
            parts.append("%s with lines dashtype 2 lc rgb 'red' title 'goal'" % goal)
        top = "*"
        if isinstance(goal, (int, float)):
            top = "%g" % (1.15 * max([goal] + [r[key] for r in rows if r[key] is not None]))
        return ("%sset title '%s'\nset yrange [0:%s]\nplot %s\nunset arrow 1\nunset label 1\n" %
                (g, title, top, ", ".join(parts)))
    gp = ("set terminal pngcairo noenhanced size 1200,1600\nset output '%s'\nset multiplot layout 4,2 title "
          "'fetcher scale (SIM_SYNC_SCALE=%s); goals in red'\nset logscale x\nset xlabel 'N connections'\n"
          "set key top right\nset offsets graph 0.1, graph 0.1, graph 0.1, graph 0.1\nset yrange [0:*]\n"
          % (png, SIM_SYNC_SCALE))
    gp += ("set title 'first sync of all (s); bound dashed'\nplot %s\n" % ", ".join(
        ["'%s' index %d using 1:2 with linespoints title '%d repl.', '%s' index %d using 1:3 with linespoints "
         "dashtype 2 title 'bound %d'" % (data, k, rep, data, k, rep) for k, rep in enumerate(reps)]))
    gp += plot(4, "ratio", "bound / actual", GOAL_RATIO)
    gp += plot(5, "req_per_useful", "requests per useful request")
    gp += plot(6, "pct_429", "429 as % of requests", GOAL_429_PCT)
    gp += plot(7, "kb_per_owned_max", "RSS KB per owned connection (larger replica)", GOAL_KB_OWNED)
    gp += plot(8, "idle_cpu_max", "idle CPU % of one core (busiest replica)", GOAL_IDLE_PCT)
    gp += plot(9, "restart_api_key", "API-key requests in 60 s after a restart (goal N/100+10)", "x/100+10")
    gp += "unset multiplot\n"
    gpf = os.path.join(OUT, "fetcher_scale.gp")
    with open(gpf, "w") as f:
        f.write(gp)
    r = subprocess.run(["gnuplot", gpf], capture_output=True, text=True)
    if r.returncode != 0:
        note("gnuplot failed: " + r.stderr.strip()[-500:])
    else:
        note("chart: " + png)


def main():
    for b in ("fetcher", "trackstar-sim", "webhook-gw", "normalizer", "writer", "dev-broker"):
        if not os.access(os.path.join(BIN_DIR, b), os.X_OK):
            note("missing %s/%s (run make first)" % (BIN_DIR, b))
            return 2
    if not shutil.which("gnuplot"):
        note("gnuplot is not installed (Debian: apt-get install -y gnuplot-nox): the figures come without"
             " fetcher_scale.png")
    os.makedirs(OUT, exist_ok=True)
    rows = []
    try:
        for n in NS:
            for rep in REPLICAS:
                rows.append(run_one(n, rep))
    except Exception as e:  # a bench that could not measure: not a missed goal
        note("FAILED: %s: %s (stack state kept in %s)" % (type(e).__name__, e, VAR))
        return 2
    finally:
        if not os.environ.get("BENCH_SCALE_KEEP"):
            try:
                stack("down", 9)
            except Exception as e:
                note("stack down: %s" % e)
    table(rows)
    bench_lines(rows)
    with open(os.path.join(OUT, "fetcher_scale.json"), "w") as f:
        json.dump({"sim_sync_scale": SIM_SYNC_SCALE, "rows": rows}, f, indent=1)
    chart(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
