#!/usr/bin/env python3
"""e2e_check.py - after one load-generator phase, wait until the pipeline has written
what the load generator had accepted, check it, and measure request-to-row latency.

  e2e_check.py --csv LOADGEN.csv --conn CONN --label LABEL --offered RATE
               [--timeout-s 180] [--stall-s 20] [--p99-max-ms 2000] [--lat-out FILE]

Truth is the load generator's own record (tests/bench/loadgen.c): for every order, the
newest version whose request got a 2xx. Every such order must end in PostgreSQL with
exactly that version (source_updated_at and event_id). A newer version than that is
allowed only when its request failed on our side after the gateway published it (a
timeout): it is reported, not hidden.

Latency of an order = commit time of its row - the time its newest accepted request was
due. The commit time is pg_xact_commit_timestamp(xmin) (PostgreSQL's
track_commit_timestamp, which tests/bench/bench_lib.sh turns on); without it,
db_updated_at (the writer's transaction start, a slight underestimate) is used and said.
Psql is reached through the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).

With --topic-log (lines "key timestamp_ms" of wms.orders.v1, tailed during the phase),
request -> message is measured the same way: the writer publishes exactly the versions it
applied, in order, so the last message per key is the row's version; its timestamp (set
when the writer produced it, after the commit) minus the time the newest accepted request
was due. Every expected order must have a message.

The same log's timing headers (raw_ts, canonical_ts; common/topics.h) give a per-hop table
of each order's way (hop_table); --hop-figures adds its BENCH lines.

Prints a summary and BENCH lines (docs/benchmarks.md); exits 0 when every accepted event
landed and, with --sustain, when the phase counts as sustained.
"""
import argparse, math, subprocess, sys, time

BASE_EPOCH = 1767225600  # tests/bench/bench_order.h BENCH_ORDER_BASE_EPOCH
POLL_S = 0.5


def psql(sql):
    r = subprocess.run(["psql", "-XAtq", "-F", ",", "-c", sql], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("psql: " + r.stderr.strip())
    return [l.split(",") for l in r.stdout.splitlines() if l]


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p * len(sorted_vals)) - 1))
    return sorted_vals[k]


def last_per_order(path, conn):
    """The last message per order of a 'key timestamp_ms [headers]' log of wms.orders.v1
    (keys <conn>|ord_N; headers as kcat's %h prints them: name=value,name=value):
    order -> (timestamp_ms, headers)."""
    last = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ")
            if len(parts) < 2 or not parts[0].startswith(conn + "|") or not parts[1].isdigit():
                continue
            rid = parts[0].rpartition("|")[2]
            if rid.startswith("ord_") and rid[4:].isdigit():
                hdrs = dict(h.split("=", 1) for h in parts[2].split(",") if "=" in h) if len(parts) > 2 else {}
                last[int(rid[4:])] = (int(parts[1]), hdrs)
    return last


