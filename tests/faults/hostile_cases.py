"""hostile_cases.py - the catalogue of hostile inputs for the webhook endpoint, each with
the outcome the pipeline promises. Read by tests/faults/hostile_run.py.

Every case is a Case(name, group, expect, build[, conn_suffix]). build(ctx) returns the request to
send: Req(body, headers, sign, ...) for an HTTP request the runner signs (or not), or
Raw(bytes) for bytes written straight to the socket (header injection, broken HTTP), or
Slow(...) for a client that trickles its request. ctx gives fresh ids per run:
ctx.conn (a connection id of its own for this case, ending in conn_suffix), ctx.msg_id.
Req.sign modes: "svix", "webhook", "other" (a secret the gateway does not know),
"replay" (sent twice, byte for byte), None, or a callable(headers) that spoils valid
headers (setting headers["__body__"] sends other bytes than the ones signed).
build may also return ("kafka", topic, key, value): a message produced straight onto a
topic, for input that only a stage behind the gateway can see.

Outcomes (expect):
  ("http", STATUS, REASON)  the gateway answers STATUS; REASON, when not None, must be the
                            "error" of the JSON answer (webhook-gw/gw_metrics.c names)
  ("dlq", STAGE, TEXT)      2xx, then exactly one dead letter with the case's connection id
                            from STAGE (normalizer|writer), whose dlq_reason contains TEXT
  ("stored", TABLE, CHECKS) 2xx, then one row in TABLE for (ctx.conn, id) whose columns
                            equal CHECKS ({column: value}); nothing dead-lettered
  ("ignored",)              2xx, nothing stored and nothing dead-lettered (event types the
                            canonical model deliberately leaves out)
  ("closed",)               the server closes the connection (slow or endless clients),
                            possibly after an error answer, within the connection timeout
"""
import hashlib
import json
import time
from collections import namedtuple

Case = namedtuple("Case", "name group expect build conn_suffix", defaults=("",))


class Req:
    """An HTTP request. sign: "svix" (valid), "webhook" (white-label headers), None (no
    signature headers), or a callable(headers) that spoils valid headers."""

    def __init__(self, body, headers=None, sign="svix", method="POST", path=None,
                 content_type="application/json", ts_offset=0, msg_id=None, chunked=False):
        self.body = body if isinstance(body, bytes) else body.encode()
        self.headers = headers or {}
        self.sign = sign
        self.method = method
        self.path = path
        self.content_type = content_type
        self.ts_offset = ts_offset
        self.msg_id = msg_id
        self.chunked = chunked


class Raw:
    """Bytes written as they are; "{PATH}", "{HOST}" and "{SVIX}" (fresh-looking Svix
    headers with a forged signature) are filled in."""

    def __init__(self, data):
        self.data = data


class Slow:
    """A client that sends head (filled like Raw), then one byte of tail every interval
    seconds, for at most duration seconds, to see the server close it."""

    def __init__(self, head, tail=b"", interval=1.0, duration=25.0):
        self.head, self.tail, self.interval, self.duration = head, tail, interval, duration


def envelope(ctx, event_type, data, **extra):
    env = {"connection_id": ctx.conn, "event_type": event_type, "integration_name": "sandbox",
           "integration_type": "wms", "data": data}
    env.update(extra)
    return json.dumps(env, separators=(",", ":"))


def order(ctx, rid="ord_1", **fields):
    """A complete, valid order record; fields override or add."""
    rec = {"id": rid, "warehouse_customer_id": "wc_1", "warehouse_id": "wh_1",
           "created_date": "2026-01-05T10:00:00Z", "updated_date": "2026-01-06T09:00:00Z",
           "reference_id": "SO-1", "order_number": "#1001", "status": "open", "raw_status": "Open",
           "channel": None, "channel_object": {"channel_id": "ch_1", "channel_name": "Shopify"},
           "type": "d2c", "trading_partner": None, "shipping_method": None, "service_level": "ground",
           "shipping_method_id": None, "shipping_method_name": None, "carrier_id": None,
           "carrier_name": None, "scac": None, "is_third_party_freight": False,
           "third_party_freight_account_number": None, "first_party_freight_account_number": None,
           "invoice_currency_code": "USD", "total_price": 10.5, "total_tax": 0, "total_discount": 0,
           "total_shipping": 0, "ship_to_address": None,
           "line_items": [{"product_id": "p1", "sku": "SKU-1", "quantity": 1, "unit_price": 10.5,
                           "is_picked": False, "discount_amount": None}],
           "tags": [], "required_ship_date": None, "saturday_delivery": False, "signature_required": False,
           "international_duty_paid_by": None, "shipments": [], "external_system_url": None,
           "trackstar_tags": [], "additional_fields": {}}
    rec.update(fields)
    return rec


