#!/usr/bin/env python3
"""gw_fake_trackstar.py - the two endpoints behind an oversized webhook (reference §7.6),
for the webhook-gw integration test.

  GET /data/<name>  needs x-trackstar-api-key: KEY  -> {"download_url": ".../dl/<name>"}
                    (404 when DIR/<name>.json does not exist)
  GET /dl/<name>    serves DIR/<name>.json as is; records in DIR/dl_saw_key whether an
                    API key came with it (it must not: the link is pre-signed)

Usage: gw_fake_trackstar.py PORT KEY DIR
"""
import http.server
import json
import os
import sys


def main():
    port, key, root = int(sys.argv[1]), sys.argv[2], sys.argv[3]

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) != 2:
                return self.reply(404, b'{"error":"not found"}')
            kind, name = parts
            path = os.path.join(root, os.path.basename(name) + ".json")
            if kind == "data":
                if self.headers.get("x-trackstar-api-key") != key:
                    return self.reply(401, b'{"error":"bad api key","origin":"trackstar"}')
                if not os.path.exists(path):
                    return self.reply(404, b'{"error":"no such event"}')
                link = "http://127.0.0.1:%d/dl/%s?sig=presigned" % (port, name)
                return self.reply(200, json.dumps({"download_url": link}).encode())
            if kind == "dl":
                with open(os.path.join(root, "dl_saw_key"), "a") as f:
                    f.write("%s %s\n" % (name, "yes" if self.headers.get("x-trackstar-api-key") else "no"))
                if not os.path.exists(path):
                    return self.reply(404, b'{"error":"expired"}')
                with open(path, "rb") as f:
                    return self.reply(200, f.read())
            return self.reply(404, b'{"error":"not found"}')

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    srv.serve_forever()


if __name__ == "__main__":
    main()
