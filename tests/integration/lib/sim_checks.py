#!/usr/bin/env python3
"""sim_checks.py - client-side checks of bin/trackstar-sim, one per subcommand.

Each subcommand prints "ok: ..." and exits 0, or "FAIL: ..." and exits 1.
Environment: SIM_URL, SIM_API_KEY, WEBHOOK_LOG (receiver log), RECEIVER_URL, FIELDS_DIR.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

URL = os.environ.get("SIM_URL", "http://127.0.0.1:8090")
KEY = os.environ.get("SIM_API_KEY", "sim_api_key_dev")
LOG = os.environ.get("WEBHOOK_LOG", "")
RECEIVER = os.environ.get("RECEIVER_URL", "")
FIELDS_DIR = os.environ.get("FIELDS_DIR", "tests/simulator/fields")

# list endpoint, truth resource, field list
RESOURCES = [
    ("/wms/orders", "orders"), ("/wms/inventory", "inventory"), ("/wms/products", "products"),
    ("/wms/warehouses", "warehouses"), ("/wms/shipping-methods", "shipping_methods"),
    ("/wms/returns", "returns"), ("/wms/inbound-shipments", "inbound_shipments"),
    ("/wms/billing", "bills"), ("/wms/warehouse-customers", "warehouse_customers"),
    ("/wms/labor-activities", "labor_activities"),
]


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def http(method, path, token=None, body=None, params=None, key=KEY, retry_429=True):
    """Returns (status, headers, parsed body). Retries 429 after retry-after."""
    url = URL + path
    if params:
        url += "?" + urllib.parse.urlencode(params, safe="[],:")
    data = json.dumps(body).encode() if body is not None else None
    for _ in range(50):
        req = urllib.request.Request(url, data=data, method=method)
        if key:
            req.add_header("x-trackstar-api-key", key)
        if token:
            req.add_header("x-trackstar-access-token", token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, dict(r.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            if e.code == 429 and retry_429:
                time.sleep(float(e.headers.get("retry-after", "1")))
                continue
            return e.code, dict(e.headers), json.loads(raw) if raw else None
    raise Fail("still rate limited after 50 tries: " + path)


def conns():
    st, _, b = http("GET", "/_sim/connections")
    check(st == 200, "GET /_sim/connections -> %d" % st)
    return [c for c in b["data"] if c["live"]]


def first_conn():
    return conns()[0]


def page_all(path, token, params, limit):
    """Follow next_token, repeating the filters on every page. Returns (records, pages)."""
    out, pages, tok = [], 0, None
    while True:
        p = dict(params)
        p["limit"] = str(limit)
        if tok:
            p["page_token"] = tok
        st, h, b = http("GET", path, token, params=p)
        check(st == 200, "%s %s -> %d %s" % (path, p, st, b))
        check("X-Request-Id" in h or "x-request-id" in h, "no X-Request-Id on " + path)
        check(b["total_count"] == len(b["data"]), "total_count != items in page")
        check(len(b["data"]) <= limit, "page larger than limit")
        out += b["data"]
        pages += 1
        tok = b["next_token"]
        if tok is None:
            return out, pages
        check(pages < 10000, "pagination does not end")


def truth(conn_id, resource, warehouse_id=None):
    params = {"connection_id": conn_id}
    if warehouse_id:
        params["warehouse_id"] = warehouse_id
    recs, _ = page_all("/_sim/truth/" + resource, None, params, 1000)
    return recs


# ---- checks ---------------------------------------------------------------------------

def cmd_paginate():
    """Every list endpoint pages correctly over > 1 page, with filters repeated."""
    c = first_conn()
    tok, cid = c["access_token"], c["connection_id"]
    total_pages = 0
    for path, res in RESOURCES:
        t = truth(cid, res)
        check(len(t) > 0, "truth for %s is empty" % res)
        # force at least 3 pages unless the set is tiny
        limit = 1000 if len(t) > 2000 else max(1, len(t) // 3)
        got, pages = page_all(path, tok, {}, limit)
        total_pages += pages
        check([r["id"] for r in got] == [r["id"] for r in t],
              "%s: paged ids differ from truth (%d vs %d)" % (res, len(got), len(t)))
        check(len(set(r["id"] for r in got)) == len(got), "%s: duplicate ids across pages" % res)
        check(pages > 1 or len(t) == 1, "%s: only one page" % res)
        check(got == t, "%s: records differ from truth" % res)
        # the same with a date filter that keeps a slice
        dates = sorted(r["updated_date"] for r in t)
        cut = dates[len(dates) // 2]
        sub, _ = page_all(path, tok, {"updated_date[gte]": cut}, max(1, limit // 2))
        want = [r["id"] for r in t if r["updated_date"] >= cut]
        check([r["id"] for r in sub] == want, "%s: updated_date[gte] paging differs" % res)
    # resource-specific filters on orders, repeated on every page
    t = truth(cid, "orders")
    got, pages = page_all("/wms/orders", tok, {"status[in]": "fulfilled,open", "type[neq]": "b2b"}, 50)
    want = [r["id"] for r in t if r["status"] in ("fulfilled", "open") and r["type"] != "b2b"]
    check(pages > 1, "filtered orders fit in one page")
    check([r["id"] for r in got] == want, "orders status[in]/type[neq] differ from truth")
    got, _ = page_all("/wms/orders", tok, {"order_number[contains-insensitive]": "#12"}, 30)
    check([r["id"] for r in got] == [r["id"] for r in t if "#12" in r["order_number"]], "order_number filter")
    inv = truth(cid, "inventory")
    got, _ = page_all("/wms/inventory", tok, {"active": "true", "sku[contains]": "-0"}, 7)
    check([r["id"] for r in got] == [r["id"] for r in inv if r["active"] and "-0" in r["sku"]], "inventory filters")
    # locations, per warehouse
    for wh in truth(cid, "warehouses"):
        lt = truth(cid, "warehouse_locations", wh["id"])
        got, _ = page_all("/wms/warehouses/%s/locations" % wh["id"], tok, {}, 3)
        check([r["id"] for r in got] == [r["id"] for r in lt], "locations of %s differ" % wh["id"])
        check(all(r["warehouse_id"] == wh["id"] for r in got), "location of another warehouse listed")
    # ids[in] overrides every other filter
    ids = [r["id"] for r in t[:5]]
    got, _ = page_all("/wms/orders", tok, {"ids[in]": ",".join(ids), "status": "no-such-status"}, 1000)
    check(sorted(r["id"] for r in got) == sorted(ids), "ids[in] did not override status")
    # a page token reused with different filters is refused
    st, _, b = http("GET", "/wms/orders", tok, params={"limit": "10", "status": "fulfilled"})
    st, _, b = http("GET", "/wms/orders", tok, params={"limit": "10", "status": "open", "page_token": b["next_token"]})
    check(st == 422 and "page_token" in json.dumps(b), "changed filters with a page token -> %d" % st)
    # get by id, and 404
    st, _, b = http("GET", "/wms/orders/" + t[0]["id"], tok)
    check(st == 200 and b["data"] == t[0], "GET /wms/orders/{id}")
    st, _, b = http("GET", "/wms/orders/ord_nope_000001", tok)
    check(st == 404 and b.get("id") == "ord_nope_000001" and "error" in b, "404 body %s" % b)
    return "%d resources, %d pages, filters and tokens" % (len(RESOURCES), total_pages)


def load_fields(kind):
    with open(os.path.join(FIELDS_DIR, kind + ".txt")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def check_shape(kind, rec, fields, extra_top, seen):
    """Every object in rec has exactly the keys the field list gives at its path."""
    children = {}
    for p in fields:
        parent, _, name = p.rpartition(".")
        children.setdefault(parent, set()).add(name)

    def walk(v, path):
        if isinstance(v, dict):
            if path in children or path == "":
                want = set(children.get(path, set()))
                if path == "":
                    want |= set(extra_top)
                keys = set(v.keys())
                check(keys == want, "%s %s at '%s': missing %s, unexpected %s" % (
                    kind, rec.get("id", rec.get("connection_id")), path or "<top>",
                    sorted(want - keys), sorted(keys - want)))
                for k, x in v.items():
                    sub = (path + "." if path else "") + k
                    seen.add(sub)
                    walk(x, sub)
            elif path + ".*" in children:  # a map: every value has the listed shape
                for x in v.values():
                    seen.add(path + ".*")
                    walk(x, path + ".*")
            # else: free-form (additional_fields)
        elif isinstance(v, list):
            for x in v:
                seen.add(path + "[]")
                walk(x, path + "[]")

    walk(rec, "")


def cmd_fields():
    """Every record served carries exactly the fields of its OpenAPI schema."""
    c = first_conn()
    tok, cid = c["access_token"], c["connection_id"]
    extra = ["trackstar_created_date", "trackstar_updated_date"]
    n = 0
    for path, res in RESOURCES + [(None, "warehouse_locations")]:
        fields = load_fields(res)
        seen = set()
        recs = truth(cid, res)
        if path:  # what a client gets, not only the truth endpoint
            st, _, b = http("GET", path, tok, params={"limit": "1000"})
            check(st == 200, path)
            recs += b["data"]
            st, _, one = http("GET", path + "/" + recs[0]["id"], tok)
            check(st == 200, "get one " + path)
            recs.append(one["data"])
        for r in recs:
            check_shape(res, r, fields, extra, seen)
            n += 1
        never = [f for f in fields if f not in seen]
        check(not never, "%s: fields never observed in %d records: %s" % (res, len(recs), never))
    st, _, b = http("GET", "/connections")
    for conn in b["data"]:
        check_shape("connections", conn, load_fields("connections"),
                    ["integration_display_name", "historical_sync_completed"], set())
        n += 1
    return "%d records match their field lists" % n


def ledger_sums(entries):
    """(inventory_item_id, warehouse_id) -> the entries' quantities summed."""
    sums = {}
    for e in entries:
        k = (e["inventory_item_id"], e["warehouse_id"])
        sums[k] = sums.get(k, 0) + e["quantity"]
    return sums


