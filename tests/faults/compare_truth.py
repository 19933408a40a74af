#!/usr/bin/env python3
"""compare_truth.py - compare the whole database with the simulator's truth.

For every connection and every entity it reads every current record from the
simulator's truth endpoint (GET /_sim/truth/<resource>: the WMS's version of every
record Trackstar's copy holds or will hold, ignoring sync state and permissions), maps
it the way the canonical model does (docs/canonical-model.md) and compares it with the
row the writer stored, field by field: ids, the version (source_updated_at, and
trackstar_updated_at where the API serves it), status-like fields, quantities, money,
dates, and the number and sums of child rows of every child table (line items,
shipments, packages, levels, lots, receipts, ...). It also checks the
`connections` table (one active row per connection, an access token seen but never
stored).

  compare_truth.py --sim URL --api-key KEY --db DATABASE_URL
                   [--connections ID,ID,... | --all] [--max-report N] [--quiet]
                   [--summary-json FILE] [--ties-ok] [--skip RESOURCE,...]

Exit 0 when the database equals the truth (no record missing, none extra, every
compared field equal), 1 otherwise; 2 on a usage or connection error. Prints what it
compared and, for each difference, the entity, connection, id and field.

--ties-ok: a row written by a webhook that holds the truth's version (same updated_date
and trackstar_updated_date) with other content is a tie, listed but not a difference.
Trackstar's dates have whole seconds, so its copy can hold two versions of a record with
the same dates; webhooks cannot order them (deliveries are unordered) and the writer keeps
the first, until a poll, which reads the copy as it is, replaces it (writer/db_version.h).
A test that runs without polls allows ties, then lets one poll settle them.
"""
import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from decimal import Decimal

PAGE_LIMIT = 1000          # the API's maximum page size
HTTP_TIMEOUT_S = 30
HTTP_RETRIES = 5           # for a transient error of the simulator
MAX_IDS_PER_QUERY = 200    # connections per SQL query (keeps the statement small)


# ---- truth side: raw Trackstar records -> the values the writer must have stored ----

def ts(v):
    """RFC 3339 text -> epoch seconds (int), None for null/empty. The canonical model
    truncates to milliseconds; the simulator uses whole seconds."""
    if v is None or v == "":
        return None
    s = v.replace("Z", "+00:00")
    d = datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return int(d.timestamp())


def dec(v):
    """A JSON number or numeric string (parsed with Decimal) -> Decimal, normalised."""
    if v is None:
        return None
    try:
        return Decimal(str(v)).normalize()
    except Exception:
        return None


def ival(v):
    return None if v is None else int(v)


def total(items, field):
    return sum(int(i.get(field) or 0) for i in items or [])


def count(items):
    return len(items or [])


def order_truth(r):
    ships = r.get("shipments") or []
    pkgs = [p for s in ships for p in (s.get("packages") or [])]
    return {
        "created_at": ts(r.get("created_date")),
        "n_picked": sum(1 for li in r.get("line_items") or [] if li.get("is_picked")),
        "sum_shipped": sum(total(s.get("line_items"), "quantity") for s in ships),
        "status": r.get("status"), "raw_status": r.get("raw_status"),
        "order_number": r.get("order_number"), "warehouse_id": r.get("warehouse_id"),
        "total_price": dec(r.get("total_price")), "total_tax": dec(r.get("total_tax")),
        "currency": r.get("invoice_currency_code"),
        "n_line_items": count(r.get("line_items")), "sum_quantity": total(r.get("line_items"), "quantity"),
        "n_shipments": count(ships),
        "n_shipment_line_items": sum(count(s.get("line_items")) for s in ships),
        "n_packages": len(pkgs),
        "n_package_line_items": sum(count(p.get("line_items")) for p in pkgs),
    }


INV_BUCKETS = ("awaiting", "onhand", "committed", "unfulfillable", "fulfillable", "unsellable", "sellable")


