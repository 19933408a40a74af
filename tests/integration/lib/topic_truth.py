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
A comparison that differs is made again for up to RETRY_S (the stack goes on changing
while it reads); the last one is reported.

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
import re
import shlex
import subprocess
import sys
import time

import jsonschema

RETRY_S = 30  # how long a comparison that differs is made again (main)
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
    "warehouse_customers": "warehouse_customers", "inventory_ledger": "inventory_ledger",
    "labor_activities": "labor_activities",
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
    """[(partition, offset, key, payload text or None, has applied_at)] in offset order per
    partition, and whether the broker had dropped the topic's oldest messages. kcat prints
    one line per message (canonical JSON has no raw newline); payloads are parsed later,
    only where needed: a fault run's topics hold hundreds of megabytes."""
    out = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                          "-f", "%p\t%o\t%S\t%h\t%k\t%s\n"], capture_output=True, timeout=900)
    if out.returncode != 0:
        raise SystemExit("kcat %s: %s" % (topic, out.stderr.decode(errors="replace").strip()))
    msgs, first = [], {}
    for line in out.stdout.decode("utf-8").split("\n"):
        if not line:
            continue
        part, off, size, headers, rest = line.split("\t", 4)
        key, _, payload = rest.partition("\t")
        part, off = int(part), int(off)
        first.setdefault(part, off)
        msgs.append((part, off, key, None if size == "-1" else payload, "applied_at=" in headers))
    msgs.sort(key=lambda x: (x[0], x[1]))
    return msgs, any(o > 0 for o in first.values())


# Canonical text, or PostgreSQL's jsonb text (a republished stored row: a space after
# each colon, keys ordered by length); source_updated_at comes first in both.
VERSION_RE = re.compile(r'"source_updated_at":\s*(null|"[^"]*").*?"trackstar_updated_at":\s*(null|"[^"]*")')


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


def is_delete(payload):
    """A delete record (docs/schemas/deleted.schema.json) rather than an entity record."""
    return '"deleted"' in payload and json.loads(payload).get("deleted") is True


def version(payload):
    """(source_updated_at, trackstar_updated_at) of a record's text, without parsing it all."""
    m = VERSION_RE.search(payload)
    if not m:
        return (when(None), when(None))
    return tuple(when(None if g == "null" else g[1:-1]) for g in m.groups())


class Report:
    """What one comparison found; its lines are printed once the comparison is final."""

    def __init__(self):
        self.failed, self.passed, self.shown, self.lines = 0, 0, {}, []

    def fail(self, kind, msg):
        self.failed += 1
        self.shown[kind] = self.shown.get(kind, 0) + 1
        if self.shown[kind] <= 20:
            self.lines.append("  FAIL  %s: %s" % (kind, msg))

    def note(self, line):
        self.lines.append(line)


def check_topics(env, args, rep):
    totals = {"keys": 0, "live": 0, "deleted": 0, "purged": 0, "unverifiable": 0}
    for entity, table in TABLES.items():
        topic = args.prefix + "wms.%s.v1" % entity
        msgs, evicted = read_topic(env["KAFKA_BOOTSTRAP"], topic)
        db = rows(env["DATABASE_URL"], table, args.conn)
        # per key: [last version, last payload, the payload before it, messages]; a key is
        # on one partition, and msgs is in offset order per partition
        state = {}
        for part, off, key, payload, applied in msgs:
            if not key or (args.conn and key.split("|", 1)[0] not in args.conn):
                continue
            if not applied:
                rep.fail("applied_at header", "%s %s offset %d" % (topic, key, off))
            st = state.setdefault(key, [None, None, None, 0])
            if payload is None:
                if st[1] is None or not is_delete(st[1]):
                    rep.fail("tombstone after a delete record", "%s %s offset %d" % (topic, key, off))
            else:
                if is_delete(payload):
                    err = next(DELETED.iter_errors(json.loads(payload)), None)
                    if err:
                        rep.fail("delete record schema", "%s %s offset %d: %s" % (topic, key, off, err.message))
                v = version(payload)
                if st[0] is not None and v < st[0]:
                    rep.fail("monotonic per key", "%s %s offset %d: %s after %s" % (topic, key, off, v, st[0]))
                st[0] = v
            st[2], st[1] = st[1], payload
            st[3] += 1
        del msgs
        for key, (record, deleted) in db.items():
            totals["keys"] += 1
            st = state.get(key)
            if not st:
                if evicted:
                    totals["unverifiable"] += 1
                else:
                    rep.fail("row never published", "%s %s" % (topic, key))
                continue
            final, before = st[1], st[2]
            if deleted:
                if final is not None or before is None or json.loads(before) != record:
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
        for key, st in state.items():
            if key in db:
                continue
            if st[1] is not None:
                rep.fail("key without a row ends in a tombstone", "%s %s" % (topic, key))
            else:
                totals["purged"] += 1
    rep.passed += 1
    rep.note("  ..    %(keys)d rows: %(live)d live and %(deleted)d deleted equal their key's last message; "
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
        rep.note("  ..    the consumer's table equals the %d live %s rows" % (len(live), args.entity))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack-env", required=True)
    ap.add_argument("--conn", action="append", default=[])
    ap.add_argument("--prefix", default="")
    ap.add_argument("--consumer-log")
    ap.add_argument("--entity", default="inventory_item")
    args = ap.parse_args()
    env = stack_env(args.stack_env)
    # The stack is not frozen while this reads: the simulator's crawls go on changing its
    # world and the fetcher keeps polling, so a row committed between the read of a topic
    # and the read of its table (or the other way round) differs once (CI saw "row never
    # published" for an order created during the check). The comparison is made again
    # while it differs, for up to RETRY_S; what is lost or regresses differs every time.
    deadline, attempts = time.time() + RETRY_S, 0
    while True:
        rep = Report()
        attempts += 1
        if args.consumer_log:
            check_consumer_log(env, args, rep)
        else:
            check_topics(env, args, rep)
        if not rep.failed or time.time() >= deadline:
            break
        time.sleep(3)
    for line in rep.lines:
        print(line)
    if attempts > 1:
        print("  ..    compared %d times (the stack kept changing)" % attempts)
    print("%d passed, %d failed" % (rep.passed, rep.failed))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
