#!/usr/bin/env python3
"""gw_hold_check.py - webhook-gw's publish hold (WEBHOOK_GW_PUBLISH_HOLD_MS), from outside.

Usage: gw_hold_check.py PORT ADMIN_PORT SECRET BODY_FILE HOLD_MS EXPECT_JSONL

The gateway under test runs with HOLD_MS (long enough to tell apart from a round trip)
and a burst size of BURST (gw_publish.c). The hold ends at once when the connections that
could still send (open, no request waiting for its answer) are no more than the requests
held. Four cases, each judged by the answers, their timing and the gateway's
webhook_publish_* counters:
  1. a lone sender (no other connection open): its request cannot be joined by any
     other, so the hold ends at once (closed_by="few_senders"), well before HOLD_MS;
  2. the same with one idle connection open: one request held, one connection that could
     send: not held either;
  3. with two idle connections open: the request waits out the hold
     (closed_by="hold_expired") and its answer takes at least HOLD_MS;
  4. BURST + 8 senders at once, with 40 more idle connections open: the first BURST
     requests leave as one burst (closed_by="burst_full"), the rest after the hold.
Every request must be answered 200; each one's event id is appended to EXPECT_JSONL so
that the raw-topic check finds every message exactly once. Prints "ok ..." / "FAIL ..."
lines (check_lib.report); exits 1 on a failure.
"""
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_lib import counts, report  # noqa: E402
from gw_sign import headers_for  # noqa: E402

BURST = 32  # GW_HOLD_BURST_MAX in webhook-gw/gw_publish.c

port, admin, secret, body_file, hold_ms, expect_path = sys.argv[1:7]
port, admin, hold_ms = int(port), int(admin), int(hold_ms)
body = open(body_file, "rb").read()
seq = 0


def counters():
    """{(metric, closed_by): value} of the hold's two counters."""
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        for m in ("webhook_publish_bursts_total", "webhook_publish_burst_messages_total"):
            if line.startswith(m + '{closed_by="'):
                name, value = line.rsplit(" ", 1)
                out[(m, name[len(m) + 12:-2])] = int(float(value))
    return out


def delta(before, after, metric, closed_by):
    return after.get((metric, closed_by), 0) - before.get((metric, closed_by), 0)


def post(conn):
    """One signed request on an open HTTPConnection: (status, milliseconds)."""
    global seq
    seq += 1
    msg_id = "msg_it_hold_%d_%d" % (os.getpid(), seq)
    with open(expect_path, "a") as f:
        f.write(json.dumps({"name": "hold_%d" % seq, "event_id": msg_id, "min": 1, "max": 1}) + "\n")
    h = headers_for([secret], msg_id, int(time.time()), body)
    h["Content-Type"] = "application/json"
    t0 = time.monotonic()
    conn.request("POST", "/webhooks/trackstar", body=body, headers=h)
    r = conn.getresponse()
    r.read()
    return r.status, (time.monotonic() - t0) * 1000


def connect():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.connect()
    return c


# 1. A lone sender.
c0 = counters()
conn = connect()
status, ms = post(conn)
conn.close()
time.sleep(0.1)  # the gateway notices the close before the next case counts connections
c1 = counters()
report(status == 200 and ms < hold_ms and
       delta(c0, c1, "webhook_publish_bursts_total", "few_senders") == 1 and
       delta(c0, c1, "webhook_publish_bursts_total", "hold_expired") == 0,
       "a lone sender is not held: 200 in %.1f ms (hold %d ms), its burst closed by "
       "few_senders" % (ms, hold_ms), "status %s, counters %s" % (status, c1))


def idle_connections(k):
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(k)]
    time.sleep(0.1)  # accepted, and counted open, before the request comes
    return socks


# 2. One idle connection: waiting for it would not even double the burst.
idle = idle_connections(1)
conn = connect()
status, ms = post(conn)
conn.close()
time.sleep(0.1)
c2 = counters()
report(status == 200 and ms < hold_ms and
       delta(c1, c2, "webhook_publish_bursts_total", "few_senders") == 1,
       "one idle connection open: not held either, 200 in %.1f ms" % ms,
       "status %s, counters %s" % (status, c2))

# 3. Two idle connections: they could add more than is held, so the request waits.
idle += idle_connections(1)
conn = connect()
status, ms = post(conn)
c3 = counters()
report(status == 200 and ms >= hold_ms - 1 and
       delta(c2, c3, "webhook_publish_bursts_total", "hold_expired") == 1,
       "two idle connections open: the request waits out the hold, 200 in %.1f ms" % ms,
       "status %s, counters %s" % (status, c3))
conn.close()

# 4. BURST + 8 senders at once beside 40 idle connections: one full burst, then the
# rest after the hold.
idle += idle_connections(40)
c2 = counters()
n = BURST + 8
conns = [connect() for _ in range(n)]
results = [None] * n
gate = threading.Barrier(n)


def one(i):
    gate.wait()
    try:
        results[i] = post(conns[i])[0]
    except OSError as e:
        results[i] = str(e)


threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
c3 = counters()
full = delta(c2, c3, "webhook_publish_bursts_total", "burst_full")
full_msgs = delta(c2, c3, "webhook_publish_burst_messages_total", "burst_full")
all_msgs = sum(delta(c2, c3, "webhook_publish_burst_messages_total", k)
               for k in ("few_senders", "hold_expired", "burst_full"))
report(results.count(200) == n and full >= 1 and full_msgs == BURST * full and all_msgs == n,
       "%d senders at once: all 200; %d burst(s) of %d closed full, %d messages in all" %
       (n, full, BURST, all_msgs), "answers %s, counters %s" % (sorted(set(map(str, results))), c3))
for c in conns + idle:
    c.close()
sys.exit(1 if counts["failed"] else 0)