def inventory_truth(r):
    out = {"sku": r.get("sku"), "active": r.get("active"), "unit_cost": dec(r.get("unit_cost"))}
    for b in INV_BUCKETS:
        out[b] = ival(r.get(b))
    by_wh = r.get("inventory_by_warehouse_id") or {}
    out["n_levels"] = len(by_wh)
    out["levels_onhand"] = sum(int((v or {}).get("onhand") or 0) for v in by_wh.values())
    out["levels_committed"] = sum(int((v or {}).get("committed") or 0) for v in by_wh.values())
    out["levels_unfulfillable"] = sum(int((v or {}).get("unfulfillable") or 0) for v in by_wh.values())
    out["levels_awaiting"] = sum(int((v or {}).get("awaiting") or 0) for v in by_wh.values())
    out["n_locations"] = count(r.get("locations"))
    out["locations_quantity"] = total(r.get("locations"), "quantity")
    out["n_lots"] = count(r.get("lots"))
    return out


def product_truth(r):
    return {"sku": r.get("sku"), "active": r.get("active"), "is_kit": r.get("is_kit"),
            "unit_price": dec(r.get("unit_price")),
            "n_inventory_items": count(r.get("inventory_items")),
            "sum_unit_quantity": total(r.get("inventory_items"), "unit_quantity"),
            "n_supplier_products": count(r.get("supplier_products"))}


def warehouse_truth(r):
    a = r.get("address") or {}
    return {"name": r.get("name"), "code": r.get("code"), "city": a.get("city")}


def location_truth(r):
    return {"warehouse_id": r.get("warehouse_id"), "name": r.get("name"), "type": r.get("type")}


def shipping_truth(r):
    return {"name": r.get("name"), "carrier_id": r.get("carrier_id"), "carrier_name": r.get("carrier_name")}


def return_truth(r):
    ships = r.get("shipments") or []
    sli = [li for s in ships for li in (s.get("line_items") or [])]
    return {"status": r.get("status"), "raw_status": r.get("raw_status"), "order_id": r.get("order_id"),
            "shipped_at": ts(ships[0].get("shipped_date")) if ships else None,
            "n_line_items": count(r.get("line_items")),
            "sum_received": total(r.get("line_items"), "received_quantity"),
            "sum_restocked": total(r.get("line_items"), "restocked_quantity"),
            "n_shipments": len(ships), "n_shipment_line_items": len(sli),
            "n_receiving_details": sum(count(li.get("receiving_details")) for li in sli)}


def inbound_truth(r):
    rec = r.get("receipts") or []
    return {"status": r.get("status"), "raw_status": r.get("raw_status"),
            "warehouse_id": r.get("warehouse_id"),
            "sum_receipt_quantity": sum(total(x.get("line_items"), "quantity") for x in rec),
            "expected_quantity_total": total(r.get("line_items"), "expected_quantity"),
            "received_quantity_total": total(r.get("line_items"), "received_quantity"),
            "n_line_items": count(r.get("line_items")), "n_receipts": len(rec),
            "n_receipt_line_items": sum(count(x.get("line_items")) for x in rec)}


def bill_truth(r):
    return {"amount": dec(r.get("amount")), "object_id": r.get("object_id"),
            "charge_type": r.get("charge_type"), "currency": r.get("currency_code")}


def warehouse_customer_truth(r):
    return {"name": r.get("name"), "email": r.get("email"), "created_at": ts(r.get("created_date"))}


def inventory_ledger_truth(r):
    # An entry is an immutable movement: its quantity, item and cause must be stored as served.
    return {"inventory_item_id": r.get("inventory_item_id"), "sku": r.get("sku"),
            "quantity": ival(r.get("quantity")), "ledger_event_type": r.get("event_type"),
            "object_id": r.get("object_id"), "warehouse_id": r.get("warehouse_id"),
            "entry_date": ts(r.get("entry_date"))}


def named_truth(r):
    # order channels and suppliers: reference lists, listed completely (a removed one must
    # be marked deleted, which db_rows leaves out like a record the truth no longer has)
    return {"name": r.get("name"), "warehouse_customer_id": r.get("warehouse_customer_id"),
            "created_at": ts(r.get("created_date"))}
