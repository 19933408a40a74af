#!/usr/bin/env python3
"""The spec-driven contract: every WMS and connection webhook of Trackstar's OpenAPI file,
in three variants (openapi_webhooks.py), signed and posted to the running gateway; then
every WMS record of a modelled entity must be a row (with this event's id), every
connection event must have had its effect, and nothing may be dead-lettered. Families
the registry does not model yet are passed on and counted by the normalizer, never
dead-lettered; the table printed at the end says which event types are stored.

  openapi_contract.py --spec FILE --env STACK_ENV --tsctl BIN --out DIR

Prints "  ok    ..." / "  FAIL  ..." lines, the table, and "N passed, M failed".
"""
import argparse, json, os, subprocess, sys, time, urllib.request, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import openapi_webhooks  # noqa: E402
from check_lib import finish, load_env, q, report  # noqa: E402
from check_lib import psql as psql_url  # noqa: E402
from webhook import sign  # noqa: E402


def psql(env, sql):
    return psql_url(env["DATABASE_URL"], sql)


def post(env, body, msg_id):
    data = json.dumps(body).encode()
    ts = int(time.time())
    req = urllib.request.Request(env["WEBHOOK_URL"], data=data, method="POST", headers={
        "content-type": "application/json", "svix-id": msg_id, "svix-timestamp": str(ts),
        "svix-signature": sign(env["WEBHOOK_SECRET"], msg_id, ts, data)})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def norm(s):
    return s.replace("_", "-")


# Where a connection event leaves its mark, and the column holding the event's id.
CONNECTION_EFFECTS = {
    "connection.created": ("connections", "created_event_id"),
    "connection.deleted": ("connections", "deleted_event_id"),
    "connection-error.created": ("connection_errors", "event_id"),
    "connection-error.updated": ("connection_errors", "event_id"),
    "connection-error.deleted": ("connection_errors", "event_id"),
    "connection.historical-sync-completed": ("historical_syncs", "event_id"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--tsctl", required=True)
    ap.add_argument("--wait", type=float, default=60)
    a = ap.parse_args()
    env = load_env(a.env)
    spec = openapi_webhooks.Spec(a.spec)
    resources = json.loads(subprocess.run([a.tsctl, "--env", a.env, "--json", "resources"],
                                          capture_output=True, text=True, check=True).stdout)
    by_prefix = {norm(r["event_prefix"]): r for r in resources}
    run = uuid.uuid4().hex[:8]

    cases = []  # (variant, event, kind, table, id column or event column, conn, rec_id, msg_id)
    n = 0
    for variant in ("examples", "nulls", "minimal"):
        for etype, itype, body_schema in spec.events():
            if itype not in openapi_webhooks.IN_SCOPE:
                continue
            n += 1
            conn = "conn_oa_%s_%03d" % (run, n)
            rec_id = "rec_%s_%03d" % (variant, n)
            msg_id = "msg_oa_%s_%03d" % (run, n)
            body = openapi_webhooks.build(spec, etype, body_schema, variant, conn, rec_id)
            family = norm(etype).rsplit(".", 1)[0]
            ent = next((r for p, r in by_prefix.items()
                        if norm(etype).startswith(p + ".")), None)
            if etype in CONNECTION_EFFECTS:
                kind, table = "connection", CONNECTION_EFFECTS[etype][0]
            elif ent:
                kind, table = "entity", ent["table"]
            else:
                kind, table = "unmodelled", family
            status = post(env, body, msg_id)
            report(200 <= status < 300, "%s %s answered 2xx" % (variant, etype), str(status))
            cases.append((variant, etype, kind, table, conn, rec_id, msg_id))

    # Wait for every row (each case's own connection, so only its own event can make it).
    def landed(c):
        variant, etype, kind, table, conn, rec_id, msg_id = c
        if kind == "entity":
            return psql(env, "SELECT event_id FROM %s WHERE connection_id=%s AND id=%s"
                        % (table, q(conn), q(rec_id))) == msg_id
        if kind == "connection":
            col = CONNECTION_EFFECTS[etype][1]
            return psql(env, "SELECT count(*) FROM %s WHERE connection_id=%s AND %s=%s"
                        % (table, q(conn), col, q(msg_id))) != "0"
        return False

    pending = [c for c in cases if c[2] != "unmodelled"]
    deadline = time.time() + a.wait
    done = set()
    while pending and time.time() < deadline:
        for c in pending:
            if landed(c):
                done.add(c)
        pending = [c for c in pending if c not in done]
        if pending:
            time.sleep(0.5)
    for c in cases:
        variant, etype, kind, table, conn, rec_id, msg_id = c
        if kind == "entity":
            report(c in done, "%s %s stored in %s" % (variant, etype, table),
                   "no row with this event's id after %.0f s" % a.wait)
        elif kind == "connection":
            report(c in done, "%s %s handled (%s)" % (variant, etype, table),
                   "no effect after %.0f s" % a.wait)

    # Nothing of this run on the dead-letter topic (unmodelled ones included).
    prefix = env.get("KAFKA_TOPIC_PREFIX", "")
    out = subprocess.run(["kcat", "-b", env["KAFKA_BOOTSTRAP"], "-C", "-t",
                          prefix + "trackstar.dlq.v1", "-e", "-q", "-f", "%k %h\n"],
                         capture_output=True, text=True, timeout=120).stdout
    dead = [l for l in out.splitlines() if l.startswith("conn_oa_%s_" % run)]
    report(not dead, "nothing dead-lettered", "; ".join(l[:200] for l in dead[:3]))

    # The value policy left a trace for what it changed: in the row and in the metric.
    changed = psql(env, "SELECT count(*) FROM returns WHERE connection_id LIKE %s AND "
                        "value_changes @> '[{\"field\":\"line_items.0.returned_date\"}]'"
                   % q("conn_oa_%s_%%" % run))
    examples_returns = sum(1 for c in cases if c[0] == "examples" and c[1].startswith("return."))
    report(changed == str(examples_returns),
           "the examples' returns list line_items.0.returned_date as changed",
           "%s rows of %d" % (changed, examples_returns))
    ret = next(c for c in cases if c[0] == "examples" and c[1].startswith("return."))
    listed = json.loads(subprocess.run([a.tsctl, "--env", a.env, "--json", "changes", ret[4]],
                                       capture_output=True, text=True, check=True).stdout)
    report([(r["resource"], r["id"], r["field"], r["change"], r["reason"]) for r in listed]
           == [("returns", ret[5], "line_items.0.returned_date", "nulled", "bad timestamp")],
           "tsctl changes lists it", json.dumps(listed)[:300])
    metrics = urllib.request.urlopen(env["ADMIN_NORMALIZER"] + "/metrics", timeout=10).read()
    want = b'normalizer_value_changes_total{resource="returns",field="line_items.*.returned_date"}'
    report(want in metrics, "normalizer counts the change by resource and field",
           "no series %s" % want.decode())

    print("\n  event type                              stored (examples / nulls / minimal)")
    by_event = {}
    for c in cases:
        by_event.setdefault(c[1], []).append(c)
    for etype, cs in by_event.items():
        marks = []
        for c in cs:
            marks.append("yes" if c in done else ("not modelled" if c[2] == "unmodelled"
                                                  else "NO"))
        print("  %-40s %s" % (etype, " / ".join(marks)))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
