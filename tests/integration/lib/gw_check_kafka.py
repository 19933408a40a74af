#!/usr/bin/env python3
"""gw_check_kafka.py - compare what webhook-gw put on the raw topic with what was sent.

Usage: gw_check_kafka.py KCAT_JSON EXPECT_JSONL
  KCAT_JSON     output of `kcat -C -J -e -t <raw topic>` (one JSON object per line)
  EXPECT_JSONL  one object per line:
      {"name": ..., "event_id": ..., "min": 1, "max": 1,
       "body_file": path, "key": "...", "event_type": "...", "contains": "..."}
    min/max bound how many messages carry that event_id (max 0 = must be absent);
    when body_file is given, every copy must equal its bytes exactly, except that an
    "access_token": "<token>" member of the body must appear as
    "access_token_sealed": "v2.<key id>.<base64>", which must open to <token> with
    TOKEN_ENCRYPTION_KEY (environment) for the body's connection_id: an AES-256-GCM
    check written apart from common/seal.c (python3-cryptography); key and
    event_type, when given, must match; contains must occur in every payload; headers source=webhook and an RFC 3339
    received_at are checked on every copy.
Prints "ok <name>" or "FAIL <name>: why" per expectation; exits 1 on any failure.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import sys

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


TOKEN_MEMBER = re.compile(rb'"access_token"\s*:\s*("(?:[^"\\]|\\.)*")')
SEALED_MEMBER = re.compile(rb'"access_token_sealed":"(v2\.([0-9a-f]{8})\.([A-Za-z0-9+/=]+))"')


def open_sealed(sealed, kid, b64, context):
    """common/seal.h's v2 envelope, opened independently: the key id is the first 4 bytes
    of HMAC-SHA256(key, label); AAD = "v2.<kid>." + context; nonce, ciphertext, tag."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key = base64.b64decode(os.environ["TOKEN_ENCRYPTION_KEY"])
    want_kid = hmac.new(key, b"trackstar-pipeline seal key id", hashlib.sha256).hexdigest()[:8]
    if kid.decode() != want_kid:
        raise ValueError("key id %s, want %s" % (kid.decode(), want_kid))
    raw = base64.b64decode(b64, validate=True)
    aad = b"v2." + kid + b"." + context.encode()
    return AESGCM(key).decrypt(raw[:12], raw[12:], aad).decode()


def sealed_as_expected(payload, body):
    """None when payload is body with every access_token sealed as the gateway must."""
    tokens = [json.loads(m.group(1)) for m in TOKEN_MEMBER.finditer(body)]
    sealed = list(SEALED_MEMBER.finditer(payload))
    if len(sealed) != len(tokens):
        return "%d sealed tokens, %d in the body" % (len(sealed), len(tokens))
    if TOKEN_MEMBER.search(payload):
        return "an access_token in clear"
    conn = json.loads(body)["connection_id"]
    for tok, m in zip(tokens, sealed):
        if tok.encode() in payload:
            return "the token in clear"
        try:
            if open_sealed(m.group(1), m.group(2), m.group(3), conn) != tok:
                return "the sealed token opens to another value"
        except Exception as e:  # noqa: BLE001 - any failure to open is the finding
            return "the sealed token does not open: %s" % (e.__class__.__name__ + " " + str(e))
    mark = b'"\x00":"\x00"'
    if SEALED_MEMBER.sub(mark, payload) != TOKEN_MEMBER.sub(mark, body):
        return "bytes other than the token differ"
    return None


def headers_of(m):
    h = m.get("headers") or []
    return {h[i]: h[i + 1] for i in range(0, len(h) - 1, 2)}


def main():
    msgs = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                msgs.append(json.loads(line))
    by_id = {}
    for m in msgs:
        by_id.setdefault(headers_of(m).get("event_id"), []).append(m)
    bad = 0
    with open(sys.argv[2]) as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            got = by_id.get(e["event_id"], [])
            why = None
            if not (e.get("min", 1) <= len(got) <= e.get("max", 1)):
                why = "%d copies, want %d..%d" % (len(got), e.get("min", 1), e.get("max", 1))
            body = open(e["body_file"], "rb").read() if e.get("body_file") else None
            for m in got:
                if why:
                    break
                h = headers_of(m)
                payload = (m.get("payload") or "").encode("utf-8")
                if body is not None and TOKEN_MEMBER.search(body):
                    why = sealed_as_expected(payload, body)
                elif body is not None and payload != body:
                    why = "payload differs (%d vs %d bytes)" % (len(payload), len(body))
                elif e.get("key") is not None and m.get("key") != e["key"]:
                    why = "key %r, want %r" % (m.get("key"), e["key"])
                elif e.get("contains") and e["contains"].encode() not in payload:
                    why = "payload lacks %r" % e["contains"]
                elif e.get("event_type") and h.get("event_type") != e["event_type"]:
                    why = "event_type %r, want %r" % (h.get("event_type"), e["event_type"])
                elif h.get("source") != "webhook":
                    why = "source header %r" % h.get("source")
                elif not RFC3339_MS.match(h.get("received_at", "")):
                    why = "received_at %r" % h.get("received_at")
            if why:
                bad += 1
                print("FAIL %s: %s" % (e["name"], why))
            else:
                print("ok %s" % e["name"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