def labor_activity_truth(r):
    # An activity in progress has no end; ending it is an update that must reach the row.
    return {"user_id": r.get("user_id"), "warehouse_id": r.get("warehouse_id"),
            "activity_type": r.get("activity_type"),
            "associated_object_type": r.get("associated_object_type"),
            "associated_object_id": r.get("associated_object_id"), "quantity": ival(r.get("quantity")),
            "activity_start_time": ts(r.get("activity_start_time")),
            "activity_end_time": ts(r.get("activity_end_time"))}


def order_pack_truth(r):
    # packs are read per order version (the order's updated_date is the record's): the
    # packs, their items and the order's items as the endpoint gave them
    packs = r.get("packs") or []
    return {"order_id": r.get("order_id"), "n_packs": len(packs),
            "n_pack_line_items": sum(count(p.get("line_items")) for p in packs),
            "sum_packed": sum(total(p.get("line_items"), "quantity") for p in packs),
            "n_order_line_items": count(r.get("order_line_items")),
            "shipping_method_id": r.get("shipping_method_id")}


def cnt(table, fk):
    return f"(SELECT count(*) FROM {table} c WHERE c.connection_id = t.connection_id AND c.{fk} = t.id)"


def csum(table, fk, col):
    return (f"(SELECT coalesce(sum(c.{col}), 0) FROM {table} c "
            f"WHERE c.connection_id = t.connection_id AND c.{fk} = t.id)")


