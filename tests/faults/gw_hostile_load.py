#!/usr/bin/env python3
"""gw_hostile_load.py - hostile clients against webhook-gw while signed webhooks keep
flowing (docs/testing.md, "Hostile load").

  gw_hostile_load.py --port P --pid PID --secret S --mode memory|slots [--attackers N]
                     [--seconds S] [--rate R] [--senders K] [--out FILE]

Modes (the attackers run in a child process, on one asyncio loop):
  memory  N clients post bodies declared 1 MiB with fresh-looking (forged) Svix headers,
          sending 32 KiB every 0.5 s and never finishing; a client that is cut comes
          back after 1 s. Without a bound the gateway would hold N MiB.
  slots   N connections (more than WEBHOOK_GW_MAX_CONNECTIONS) each send part of a
          request head, then one more header line a second (slowloris); a connection
          that is closed comes back after 0.2 s.
Meanwhile K senders post validly signed webhooks at R per second in total, each on a
new connection (as a delivery after a failed one would), and /proc/PID/status VmRSS is
sampled every 0.1 s. Prints one JSON object: the legitimate requests (id, status,
milliseconds), RSS (idle before, peak during), and what the attackers saw.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "lib"))
import gw_sign  # noqa: E402

PATH = "/webhooks/trackstar"
BODY_DECLARED = 1 << 20
PIECE = 32 * 1024


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def forged_head(n):
    """A head that passes every check made before the body: fresh timestamp, an id, a v1
    entry of the right shape. Its signature is wrong, which only the body would show."""
    return ("POST %s HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
            "svix-id: msg_attack_%d_%d\r\nsvix-timestamp: %d\r\nsvix-signature: v1,%s=\r\n"
            "Content-Length: %d\r\n\r\n" % (PATH, os.getpid(), n, int(time.time()), "A" * 43,
                                            BODY_DECLARED)).encode()


async def slow_body(port, n, stats, stop):
    piece = b"x" * PIECE
    while not stop.is_set():
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect_failed"] += 1
            await asyncio.sleep(0.5)
            continue
        stats["connections"] += 1
        try:
            w.write(forged_head(n))
            sent, answered = 0, False
            while not stop.is_set() and sent + PIECE < BODY_DECLARED:
                w.write(piece)
                await w.drain()
                sent += PIECE
                stats["bytes"] += PIECE
                try:  # an answer (503 busy) or a close ends this upload
                    data = await asyncio.wait_for(r.read(4096), 0.5)
                    if data.startswith(b"HTTP/1.1 503"):
                        stats["answered_503"] += 1
                    answered = True
                except asyncio.TimeoutError:
                    pass
                if answered:
                    break
            while not answered and not stop.is_set():  # one piece short: hold it
                try:
                    await asyncio.wait_for(r.read(4096), 1.0)
                    answered = True
                except asyncio.TimeoutError:
                    w.write(b"x")
                    await w.drain()
        except OSError:
            stats["cut"] += 1
        finally:
            w.close()
        await asyncio.sleep(1.0)


async def slowloris(port, n, stats, stop):
    while not stop.is_set():
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect_failed"] += 1
            await asyncio.sleep(0.2)
            continue
        stats["connections"] += 1
        try:
            w.write(("POST %s HTTP/1.1\r\nHost: gw\r\n" % PATH).encode())
            i = 0
            while not stop.is_set():
                try:
                    if not await asyncio.wait_for(r.read(4096), 1.0):
                        stats["closed_by_server"] += 1
                        break
                except asyncio.TimeoutError:
                    w.write(b"X-Slow-%d: %d\r\n" % (i, n))
                    i += 1
        except OSError:
            stats["closed_by_server"] += 1
        finally:
            w.close()
        await asyncio.sleep(0.2)


def attack(mode, port, n, seconds, out):
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    # In production the attackers' CPU is not the gateway's; here they share two cores
    # with it (and with everything else), so they run at a lower priority. They still
    # send every byte: only who waits for the CPU first changes.
    os.nice(10)
    stats = {"connections": 0, "bytes": 0, "answered_503": 0, "cut": 0, "closed_by_server": 0,
             "connect_failed": 0}

    async def run():
        stop = asyncio.Event()
        fn = slow_body if mode == "memory" else slowloris
        tasks = [asyncio.create_task(fn(port, i, stats, stop)) for i in range(n)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.wait(tasks, timeout=5)

    asyncio.run(run())
    out.put(stats)


def legit(port, secret, seconds, rate, senders, results, t_end_attack):
    """Each sender posts a signed webhook every senders/rate seconds on a new connection."""
    body_tmpl = ('{"connection_id":"conn_hostile","event_type":"order.updated","integration_name":'
                 '"sandbox","data":{"id":"ord_%d","updated_date":"2026-01-06T09:00:00Z"}}')
    lock = threading.Lock()
    seq = [0]

    def one(k):
        period = senders / rate
        next_at = time.time() + k * period / senders
        while time.time() < t_end_attack:
            time.sleep(max(0.0, next_at - time.time()))
            next_at += period
            with lock:
                seq[0] += 1
                i = seq[0]
            msg_id = "msg_legit_%d_%d" % (os.getpid(), i)
            body = (body_tmpl % i).encode()
            h = gw_sign.headers_for([secret], msg_id, int(time.time()), body)
            req = ("POST %s HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n" % PATH).encode()
            for a, b in h.items():
                req += ("%s: %s\r\n" % (a, b)).encode()
            req += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
            t0 = time.time()
            status, err, t_conn = 0, "", 0.0
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                t_conn = time.time() - t0
                s.settimeout(10)
                s.sendall(req)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
            except OSError as e:
                err = str(e)
            ms = (time.time() - t0) * 1000
            with lock:
                results.append({"id": msg_id, "status": status, "ms": round(ms, 1),
                                "connect_ms": round(t_conn * 1000, 1), "at": round(t0, 2),
                                "error": err})

    ts = [threading.Thread(target=one, args=(k,)) for k in range(senders)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--mode", choices=["memory", "slots"], required=True)
    ap.add_argument("--attackers", type=int, default=320)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--senders", type=int, default=4)
    a = ap.parse_args()

    idle = rss_kib(a.pid)
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=attack, args=(a.mode, a.port, a.attackers, a.seconds, q))
    p.start()
    peak = [idle]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            try:
                peak[0] = max(peak[0], rss_kib(a.pid))
            except OSError:
                return
            time.sleep(0.1)

    st = threading.Thread(target=sample)
    st.start()
    time.sleep(min(3.0, a.seconds / 4))  # the attack builds up first
    results = []
    legit(a.port, a.secret, a.seconds, a.rate, a.senders, results, time.time() + a.seconds - 3.0)
    p.join(a.seconds + 30)
    sampling.set()
    st.join()
    stats = q.get() if not q.empty() else {}
    print(json.dumps({"mode": a.mode, "attackers": a.attackers, "idle_rss_kib": idle,
                      "peak_rss_kib": peak[0], "attack": stats, "legit": results}))


if __name__ == "__main__":
    main()
