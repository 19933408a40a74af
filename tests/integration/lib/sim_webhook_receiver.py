#!/usr/bin/env python3
"""sim_webhook_receiver.py - a webhook endpoint for simulator tests with its OWN Svix
verification (hmac/hashlib/base64 only), independent of common/svix.c.

Every delivery is appended to --log as one JSON line:
  {"svix_id", "timestamp", "verified", "fresh", "status", "event_type", "received_at", "body"}
POST /_control {"fail_next": N, "abort_next": N} makes the next N deliveries answer 500
(or 410 with `webhook-delivery: abort-message`), to exercise retries.
"""
import argparse
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_S = 300


def svix_keys(secrets):
    keys = []
    for s in secrets.split(","):
        s = s.strip()
        if s.startswith("whsec_"):
            s = s[len("whsec_"):]
        keys.append(base64.b64decode(s))
    return keys


def svix_verify(keys, msg_id, ts, sig_header, body):
    """True when one v1 signature matches one key (constant-time compare)."""
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    expected = [base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()).decode() for k in keys]
    for entry in sig_header.split(" "):
        version, _, sig = entry.partition(",")
        if version != "v1":
            continue
        for e in expected:
            if hmac.compare_digest(e, sig):
                return True
    return False


class State:
    lock = threading.Lock()
    fail_next = 0
    abort_next = 0


def make_handler(keys, log_path):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _reply(self, code, extra=None):
            self.send_response(code)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if self.path == "/_control":
                cmd = json.loads(body or b"{}")
                with State.lock:
                    State.fail_next = int(cmd.get("fail_next", State.fail_next))
                    State.abort_next = int(cmd.get("abort_next", State.abort_next))
                return self._reply(200)
            msg_id = self.headers.get("svix-id", "")
            ts = self.headers.get("svix-timestamp", "")
            sig = self.headers.get("svix-signature", "")
            verified = bool(msg_id and ts and sig) and svix_verify(keys, msg_id, ts, sig, body)
            try:
                fresh = abs(time.time() - int(ts)) <= TOLERANCE_S
            except ValueError:
                fresh = False
            status, extra = 200, None
            with State.lock:
                if State.abort_next > 0:
                    State.abort_next -= 1
                    status, extra = 410, {"webhook-delivery": "abort-message"}
                elif State.fail_next > 0:
                    State.fail_next -= 1
                    status = 500
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            line = {"svix_id": msg_id, "timestamp": ts, "verified": verified, "fresh": fresh,
                    "status": status, "received_at": time.time(),
                    "event_type": parsed.get("event_type") if isinstance(parsed, dict) else None,
                    "body": parsed}
            with State.lock, open(log_path, "a") as f:
                f.write(json.dumps(line) + "\n")
            self._reply(status, extra)

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secrets", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(svix_keys(a.secrets), a.log))
    srv.serve_forever()


if __name__ == "__main__":
    main()