# resource (truth endpoint) -> (table, truth mapper, {field: SQL expression over row t})
ENTITIES = {
    "orders": ("orders", order_truth, {
        "created_at": "extract(epoch FROM t.created_at)::bigint",
        "n_picked": "(SELECT count(*) FROM order_line_items c WHERE c.connection_id = t.connection_id "
                    "AND c.order_id = t.id AND c.is_picked)",
        "sum_shipped": csum("order_shipment_line_items", "order_id", "quantity"),
        "status": "t.status", "raw_status": "t.raw_status", "order_number": "t.order_number",
        "warehouse_id": "t.warehouse_id", "total_price": "t.total_price::text",
        "total_tax": "t.total_tax::text", "currency": "t.currency",
        "n_line_items": cnt("order_line_items", "order_id"),
        "sum_quantity": csum("order_line_items", "order_id", "quantity"),
        "n_shipments": cnt("order_shipments", "order_id"),
        "n_shipment_line_items": cnt("order_shipment_line_items", "order_id"),
        "n_packages": cnt("order_packages", "order_id"),
        "n_package_line_items": cnt("order_package_line_items", "order_id")}),
    "inventory": ("inventory_items", inventory_truth, {
        "sku": "t.sku", "active": "t.active", "unit_cost": "t.unit_cost::text",
        **{b: f"t.{b}" for b in INV_BUCKETS},
        "n_levels": cnt("inventory_levels", "inventory_item_id"),
        "levels_onhand": csum("inventory_levels", "inventory_item_id", "onhand"),
        "levels_committed": csum("inventory_levels", "inventory_item_id", "committed"),
        "levels_unfulfillable": csum("inventory_levels", "inventory_item_id", "unfulfillable"),
        "levels_awaiting": csum("inventory_levels", "inventory_item_id", "awaiting"),
        "n_locations": cnt("inventory_location_levels", "inventory_item_id"),
        "locations_quantity": csum("inventory_location_levels", "inventory_item_id", "quantity"),
        "n_lots": cnt("inventory_lots", "inventory_item_id")}),
    "products": ("products", product_truth, {
        "sku": "t.sku", "active": "t.active", "is_kit": "t.is_kit", "unit_price": "t.unit_price::text",
        "n_inventory_items": cnt("product_inventory_items", "product_id"),
        "sum_unit_quantity": csum("product_inventory_items", "product_id", "unit_quantity"),
        "n_supplier_products": cnt("product_supplier_products", "product_id")}),
    "warehouses": ("warehouses", warehouse_truth, {"name": "t.name", "code": "t.code", "city": "t.city"}),
    "warehouse_locations": ("warehouse_locations", location_truth,
                            {"warehouse_id": "t.warehouse_id", "name": "t.name", "type": "t.type"}),
    "shipping_methods": ("shipping_methods", shipping_truth,
                         {"name": "t.name", "carrier_id": "t.carrier_id", "carrier_name": "t.carrier_name"}),
    "returns": ("returns", return_truth, {
        "status": "t.status", "raw_status": "t.raw_status", "order_id": "t.order_id",
        "shipped_at": "(SELECT extract(epoch FROM c.shipped_at)::bigint FROM return_shipments c "
                      "WHERE c.connection_id = t.connection_id AND c.return_id = t.id "
                      "ORDER BY c.shipment_index LIMIT 1)",
        "n_line_items": cnt("return_line_items", "return_id"),
        "sum_received": csum("return_line_items", "return_id", "received_quantity"),
        "sum_restocked": csum("return_line_items", "return_id", "restocked_quantity"),
        "n_shipments": cnt("return_shipments", "return_id"),
        "n_shipment_line_items": cnt("return_shipment_line_items", "return_id"),
        "n_receiving_details": cnt("return_receiving_details", "return_id")}),
    "inbound_shipments": ("inbound_shipments", inbound_truth, {
        "status": "t.status", "raw_status": "t.raw_status", "warehouse_id": "t.warehouse_id",
        "sum_receipt_quantity": csum("inbound_shipment_receipt_line_items", "inbound_shipment_id", "quantity"),
        "expected_quantity_total": "t.expected_quantity_total",
        "received_quantity_total": "t.received_quantity_total",
        "n_line_items": cnt("inbound_shipment_line_items", "inbound_shipment_id"),
        "n_receipts": cnt("inbound_shipment_receipts", "inbound_shipment_id"),
        "n_receipt_line_items": cnt("inbound_shipment_receipt_line_items", "inbound_shipment_id")}),
    "bills": ("bills", bill_truth, {"amount": "t.amount::text", "object_id": "t.object_id",
                                    "charge_type": "t.charge_type", "currency": "t.currency"}),
    "warehouse_customers": ("warehouse_customers", warehouse_customer_truth, {
        "name": "t.name", "email": "t.email",
        "created_at": "extract(epoch FROM t.created_at)::bigint"}),
    "inventory_ledger": ("inventory_ledger", inventory_ledger_truth, {
        "inventory_item_id": "t.inventory_item_id", "sku": "t.sku", "quantity": "t.quantity",
        "ledger_event_type": "t.ledger_event_type", "object_id": "t.object_id",
        "warehouse_id": "t.warehouse_id",
        "entry_date": "extract(epoch FROM t.entry_date)::bigint"}),
    "order_channels": ("order_channels", named_truth, {
        "name": "t.name", "warehouse_customer_id": "t.warehouse_customer_id",
        "created_at": "extract(epoch FROM t.created_at)::bigint"}),
    "inbound_shipment_suppliers": ("inbound_shipment_suppliers", named_truth, {
        "name": "t.name", "warehouse_customer_id": "t.warehouse_customer_id",
        "created_at": "extract(epoch FROM t.created_at)::bigint"}),
    "labor_activities": ("labor_activities", labor_activity_truth, {
        "user_id": "t.user_id", "warehouse_id": "t.warehouse_id", "activity_type": "t.activity_type",
        "associated_object_type": "t.associated_object_type",
        "associated_object_id": "t.associated_object_id", "quantity": "t.quantity",
        "activity_start_time": "extract(epoch FROM t.activity_start_time)::bigint",
        "activity_end_time": "extract(epoch FROM t.activity_end_time)::bigint"}),
    "order_packs": ("order_packs", order_pack_truth, {
        "order_id": "t.order_id", "n_packs": cnt("order_pack_packs", "order_id"),
        "n_pack_line_items": cnt("order_pack_pack_line_items", "order_id"),
        "sum_packed": csum("order_pack_pack_line_items", "order_id", "quantity"),
        "n_order_line_items": cnt("order_pack_order_line_items", "order_id"),
        "shipping_method_id": "t.shipping_method_id"}),
}
DECIMAL_FIELDS = {"total_price", "total_tax", "unit_cost", "unit_price", "amount"}


