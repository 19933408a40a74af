#!/usr/bin/env python3
"""Inventory accuracy as numbers, against what the simulator did (issue 23, part 3).

On the running stack (STACK_ENV): a connection of its own; then
  1. no drops: the WMS changes records, Trackstar's copy takes them and sends every
     webhook, the fetcher held until they are in; then it polls. Corrections must stay 0.
  2. drops: the same with half of the resource webhooks withheld (the simulator's drop
     knob), the fetcher held still meanwhile so that the database's state before the poll
     can be read; then the poll. Every withheld version newer than the row the database
     held must be counted as a correction, no more and no fewer, within one poll; the
     staleness must cover the time the row was held stale; `tsctl status` and
     sync_overview must show the same; writer_corrections_total must have grown by at
     least as much.

  accuracy_check.py --env STACK_ENV --tsctl BIN

Prints "  ok    ..." / "  FAIL  ..." lines and "N passed, M failed".
"""
import argparse, os, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_lib import Stack, epoch, finish, q, report, wait  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--tsctl", required=True)
    ap.add_argument("--mutations", type=int, default=60)
    ap.add_argument("--drop-percent", type=int, default=40)
    ap.add_argument("--hold-s", type=float, default=4)
    a = ap.parse_args()
    st = Stack(a.env, a.tsctl)
    resources = st.tsctl_json("resources")
    tables = {r["resource"]: r["table"] for r in resources}
    # Order channels and suppliers have no webhooks: only a poll brings their changes, and
    # none counts as a correction.
    hooked = sorted(r["resource"] for r in resources if r.get("webhooks", True))

    conn = st.sim("POST", "/_sim/connections",
                  {"orders": 80, "products": 25, "warehouses": 1, "returns": 10,
                   "inbound_shipments": 6, "bills": 6})["connection_id"]
    print("  connection " + conn)

    def versions(resource):
        """The truth: id -> (updated_date, trackstar_updated_date) as the copy holds them."""
        return st.truth(resource, conn)

    def db_ids(resource):
        return set(st.sql("SELECT id FROM %s WHERE connection_id = %s AND deleted_at IS NULL"
                          % (tables[resource], q(conn))).split("\n")) - {""}

    watched = sorted(tables)  # every entity of the registry

    def converged(among=None):
        """Every record of the truth is a row at its version (compared as the writer does),
        for the resources among (default: every one)."""
        for r in among or watched:
            truth = versions(r)
            rows = st.sql("SELECT id, floor(extract(epoch FROM source_updated_at))::bigint, "
                          "coalesce(floor(extract(epoch FROM trackstar_updated_at))::bigint, 0) FROM %s "
                          "WHERE connection_id = %s" % (tables[r], q(conn)))
            have = {l.split("|")[0]: (int(l.split("|")[1]), int(l.split("|")[2]))
                    for l in rows.splitlines() if l}
            for rid, rec in truth.items():
                want = (epoch(rec["updated_date"]), epoch(rec.get("trackstar_updated_date")))
                if have.get(rid) != want:
                    return False
        return True

    def corrections():
        return int(st.sql("SELECT coalesce(sum(corrections), 0) FROM sync_accuracy "
                          "WHERE connection_id = %s" % q(conn)) or 0)

    def webhooks_settled():
        return st.sim("GET", "/_sim/webhooks/stats").get("pending", 1) == 0

    report(wait(converged, 120), "first sync: the database equals Trackstar's copy")
    report(corrections() == 0, "first sync: no corrections (a poll that brings the first "
                               "version of a record corrects nothing)", str(corrections()))

    # 1. no drops: webhooks bring every change; the poll after them finds nothing newer.
    # The fetcher is held until the webhooks are in: a scheduled poll that overtakes a
    # webhook still in flight (a retry, a loaded pipeline) is a correction by definition
    # ("a webhook missed or late"), and this phase asserts that none was missed.
    fetcher_pid = int(open(os.path.join(st.env["STACK_VAR"], "run", "fetcher.pid")).read())
    os.kill(fetcher_pid, signal.SIGSTOP)
    try:
        st.sim("POST", "/_sim/connections/%s/crawl" % conn, {"mutations": a.mutations})
        taken = st.sim("POST", "/_sim/connections/%s/ingest" % conn, {})["taken"]
        wait(webhooks_settled, 60)
        report(wait(lambda: converged(hooked), 90), "no drops: webhooks bring the database to "
               "the copy (%d changes)" % taken)
    finally:
        os.kill(fetcher_pid, signal.SIGCONT)
    subprocess.run([st.tsctl, "--env", st.env_file, "sync", conn], capture_output=True, timeout=120)
    time.sleep(5)
    report(wait(converged, 60), "no drops: still equal after the poll")
    report(corrections() == 0, "no drops: corrections stay 0", str(corrections()))

    # 2. drops, with the fetcher held so that nothing polls before the rows are read.
    before_metric = st.metric_sum("writer_corrections_total")
    os.kill(fetcher_pid, signal.SIGSTOP)
    try:
        # The knob is the simulator's, for every connection: only for the moment of the
        # ingest, then back to what it was (the shared stack's other suites run after).
        was = st.sim("GET", "/_sim/faults").get("webhook_drop_percent", 0)
        st.sim("POST", "/_sim/connections/%s/crawl" % conn, {"mutations": a.mutations})
        st.sim("POST", "/_sim/faults", {"webhook_drop_percent": a.drop_percent})
        try:
            st.sim("POST", "/_sim/connections/%s/ingest" % conn, {})
        finally:
            st.sim("POST", "/_sim/faults", {"webhook_drop_percent": was})
        wait(webhooks_settled, 60)
        withheld = st.sim("GET", "/_sim/webhooks/dropped?connection_id=" + conn)["data"]
        # What a poll must correct: a withheld version still the copy's, newer than the row.
        time.sleep(3)  # the delivered webhooks through the pipeline
        expected, truth = [], {r: versions(r) for r in watched}
        for w in withheld:
            r = w["resource"]
            if r not in watched:
                continue
            cur = truth[r].get(w["id"])
            if not cur or (cur["updated_date"], cur.get("trackstar_updated_date")) != \
                    (w["updated_date"], w.get("trackstar_updated_date")):
                continue  # a later version came by webhook
            row = st.sql("SELECT floor(extract(epoch FROM source_updated_at))::bigint, "
                         "coalesce(floor(extract(epoch FROM trackstar_updated_at))::bigint, 0) "
                         "FROM %s WHERE "
                         "connection_id = %s AND id = %s" % (tables[r], q(conn), q(w["id"])))
            if not row:
                continue  # no row: a record first seen by the poll is not a correction
            held = tuple(int(x) for x in row.split("|"))
            if held < (epoch(w["updated_date"]), epoch(w.get("trackstar_updated_date"))):
                expected.append((r, w["id"]))
        time.sleep(a.hold_s)
    finally:
        os.kill(fetcher_pid, signal.SIGCONT)
    held_s = time.time()
    report(len(expected) > 0, "drops: the simulator withheld versions the poll must correct",
           "%d withheld, none newer than a row" % len(withheld))
    subprocess.run([st.tsctl, "--env", st.env_file, "sync", conn], capture_output=True, timeout=120)
    report(wait(converged, 90), "drops: the poll brings the database to the copy")
    got = corrections()
    report(got == len(expected), "drops: corrections equal the withheld versions newer than "
           "the row (%d of %d withheld)" % (len(expected), len(withheld)),
           "counted %d" % got)
    per = dict(tuple(l.split("|")) for l in st.sql(
        "SELECT resource, corrections FROM sync_accuracy WHERE connection_id = %s AND "
        "corrections > 0" % q(conn)).splitlines() if l)
    want_per = {}
    for r, _ in expected:
        want_per[r] = want_per.get(r, 0) + 1
    report({k: int(v) for k, v in per.items()} == want_per, "drops: per resource too",
           "%s != %s" % (per, want_per))
    stale = float(st.sql("SELECT coalesce(max(correction_stale_s_max), 0) FROM sync_accuracy "
                         "WHERE connection_id = %s" % q(conn)) or 0)
    elapsed = time.time() - held_s
    report(a.hold_s <= stale <= a.hold_s + 120 + elapsed,
           "drops: the longest staleness covers the time the rows were held stale",
           "%.1f s (held %.1f s)" % (stale, a.hold_s))
    status = st.tsctl_json("status", conn) or {}
    shown = sum(s.get("corrections", 0) for s in status.get("streams", []))
    report(shown == got, "tsctl status shows the corrections", "%s != %d" % (shown, got))
    ov = st.sql("SELECT corrections FROM sync_overview WHERE connection_id = %s" % q(conn))
    report(ov == str(got), "sync_overview shows the corrections", ov)
    grown = st.metric_sum("writer_corrections_total") - before_metric
    report(grown >= got, "writer_corrections_total grew with them", "%g < %d" % (grown, got))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