def check_ledger_matches_inventory(cid):
    """Every item's ledger entries, summed per warehouse, give its onhand there."""
    sums = ledger_sums(truth(cid, "inventory_ledger"))
    inv = truth(cid, "inventory")
    pairs = 0
    for item in inv:
        by_wh = item["inventory_by_warehouse_id"] or {}
        for wh, q in by_wh.items():
            got = sums.pop((item["id"], wh), 0)
            check(got == q["onhand"], "%s in %s: ledger sums to %d, onhand %d" % (item["id"], wh, got, q["onhand"]))
            pairs += 1
    # entries of a warehouse the item has no level in must cancel out
    check(all(v == 0 for v in sums.values()), "ledger entries without an inventory level: %s" %
          {k: v for k, v in sums.items() if v})
    return pairs


def cmd_ledger():
    """The inventory ledger, enabled on request: 501 until asked for; then served, paged
    and filtered like other incremental lists, with exactly its schema's fields; every
    change of onhand appends one entry (sums per item and warehouse equal onhand) and its
    inventory_ledger.created webhook."""
    off = first_conn()
    check("get_inventory_ledger" not in conn_info(off["connection_id"])["available_actions"],
          "the ledger is in a default connection's available_actions")
    st, _, b = http("GET", "/wms/inventory/ledger", off["access_token"])
    check(st == 501 and "get_inventory_ledger" in b.get("error", ""), "ledger off -> %d %s" % (st, b))
    check(truth(off["connection_id"], "inventory_ledger") == [], "a connection without the ledger keeps entries")
    st, _, b = http("POST", "/_sim/connections", body={"ledger": "yes"})
    check(st == 422, "ledger: \"yes\" -> %d" % st)
    st, _, c = http("POST", "/_sim/connections", body={"ledger": True, "orders": 300, "products": 30,
                                                        "inbound_shipments": 20, "returns": 20})
    check(st == 201, "POST /_sim/connections ledger -> %d %s" % (st, c))
    cid, tok = c["connection_id"], c["access_token"]
    check("get_inventory_ledger" in conn_info(cid)["available_actions"], "ledger not in available_actions")
    opening = truth(cid, "inventory_ledger")
    check(opening and all(e["event_type"] == "adjustment" for e in opening), "no opening balances")
    pairs = check_ledger_matches_inventory(cid)
    # the WMS moves stock: shipments, receipts, restocks and adjustments append entries
    before = len(read_log())
    for _ in range(6):
        crawl(cid, 60)
    t = truth(cid, "inventory_ledger")
    new = t[len(opening):]
    check(len(new) > 0, "60 x 6 changes appended no ledger entry")
    check(any(e["event_type"] == "order_shipment" and e["quantity"] < 0 and e["object_type"] == "order"
              for e in new), "no order shipment took stock out")
    check(all(e["entry_date"] == e["created_date"] == e["updated_date"] for e in t), "an entry changed")
    pairs = check_ledger_matches_inventory(cid)
    got = wait_log(lambda e: e["body"].get("event_type") == "inventory_ledger.created"
                   and e["body"]["connection_id"] == cid, n=len(new))
    check(len(got) >= len(new), "%d inventory_ledger.created for %d new entries" % (len(got), len(new)))
    check({e["body"]["data"]["id"] for e in got} == {e["id"] for e in new}, "webhooks for other entries")
    events = {e["svix_id"] for e in got}  # a retried delivery keeps its svix-id
    check(len(events) == len(new), "%d inventory_ledger.created events for %d entries" % (len(events), len(new)))
    check(all(e["verified"] for e in read_log()[before:]), "a delivery did not verify")
    # what a client lists equals the truth, over pages, with its filters
    fields = load_fields("inventory_ledger")
    seen = set()
    got, pages = page_all("/wms/inventory/ledger", tok, {}, max(1, len(t) // 4))
    check(pages > 1, "the ledger fit in one page")
    check(got == t, "listed entries differ from the truth")
    for r in got:
        check_shape("inventory_ledger", r, fields, ["trackstar_created_date", "trackstar_updated_date"], seen)
    never = [f for f in fields if f not in seen]
    check(not never, "inventory_ledger: fields never observed: %s" % never)
    sub, _ = page_all("/wms/inventory/ledger", tok, {"event_type": "order_shipment"}, 25)
    check([r["id"] for r in sub] == [r["id"] for r in t if r["event_type"] == "order_shipment"],
          "event_type filter differs from the truth")
    cut = sorted(r["updated_date"] for r in t)[len(t) // 2]
    sub, _ = page_all("/wms/inventory/ledger", tok, {"updated_date[gte]": cut}, 40)
    check([r["id"] for r in sub] == [r["id"] for r in t if r["updated_date"] >= cut], "updated_date[gte] differs")
    st, _, _ = http("GET", "/wms/inventory/ledger/" + t[0]["id"], tok)
    check(st == 404, "GET one ledger entry -> %d (the API has none)" % st)
    st, _, b = http("GET", "/wms/inventory/ledger", tok, params={"quantity": "1"})
    check(st == 422, "unknown filter -> %d" % st)
    return "%d entries (%d new, one webhook each) sum to onhand in %d item levels; %d pages" % (
        len(t), len(new), pairs, pages)


def cmd_named():
    """Order channels and suppliers: lists only, read with get_orders / get_inbound_shipments
    (no function and no webhooks of their own), paged like every list, exactly their
    schema's fields; their ids are the ones orders, inbound shipments and products
    reference; crawls rename them (updated_date moves) and sometimes remove one, which
    leaves the list and the truth. On a connection of its own: the checks before this one
    crawl the first, and a crawl may remove channels down to two."""
    st, _, c = http("POST", "/_sim/connections", body={})
    check(st == 201, "POST /_sim/connections -> %d" % st)
    cid, tok = c["connection_id"], c["access_token"]
    info = conn_info(cid)
    for fn in ("get_order_channels", "get_suppliers", "get_inbound_shipment_suppliers"):
        check(fn not in info["available_actions"], "%s in available_actions" % fn)
    check(sorted(s["function_name"] for s in info["sync_schedules"])
          == sorted(set(s["function_name"] for s in info["sync_schedules"])), "a schedule twice")
    extra = ["trackstar_created_date", "trackstar_updated_date"]
    n = 0
    for path, res, refs in (("/wms/orders/channels", "order_channels",
                             [("/wms/orders", "channel_object", "channel_id")]),
                            ("/wms/inbound-shipments/suppliers", "inbound_shipment_suppliers",
                             [("/wms/inbound-shipments", "supplier_object", "supplier_id"),
                              ("/wms/products", "supplier_object", "supplier_id")])):
        t = truth(cid, res)
        check(len(t) >= 3, "%s: %d records" % (res, len(t)))
        got, pages = page_all(path, tok, {}, 2)
        check(pages > 1, "%s fit in one page of 2" % res)
        check(sorted(r["id"] for r in got) == sorted(r["id"] for r in t), "%s: listed ids differ from the truth" % res)
        fields, seen = load_fields(res), set()
        for r in got + t:
            check_shape(res, r, fields, extra, seen)
            n += 1
        never = [f for f in fields if f not in seen]
        check(not never, "%s: fields never observed: %s" % (res, never))
        ids = {r["id"] for r in t}
        for rpath, obj, key in refs:
            st, _, b = http("GET", rpath, tok, params={"limit": "1000"})
            check(st == 200, rpath)
            named = {r[obj][key] for r in b["data"] if r.get(obj)}
            # the first four of the list; one the WMS removed since is still named
            first = {i for i in named if i.rsplit("_", 1)[-1] in ("000001", "000002", "000003", "000004")}
            check(named and named == first and named & ids,
                  "%s name %s that are not the list's: %s (list %s)" % (rpath, res, sorted(named), sorted(ids)))
        st, _, _ = http("GET", path + "/" + t[0]["id"], tok)
        check(st == 404, "GET one of %s -> %d (the API has none)" % (res, st))
        st, _, _ = http("GET", path, tok, params={"warehouse_customer_id": "wc_x"})
        check(st == 200, "warehouse_customer_id filter -> %d" % st)
    # the WMS renames and removes them; the copy follows at get_orders' crawl, silently
    before = {r["id"]: r for r in truth(cid, "order_channels")}
    start = len(read_log())
    for _ in range(80):
        crawl(cid, 20, functions=["get_orders", "get_inbound_shipments"])
        after = {r["id"]: r for r in truth(cid, "order_channels")}
        renamed = [i for i in after if i in before and after[i]["updated_date"] != before[i]["updated_date"]]
        removed = [i for i in before if i not in after]
        if renamed and removed:
            break
    check(renamed, "no channel renamed in 80 crawls")
    check(any(after[i]["name"] != before[i]["name"] for i in renamed), "a rename kept the name")
    check(removed, "no channel removed in 80 crawls")
    listed, _ = page_all("/wms/orders/channels", tok, {}, 3)
    check(sorted(r["id"] for r in listed) == sorted(after), "the list differs from the truth after changes")
    wait_sender_idle()
    sent = [e for e in read_log()[start:] if e["body"].get("event_type", "").split(".")[0]
            in ("order-channel", "order_channel", "inbound-shipment-supplier", "supplier")]
    check(not sent, "webhooks sent for channels or suppliers: %s" % sent[:2])
    # a connection without get_orders has no channels (501 naming get_orders)
    st, _, c2 = http("POST", "/_sim/connections", body={"available_actions": ["get_products"], "orders": 10})
    check(st == 201, "POST /_sim/connections -> %d" % st)
    st, _, b = http("GET", "/wms/orders/channels", c2["access_token"])
    check(st == 501 and "get_orders" in b.get("error", ""), "channels without get_orders -> %d %s" % (st, b))
    return "%d records; %d channels renamed, %d removed, no webhooks" % (n, len(renamed), len(removed))


PACK_STATUSES = ("packed", "partially_fulfilled", "fulfilled")


def expected_packs(order):
    """What GET /wms/orders/{id}/packs must hold for an order: one pack per package of its
    shipments (pack_id = package_id, its measurements and items) once it is in a packing
    status, none before."""
    if order["status"] not in PACK_STATUSES:
        return []
    return [{"pack_id": p["package_id"], "measurements": p["measurements"],
             "line_items": [{"inventory_item_id": li["inventory_item_id"], "sku": li["sku"],
                             "quantity": li["quantity"]} for li in p["line_items"]]}
            for s in order.get("shipments") or [] for p in s.get("packages") or []]


def cmd_packs():
    """Order packs (GET /wms/orders/{id}/packs): read with get_orders, one object per
    order ({"data": {...}}, no id or date), its packs the packages of its shipments;
    an order not packed has none, an unknown order is a 404; the truth holds every
    order in a packing status as the fetcher publishes it (id, updated_date, order_id in
    front); crawls never move an order out of a packing status."""
    st, _, c = http("POST", "/_sim/connections", body={"orders": 300})
    check(st == 201, "POST /_sim/connections -> %d" % st)
    cid, tok = c["connection_id"], c["access_token"]
    orders, _ = page_all("/wms/orders", tok, {}, 1000)
    check(orders, "no orders")
    by_status = {}
    for o in orders:
        by_status.setdefault(o["status"] in PACK_STATUSES, []).append(o)
    check(by_status.get(True) and by_status.get(False),
          "need packed and unpacked orders: %s" % {k: len(v) for k, v in by_status.items()})
    n_packs = 0
    for o in by_status[True][:40] + by_status[False][:10]:
        st, _, b = http("GET", "/wms/orders/%s/packs" % o["id"], tok)
        check(st == 200, "packs of %s -> %d %s" % (o["id"], st, b))
        d = b["data"]
        check(isinstance(d, dict) and "id" not in d and "updated_date" not in d,
              "packs of %s: not one object without id/date: %s" % (o["id"], str(d)[:200]))
        check(set(d) == {"packs", "carrier", "carrier_id", "carrier_name", "scac", "shipping_method",
                         "shipping_method_id", "shipping_method_name", "ship_to_address",
                         "order_line_items", "additional_fields"}, "packs fields: %s" % sorted(d))
        check(d["packs"] == expected_packs(o), "packs of %s (%s) differ from its packages" % (o["id"], o["status"]))
        check([li["product_id"] for li in d["order_line_items"]] == [li["product_id"] for li in o["line_items"]],
              "order_line_items of %s differ" % o["id"])
        check(d["ship_to_address"] == o["ship_to_address"], "ship_to_address of %s differs" % o["id"])
        n_packs += len(d["packs"])
    check(n_packs > 0, "no packs among the packed orders")
    st, _, b = http("GET", "/wms/orders/ord_nope_999999/packs", tok)
    check(st == 404, "packs of an unknown order -> %d" % st)
    # the truth: every packed order, as the fetcher publishes it
    t = truth(cid, "order_packs")
    want = {o["id"]: o for o in by_status[True]}
    check(sorted(r["id"] for r in t) == sorted(want), "truth ids differ from the packed orders")
    for r in t:
        check(list(r)[:3] == ["id", "updated_date", "order_id"], "truth record starts %s" % list(r)[:3])
        o = want[r["id"]]
        check(r["order_id"] == o["id"] and r["updated_date"] == o["updated_date"], "truth identity of %s" % o["id"])
        check(r["packs"] == expected_packs(o), "truth packs of %s differ" % o["id"])
    # crawls move orders on, never out of a packing status
    packed = set(want)
    for _ in range(5):
        crawl(cid, 20, functions=["get_orders"])
    now, _ = page_all("/wms/orders", tok, {}, 1000)
    left = [o["id"] + ":" + o["status"] for o in now if o["id"] in packed and o["status"] not in PACK_STATUSES]
    check(not left, "orders left a packing status: %s" % left[:5])
    # read with get_orders: a connection without it has none
    st, _, c2 = http("POST", "/_sim/connections", body={"available_actions": ["get_products"], "orders": 10})
    check(st == 201, "POST /_sim/connections -> %d" % st)
    st, _, b = http("GET", "/wms/orders/%s/packs" % orders[0]["id"], c2["access_token"])
    check(st == 501 and "get_orders" in b.get("error", ""), "packs without get_orders -> %d %s" % (st, b))
    return "%d packed orders in the truth, %d packs checked, unknown order 404" % (len(t), n_packs)


LABOR_OBJECT_PREFIX = {"order": "ord_", "inbound_shipment": "asn_", "return": "ret_", "inventory": "inv_"}


def cmd_labor():
    """Labor activities: in every default connection's available_actions, 501 where the
    integration lacks them; generated with users, types, associated records and some in
    progress (end null); crawls end activities in progress (labor_activity.updated, the end
    set) and start new ones (labor_activity.created), through the webhook machinery;
    served, paged, filtered and fetched by id like other incremental lists."""
    st, _, cool = http("POST", "/_sim/connections", body={"integration_name": "cool-wms"})
    check(st == 201, "POST /_sim/connections cool-wms -> %d %s" % (st, cool))
    check("get_labor_activities" not in conn_info(cool["connection_id"])["available_actions"],
          "cool-wms has get_labor_activities")
    st, _, b = http("GET", "/wms/labor-activities", cool["access_token"])
    check(st == 501 and "get_labor_activities" in b.get("error", ""), "labor on cool-wms -> %d %s" % (st, b))
    check(truth(cool["connection_id"], "labor_activities") == [], "cool-wms keeps labor activities")
    st, _, c = http("POST", "/_sim/connections", body={"orders": 300, "products": 30, "inbound_shipments": 20,
                                                        "returns": 20, "labor_activities": 120})
    check(st == 201, "POST /_sim/connections -> %d %s" % (st, c))
    cid, tok = c["connection_id"], c["access_token"]
    check("get_labor_activities" in conn_info(cid)["available_actions"], "labor not in available_actions")
    t0 = truth(cid, "labor_activities")
    check(len(t0) > 50, "only %d labor activities in the copy" % len(t0))
    running0 = {a["id"] for a in t0 if a["activity_end_time"] is None}
    check(running0, "no activity in progress")
    check(len(running0) < len(t0), "every activity in progress")
    for a in t0:
        check(a["activity_type"] in ("pick", "pack", "put_away", "transfer", "receive"), "type %s" % a)
        check(a["activity_end_time"] is None or a["activity_end_time"] >= a["activity_start_time"], "ends early %s" % a)
        ot, oid = a["associated_object_type"], a["associated_object_id"]
        check((ot is None) == (oid is None), "object type without id %s" % a)
        check(ot is None or oid.startswith(LABOR_OBJECT_PREFIX[ot]), "object %s %s" % (ot, oid))
        check(a["user_id"].startswith("usr_") and a["warehouse_id"].startswith("wh_"), "user/warehouse %s" % a)
    check({a["associated_object_type"] for a in t0} >= {"order", "inbound_shipment", "inventory"},
          "associated object types: %s" % {a["associated_object_type"] for a in t0})
    check(any(a["quantity"] is None for a in t0) and any(a["user_last_name"] is None for a in t0),
          "no null quantity or last name")
    # the WMS works on: activities in progress end, new ones start
    before = len(read_log())
    for _ in range(6):
        crawl(cid, 40, functions=["get_labor_activities"])
    t = truth(cid, "labor_activities")
    by_id = {a["id"]: a for a in t}
    ended = [i for i in running0 if by_id[i]["activity_end_time"] is not None]
    new = [a for a in t if a["id"] not in {x["id"] for x in t0}]
    check(ended, "no activity in progress ended in 240 changes")
    check(new, "no activity started in 240 changes")
    check(all(by_id[i]["updated_date"] > {a["id"]: a for a in t0}[i]["updated_date"] for i in ended),
          "an ended activity kept its updated_date")
    wait_sender_idle()
    got = [e for e in read_log()[before:] if e["body"].get("event_type", "").startswith("labor_activity.")
           and e["body"]["connection_id"] == cid]
    kinds = {}
    for e in got:
        kinds.setdefault(e["body"]["event_type"], set()).add(e["body"]["data"]["id"])
    check(kinds.get("labor_activity.created", set()) >= {a["id"] for a in new},
          "%d labor_activity.created for %d new, missing %s" % (
              len(kinds.get("labor_activity.created", ())), len(new),
              [a for a in new if a["id"] not in kinds.get("labor_activity.created", set())][:2]))
    check(kinds.get("labor_activity.updated", set()) >= set(ended),
          "%d labor_activity.updated for %d ended" % (len(kinds.get("labor_activity.updated", ())), len(ended)))
    check(all(e["verified"] for e in read_log()[before:]), "a delivery did not verify")
    # what a client lists equals the truth, over pages, with its filters
    got, pages = page_all("/wms/labor-activities", tok, {}, max(1, len(t) // 4))
    check(pages > 1 and got == t, "listed activities differ from the truth (%d pages)" % pages)
    sub, _ = page_all("/wms/labor-activities", tok, {"activity_type": "pick"}, 10)
    check([r["id"] for r in sub] == [r["id"] for r in t if r["activity_type"] == "pick"], "activity_type filter")
    sub, _ = page_all("/wms/labor-activities", tok, {"associated_object_type": "order"}, 10)
    check([r["id"] for r in sub] == [r["id"] for r in t if r["associated_object_type"] == "order"],
          "associated_object_type filter")
    u = t[0]["user_id"]
    sub, _ = page_all("/wms/labor-activities", tok, {"user_id": u}, 10)
    check([r["id"] for r in sub] == [r["id"] for r in t if r["user_id"] == u], "user_id filter")
    cut = sorted(r["activity_start_time"] for r in t)[len(t) // 2]
    sub, _ = page_all("/wms/labor-activities", tok, {"activity_start_time[gte]": cut}, 20)
    check([r["id"] for r in sub] == [r["id"] for r in t if r["activity_start_time"] >= cut],
          "activity_start_time[gte] filter")
    st, _, b = http("GET", "/wms/labor-activities/" + t[0]["id"], tok)
    check(st == 200 and b["data"] == t[0], "GET one labor activity -> %d" % st)
    st, _, b = http("GET", "/wms/labor-activities/la_nope_000001", tok)
    check(st == 404, "GET unknown labor activity -> %d" % st)
    st, _, b = http("GET", "/wms/labor-activities", tok, params={"quantity": "1"})
    check(st == 422, "unknown filter -> %d" % st)
    return "%d activities (%d in progress at first, %d ended, %d new, their webhooks); %d pages" % (
        len(t), len(running0), len(ended), len(new), pages)


def cmd_ratelimit():
    """The 11th GET within one second gets 429 with retry-after; other tokens unaffected."""
    cs = conns()
    tok = cs[0]["access_token"]
    for _ in range(3):  # retry if the burst straddled a second boundary
        # start at the top of a second no earlier check's GETs fell in: the window is fixed
        # per second, and the check before this one may have used this token this second
        time.sleep(1.01 - time.time() % 1)
        start = time.time()
        codes, last = [], None
        for _ in range(11):
            st, h, _ = http("GET", "/wms/warehouses", tok, retry_429=False)
            codes.append(st)
            last = h
        if int(time.time()) != int(start):
            continue
        check(codes[:10] == [200] * 10, "first 10 GETs: %s" % codes)
        check(codes[10] == 429, "11th GET -> %d" % codes[10])
        lower = {k.lower(): v for k, v in last.items()}
        for hname in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"):
            check(hname in lower, "429 lacks " + hname)
        check(lower["x-ratelimit-remaining"] == "0" and lower["x-ratelimit-limit"] == "10", "headers %s" % lower)
        if len(cs) > 1:
            st, _, _ = http("GET", "/wms/warehouses", cs[1]["access_token"], retry_429=False)
            check(st == 200, "another token was limited too")
        time.sleep(1.1)
        return "11th GET in a second -> 429"
    raise Fail("could not fit 11 requests into one second")


def read_log():
    """Complete lines only: the receiver may be half-way through writing the last one."""
    if not os.path.exists(LOG):
        return []
    with open(LOG) as f:
        return [json.loads(l) for l in f if l.endswith("\n") and l.strip()]


def wait_sender_idle(timeout=20):
    """Wait until the simulator has no delivery queued or in flight, so that a check
    which counts deliveries sees only the ones it caused."""
    end = time.time() + timeout
    while time.time() < end:
        st, _, s = http("GET", "/_sim/webhooks/stats")
        if st == 200 and s["pending"] == 0:
            return
        time.sleep(0.05)
    raise Fail("webhook sender still busy after %ds" % timeout)


def wait_log(pred, timeout=15, n=1):
    """The webhooks pred accepts, once there are n of them ([] at the timeout)."""
    end = time.time() + timeout
    while time.time() < end:
        got = [e for e in read_log() if pred(e)]
        if len(got) >= n:
            return got
        time.sleep(0.1)
    return []


def receiver(cmd):
    req = urllib.request.Request(RECEIVER + "/_control", data=json.dumps(cmd).encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).read()


def crawl(cid, n=5, functions=None, settle=True):
    """Change the WMS; with settle, Trackstar's copy takes the changes now (a crawl that
    starts and ends at once) so that their webhooks go out. Returns the crawl's answer
    with "events" = the records the copy took."""
    body = {"mutations": n}
    if functions:
        body["functions"] = functions
    st, _, b = http("POST", "/_sim/connections/%s/crawl" % cid, body=body)
    check(st == 200, "crawl -> %d" % st)
    if settle:
        b["events"] = ingest(cid, functions)
    return b


def ingest(cid, functions=None):
    """Take every pending change of cid into the copy now; returns how many."""
    body = {"functions": functions} if functions else {}
    st, _, b = http("POST", "/_sim/connections/%s/ingest" % cid, body=body)
    check(st == 200, "ingest -> %d" % st)
    return b["taken"]


def conn_info(cid):
    st, _, b = http("GET", "/connections/" + cid)
    check(st == 200, "GET /connections/%s -> %d" % (cid, st))
    return b["data"][0] if isinstance(b["data"], list) else b["data"]


def schedule(cid, function):
    return [s for s in conn_info(cid)["sync_schedules"] if s["function_name"] == function][0]


def summary(cid):
    return [c for c in conns() if c["connection_id"] == cid][0]


def cmd_webhook():
    """Deliveries verify with the independent Svix implementation; envelopes are right."""
    c = first_conn()
    before = len(read_log())
    b = crawl(c["connection_id"], 10)
    check(b["events"] > 0, "crawl emitted no events")
    end = time.time() + 15
    while time.time() < end and len(read_log()) - before < b["events"]:
        time.sleep(0.1)
    new = read_log()[before:]
    check(len(new) >= b["events"], "%d of %d events delivered" % (len(new), b["events"]))
    for e in new:
        check(e["verified"], "signature did not verify: %s" % e["svix_id"])
        check(e["fresh"], "stale timestamp")
        check(e["svix_id"].startswith("msg_"), "svix-id " + e["svix_id"])
        env = e["body"]
        for k in ("connection_id", "event_type", "integration_name", "integration_type", "data"):
            check(k in env, "envelope lacks " + k)
        check(env["connection_id"] == c["connection_id"], "wrong connection_id")
        if env["event_type"].endswith(".updated"):
            pa = env.get("previous_attributes")
            check(isinstance(pa, dict) and pa, "update without previous_attributes")
            check(all("[" not in k for k in pa), "previous_attributes not in dot-path form")
        if env["event_type"] in ("order.shipment.created", "inbound-shipment.receipt.created"):
            key = "shipments" if env["event_type"].startswith("order") else "receipts"
            check(isinstance(env["previous_attributes"].get(key), list), "%s lacks old %s" % (env["event_type"], key))
    return "%d deliveries verified independently" % len(new)


def cmd_retries():
    """A failing receiver gets retries with the same svix-id and fresh signatures."""
    c = first_conn()
    wait_sender_idle()
    st, _, s0 = http("GET", "/_sim/webhooks/stats")
    before = len(read_log())
    receiver({"fail_next": 3})
    b = crawl(c["connection_id"], 1, ["get_warehouses"])
    check(b["events"] == 1, "expected exactly one event, got %d" % b["events"])
    end = time.time() + 20
    while time.time() < end and not [e for e in read_log()[before:] if e["status"] == 200]:
        time.sleep(0.1)
    new = read_log()[before:]
    check(new and new[-1]["status"] == 200, "the event was never delivered")
    sid = new[-1]["svix_id"]
    attempts = [e for e in new if e["svix_id"] == sid]
    check(len(attempts) == len(new), "other deliveries interleaved: %s" % [e["svix_id"] for e in new])
    check(len(set(e["timestamp"] for e in attempts)) >= 2, "retries reuse the timestamp")
    check([e["status"] for e in attempts] == [500, 500, 500, 200], "attempts: %s" % [e["status"] for e in attempts])
    check(all(e["verified"] for e in attempts), "a retry did not verify")
    check(len(set(e["body"]["data"]["updated_date"] for e in attempts)) == 1, "body changed between retries")
    st, _, s1 = http("GET", "/_sim/webhooks/stats")
    check(s1["retries"] - s0["retries"] >= 3, "sender stats do not count retries")
    # abort-message stops retries at once
    receiver({"abort_next": 1})
    crawl(c["connection_id"], 1, ["get_warehouses"])
    time.sleep(1.5)
    st, _, s2 = http("GET", "/_sim/webhooks/stats")
    check(s2["aborted"] == s1["aborted"] + 1, "abort-message not honoured: %s" % s2)
    return "same svix-id over %d attempts; abort-message honoured" % len(attempts)


def cmd_history():
    """Link flow -> connection.created; empty lists until the historical sync completes;
    then one connection.historical-sync-completed per resource and no resource webhooks."""
    st, _, lt = http("POST", "/link/token", body={})
    check(st == 200 and lt["link_token"], "link token")
    st, _, ac = http("POST", "/_sim/auth-codes", body={"integration_name": "shipbob", "link_token": lt["link_token"]})
    check(st == 200, "mint auth code -> %d" % st)
    st, _, ex = http("POST", "/link/exchange", body={"auth_code": ac["auth_code"], "customer_id": "cust-42"})
    check(st == 200 and ex["access_token"] and ex["integration_name"] == "shipbob", "exchange %s" % ex)
    check("get_bills" not in ex["available_actions"], "shipbob should lack get_bills")
    st, _, again = http("POST", "/link/exchange", body={"auth_code": ac["auth_code"]})
    check(400 <= st < 500, "reused auth code -> %d" % st)
    cid, tok = ex["connection_id"], ex["access_token"]
    created = wait_log(lambda e: e["event_type"] == "connection.created" and e["body"]["connection_id"] == cid)
    check(created and created[0]["body"]["data"]["access_token"] == tok, "connection.created webhook")
    check(created[0]["body"]["integration_type"] == "general", "connection events are integration_type general")
    st, _, b = http("GET", "/wms/orders", tok)
    check(st == 200 and b["data"] == [] and b["next_token"] is None, "orders before historical sync: %s" % st)
    st, _, b = http("GET", "/wms/billing", tok)
    check(st == 501 and "get_bills" in b["error"], "billing on shipbob -> %d" % st)
    st, _, b = http("GET", "/connections/" + cid)
    conn = b["data"][0] if isinstance(b["data"], list) else b["data"]
    check(conn["historical_sync_completed"]["get_orders"] is False, "historical_sync_completed before")
    check(any(s["sync_status"] == "first_sync_in_progress" for s in conn["sync_schedules"]), "sync_status")
    before = len(read_log())
    st, _, h = http("POST", "/_sim/connections/%s/historical-sync" % cid, body={})
    check(st == 200 and h["completed"] == len([a for a in ex["available_actions"] if a.startswith("get_")]),
          "completed %s" % h)
    end = time.time() + 10
    while True:
        new = [e for e in read_log()[before:] if e["body"]["connection_id"] == cid]
        done = [e["body"]["data"]["resource"] for e in new
                if e["event_type"] == "connection.historical-sync-completed"]
        if len(done) >= h["completed"] or time.time() > end:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # anything extra (a wrong resource webhook) would arrive by now
    new = [e for e in read_log()[before:] if e["body"]["connection_id"] == cid]
    check(sorted(done) == sorted(set(done)) and len(done) == h["completed"], "one webhook per resource: %s" % done)
    check("orders" in done and "inventory" in done, "resource names %s" % done)
    check(all(e["event_type"].startswith("connection") for e in new), "resource webhooks for backfilled records")
    od = [e for e in new if e["body"]["data"].get("resource") == "orders"][0]["body"]["data"]
    check(od["oldest_data_date"] <= od["newest_data_date"], "data dates")
    got, _ = page_all("/wms/orders", tok, {}, 1000)
    check(len(got) == len(truth(cid, "orders")) > 0, "orders after historical sync")
    st, _, b = http("GET", "/connections/" + cid)
    conn = b["data"][0] if isinstance(b["data"], list) else b["data"]
    check(all(conn["historical_sync_completed"].values()), "historical_sync_completed after")
    # a reinstall keeps id and token
    st, _, lt2 = http("POST", "/link/token", body={"connection_id": cid})
    st, _, ac2 = http("POST", "/_sim/auth-codes", body={"link_token": lt2["link_token"]})
    st, _, ex2 = http("POST", "/link/exchange", body={"auth_code": ac2["auth_code"]})
    check(ex2["connection_id"] == cid and ex2["access_token"] == tok, "reinstall changed id/token")
    return "%d historical-sync-completed webhooks, one per resource" % len(done)


def cmd_errors():
    """401/404/422/501 and connection errors with their webhooks."""
    c = first_conn()
    tok, cid = c["access_token"], c["connection_id"]
    st, _, b = http("GET", "/wms/orders", tok, key="wrong")
    check(st == 401 and b["origin"] == "trackstar", "bad api key -> %d %s" % (st, b))
    st, _, b = http("GET", "/wms/orders", "wrong-token")
    check(st == 401, "bad token -> %d" % st)
    for params, param in (({"colour": "red"}, "colour"), ({"status[like]": "x"}, "status[like]"),
                          ({"updated_date[gte]": "2026-01-01"}, "updated_date[gte]"), ({"limit": "1001"}, "limit")):
        st, _, b = http("GET", "/wms/orders", tok, params=params)
        check(st == 422 and param in b["detail"]["query"], "%s -> %d %s" % (params, st, b))
    st, _, b = http("GET", "/wms/warehouses/wh_nope_000001/locations", tok)
    check(st == 404, "unknown warehouse locations -> %d" % st)
    before = len(read_log())
    st, _, _ = http("POST", "/_sim/faults", body={"connection_id": cid, "invalid_credentials": True})
    # Reads never reach the WMS: they are served from Trackstar's stored copy (§6.1) ...
    st, _, b = http("GET", "/wms/orders", tok, params={"limit": "5"})
    check(st == 200 and b["data"], "invalid credentials: reads served from the copy -> %d" % st)
    conn = conn_info(cid)
    check(conn["errors"] and all(a["preventing_sync"] for a in conn["errors"][0]["affected_endpoints"]), "errors")
    check(all(s["sync_status"] == "error" for s in conn["sync_schedules"]), "sync_status error")
    # ... which stops changing: crawls stop, and each failed attempt updates the error
    pend0 = summary(cid)["pending"]["orders"]
    crawl(cid, 20, ["get_orders"], settle=False)
    # a crawl that began before the error runs to its end; none starts after it
    end = time.time() + 10
    while time.time() < end and schedule(cid, "get_orders")["in_progress"]:
        time.sleep(0.1)
    ended = schedule(cid, "get_orders")["last_crawl_end"]
    upd = wait_log(lambda e: e["event_type"] == "connection-error.updated" and
                   e["body"]["connection_id"] == cid, timeout=15)
    check(upd and "last_seen" in upd[0]["body"].get("previous_attributes", {}), "connection-error.updated: %s" % upd[:1])
    check(schedule(cid, "get_orders")["last_crawl_end"] == ended, "a crawl ran under invalid credentials")
    check(summary(cid)["pending"]["orders"] > pend0, "the copy took changes under invalid credentials")
    st, _, _ = http("POST", "/_sim/faults", body={"connection_id": cid, "clear_errors": True})
    st, _, b = http("GET", "/wms/orders", tok, params={"limit": "1"})
    check(st == 200, "after clear -> %d" % st)
    st, _, _ = http("POST", "/_sim/faults", body={"connection_id": cid, "missing_permission": "get_returns"})
    st, _, b = http("GET", "/wms/returns", tok)
    check(st == 200, "missing permission: returns still served from the copy -> %d" % st)
    check(schedule(cid, "get_returns")["sync_status"] == "error", "missing permission: returns not syncing")
    check(schedule(cid, "get_orders")["sync_status"] != "error", "missing permission is not blocking other endpoints")
    http("POST", "/_sim/faults", body={"connection_id": cid, "clear_errors": True})
    ingest(cid)
    time.sleep(1.0)
    kinds = [e["event_type"] for e in read_log()[before:] if e["event_type"].startswith("connection-error")
             and e["event_type"] != "connection-error.updated" and e["body"]["connection_id"] == cid]
    check(kinds == ["connection-error.created", "connection-error.deleted"] * 2, "error webhooks %s" % kinds)
    # forced 5xx / 429 and slow answers
    http("POST", "/_sim/faults", body={"connection_id": cid, "http_5xx": 1, "http_429": 1})
    st1, _, _ = http("GET", "/wms/warehouses", tok, retry_429=False)
    st2, _, _ = http("GET", "/wms/warehouses", tok, retry_429=False)
    st3, _, _ = http("GET", "/wms/warehouses", tok, retry_429=False)
    check(sorted([st1, st2]) == [429, 503] and st3 == 200, "forced faults %s" % [st1, st2, st3])
    http("POST", "/_sim/faults", body={"connection_id": cid, "slow_count": 1, "slow_ms": 800})
    t0 = time.time()
    http("GET", "/wms/warehouses", tok)
    check(time.time() - t0 >= 0.75, "slow response was not slow")
    return "auth, validation, 404/501 and connection errors"


def cmd_signature_faults():
    """Injected delivery faults are visible to an independent verifier."""
    c = first_conn()
    res = {}
    for fault, pred in (("webhook_bad_signature", lambda e: not e["verified"]),
                        ("webhook_stale_timestamp", lambda e: e["verified"] and not e["fresh"]),
                        ("webhook_mangled_body", lambda e: not e["verified"])):
        before = len(read_log())
        http("POST", "/_sim/faults", body={fault: 1})
        crawl(c["connection_id"], 1, ["get_warehouses"])
        end = time.time() + 10
        while time.time() < end and len(read_log()) == before:
            time.sleep(0.1)
        new = read_log()[before:]
        check(new and pred(new[0]), "%s not observed: %s" % (fault, new[:1]))
        res[fault] = True
    # duplicate delivery: same svix-id twice
    before = len(read_log())
    http("POST", "/_sim/faults", body={"webhook_duplicate": 1})
    crawl(c["connection_id"], 1, ["get_warehouses"])
    end = time.time() + 10
    while time.time() < end and len(read_log()) - before < 2:
        time.sleep(0.1)
    time.sleep(0.5)  # a third delivery would be a fault
    ids = [e["svix_id"] for e in read_log()[before:]]
    check(len(ids) == 2 and ids[0] == ids[1], "duplicate delivery: %s" % ids)
    # oversized: data_truncated + data_url -> download_url -> full event
    before = len(read_log())
    http("POST", "/_sim/faults", body={"webhook_oversize_bytes": 200})
    crawl(c["connection_id"], 1, ["get_warehouses"])
    time.sleep(1.5)
    http("POST", "/_sim/faults", body={"webhook_oversize_bytes": 0})
    e = read_log()[before]["body"]
    check(e.get("data_truncated") is True and set(e["data"]) == {"id"}, "truncated event %s" % e)
    path = urllib.parse.urlparse(e["data_url"]).path
    st, _, d = http("GET", path)
    check(st == 200 and "download_url" in d, "data_url -> %d" % st)
    with urllib.request.urlopen(d["download_url"], timeout=10) as r:
        full = json.loads(r.read())
    check(full["data"]["id"] == e["data"]["id"] and "name" in full["data"], "download_url event")
    return "bad signature, stale timestamp, mangled body, duplicate, oversized"


def cmd_management():
    """Connections list/patch/delete/sync, integrations (1/min), magic links."""
    st, _, b = http("GET", "/connections")
    check(st == 200 and b["total_count"] == len(b["data"]) >= 1, "GET /connections")
    st, _, nc = http("POST", "/_sim/connections", body={"orders": 5, "products": 3, "emit_created": 0})
    check(st == 201, "create connection -> %d" % st)
    tok = nc["access_token"]
    st, _, b = http("PATCH", "/connections", tok, body={"webhooks_disabled": True, "customer_id": "c-1"})
    check(st == 200 and b == {"id": nc["connection_id"], "object": "connection", "updated": True}, "patch %s" % b)
    before = len(read_log())
    crawl(nc["connection_id"], 5, ["get_orders"], settle=False)
    # A crawl reads the changes made before the millisecond it starts (sim_ingest.c
    # start_crawl), not those of that millisecond: the three requests can fit in one, and
    # the changes are meant to come before the sync.
    time.sleep(0.01)
    # A force sync answers at once and crawls in the background (§6.4); resource webhooks
    # stay off (webhooks_disabled), connection events still go out.
    # A force sync "skips resources already mid-sync" (§6.4): if a scheduled crawl began
    # before the changes, the sync ends with it and the changes wait for the next crawl.
    busy = schedule(nc["connection_id"], "get_orders")["in_progress"]
    t0 = time.time()

    def force_sync(n):
        st, _, b = http("POST", "/connections/sync", tok, body={"functions_to_sync": ["get_orders"]})
        check(st == 200 and b["syncing"] is True and b["functions_to_sync"] == ["get_orders"], "sync %s" % b)
        s = schedule(nc["connection_id"], "get_orders")
        check(s["sync_status"] == "sync_in_progress" and s["in_progress"] is True,
              "force sync: crawl in progress after the answer: %s" % s)
        done = wait_log(lambda e: e["event_type"] == "connection.force-sync-completed" and
                        e["body"]["connection_id"] == nc["connection_id"], n=n)
        check(len(done) >= n and done[0]["body"]["data"]["functions_to_sync"] == ["get_orders"],
              "force-sync-completed %s" % done)

    force_sync(1)
    check(time.time() - t0 > 0.1, "force sync completed before it answered")
    left = summary(nc["connection_id"])["pending"]["orders"]
    if left and busy:  # every crawl running now began after the changes
        force_sync(2)
        left = summary(nc["connection_id"])["pending"]["orders"]
    check(left == 0, "force sync left %d changes out of the copy (a crawl was %srunning before it)"
          % (left, "" if busy else "not "))
    time.sleep(0.5)
    check(not [e for e in read_log()[before:] if e["body"]["connection_id"] == nc["connection_id"]
               and not e["event_type"].startswith("connection")], "webhooks_disabled not honoured")
    st, _, b = http("DELETE", "/connections", tok)
    check(st == 200 and b["deleted"] is True and b["object"] == "connection", "delete %s" % b)
    check(wait_log(lambda e: e["event_type"] == "connection.deleted" and e["body"]["connection_id"] == nc["connection_id"]),
          "connection.deleted webhook")
    st, _, _ = http("GET", "/wms/orders", tok)
    check(st == 401, "deleted connection's token still works")
    st, _, b = http("GET", "/integrations/wms", retry_429=False)
    check(st == 200 and any(i["integration_name"] == "cool-wms" for i in b["data"]), "integrations")
    st, _, _ = http("GET", "/integrations/wms", retry_429=False)
    check(st == 429, "second /integrations call within a minute -> %d" % st)
    st, _, m = http("POST", "/magic-links", body={"integration_allow_list": ["shipbob"], "link_duration": 3})
    check(st == 200 and len(m["magic_link"]["id"]) == 32, "magic link")
    mid = m["magic_link"]["id"]
    st, _, b = http("GET", "/magic-links")
    check(any(x["id"] == mid for x in b["magic_links"]), "magic link list")
    st, _, b = http("DELETE", "/magic-links/" + mid)
    check(b == {"id": mid, "object": "magic_link", "deleted": True}, "magic link delete")
    st, _, b = http("POST", "/magic-links", body={"integration_allow_list": ["a"], "integration_block_list": ["b"]})
    check(st == 422, "allow+block list -> %d" % st)
    return "connections, integrations, magic links"


def cmd_world():
    """The unkind defaults: changes reach the copy (and webhooks) only through crawls, late
    and with old updated_dates; a finished crawl holds every change made before it
    started; equal updated_dates; quantity-only inventory changes; a record changing
    behind a client's page is not shown again in that listing."""
    c = first_conn()
    tok, cid = c["access_token"], c["connection_id"]
    ingest(cid)
    before = len(read_log())
    b = crawl(cid, 40, ["get_orders", "get_inventory"], settle=False)
    check(b["mutations"] > 0 and b["events"] == 0, "crawl %s" % b)
    pend = summary(cid)["pending"]
    check(pend["orders"] > 0 and pend["inventory"] > 0, "nothing pending after WMS changes: %s" % pend)
    t_change = time.time()
    # the promise: once a crawl that started after the changes has ended, they are all in
    end = time.time() + 20
    while time.time() < end:
        s = schedule(cid, "get_orders")
        if s["last_crawl_end"] and s["last_crawl_start"] <= s["last_crawl_end"] and \
                s["last_crawl_start"] > time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_change)):
            break
        time.sleep(0.2)
    check(time.time() < end, "no crawl of orders ended after the changes")
    check(summary(cid)["pending"]["orders"] == 0, "a finished crawl left older changes out")
    w = summary(cid)["world"]
    check(w["late"] > 0 and w["quantity_only"] > 0, "world counters %s" % w)
    ev = [e for e in read_log()[before:] if e["event_type"].startswith("order.")]
    check(ev, "no order webhooks after the crawl")

    def late_orders():
        return [e for e in read_log()[before:] if e["event_type"].startswith("order.") and
                e["body"]["data"]["updated_date"] < e["body"]["data"]["trackstar_updated_date"]]
    # A crawl can take a change within the second the WMS made it (crawls here last
    # 0.3-0.4 s), and then both dates are equal. Lateness shows once a take crosses a
    # second, so a batch that happened not to is followed by more, each waited for.
    late, batches = late_orders(), 1
    while not late and batches < 6:
        crawl(cid, 20, ["get_orders"], settle=False)
        batches += 1
        end = time.time() + 4
        while not late and time.time() < end:
            time.sleep(0.2)
            late = late_orders()
    check(late, "no webhook showed an updated_date older than its trackstar_updated_date "
          "(%d batches of changes)" % batches)
    # quantity-only: an inventory item whose quantities changed keeps its updated_date
    end = time.time() + 15
    inv_ev = []
    while not inv_ev and time.time() < end:
        inv_ev = [e for e in read_log()[before:] if e["event_type"] == "inventory.updated"
                  and e["body"]["connection_id"] == cid]
        time.sleep(0.2)
    check(any("updated_date" not in e["body"]["previous_attributes"] for e in inv_ev),
          "no quantity-only inventory change: %s" % [list(e["body"]["previous_attributes"]) for e in inv_ev[:3]])
    # mid-paging: a record whose copy changes behind the client's page is not shown again
    ingest(cid)
    mid0 = summary(cid)["world"]["mid_paging"]
    st, _, b = http("GET", "/wms/orders", tok, params={"limit": "1000"})
    check(b["next_token"], "orders fit in one page")
    last_seen = b["data"][-1]["id"]
    crawl(cid, 30, ["get_orders"])  # the copy changes now, some records behind the page
    tok_next, later = b["next_token"], []
    while tok_next:
        st, _, p = http("GET", "/wms/orders", tok, params={"limit": "1000", "page_token": tok_next})
        later += p["data"]
        tok_next = p["next_token"]
    check(summary(cid)["world"]["mid_paging"] > mid0, "no record changed behind the page")
    check(all(r["id"] > last_seen for r in later), "a record behind the page was shown again")
    return "lag %d, quantity-only %d, mid-paging %d, %d crawls" % (
        w["late"], w["quantity_only"], summary(cid)["world"]["mid_paging"], w["crawls"])


def cmd_jobs():
    """On-demand sync: history older than the copy appears only through a job, open ->
    completed with connection.sync-job-completed; stuck jobs; 400 for inventory."""
    c = first_conn()
    tok, cid = c["access_token"], c["connection_id"]
    out = summary(cid)["out_of_copy"]["orders"]
    check(out > 0, "no orders older than the historical window")
    st, _, b = http("POST", "/connections/on-demand-syncs", tok,
                    body={"function_name": "get_inventory", "start_time": "2020-01-01T00:00:00Z",
                          "end_time": "2030-01-01T00:00:00Z"})
    check(st == 400 and "not enabled" in b["error"], "inventory on-demand sync -> %d %s" % (st, b))
    before = len(read_log())
    st, _, j = http("POST", "/connections/on-demand-syncs", tok,
                    body={"function_name": "get_orders", "start_time": "2000-01-01T00:00:00Z",
                          "end_time": "2100-01-01T00:00:00Z"})
    check(st == 200 and j["status"] == "open" and j["function_name"] == "get_orders", "job %s" % j)
    done = wait_log(lambda e: e["event_type"] == "connection.sync-job-completed" and
                    e["body"]["data"]["id"] == j["id"], timeout=20)
    check(done, "no connection.sync-job-completed")
    st, _, j2 = http("GET", "/connections/on-demand-syncs/" + j["id"], tok)
    check(j2["status"] == "completed", "job after completion %s" % j2)
    check(summary(cid)["out_of_copy"]["orders"] == 0, "the job left old orders out of the copy")
    wait_sender_idle()
    created = [e for e in read_log()[before:] if e["event_type"] == "order.created"]
    check(len(created) >= out, "created webhooks for the history read in: %d of %d" % (len(created), out))
    http("POST", "/_sim/faults", body={"sync_job_stuck": 1})
    st, _, j3 = http("POST", "/connections/on-demand-syncs", tok,
                     body={"function_name": "get_bills", "start_time": "2000-01-01T00:00:00Z",
                           "end_time": "2100-01-01T00:00:00Z"})
    stuck = wait_log(lambda e: e["event_type"] == "connection.sync-job-stuck" and
                     e["body"]["data"]["id"] == j3["id"], timeout=20)
    check(stuck, "no connection.sync-job-stuck")
    st, _, b = http("POST", "/connections/on-demand-syncs/%s/cancel" % j3["id"], tok)
    check(st == 400, "cancel of a stuck job -> %d" % st)
    return "completed (%d old orders read in) and stuck jobs" % out


def cmd_drop():
    """The drop knob withholds a share of resource webhooks and lists their versions."""
    c = first_conn()
    cid = c["connection_id"]
    ingest(cid)
    wait_sender_idle()

    def dropped():
        st, _, d = http("GET", "/_sim/webhooks/dropped", params={"connection_id": cid, "resource": "orders"})
        check(st == 200, "GET /_sim/webhooks/dropped -> %d" % st)
        return d

    # all of them: nothing is delivered, every version is listed
    d0 = dropped()
    before = len(read_log())
    http("POST", "/_sim/faults", body={"webhook_drop_percent": 100})
    b = crawl(cid, 30, ["get_orders"])
    http("POST", "/_sim/faults", body={"webhook_drop_percent": 0})
    time.sleep(1.0)
    d1 = dropped()
    new = [e for e in read_log()[before:] if e["event_type"].startswith("order.")]
    check(not new, "%d order webhooks delivered at 100%% drop" % len(new))
    # (crawls running meanwhile may have taken a few more than the settling ingest)
    check(d1["listed"] - d0["listed"] >= b["events"] > 0, "listed %d of %d" % (d1["listed"] - d0["listed"], b["events"]))
    check(all(x["resource"] == "orders" and x["id"].startswith("ord_") for x in d1["data"]), "list %s" % d1["data"][:2])
    # half of them
    wait_sender_idle()
    before = len(read_log())
    http("POST", "/_sim/faults", body={"webhook_drop_percent": 50})
    crawl(cid, 60, ["get_orders"])
    http("POST", "/_sim/faults", body={"webhook_drop_percent": 0})
    d2 = dropped()
    wait_sender_idle()
    sent = len([e for e in read_log()[before:] if e["event_type"].startswith("order.")])
    held = d2["listed"] - d1["listed"]
    check(0.2 < held / max(1, held + sent) < 0.8, "50%%: %d withheld, %d delivered" % (held, sent))
    st, _, s = http("GET", "/_sim/webhooks/stats")
    check(s["withheld"] >= d2["withheld"], "stats withheld %s" % s)
    return "%d order versions withheld and listed" % d2["listed"]


def cmd_bulk():
    """300 connections by POST /_sim/connections/bulk: 422s on bad input, connection.created
    for each, every one read back through GET /connections pages, /_sim/connections pages
    and its access token; the request counters count by scope and outcome."""
    small = {"orders": 3, "products": 2, "warehouses": 1, "locations_per_warehouse": 2, "returns": 1,
             "inbound_shipments": 1, "bills": 1, "shipping_methods": 1, "warehouse_customers": 1}
    for bad, field in [({}, "count"), ({"count": 0}, "count"), ({"count": "9"}, "count"),
                       ({"count": 100001}, "count"), ({"count": 2, "orders": -1}, "orders"),
                       ({"count": 2, "historical_sync": "soon"}, "historical_sync"),
                       ({"count": 2, "integration_name": "no-such-wms"}, "integration_name"),
                       ({"count": 2, "customer_id": "c-1"}, "customer_id"),
                       ({"count": 2, "available_actions": ["get_nothing"]}, "available_actions")]:
        st, _, b = http("POST", "/_sim/connections/bulk", body=bad)
        check(st == 422 and field in b["detail"]["body"], "bulk %s -> %d %s" % (bad, st, b))
    n = 300
    before = len(read_log())
    st, _, b = http("POST", "/_sim/connections/bulk",
                    body=dict(small, count=n, historical_sync="pending", emit_created=1))
    check(st == 201 and b["created"] == n == len(b["data"]) and b["next_offset"] is None,
          "bulk create -> %d %s" % (st, str(b)[:300]))
    made = {c["connection_id"]: c["access_token"] for c in b["data"]}
    check(len(made) == n, "bulk ids are not distinct")
    # the same list through /_sim/connections pages, from the offset the answer gave
    seen, off = [], b["first_offset"]
    while off is not None and len(seen) < n:
        st, _, p = http("GET", "/_sim/connections", params={"offset": off, "limit": 128, "fields": "ids"})
        check(st == 200 and len(p["data"]) <= 128, "/_sim/connections page -> %d" % st)
        seen += p["data"]
        off = p["next_offset"]
    check([c["connection_id"] for c in seen[:n]] == [c["connection_id"] for c in b["data"]],
          "/_sim/connections pages differ from the bulk answer")
    # every one in the management API's pages
    listed, tok, pages = set(), None, 0
    while True:
        params = {"limit": "100"}
        if tok:
            params["page_token"] = tok
        st, _, p = http("GET", "/connections", params=params)
        check(st == 200 and p["total_count"] == len(p["data"]) <= 100, "GET /connections page -> %d" % st)
        listed |= {c["connection_id"] for c in p["data"]}
        pages += 1
        tok = p["next_token"]
        if tok is None:
            break
        check(pages < 100, "GET /connections does not end")
    check(set(made) <= listed, "%d bulk connections missing from GET /connections" % len(set(made) - listed))
    check(pages >= 3, "GET /connections: %d pages for %d connections" % (pages, len(listed)))
    created = wait_log(lambda e: e["event_type"] == "connection.created" and e["body"]["connection_id"] in made,
                       n=n, timeout=30)
    check(len(created) >= n and all(e["body"]["data"]["access_token"] == made[e["body"]["connection_id"]]
                                    for e in created), "connection.created: %d of %d" % (len(created), n))
    check(len(read_log()) >= before + n, "fewer webhooks than connections")
    # each token finds its own connection; counted as access-token requests
    st, _, _ = http("DELETE", "/_sim/requests/stats")
    check(st == 200, "reset request stats -> %d" % st)
    for i, (cid, t) in enumerate(made.items()):
        if i % 30 == 0:  # a finished history shows the connection's own records
            st, _, _ = http("POST", "/_sim/connections/%s/historical-sync" % cid, body={})
            check(st == 200, "historical-sync -> %d" % st)
            st, _, w = http("GET", "/wms/warehouses", t)
            check(st == 200 and len(w["data"]) == 1 and w["data"][0]["id"].split("_")[1] == cid[:6],
                  "token of %s reads %s" % (cid, w))
        else:
            st, _, _ = http("GET", "/wms/orders", t, params={"limit": "1"})
            check(st == 200, "token of %s -> %d" % (cid, st))
    st, _, _ = http("GET", "/wms/orders", "sim_at_unknown")
    check(st == 401, "unknown token -> %d" % st)
    t = next(iter(made.values()))
    codes = [http("GET", "/wms/orders", t, retry_429=False)[0] for _ in range(25)]
    st, _, rs = http("GET", "/_sim/requests/stats")
    a = rs["access_token"]
    check(st == 200 and a["total"] == n + 25 and a["ok"] == n + codes.count(200) and
          a["http_429"] == codes.count(429) > 0, "request stats %s (429s seen: %d)" % (rs, codes.count(429)))
    return "%d connections by bulk, %d GET /connections pages, %d 429s counted" % (n, pages, a["http_429"])


def main():
    cmds = {k[4:]: v for k, v in globals().items() if k.startswith("cmd_")}
    if len(sys.argv) != 2 or sys.argv[1] not in cmds:
        print("usage: sim_checks.py {%s}" % ",".join(sorted(cmds)))
        return 2
    try:
        msg = cmds[sys.argv[1]]()
        print("ok: " + msg)
        return 0
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    except Exception as e:  # a crash is a failure, with its reason
        print("FAIL: %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
