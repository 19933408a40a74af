#!/usr/bin/env python3
"""Ledger drift as a number, against what the simulator did (issue 23, part 3).

On the running stack (STACK_ENV): a connection of its own that keeps an inventory ledger;
then
  1. a consistent ledger: the WMS moves stock and appends every movement's entry. Every
     window between two onhand snapshots is evaluated once the ledger poll after it has
     succeeded, and none drifts.
  2. a ledger with gaps: the simulator's WMS forgets the entries of some movements
     (ledger_gap_percent, listed at /_sim/ledger/gaps). The windows that drift must be
     exactly those that hold a forgotten movement (with a non-zero sum), each by that
     sum; sync_accuracy, sync_overview, `tsctl status` and writer_ledger_drifts_total
     must say the same.

  ledger_drift_check.py --env STACK_ENV --tsctl BIN
"""
import argparse, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_lib import Stack, epoch, finish, q, report, wait  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--tsctl", required=True)
    ap.add_argument("--mutations", type=int, default=80)
    ap.add_argument("--gap-percent", type=int, default=40)
    a = ap.parse_args()
    st = Stack(a.env, a.tsctl)
    conn = st.sim("POST", "/_sim/connections",
                  {"orders": 60, "products": 20, "warehouses": 2, "returns": 6,
                   "inbound_shipments": 6, "ledger": True})["connection_id"]
    print("  connection " + conn)
    c = q(conn)

    def ledger_polled_after(t):
        """The ledger's last poll started after t (epoch seconds) and succeeded."""
        row = st.sql("SELECT extract(epoch FROM last_started_at), "
                     "last_success_at >= last_started_at FROM sync_status "
                     "WHERE connection_id = %s AND resource = 'inventory_ledger'" % c)
        return bool(row) and float(row.split("|")[0]) > t and row.split("|")[1] == "t"

    def settled_through(t):
        """Every snapshot as of t or before has been evaluated."""
        return st.sql("SELECT count(*) FROM inventory_onhand_snapshots WHERE connection_id = %s "
                      "AND evaluated_at IS NULL AND as_of <= to_timestamp(%d)" % (c, t)) == "0"

    def inventory_matches():
        truth = {i: epoch(rec.get("trackstar_updated_date") or rec["updated_date"])
                 for i, rec in st.truth("inventory", conn).items()}
        rows = st.sql("SELECT id, floor(extract(epoch FROM coalesce(trackstar_updated_at, "
                      "source_updated_at)))::bigint FROM inventory_items WHERE connection_id = %s"
                      % c)
        have = {l.split("|")[0]: int(l.split("|")[1]) for l in rows.splitlines() if l}
        return all(have.get(k) == v for k, v in truth.items())

    def round_of_changes():
        """Crawl and ingest in a second of their own (entries and snapshots are whole
        seconds), wait for the webhooks and a ledger poll after them, then for the
        evaluation. The ingest's time (epoch seconds)."""
        time.sleep(1.1)
        st.sim("POST", "/_sim/connections/%s/crawl" % conn, {"mutations": a.mutations})
        t = int(time.time())
        st.sim("POST", "/_sim/connections/%s/ingest" % conn, {})
        wait(lambda: st.sim("GET", "/_sim/webhooks/stats").get("pending", 1) == 0, 60)
        ok = wait(inventory_matches, 90)
        time.sleep(1.1)
        subprocess.run([st.tsctl, "--env", st.env_file, "sync", conn], capture_output=True,
                       timeout=120)
        ok = wait(lambda: ledger_polled_after(t), 90) and ok
        return t, wait(lambda: settled_through(t + 1), 60) and ok

    # The first sync: the ledger's first poll opens the snapshots.
    report(wait(lambda: ledger_polled_after(0), 120), "the ledger stream is polled")
    round_of_changes()  # every changed item's first snapshot: no window yet

    # 1. a consistent ledger
    _, ok = round_of_changes()
    report(ok, "consistent ledger: the changes are in and every window evaluated")
    windows = int(st.sql("SELECT count(*) FROM inventory_onhand_snapshots WHERE connection_id = %s "
                         "AND drift IS NOT NULL" % c))
    drifted = st.sql("SELECT inventory_item_id, warehouse_id, as_of, drift FROM "
                     "inventory_onhand_snapshots WHERE connection_id = %s AND drift <> 0" % c)
    report(windows > 0, "consistent ledger: windows were evaluated", "none")
    report(drifted == "", "consistent ledger: no window drifts", drifted[:300])

    # 2. a ledger with gaps
    before = st.metric_sum("writer_ledger_drifts_total")
    st.sim("POST", "/_sim/faults", {"connection_id": conn, "ledger_gap_percent": a.gap_percent})
    try:
        _, ok = round_of_changes()
    finally:
        st.sim("POST", "/_sim/faults", {"connection_id": conn, "ledger_gap_percent": 0})
    report(ok, "gaps: the changes are in and every window evaluated")
    gaps = st.sim("GET", "/_sim/ledger/gaps?connection_id=" + conn)["data"]
    snaps = {}
    for line in st.sql("SELECT inventory_item_id, warehouse_id, "
                       "floor(extract(epoch FROM as_of))::bigint, coalesce(drift::text, '') "
                       "FROM inventory_onhand_snapshots WHERE connection_id = %s "
                       "ORDER BY 1, 2, 3" % c).splitlines():
        inv, wh, at, drift = line.split("|")
        snaps.setdefault((inv, wh), []).append((int(at), drift))
    # A forgotten movement at `at` belongs to the window (previous snapshot, first
    # snapshot at or after `at`]; without a previous snapshot there is no window.
    want = {}
    for g in gaps:
        key, at = (g["inventory_item_id"], g["warehouse_id"]), epoch(g["entry_date"])
        s = snaps.get(key, [])
        later = [i for i, (sat, _) in enumerate(s) if sat >= at]
        if not later or later[0] == 0:
            continue
        w = (key, s[later[0]][0])
        want[w] = want.get(w, 0) + g["quantity"]
    want = {w: d for w, d in want.items() if d != 0}
    got = {(key, at): int(d) for key, s in snaps.items() for at, d in s if d not in ("", "0")}
    report(len(gaps) > 0 and len(want) > 0,
           "gaps: the simulator's WMS forgot entries inside evaluated windows",
           "%d forgotten, %d in windows" % (len(gaps), len(want)))
    report(got == want, "gaps: the drifting windows are those with forgotten movements, "
           "each by their sum (%d windows)" % len(want),
           "got %s, want %s" % (sorted(got.items())[:5], sorted(want.items())[:5]))
    acc = st.sql("SELECT ledger_windows, ledger_drifts, ledger_drift_units FROM sync_accuracy "
                 "WHERE connection_id = %s AND resource = 'inventory'" % c)
    all_windows = sum(1 for s in snaps.values() for _, d in s if d != "")
    units = sum(abs(d) for d in want.values())
    report(acc == "%d|%d|%d" % (all_windows, len(want), units),
           "gaps: sync_accuracy counts the windows, drifts and units", acc)
    ov = st.sql("SELECT ledger_windows, ledger_drifts FROM sync_overview WHERE connection_id = %s"
                % c)
    report(ov == "%d|%d" % (all_windows, len(want)), "gaps: sync_overview shows them", ov)
    status = st.tsctl_json("status", conn) or {}
    shown = sum(s.get("ledger_drifts", 0) for s in status.get("streams", []))
    report(shown == len(want), "gaps: tsctl status shows them", "%s" % shown)
    grown = st.metric_sum("writer_ledger_drifts_total") - before
    report(grown >= len(want), "gaps: writer_ledger_drifts_total grew with them", "%g" % grown)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