def inventory(ctx, rid="inv_1", **fields):
    rec = {"id": rid, "warehouse_customer_id": "wc_1", "created_date": "2026-01-05T10:00:00Z",
           "updated_date": "2026-01-06T09:00:00Z", "name": "Socks", "sku": "SOC-1", "unit_cost": 1.5,
           "active": True, "awaiting": 0, "onhand": 5, "committed": 1, "unfulfillable": 0,
           "fulfillable": 4, "unsellable": 0, "sellable": 4, "substitute_skus": [],
           "inventory_by_warehouse_id": {"wh_1": {"awaiting": 0, "onhand": 5, "committed": 1,
                                                  "unfulfillable": 0, "fulfillable": 4, "unsellable": 0,
                                                  "sellable": 4}},
           "lots": [], "measurements": None, "locations": [], "external_system_url": None,
           "trackstar_tags": [], "additional_fields": {}}
    rec.update(fields)
    return rec


def o(ctx, **fields):
    return envelope(ctx, "order.updated", order(ctx, **fields))


def inv(ctx, **fields):
    return envelope(ctx, "inventory.updated", inventory(ctx, **fields))


def deep(n):
    return "[" * n + "]" * n


def incompressible(n):
    """n characters PostgreSQL cannot compress (a hash chain), deterministic."""
    out, h = [], b"seed"
    while sum(map(len, out)) < n:
        h = hashlib.sha256(h).digest()
        out.append(h.hex())
    return "".join(out)[:n]


def spoil_sig(h):
    h["svix-signature"] = "v1," + ("A" if h["svix-signature"][3] != "A" else "B") + h["svix-signature"][4:]


def HTTP(status, reason=None):
    return ("http", status, reason)


def DLQ(stage, text):
    return ("dlq", stage, text)


def STORED(table, **checks):
    return ("stored", table, checks)


BOTH_ONHAND = ["onhand", "inventory_by_warehouse_id.wh_1.onhand"]


def changed(fields, reason, change="nulled"):
    """A row's value_changes (as json_agg gives it back): one change per field, one reason."""
    return [{"field": f, "change": change, "reason": reason}
            for f in ([fields] if isinstance(fields, str) else fields)]


BAD = 400
UNAUTH = 401
MIB = 1024 * 1024
SQLISH = "x'); DROP TABLE orders; --"

