#!/usr/bin/env python3
"""topic_truth.py - the public topics hold what PostgreSQL holds.

Reads every public entity topic (wms.<entity>.v1) from the beginning, takes for every key
the LAST message (what compaction keeps; the dev broker does not compact, so the test
does), and compares it with the key's row:

  - a live row: the last message is a record equal (as JSON) to the row's `record`;
  - a deleted row (deleted_at set): the last message is a tombstone, right after a delete
    record equal to the row's `record`;
  - a key on a topic without a row: its last message is a tombstone (a purge);
  - per key, the versions published never go backwards: (source_updated_at,
    trackstar_updated_at) of the records is non-decreasing in offset order;
  - every message carries the applied_at header;
  - every delete record validates against docs/schemas/deleted.schema.json.

A row whose key is on no topic fails, unless the dev broker dropped the oldest messages
of that topic (it keeps ~5 MiB per partition): then it is counted as unverifiable.

  topic_truth.py --stack-env FILE [--conn ID ...] [--prefix P] [--consumer-log FILE]

--conn limits both sides to those connections (default: every row and every key).
--consumer-log FILE replays an example consumer's output ("upsert <key> <json>" /
"delete <key>") into a table and compares that table with the live rows instead.
Prints one line per failure (at most 20 per kind) and "N passed, M failed".
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys

import jsonschema

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DELETED = jsonschema.Draft202012Validator(
    json.load(open(os.path.join(ROOT, "docs", "schemas", "deleted.schema.json"))),
    format_checker=jsonschema.FormatChecker())

# The public topic of each entity table (docs/consuming.md).
TABLES = {
    "orders": "orders", "inventory": "inventory_items", "products": "products",
    "warehouses": "warehouses", "warehouse_locations": "warehouse_locations",
    "shipping_methods": "shipping_methods", "returns": "returns",
    "inbound_shipments": "inbound_shipments", "bills": "bills",
}


def stack_env(path):
    env = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("export "):
            line = line[7:]
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = shlex.split(v)[0] if v else ""
    return env


def read_topic(bootstrap, topic):
    """[(partition, offset, key, payload or None, headers)] in offset order per partition,
    and whether the broker had dropped the topic's oldest messages."""
    out = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                          "-J"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit("kcat %s: %s" % (topic, out.stderr.strip()))
    msgs, first = [], {}
    for line in out.stdout.splitlines():
        if not line.startswith("{"):
            continue
        m = json.loads(line)
        h = m.get("headers") or []
        headers = {h[i]: h[i + 1] for i in range(0, len(h) - 1, 2)}
        first.setdefault(m["partition"], m["offset"])
        msgs.append((m["partition"], m["offset"], m.get("key"), m.get("payload"), headers))
    msgs.sort(key=lambda x: (x[0], x[1]))
    return msgs, any(o > 0 for o in first.values())


