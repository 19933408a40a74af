#!/usr/bin/env python3
"""gw_http_check.py - the gateway's HTTP/1.1 layer seen from raw sockets: keep-alive,
pipelining, Expect: 100-continue, HTTP/1.0, head size, framing errors, and the lingering
close that lets a client read a 413 while it is still sending its body.

Usage: gw_http_check.py PORT PATH SECRET BODY_FILE ID_PREFIX
Prints one "ok <what>" or "FAIL <what>: <detail>" line per check (check_lib.report);
exits 1 on a failure.
The signed requests use ids ID_PREFIX_<n>; each is accepted once.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gw_sign  # noqa: E402
from check_lib import counts, report as result  # noqa: E402

PORT, PATH, SECRET, BODY_FILE, PREFIX = sys.argv[1:6]
PORT = int(PORT)
BODY = open(BODY_FILE, "rb").read()
counter = [0]


def signed(extra=b"", version=b"HTTP/1.1", body=BODY):
    counter[0] += 1
    msg_id = "%s_%d" % (PREFIX, counter[0])
    ts = int(time.time())
    h = gw_sign.headers_for([SECRET], msg_id, ts, body)
    head = b"POST " + PATH.encode() + b" " + version + b"\r\nHost: gw\r\nContent-Type: application/json\r\n"
    for k, v in h.items():
        head += k.encode() + b": " + v.encode() + b"\r\n"
    return head + extra + b"Content-Length: %d\r\n\r\n" % len(body), body


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.settimeout(10)
    return s


class Reader:
    """Reads HTTP responses off a socket, one at a time."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        while len(self.buf) < n:
            self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body

    def closed(self, wait=3.0):
        """True when the server closes the connection (EOF or reset) within wait seconds."""
        self.s.settimeout(wait)
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def check(what, fn):
    try:
        fn()
    except Exception as e:  # a broken check is a failed check, with the reason
        result(False, what, "%s: %s" % (type(e).__name__, e))


def keep_alive():
    s = connect()
    r = Reader(s)
    statuses = []
    for _ in range(3):
        head, body = signed()
        s.sendall(head + body)
        st, h, _ = r.response()
        statuses.append(st)
    result(statuses == [200, 200, 200], "three requests on one keep-alive connection -> 200 each", statuses)
    result("date" in h and h.get("content-type") == "application/json" and "connection" not in h,
           "answers carry Date and Content-Type, and keep the connection", h)
    s.close()


def pipelined():
    s = connect()
    r = Reader(s)
    a, b = signed(), signed()
    bad = b"GET " + PATH.encode() + b" HTTP/1.1\r\nHost: gw\r\n\r\n"
    s.sendall(a[0] + a[1] + b[0] + b[1] + bad)  # one write: three pipelined requests
    got = [r.response()[0] for _ in range(3)]
    result(got == [200, 200, 405], "three pipelined requests in one write answered in order", got)
    s.close()


def expect_continue():
    s = connect()
    r = Reader(s)
    head, body = signed(extra=b"Expect: 100-continue\r\n")
    s.sendall(head)
    st, _, _ = r.response()
    result(st == 100, "Expect: 100-continue -> 100 Continue before the body", st)
    s.sendall(body)
    st, _, _ = r.response()
    result(st == 200, "then the body -> 200", st)
    s.close()


def http10():
    s = connect()
    r = Reader(s)
    head, body = signed(version=b"HTTP/1.0")
    s.sendall(head + body)
    st, h, _ = r.response()
    result(st == 200 and h.get("connection") == "close" and r.closed(),
           "HTTP/1.0 without keep-alive -> 200, Connection: close, closed", (st, h))
    s.close()


def half_close():
    """A client that shuts its side right after its request still gets the answer, and
    the server then closes at once instead of waiting out the idle timeout."""
    s = connect()
    r = Reader(s)
    head, body = signed()
    s.sendall(head + body)
    s.shutdown(socket.SHUT_WR)
    st, _, _ = r.response()
    t0 = time.time()
    closed = r.closed(wait=5.0)
    took = time.time() - t0
    result(st == 200 and closed and took < 1.0,
           "request then half-close -> 200, then closed after %.2f s" % took, (st, closed))
    s.close()


def refused(what, raw, want):
    s = connect()
    r = Reader(s)
    s.sendall(raw)
    st, h, _ = r.response()
    result(st == want and h.get("connection") == "close" and r.closed(),
           "%s -> %d and the connection closed" % (what, want), (st, h))
    s.close()


def lingering_413():
    """After answering 413 to a declared body it will not read, the server shuts its side
    and keeps reading and dropping what the client still sends for a while, instead of
    closing at once: a close with unread bytes is a TCP reset, and a client still
    uploading may lose the answer with it."""
    s = connect()
    head = (b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
            b"Content-Length: 4000000\r\n\r\n")
    s.sendall(head)
    r = Reader(s)
    st, h, _ = r.response()
    eof = r.closed()  # the server's FIN: its write side is shut
    sent, err = 0, None
    try:
        for _ in range(8):  # 512 KB over ~0.4 s, all after the FIN
            s.sendall(b"x" * 65536)
            sent += 65536
            time.sleep(0.05)
    except OSError as e:
        err = e
    result(st == 413 and h.get("connection") == "close" and eof and err is None,
           "after a 413 the server reads and drops the rest of the upload (%d KB) without a reset" % (sent // 1024),
           (st, h, eof, err))
    s.close()


check("keep-alive", keep_alive)
check("pipelining", pipelined)
check("expect", expect_continue)
check("http/1.0", http10)
check("half-close", half_close)
big = b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: gw\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
check("431", lambda: refused("a head over 8 KiB", big, 431))
# Signature headers that pass the checks made on the head (the gateway refuses a request
# without them before reading its body), so that the body's framing is what is judged.
fresh_sig = ("svix-id: %s_bad_chunk\r\nsvix-timestamp: %d\r\nsvix-signature: v1,%s\r\n"
             % (PREFIX, int(time.time()), "A" * 43 + "=")).encode()
bad_chunk = (b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
             + fresh_sig + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
check("bad chunk", lambda: refused("a chunk size that is not hex", bad_chunk, 400))
gzip = (b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: gzip\r\n\r\n")
check("501", lambda: refused("Transfer-Encoding: gzip", gzip, 501))
smuggle = (b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
           b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
check("smuggling", lambda: refused("Content-Length with Transfer-Encoding", smuggle, 400))
check("no host", lambda: refused("HTTP/1.1 without Host", b"POST " + PATH.encode() + b" HTTP/1.1\r\n\r\n", 400))
check("version", lambda: refused("HTTP/2.0 request line", b"POST " + PATH.encode() + b" HTTP/2.0\r\nHost: gw\r\n\r\n", 505))
check("lingering", lingering_413)
sys.exit(1 if counts["failed"] else 0)
