#!/usr/bin/env python3
"""gw_sign.py - an independent Svix signer and webhook sender for the webhook-gw tests.

Written from the Svix scheme (reference §7.5), not from common/svix.c, so the
integration tests check the gateway against a second implementation:
    signature = base64(HMAC-SHA256(base64decode(secret minus "whsec_"), id.ts.body))

Usage:
  gw_sign.py selftest
      check this signer against Svix's published test vector.
  gw_sign.py send URL --body FILE|- [--secret S]... [--id ID] [--ts SECONDS|--ts-offset N]
                 [--prefix svix|webhook] [--bad-signature] [--no-signature]
                 [--content-type CT] [--method M] [--timeout S] [--chunked]
      send one request; prints "STATUS<TAB>HEADERS-JSON<TAB>MILLISECONDS<TAB>BODY" on
      stdout (milliseconds from connecting to the whole answer read).
  gw_sign.py pool OUTDIR COUNT --secret S --template FILE [--path P] [--ts-offset N]
      write COUNT pre-signed requests for the benchmark: OUTDIR/pool.lua (a Lua table
      for wrk) and OUTDIR/pool.bin (raw HTTP requests, each after a 4-byte big-endian
      length, for gw_loadgen). "@N@" in the template becomes the request's number.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse


def key_of(secret):
    s = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    return base64.b64decode(s)


def sign(secret, msg_id, ts, body):
    mac = hmac.new(key_of(secret), msg_id.encode() + b"." + str(ts).encode() + b"." + body,
                   hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def selftest():
    got = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
               1614265330, b'{"test": 2432232314}')
    want = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    if got != want:
        print("selftest FAILED: %s != %s" % (got, want))
        return 1
    print("selftest ok")
    return 0


def headers_for(secrets, msg_id, ts, body, prefix="svix", bad=False):
    sigs = []
    for s in secrets:
        sig = sign(s, msg_id, ts, body)
        if bad:  # flip one character: same length, wrong value
            sig = ("A" if sig[0] != "A" else "B") + sig[1:]
        sigs.append("v1," + sig)
    return {prefix + "-id": msg_id, prefix + "-timestamp": str(ts),
            prefix + "-signature": " ".join(sigs)}


def send(url, body, headers, method="POST", timeout=20.0, chunked=False):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    path = u.path or "/"
    if chunked:
        conn.putrequest(method, path)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            step = 65536
            for i in range(0, len(body), step):
                part = body[i:i + step]
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    else:
        try:
            conn.request(method, path, body=body if method not in ("GET", "HEAD") else None,
                         headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) and close before the whole body is sent
    try:
        r = conn.getresponse()
    except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
        return 0, {}, b""
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, hdrs, data


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("selftest")
    p = sub.add_parser("send")
    p.add_argument("url")
    p.add_argument("--body", required=True)
    p.add_argument("--secret", action="append", default=[])
    p.add_argument("--id")
    p.add_argument("--ts", type=int)
    p.add_argument("--ts-offset", type=int, default=0)
    p.add_argument("--prefix", default="svix")
    p.add_argument("--bad-signature", action="store_true")
    p.add_argument("--no-signature", action="store_true")
    p.add_argument("--content-type", default="application/json")
    p.add_argument("--method", default="POST")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--chunked", action="store_true")
    q = sub.add_parser("pool")
    q.add_argument("outdir")
    q.add_argument("count", type=int)
    q.add_argument("--secret", action="append", required=True)
    q.add_argument("--template", required=True)
    q.add_argument("--ts-offset", type=int, default=0)
    q.add_argument("--path", default="/webhooks/trackstar")
    a = ap.parse_args()

    if a.cmd == "selftest":
        return selftest()

    if a.cmd == "send":
        body = sys.stdin.buffer.read() if a.body == "-" else open(a.body, "rb").read()
        msg_id = a.id or "msg_" + base64.b32encode(os.urandom(15)).decode().lower()
        ts = a.ts if a.ts is not None else int(time.time()) + a.ts_offset
        headers = {}
        if a.content_type:
            headers["Content-Type"] = a.content_type
        if not a.no_signature:
            headers.update(headers_for(a.secret, msg_id, ts, body, a.prefix, a.bad_signature))
        t0 = time.monotonic()
        status, hdrs, data = send(a.url, body, headers, a.method, a.timeout, a.chunked)
        ms = int((time.monotonic() - t0) * 1000)
        sys.stdout.write("%d\t%s\t%d\t%s\n" % (status, json.dumps(hdrs), ms,
                                              data.decode("utf-8", "replace")))
        return 0

    if a.cmd == "pool":
        # Bodies differ per request (record id) so that the raw topic gets distinct keys.
        tmpl = open(a.template, "rb").read()
        os.makedirs(a.outdir, exist_ok=True)
        ts = int(time.time()) + a.ts_offset
        with open(os.path.join(a.outdir, "pool.lua"), "w") as lua, \
                open(os.path.join(a.outdir, "pool.bin"), "wb") as raw:
            lua.write("pool = {\n")
            for i in range(a.count):
                body = tmpl.replace(b"@N@", str(i).encode())
                msg_id = "msg_bench%08d%d" % (i, ts)
                h = headers_for(a.secret, msg_id, ts, body)
                lua.write("{body=%s, id=%s, ts=%s, sig=%s},\n" % (
                    lua_str(body), lua_str(msg_id.encode()), lua_str(str(ts).encode()),
                    lua_str(h["svix-signature"].encode())))
                req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n" % (a.path, len(body))).encode()
                req += b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in h.items())
                req += b"\r\n" + body
                raw.write(len(req).to_bytes(4, "big") + req)
            lua.write("}\n")
        return 0
    return 2


def lua_str(b):
    return '"' + "".join(c if c.isalnum() or c in " _-.,:{}[]+/=|@" else "\\%03d" % ord(c)
                         for c in b.decode("latin-1")) + '"'


if __name__ == "__main__":
    sys.exit(main())
