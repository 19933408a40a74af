#!/usr/bin/env python3
"""Sign a Trackstar webhook the way Svix does and POST it.

An implementation of the Svix scheme independent of common/svix.c (Python's hmac),
so that tests cross-check the C code rather than trusting it.

  webhook.py --url URL --secret whsec_... --body-file F [--id msg_x] [--ts N]
             [--header K:V ...] [--bad-signature]

Prints the HTTP status code and the response body on one line.
"""
import argparse, base64, hashlib, hmac, sys, time, urllib.error, urllib.request, uuid


def sign(secret: str, msg_id: str, ts: int, body: bytes) -> str:
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--secret", action="append", required=True)
    ap.add_argument("--body-file", required=True)
    ap.add_argument("--id", default=None)
    ap.add_argument("--ts", type=int, default=None)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--bad-signature", action="store_true")
    a = ap.parse_args()
    body = open(a.body_file, "rb").read()
    msg_id = a.id or "msg_" + uuid.uuid4().hex
    ts = a.ts if a.ts is not None else int(time.time())
    sigs = " ".join(sign(s, msg_id, ts, body) for s in a.secret)
    if a.bad_signature:
        sigs = sign("whsec_" + base64.b64encode(b"wrong-secret-wrong-secret").decode(), msg_id, ts, body)
    headers = {"content-type": "application/json", "svix-id": msg_id,
               "svix-timestamp": str(ts), "svix-signature": sigs}
    for h in a.header:
        k, v = h.split(":", 1)
        headers[k.strip()] = v.strip()
    req = urllib.request.Request(a.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            print(r.status, r.read().decode(errors="replace").strip())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode(errors="replace").strip())
    except Exception as e:  # connection refused, timeout
        print(0, str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