def hop_table(label, conn, newest, got, answered_us, public, figures):
    """Where an order's time goes, hop by hop: the newest accepted version of each order,
    from the moment its request was due to its message on the public topic. The times are
    the Kafka timestamps the public message carries (common/topics.h: raw_ts, when the
    gateway handed the webhook to Kafka; canonical_ts, the normalizer's output; its own,
    the writer's publication after the commit; milliseconds), the row's observed_at and
    commit time, and the load generator's due and answer times."""
    raw, canon = {}, {}
    for o, (_, h) in public.items():
        if h.get("raw_ts", "").isdigit() and h.get("canonical_ts", "").isdigit():
            raw[o], canon[o] = int(h["raw_ts"]), int(h["canonical_ts"])
    hops = [("request due -> gateway received", []), ("received -> raw produced", []),
            ("raw produced -> 2xx answered", []), ("raw produced -> canonical produced", []),
            ("canonical produced -> row committed", []), ("row committed -> public message", []),
            ("request due -> row committed", [])]
    # Whose queue each hop's time is spent in: a stage that cannot keep up makes the hop in
    # front of it grow first (the last row is the sum, nobody's).
    owners = ("webhook-gw", "webhook-gw", "dev-broker", "normalizer", "writer", "writer", None)
    for o, (v, i, due_us) in newest.items():
        r = got.get(o)
        if r is None or int(r[1]) != v or o not in raw or o not in canon:
            continue
        due, commit = due_us / 1000.0, float(r[2]) * 1000
        received = float(r[3]) * 1000 if r[3] else None
        t = [received - due if received else None, raw[o] - received if received else None,
             answered_us[o] / 1000.0 - raw[o], canon[o] - raw[o], commit - canon[o],
             public[o][0] - commit, commit - due]
        for (_, vals), x in zip(hops, t):
            if x is not None:
                vals.append(x)
    print("%s: per hop (ms, newest accepted version of each order; Kafka timestamps have 1 ms steps)" % label)
    print("  %-40s %8s %8s %8s" % ("hop", "p50", "p99", "orders"))
    slowest = None  # (p99, hop, stage)
    for (name, vals), owner in zip(hops, owners):
        vals.sort()
        print("  %-40s %8.1f %8.1f %8d" % (name, pct(vals, 0.5), pct(vals, 0.99), len(vals)))
        slug = name.replace(" -> ", "_to_").replace(" ", "_")
        for q in ("p50", "p99") if figures else ():
            print("BENCH name=e2e.%s.hop.%s.%s stage=e2e value=%.1f unit=ms"
                  % (label, slug, q, pct(vals, 0.5 if q == "p50" else 0.99)))
        if owner and vals and (slowest is None or pct(vals, 0.99) > slowest[0]):
            slowest = (pct(vals, 0.99), slug, owner)
    return slowest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--conn", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--offered", type=float, required=True)
    ap.add_argument("--timeout-s", type=float, default=180)
    ap.add_argument("--stall-s", type=float, default=20)
    ap.add_argument("--p99-max-ms", type=float, default=2000)
    ap.add_argument("--min-achieved", type=float, default=0.95)
    ap.add_argument("--achieved", type=float, default=None, help="the load generator's achieved send rate")
    ap.add_argument("--p99-goal-ms", type=float, default=None, help="a goal on this phase's p99")
    ap.add_argument("--p50-goal-ms", type=float, default=None, help="a goal on this phase's p50")
    ap.add_argument("--lat-out", default=None)
    ap.add_argument("--topic-log", default=None, help="'key timestamp_ms' lines of wms.orders.v1")
    ap.add_argument("--sustain", action="store_true", help="exit 1 unless the phase was sustained")
    ap.add_argument("--hop-figures", action="store_true", help="BENCH lines for the per-hop table too")
    a = ap.parse_args()
    conn = a.conn.replace("'", "")

    # ---- truth: the newest accepted version per order ----
    newest = {}  # order -> (version, event index, due_us)
    answered_us = {}  # order -> when its newest accepted request got its 2xx
    first_due = None
    sent = ok = 0
    with open(a.csv) as f:
        for line in f:
            i, order, version, due_us, status, http_us = line.rstrip("\n").split(",")
            sent += 1
            due_us = int(due_us)
            first_due = due_us if first_due is None else min(first_due, due_us)
            if not 200 <= int(status) < 300:
                continue
            ok += 1
            v = int(version)
            o = int(order)
            if o not in newest or v > newest[o][0]:
                newest[o] = (v, int(i), due_us)
                answered_us[o] = due_us + int(http_us)
    want_rows = len(newest)
    want_sum = sum(v for v, _, _ in newest.values())

    # ---- wait until the database holds it (or stops moving) ----
    t_start = time.time()
    last_progress, last_seen = time.time(), None
    commit_expr = "pg_xact_commit_timestamp(xmin)"
    tracked = psql("SHOW track_commit_timestamp")[0][0] == "on"
    if not tracked:
        commit_expr = "db_updated_at"
    while True:
        cnt, vsum = psql("SELECT count(*), coalesce(sum(extract(epoch FROM source_updated_at) - %d), 0) "
                         "FROM orders WHERE connection_id = '%s'" % (BASE_EPOCH, conn))[0]
        seen = (int(cnt), int(float(vsum)))
        if seen[0] >= want_rows and seen[1] >= want_sum:
            break
        if seen != last_seen:
            last_seen, last_progress = seen, time.time()
        if time.time() - last_progress > a.stall_s or time.time() - t_start > a.timeout_s:
            print("e2e_check: %s: the database stopped at %d rows (version sum %d), expected %d (%d)"
                  % (a.label, seen[0], seen[1], want_rows, want_sum), file=sys.stderr)
            break
        time.sleep(POLL_S)

    # ---- compare row by row ----
    rows = psql("SELECT substr(id, 5), extract(epoch FROM source_updated_at)::bigint - %d, "
                "extract(epoch FROM %s), extract(epoch FROM observed_at), event_id "
                "FROM orders WHERE connection_id = '%s'" % (BASE_EPOCH, commit_expr, conn))
    got = {int(r[0]): r for r in rows}
    missing = stale = newer = wrong_event = 0
    lat_ms, gw_lat_ms, commits = [], [], []
    for o, (v, i, due_us) in newest.items():
        r = got.get(o)
        if r is None:
            missing += 1
            continue
        gv = int(r[1])
        if gv < v:
            stale += 1
            continue
        if gv > v:
            newer += 1
            continue
        if r[4] != "msg_%s_%d" % (conn, i):
            wrong_event += 1
        commit = float(r[2])
        commits.append(commit)
        lat_ms.append((commit - due_us / 1e6) * 1000)
        if r[3]:
            gw_lat_ms.append((commit - float(r[3])) * 1000)
    lat_ms.sort()
    gw_lat_ms.sort()

    # ---- request -> message on the public topic ----
    msg_lat_ms, unpublished, last_ts = [], None, {}
    if a.topic_log:
        deadline = time.time() + a.stall_s
        while True:
            last_ts = last_per_order(a.topic_log, conn)
            unpublished = sum(1 for o in newest if o in got and o not in last_ts)
            if unpublished == 0 or time.time() > deadline:
                break
            time.sleep(POLL_S)
        for o, (v, i, due_us) in newest.items():
            if o in last_ts and o in got and int(got[o][1]) == v:
                msg_lat_ms.append(last_ts[o][0] - due_us / 1000.0)
        msg_lat_ms.sort()
    span = (max(commits) - first_due / 1e6) if commits else 0
    thru = ok / span if span > 0 else 0
    p50, p99, pmax = pct(lat_ms, 0.50), pct(lat_ms, 0.99), (lat_ms[-1] if lat_ms else float("nan"))
    landed = missing == 0 and stale == 0 and wrong_event == 0 and want_rows > 0 and not unpublished
    achieved_ok = a.achieved is None or a.achieved >= a.min_achieved * a.offered
    sustained = landed and ok == sent and achieved_ok and p99 <= a.p99_max_ms

    if a.lat_out:
        with open(a.lat_out, "w") as f:
            f.write("".join("%.3f\n" % x for x in lat_ms))
    print("%s: offered %.0f/s, %d of %d requests 2xx, %d orders expected; missing %d, stale %d, "
          "newer (request failed late) %d, wrong event %d; throughput %.0f events/s; "
          "request->row p50 %.0f ms p99 %.0f ms max %.0f ms; gateway->row p99 %.0f ms%s; %s"
          % (a.label, a.offered, ok, sent, want_rows, missing, stale, newer, wrong_event, thru,
             p50, p99, pmax, pct(gw_lat_ms, 0.99),
             "" if tracked else " (commit time: db_updated_at, transaction start)",
             "sustained" if sustained else "NOT sustained"))
    L = a.label
    print("BENCH name=e2e.%s.throughput stage=e2e value=%.0f unit=events/s baseline=%.0f "
          "baseline_name=offered_rate" % (L, thru, a.offered))
    goals = {"p50": a.p50_goal_ms, "p99": a.p99_goal_ms}
    for name, v in (("p50", p50), ("p99", p99), ("max", pmax)):
        goal = " goal=value<=%g" % goals[name] if goals.get(name) else ""
        print("BENCH name=e2e.%s.latency_%s stage=e2e value=%.1f unit=ms%s" % (L, name, v, goal))
    print("BENCH name=e2e.%s.lost stage=e2e value=%d unit=orders goal=value<=0"
          % (L, missing + stale + wrong_event))
    if a.topic_log:
        m50, m99 = pct(msg_lat_ms, 0.50), pct(msg_lat_ms, 0.99)
        print("%s: request->message on wms.orders.v1 p50 %.0f ms p99 %.0f ms (row: p99 %.0f ms); "
              "%d expected orders without a message" % (L, m50, m99, p99, unpublished))
        for name, v in (("p50", m50), ("p99", m99)):
            goal = " goal=value<=%g" % goals[name] if goals.get(name) else ""
            print("BENCH name=e2e.%s.message_latency_%s stage=e2e value=%.1f unit=ms%s" % (L, name, v, goal))
        print("BENCH name=e2e.%s.unpublished stage=e2e value=%d unit=orders goal=value<=0" % (L, unpublished))
    slowest = None
    if a.topic_log:
        slowest = hop_table(L, conn, newest, got, answered_us, last_ts, a.hop_figures)
    print("BENCH name=e2e.%s.failed_requests stage=e2e value=%d unit=requests" % (L, sent - ok))
    print("E2E label=%s sustained=%d landed=%d throughput=%.0f p50_ms=%.1f p99_ms=%.1f accepted=%d "
          "last_commit_s=%.3f%s"
          % (L, sustained, landed, thru, p50, p99, ok, max(commits) if commits else 0,
             " slowest_hop=%s slowest_hop_p99_ms=%.0f slowest_stage=%s" % (slowest[1], slowest[0], slowest[2])
             if slowest else ""))
    return 0 if landed and (sustained or not a.sustain) else 1


if __name__ == "__main__":
    sys.exit(main())