CASES = [
    # ---- malformed and truncated JSON (validly signed: the signature is over these bytes)
    Case("json truncated mid-object", "malformed", HTTP(BAD, "malformed_json"),
         lambda c: Req(o(c)[:-7])),
    Case("json truncated to one byte", "malformed", HTTP(BAD, "malformed_json"), lambda c: Req("{")),
    Case("json with trailing garbage", "malformed", HTTP(BAD, "malformed_json"),
         lambda c: Req(o(c) + "GARBAGE")),
    Case("json two objects", "malformed", HTTP(BAD, "malformed_json"), lambda c: Req(o(c) + o(c))),
    Case("empty body", "malformed", HTTP(BAD, "malformed_json"), lambda c: Req(b"")),
    Case("top-level array", "malformed", HTTP(BAD, "malformed_json"), lambda c: Req("[" + o(c) + "]")),
    Case("top-level string", "malformed", HTTP(BAD, "malformed_json"), lambda c: Req('"order.updated"')),
    Case("single-quoted keys", "malformed", HTTP(BAD, "malformed_json"),
         lambda c: Req(o(c).replace('"connection_id"', "'connection_id'"))),
    Case("comment inside", "malformed", HTTP(BAD, "malformed_json"),
         lambda c: Req(o(c).replace("{", "{/* hi */", 1))),
    Case("NaN literal", "malformed", HTTP(BAD, "malformed_json"),
         lambda c: Req(o(c).replace('"total_price":10.5', '"total_price":NaN'))),
    # RFC 8259 section 8.1: a parser MAY ignore a byte-order mark; cJSON does, so the record maps.
    Case("byte-order mark before the object", "malformed", STORED("orders", status="open"),
         lambda c: Req(b"\xef\xbb\xbf" + o(c).encode())),
    # A raw control byte in a string is not JSON (RFC 8259 section 7). The gateway checks only
    # the envelope, so it may publish it; the normalizer must refuse it - never store "#10".
    Case("raw NUL byte inside a string", "nul", DLQ("normalizer", ""),
         lambda c: Req(o(c).encode().replace(b"#1001", b"#10\x0001"))),
    # \u0000 is valid JSON, but neither C strings nor PostgreSQL text can hold it: refuse
    # the record rather than store the string cut short.
    Case("escaped \\u0000 inside a string", "nul", DLQ("normalizer", ""),
         lambda c: Req(o(c).replace("#1001", "#10\\u000001"))),
    Case("raw NUL byte after the object", "nul", HTTP(BAD, "malformed_json"),
         lambda c: Req(o(c).encode() + b"\x00")),

    # ---- envelope fields: wrong types, missing, forbidden bytes
    Case("connection_id is a number", "types", HTTP(BAD, "missing_field"),
         lambda c: Req(o(c).replace(f'"connection_id":"{c.conn}"', '"connection_id":12345'))),
    Case("event_type is an array", "types", HTTP(BAD, "missing_field"),
         lambda c: Req(o(c).replace('"event_type":"order.updated"', '"event_type":["order.updated"]'))),
    Case("connection_id empty", "missing", HTTP(BAD, "missing_field"),
         lambda c: Req(o(c).replace(f'"connection_id":"{c.conn}"', '"connection_id":""'))),
    Case("connection_id missing", "missing", HTTP(BAD, "missing_field"),
         lambda c: Req(json.dumps({"event_type": "order.updated", "data": order(c)}))),
    Case("event_type missing", "missing", HTTP(BAD, "missing_field"),
         lambda c: Req(json.dumps({"connection_id": c.conn, "data": order(c)}))),
    Case("connection_id with the key separator |", "types", HTTP(BAD, "bad_field"),
         lambda c: Req(o(c).replace(f'"connection_id":"{c.conn}"', f'"connection_id":"{c.conn}|orders|x"'))),
    Case("connection_id with CR LF", "injection", HTTP(BAD, "bad_field"),
         lambda c: Req(o(c).replace(f'"connection_id":"{c.conn}"', f'"connection_id":"{c.conn}\\r\\nX-Evil: 1"'))),
    Case("connection_id of 200 bytes", "huge", HTTP(BAD, "bad_field"),
         lambda c: Req(o(c).replace(f'"connection_id":"{c.conn}"', '"connection_id":"' + "c" * 200 + '"'))),
    Case("event_type of 300 bytes", "huge", HTTP(BAD, "bad_field"),
         lambda c: Req(o(c).replace('"event_type":"order.updated"', '"event_type":"order.' + "u" * 300 + '"'))),

    # ---- records the gateway takes but the model cannot map: dead letter with a reason
    Case("record without id", "missing", DLQ("normalizer", ""),
         lambda c: Req(envelope(c, "order.updated", {k: v for k, v in order(c).items() if k != "id"}))),
    Case("data is null", "missing", DLQ("normalizer", ""), lambda c: Req(envelope(c, "order.updated", None))),
    Case("data is an array", "types", DLQ("normalizer", ""), lambda c: Req(envelope(c, "order.updated", [order(c)]))),
    Case("id is an object", "types", DLQ("normalizer", ""), lambda c: Req(o(c, id={"x": 1}))),
    Case("updated_date missing", "missing", DLQ("normalizer", ""),
         lambda c: Req(envelope(c, "order.updated", {k: v for k, v in order(c).items() if k != "updated_date"}))),
    Case("updated_date is a number", "types", DLQ("normalizer", ""), lambda c: Req(o(c, updated_date=1767225600))),
    Case("updated_date unparseable", "types", DLQ("normalizer", ""), lambda c: Req(o(c, updated_date="yesterday"))),
    # ---- a value that cannot be cast, outside identity and version: the record is kept,
    # the value is null and the row lists the change (the value policy, docs/canonical-model.md;
    # a replace() of '"onhand":5' hits the total and the warehouse's: BOTH_ONHAND)
    Case("line_items is a string", "types",
         STORED("orders", status="open", value_changes=changed("line_items", "wrong type, want array")),
         lambda c: Req(o(c, line_items="none"))),
    Case("total_price not numeric", "types",
         STORED("orders", total_price=None, value_changes=changed("total_price", "non-numeric text")),
         lambda c: Req(o(c, total_price="ten"))),
    Case("onhand is a string", "types",
         STORED("inventory_items", id="inv_1", onhand=None, sku="SOC-1",
                value_changes=changed("onhand", "wrong type: string, want integer")),
         lambda c: Req(inv(c, onhand="lots"))),
    Case("fractional quantity", "types",
         STORED("inventory_items", id="inv_1", onhand=None, value_changes=changed("onhand", "not an exact integer")),
         lambda c: Req(inv(c, onhand=1.5))),
    Case("quantity 1e300", "huge",
         STORED("inventory_items", id="inv_1", onhand=None, value_changes=changed(BOTH_ONHAND, "not an exact integer")),
         lambda c: Req(inv(c).replace('"onhand":5', '"onhand":1e300'))),
    Case("quantity 2^53+1", "huge",
         STORED("inventory_items", id="inv_1", onhand=None, value_changes=changed(BOTH_ONHAND, "not an exact integer")),
         lambda c: Req(inv(c).replace('"onhand":5', '"onhand":9007199254740993'))),
    Case("price 1e400 (not finite)", "huge",
         STORED("orders", total_price=None, value_changes=changed("total_price", "non-finite number")),
         lambda c: Req(o(c).replace('"total_price":10.5', '"total_price":1e400'))),
    Case("a version date that is not a date (identity and version stay strict)", "types",
         DLQ("normalizer", "updated_date"), lambda c: Req(inv(c, updated_date="2026-02-30T00:00:00Z"))),
    Case("id of 600 bytes", "huge", DLQ("normalizer", ""), lambda c: Req(o(c, id="o" * 600))),
    Case("warehouse named twice in inventory_by_warehouse_id", "types", DLQ("normalizer", ""),
         lambda c: Req(inv(c).replace('"inventory_by_warehouse_id":{"wh_1":{', '"inventory_by_warehouse_id":{"wh_1":{"onhand":1},"wh_1":{'))),
    Case("invalid UTF-8 byte in a string", "utf8", DLQ("normalizer", ""),
         lambda c: Req(o(c).encode().replace(b"#1001", b"#10\xff01"))),
    Case("overlong UTF-8 encoding", "utf8", DLQ("normalizer", ""),
         lambda c: Req(o(c).encode().replace(b"#1001", b"#10\xc0\xaf01"))),
    Case("truncated UTF-8 sequence at the end of a string", "utf8", DLQ("normalizer", ""),
         lambda c: Req(o(c).encode().replace(b"#1001", b"#1001\xe2\x82"))),
    Case("unknown event type", "unknown", DLQ("normalizer", ""), lambda c: Req(envelope(c, "gizmo.exploded", {"id": "g1"}))),
    Case("unknown action of a known resource", "unknown", DLQ("normalizer", ""),
         lambda c: Req(envelope(c, "order.exploded", order(c)))),
    Case("data_truncated without data_url", "types", DLQ("normalizer", "truncated"),
         lambda c: Req(envelope(c, "order.updated", {"id": "ord_1"}, data_truncated=True))),
    Case("canonical record the writer must refuse", "types", DLQ("writer", ""),
         lambda c: ("kafka", "trackstar.canonical.orders.v1", f"{c.conn}|ord_1",
                    json.dumps({"schema_version": 1, "entity": "order", "connection_id": c.conn, "id": "ord_1",
                                "source": "webhook", "event_type": "order.updated", "source_updated_at": "not a time",
                                "line_items": []}))),

    # ---- deep nesting
    Case("nesting 5000 deep", "deep", HTTP(BAD, "malformed_json"),
         lambda c: Req(o(c, additional_fields={}).replace('"additional_fields":{}', '"additional_fields":{"x":' + deep(5000) + "}"))),
    Case("nesting 100 deep in additional_fields (kept verbatim)", "deep",
         STORED("orders", status="open"),
         lambda c: Req(o(c).replace('"additional_fields":{}', '"additional_fields":{"x":' + deep(100) + "}"))),

    # ---- huge but legal, SQL-looking, escaped NUL: stored exactly
    Case("string of 400 KB in a plain column", "huge", STORED("orders", trading_partner="n" * 400000),
         lambda c: Req(o(c, trading_partner="n" * 400000))),
    # Indexed text columns (order_number, reference_id, sku, ...) cannot hold more than
    # about 2.7 KB (PostgreSQL's btree row limit): PostgreSQL refuses the row, the writer
    # dead-letters the record with the reason and goes on (docs/testing.md).
    Case("string of 8 KB in an indexed column", "huge", DLQ("writer", "index row size"),
         lambda c: Req(o(c, order_number=incompressible(8000)))),
    Case("SQL-looking string value", "sql", STORED("orders", order_number=SQLISH),
         lambda c: Req(o(c, order_number=SQLISH))),
    Case("SQL-looking record id", "sql", STORED("orders", id="ord_'||pg_sleep(5)||'", status="open"),
         lambda c: Req(o(c, id="ord_'||pg_sleep(5)||'"))),
    Case("SQL-looking connection id", "sql", STORED("orders", status="open"),
         lambda c: Req(o(c)), "');DELETE_FROM_orders;--"),
    Case("unicode and emoji kept", "utf8", STORED("orders", order_number="Zoë №1 🚚"),
         lambda c: Req(o(c, order_number="Zoë №1 🚚"))),

    # ---- event types the model leaves out: 2xx, counted, neither stored nor dead-lettered
    Case("cart-order event", "unknown", ("ignored",),
         lambda c: Req(envelope(c, "cart-order.created", {"id": "co_1", "updated_date": "2026-01-01T00:00:00Z"}))),

    # ---- HTTP level: method, path, content type, sizes
    Case("GET on the webhook path", "http", HTTP(405, "method_not_allowed"), lambda c: Req(o(c), method="GET")),
    Case("PUT on the webhook path", "http", HTTP(405, "method_not_allowed"), lambda c: Req(o(c), method="PUT")),
    Case("/metrics on the webhook port", "http", HTTP(404), lambda c: Req(b"", method="GET", path="/metrics")),
    Case("path traversal", "http", HTTP(404), lambda c: Req(o(c), path="/webhooks/trackstar/../../etc/passwd")),
    Case("text/plain content type", "http", HTTP(415), lambda c: Req(o(c), content_type="text/plain")),
    Case("latin-1 charset", "http", HTTP(415), lambda c: Req(o(c), content_type="application/json; charset=latin1")),
    Case("no content type", "http", HTTP(415), lambda c: Req(o(c), content_type=None)),
    Case("body over the limit (2 MiB declared, answered before the upload)", "oversized", HTTP(413),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 2097152\r\n\r\n" + o(c).encode())),
    Case("chunked body over the limit (2 MiB)", "oversized", HTTP(413),
         lambda c: Req(o(c, order_number="x" * (2 * MIB)), chunked=True)),
    Case("Content-Length of 10 GB declared", "oversized", HTTP(413),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 10000000000\r\n\r\n{}")),
    Case("negative Content-Length", "oversized", ("http_4xx",),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"Content-Length: -1\r\n\r\n{}")),

    # ---- header injection and broken HTTP
    Case("CR LF injected into svix-id", "injection", ("http_4xx",),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"svix-id: msg_1\r\nX-Injected: 1\r\nsvix-timestamp: 1\r\nsvix-signature: v1,x\r\n"
                       b"Content-Length: 2\r\n\r\n{}")),
    Case("NUL byte in a header", "nul", ("http_4xx",),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"svix-id: msg_\x00evil\r\nContent-Length: 2\r\n\r\n{}")),
    Case("header line without a colon", "injection", ("http_4xx",),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nthis is not a header\r\n"
                       b"Content-Length: 2\r\n\r\n{}")),
    Case("request line garbage", "injection", ("http_4xx_or_closed",),
         lambda c: Raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain port\r\n\r\n")),
    Case("header of 64 KB", "huge", ("http_4xx_or_closed",),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nX-Big: " + b"a" * 65536 +
                       b"\r\nContent-Length: 2\r\n\r\n{}")),

    # ---- signatures: missing, forged, replayed, stale
    Case("no signature headers", "signature", HTTP(UNAUTH, "missing_signature"), lambda c: Req(o(c), sign=None)),
    Case("signed with another secret", "signature", HTTP(UNAUTH, "bad_signature"), lambda c: Req(o(c), sign="other")),
    Case("one character of the signature changed", "signature", HTTP(UNAUTH, "bad_signature"),
         lambda c: Req(o(c), sign=spoil_sig)),
    Case("body changed after signing", "signature", HTTP(UNAUTH, "bad_signature"),
         lambda c: Req(o(c), sign=lambda h: h.update({"__body__": o(c, status="cancelled")}))),
    Case("signature of another svix-id (replayed under a new id)", "signature", HTTP(UNAUTH, "bad_signature"),
         lambda c: Req(o(c), sign=lambda h: h.update({"svix-id": h["svix-id"] + "x"}))),
    Case("timestamp 10 minutes old", "signature", HTTP(UNAUTH, "stale_timestamp"), lambda c: Req(o(c), ts_offset=-600)),
    Case("timestamp 10 minutes ahead", "signature", HTTP(UNAUTH, "stale_timestamp"), lambda c: Req(o(c), ts_offset=600)),
    Case("timestamp not a number", "signature", HTTP(UNAUTH, "bad_timestamp"),
         lambda c: Req(o(c), sign=lambda h: h.update({"svix-timestamp": "soon"}))),
    Case("only v2 and empty v1 entries", "signature", HTTP(UNAUTH, "bad_signature"),
         lambda c: Req(o(c), sign=lambda h: h.update({"svix-signature": "v2," + h["svix-signature"][3:] + " v1,"}))),
    Case("a thousand bogus signatures (49 KB header)", "signature", ("http_4xx_or_closed",),
         lambda c: Req(o(c), sign=lambda h: h.update({"svix-signature": " ".join(["v1," + "A" * 44] * 1000)}))),
    Case("svix-id of 200 bytes", "huge", HTTP(BAD, "bad_event_id"), lambda c: Req(o(c), msg_id="msg_" + "x" * 196)),
    Case("white-label webhook-* headers", "signature", STORED("orders", status="open"), lambda c: Req(o(c), sign="webhook")),
    Case("replay of a delivery (same id, same signature)", "signature", STORED("orders", status="open"),
         lambda c: Req(o(c), sign="replay")),
    Case("data_url on another origin", "injection", HTTP(503),
         lambda c: Req(envelope(c, "order.updated", {"id": "ord_1"}, data_truncated=True,
                                data_url="http://169.254.169.254/latest/meta-data/"))),

    # ---- slow and endless clients: cut off, while others are still served
    Case("slow headers (slowloris)", "slow", ("closed",),
         lambda c: Slow(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\n", b"X-a: b\r\n" * 40, interval=1.5)),
    # These carry fresh-looking (forged) signature headers: without them the head alone
    # is refused (401) before any body is read, and there would be no body to be slow in.
    Case("stalled body (idle longer than the connection timeout)", "slow", ("closed",),
         lambda c: Slow(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n{SVIX}"
                        b"Content-Length: 1000\r\n\r\n{", b"a" * 3, interval=12.0)),
    Case("slow body (one byte every 1.5 s)", "slow", ("closed",),
         lambda c: Slow(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n{SVIX}"
                        b"Content-Length: 1000\r\n\r\n{", b"a" * 100, interval=1.5)),
    Case("endless chunked body", "slow", ("closed",),
         lambda c: Slow(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n{SVIX}"
                        b"Transfer-Encoding: chunked\r\n\r\n", b"", interval=0.0, duration=30.0)),

    # ---- refused on the head: no byte of the body is waited for or kept (issue 17). The
    # bodies are declared and never sent: an answer can only come from the head.
    Case("no signature headers, 1 MB declared, body never sent", "head", HTTP(UNAUTH),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 1000000\r\n\r\n")),
    Case("stale timestamp, 1 MB declared, body never sent", "head", HTTP(UNAUTH),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"svix-id: msg_stale\r\nsvix-timestamp: 1000000000\r\nsvix-signature: v1,"
                       + b"A" * 43 + b"=\r\nContent-Length: 1000000\r\n\r\n")),
    Case("signature header without a v1 entry, 1 MB declared, body never sent", "head", HTTP(UNAUTH),
         lambda c: Raw(b"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                       b"svix-id: msg_nov1\r\nsvix-timestamp: " + str(int(time.time())).encode() +
                       b"\r\nsvix-signature: v2,abc\r\nContent-Length: 1000000\r\n\r\n")),
]