def rows(db_url, table, conns):
    where = "WHERE connection_id = ANY(%s)" % ("ARRAY[%s]::text[]" % ",".join(
        "'" + c.replace("'", "''") + "'" for c in conns)) if conns else ""
    sql = ("SELECT coalesce(json_agg(json_build_array(connection_id, id, record, deleted_at IS NOT NULL)), "
           "'[]') FROM %s %s" % (table, where))
    out = subprocess.run(["psql", db_url, "-XAtq", "-c", sql], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit("psql: " + out.stderr.strip())
    return {c + "|" + i: (rec, deleted) for c, i, rec, deleted in json.loads(out.stdout)}


def when(s):
    return datetime.datetime.fromisoformat(s) if s else datetime.datetime.min.replace(
        tzinfo=datetime.timezone.utc)


def version(rec):
    return (when(rec.get("source_updated_at")), when(rec.get("trackstar_updated_at")))


class Report:
    def __init__(self):
        self.failed, self.passed, self.shown = 0, 0, {}

    def fail(self, kind, msg):
        self.failed += 1
        self.shown[kind] = self.shown.get(kind, 0) + 1
        if self.shown[kind] <= 20:
            print("  FAIL  %s: %s" % (kind, msg))


def check_topics(env, args, rep):
    totals = {"keys": 0, "live": 0, "deleted": 0, "purged": 0, "unverifiable": 0}
    for entity, table in TABLES.items():
        topic = args.prefix + "wms.%s.v1" % entity
        msgs, evicted = read_topic(env["KAFKA_BOOTSTRAP"], topic)
        db = rows(env["DATABASE_URL"], table, args.conn)
        by_key = {}
        for part, off, key, payload, headers in msgs:
            if key is None or (args.conn and key.split("|", 1)[0] not in args.conn):
                continue
            if "applied_at" not in headers:
                rep.fail("applied_at header", "%s %s offset %d" % (topic, key, off))
            by_key.setdefault(key, []).append((off, payload))
        for key, seq in by_key.items():
            last, prev = None, None
            for off, payload in seq:
                if payload is None:
                    if prev is None or not json.loads(prev).get("deleted"):
                        rep.fail("tombstone after a delete record", "%s %s offset %d" % (topic, key, off))
                    continue
                rec = json.loads(payload)
                if rec.get("deleted"):
                    err = next(DELETED.iter_errors(rec), None)
                    if err:
                        rep.fail("delete record schema", "%s %s offset %d: %s" % (topic, key, off, err.message))
                if last is not None and version(rec) < version(last):
                    rep.fail("monotonic per key", "%s %s offset %d: %s after %s" % (
                        topic, key, off, rec.get("source_updated_at"), last.get("source_updated_at")))
                last, prev = rec, payload
            prev = None
        for key, (record, deleted) in db.items():
            totals["keys"] += 1
            seq = by_key.get(key)
            if not seq:
                if evicted:
                    totals["unverifiable"] += 1
                else:
                    rep.fail("row never published", "%s %s" % (topic, key))
                continue
            final = seq[-1][1]
            if deleted:
                if final is not None or len(seq) < 2 or seq[-2][1] is None or json.loads(seq[-2][1]) != record:
                    rep.fail("deleted row: delete record then tombstone", "%s %s" % (topic, key))
                    continue
                totals["deleted"] += 1
            else:
                if final is None or json.loads(final) != record:
                    rep.fail("last message equals the row", "%s %s: last %s, row version %s" % (
                        topic, key, "tombstone" if final is None else json.loads(final).get("source_updated_at"),
                        record.get("source_updated_at")))
                    continue
                totals["live"] += 1
        for key, seq in by_key.items():
            if key in db:
                continue
            if seq[-1][1] is not None:
                rep.fail("key without a row ends in a tombstone", "%s %s" % (topic, key))
            else:
                totals["purged"] += 1
    rep.passed += 1
    print("  ..    %(keys)d rows: %(live)d live and %(deleted)d deleted equal their key's last message; "
          "%(purged)d keys without a row end in a tombstone; %(unverifiable)d unverifiable (evicted "
          "by the dev broker)" % totals)


def check_consumer_log(env, args, rep):
    table = {}
    for line in open(args.consumer_log, encoding="utf-8"):
        parts = line.rstrip("\n").split(" ", 2)
        if parts[0] == "upsert" and len(parts) == 3:
            table[parts[1]] = json.loads(parts[2])
        elif parts[0] == "delete" and len(parts) >= 2:
            table.pop(parts[1], None)
    live = {}
    for table_name in TABLES.values():
        for key, (record, deleted) in rows(env["DATABASE_URL"], table_name, args.conn).items():
            if not deleted and record.get("entity") == args.entity:
                live[key] = record
    mine = {k: v for k, v in table.items() if not args.conn or k.split("|", 1)[0] in args.conn}
    missing = [k for k in live if k not in mine]
    extra = [k for k in mine if k not in live]
    differ = [k for k in live if k in mine and mine[k] != live[k]]
    for k in missing[:20]:
        rep.fail("consumer table: row missing", k)
    for k in extra[:20]:
        rep.fail("consumer table: key without a live row", k)
    for k in differ[:20]:
        rep.fail("consumer table: differs from the row", k)
    if not (missing or extra or differ):
        rep.passed += 1
        print("  ..    the consumer's table equals the %d live %s rows" % (len(live), args.entity))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack-env", required=True)
    ap.add_argument("--conn", action="append", default=[])
    ap.add_argument("--prefix", default="")
    ap.add_argument("--consumer-log")
    ap.add_argument("--entity", default="inventory_item")
    args = ap.parse_args()
    env = stack_env(args.stack_env)
    rep = Report()
    if args.consumer_log:
        check_consumer_log(env, args, rep)
    else:
        check_topics(env, args, rep)
    print("%d passed, %d failed" % (rep.passed, rep.failed))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