# ---- I/O ----

def http_json(url, api_key):
    last = None
    for attempt in range(HTTP_RETRIES):
        req = urllib.request.Request(url, headers={"x-trackstar-api-key": api_key})
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as r:
                return json.loads(r.read(), parse_float=Decimal)
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
            if e.code < 500 and e.code != 429:
                raise
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            last = str(e)
        time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"{url}: {last}")


def truth_records(sim, api_key, resource, conn):
    token = None
    while True:
        q = {"connection_id": conn, "limit": PAGE_LIMIT}
        if token:
            q["page_token"] = token
        page = http_json(f"{sim}/_sim/truth/{resource}?{urllib.parse.urlencode(q)}", api_key)
        yield from page.get("data") or []
        token = page.get("next_token")
        if not token:
            return


def psql_json(db, sql):
    out = subprocess.run(["psql", db, "-XtAq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"psql: {out.stderr.strip()}")
    return json.loads(out.stdout or "null")


def sql_list(ids):
    return ",".join("'" + i.replace("'", "''") + "'" for i in ids)


def db_rows(db, table, fields, conns):
    rows = {}
    cols = ", ".join(f"{expr} AS {name}" for name, expr in fields.items())
    for i in range(0, len(conns), MAX_IDS_PER_QUERY):
        part = conns[i:i + MAX_IDS_PER_QUERY]
        sql = (f"SELECT coalesce(json_agg(x), '[]') FROM (SELECT t.connection_id AS _conn, t.id AS _id, "
               f"t.record->>'id' AS _record_id, t.source AS _source, "
               f"extract(epoch FROM t.source_updated_at)::bigint AS _updated, "
               f"extract(epoch FROM t.trackstar_updated_at)::bigint AS _ts_updated, {cols} "
               f"FROM {table} t WHERE t.connection_id IN ({sql_list(part)}) "
               # a row deleted after a complete listing missed it is no longer held
               f"AND t.deleted_at IS NULL) x")
        for r in psql_json(db, sql):
            rows[(r["_conn"], r["_id"])] = r
    return rows


def norm_db(field, v):
    if field in DECIMAL_FIELDS:
        return dec(v)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--connections", default="")
    ap.add_argument("--all", action="store_true", help="every live connection of the simulator")
    ap.add_argument("--max-report", type=int, default=15)
    ap.add_argument("--quiet", action="store_true", help="only the last summary line")
    ap.add_argument("--summary-json")
    ap.add_argument("--ties-ok", action="store_true",
                    help="a webhook's row of the truth's version with other content is not a difference")
    ap.add_argument("--skip", default="",
                    help="resources left out (comma-separated), e.g. those without webhooks while "
                         "the fetcher is stopped")
    a = ap.parse_args()

    try:
        sim_conns = http_json(f"{a.sim}/_sim/connections", a.api_key).get("data") or []
    except Exception as e:  # noqa: BLE001 - any failure to reach the simulator is a usage error here
        print(f"compare: cannot read the simulator's connections: {e}")
        return 2
    live = {c["connection_id"] for c in sim_conns if c.get("live")}
    conns = sorted(live) if a.all else [c for c in a.connections.split(",") if c]
    if not conns:
        print("compare: no connection to compare")
        return 2

    problems = []
    ties = []
    summary = {"connections": len(conns), "entities": {}}

    def problem(kind, msg):
        problems.append((kind, msg))

    skip = {r for r in a.skip.split(",") if r}
    unknown = skip - set(ENTITIES)
    if unknown:
        print(f"compare: --skip names no entity: {sorted(unknown)}")
        return 2
    for resource, (table, mapper, fields) in ENTITIES.items():
        if resource in skip:
            if not a.quiet:
                print(f"  {resource:<20} left out (--skip)")
            continue
        t0 = time.time()
        truth = {}
        for c in conns:
            for rec in truth_records(a.sim, a.api_key, resource, c):
                rid = str(rec.get("id"))
                if (c, rid) in truth:
                    problem("truth_duplicate", f"{resource} {c} {rid}: twice in the truth (simulator bug)")
                truth[(c, rid)] = rec
        rows = db_rows(a.db, table, fields, conns)
        # rows a complete listing found gone (deleted_at set): left out of rows above
        deleted = psql_json(a.db, f"SELECT count(*) FROM {table} WHERE deleted_at IS NOT NULL "
                                  f"AND connection_id IN ({sql_list(conns)})")
        missing = [k for k in truth if k not in rows]
        extra = [k for k in rows if k not in truth]
        mismatched = 0
        sources = {}
        for k, rec in truth.items():
            row = rows.get(k)
            if row is None:
                continue
            sources[row["_source"]] = sources.get(row["_source"], 0) + 1
            want = {"_updated": ts(rec.get("updated_date")), "_ts_updated": ts(rec.get("trackstar_updated_date")),
                    "_record_id": k[1], **mapper(rec)}
            diffs = {}
            for f, w in want.items():
                got = norm_db(f, row.get(f))
                if got != w:
                    diffs[f] = f"{f}: db={got!r} truth={w!r}"
            if diffs:
                msg = f"{resource} {k[0]} {k[1]}: " + "; ".join(diffs.values())
                same_version = "_updated" not in diffs and "_ts_updated" not in diffs
                if a.ties_ok and same_version and row["_source"] != "poll":
                    ties.append(msg)
                    continue
                mismatched += 1
                problem("mismatch", msg)
        for k in missing:
            problem("missing", f"{resource} {k[0]} {k[1]}: in the truth, not in {table}")
        for k in extra:
            problem("extra", f"{resource} {k[0]} {k[1]}: in {table}, not in the truth")
        summary["entities"][resource] = {"truth": len(truth), "db": len(rows), "missing": len(missing),
                                         "extra": len(extra), "mismatched": mismatched, "sources": sources,
                                         "deleted": deleted}
        if not a.quiet:
            src = ", ".join(f"{n} from {s}" for s, n in sorted(sources.items()))
            print(f"  {resource:<20} truth {len(truth):>6}  db {len(rows):>6}  missing {len(missing):>4}  "
                  f"extra {len(extra):>4}  mismatched {mismatched:>4}  deleted {deleted:>4}  ({src or 'none'}; "
                  f"{len(fields) + 3} fields each, {time.time() - t0:.1f}s)")

    # Connections: one active row per live connection, the token seen but not stored.
    rows = psql_json(a.db, "SELECT coalesce(json_agg(x), '[]') FROM (SELECT connection_id, status, "
                           "access_token_present, created_record::text LIKE '%access_token\"%' AS leaked "
                           f"FROM connections WHERE connection_id IN ({sql_list(conns)})) x")
    by_id = {r["connection_id"]: r for r in rows}
    for c in conns:
        r = by_id.get(c)
        want_status = "active" if c in live else "deleted"
        if r is None:
            problem("missing", f"connections {c}: no row")
        elif r["status"] != want_status or r["access_token_present"] is not True or r["leaked"]:
            problem("mismatch", f"connections {c}: status={r['status']} (want {want_status}) "
                                f"access_token_present={r['access_token_present']} token_stored={r['leaked']}")
    summary["connection_rows"] = len(rows)

    kinds = {}
    for k, _ in problems:
        kinds[k] = kinds.get(k, 0) + 1
    summary["problems"] = kinds
    summary["ties"] = len(ties)
    if a.summary_json:
        with open(a.summary_json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
    for _, msg in problems[: a.max_report]:
        print(f"  DIFF  {msg}")
    if len(problems) > a.max_report:
        print(f"  ... and {len(problems) - a.max_report} more")
    for msg in ties[: a.max_report]:
        print(f"  TIE   {msg}")
    n_truth = sum(e["truth"] for e in summary["entities"].values())
    if ties:
        print(f"compare: {len(ties)} ties (a version Trackstar's dates cannot order; a poll settles them)")
    verdict = "equal" if not problems else "DIFFERENT: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(f"compare: {len(conns)} connections, {n_truth} records in the truth, {len(rows)} connection rows: {verdict}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
