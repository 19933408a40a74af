#!/usr/bin/env python3
"""hostile_run.py - send every case of tests/faults/hostile_cases.py to a running stack
and check its promised outcome; then repeat the cases to show that every stage stays up
and its memory (RSS) stays flat.

  hostile_run.py --stack-env FILE [--rounds N] [--rss-slack-mib M] [--only TEXT]

FILE is a stack.env written by deploy/stack/stack.sh (WEBHOOK_URL, WEBHOOK_SECRET,
KAFKA_BOOTSTRAP, DATABASE_URL, ADMIN_*, STACK_VAR). Prints one line per check and
"N passed, M failed" last; exits 1 on any failure.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_cases as hc  # noqa: E402

STAGES = ("webhook-gw", "normalizer", "writer", "fetcher")
PIPELINE_WAIT_S = 90        # dead letters and rows must show up within this
HTTP_TIMEOUT_S = 20
SLOW_CLOSE_LIMIT_S = 30     # a slow client must be cut off within this (gateway: 10 s idle)
SERVED_WHILE_SLOW_S = 5     # a normal delivery during the slow clients must be answered within this

passed = failed = 0
failures = []
REASONS = {}  # case name -> the dlq_reason seen


def ok(name):
    global passed
    passed += 1
    print(f"  ok    {name}")


def bad(name, why):
    global failed
    failed += 1
    failures.append(name)
    print(f"  FAIL  {name}: {why}")


def load_env(path):
    env = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def svix_sign(secret, msg_id, ts, body):
    key = base64.b64decode(secret[6:] if secret.startswith("whsec_") else secret)
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Ctx:
    def __init__(self, run, idx, rnd, suffix):
        self.conn = f"hx{run}_{rnd}_{idx}{suffix}"
        self.msg_id = f"msg_hx{run}_{rnd}_{idx}"


def http_send(url, method, path, headers, body, chunked):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=HTTP_TIMEOUT_S)
    try:
        if chunked:
            c.putrequest(method, path)
            for k, v in headers.items():
                c.putheader(k, v)
            c.putheader("Transfer-Encoding", "chunked")
            c.endheaders()
            try:
                for i in range(0, len(body), 65536):
                    part = body[i:i + 65536]
                    c.send(b"%x\r\n%s\r\n" % (len(part), part))
                c.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer 413 and close before the end
        else:
            try:
                c.request(method, path, body=body if method not in ("GET",) or body else None, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered and closed before the whole request was sent: read the answer
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected, OSError) as e:
        return 0, f"closed: {e}"
    finally:
        c.close()


def send_req(env, req, ctx):
    url = env["WEBHOOK_URL"]
    path = req.path or urllib.parse.urlsplit(url).path
    body = req.body
    msg_id = req.msg_id or ctx.msg_id
    ts = int(time.time()) + req.ts_offset
    headers = {}
    if req.content_type:
        headers["Content-Type"] = req.content_type
    sig = req.sign
    if sig in ("svix", "replay") or callable(sig):
        headers.update({"svix-id": msg_id, "svix-timestamp": str(ts),
                        "svix-signature": svix_sign(env["WEBHOOK_SECRET"], msg_id, ts, body)})
    elif sig == "webhook":
        headers.update({"webhook-id": msg_id, "webhook-timestamp": str(ts),
                        "webhook-signature": svix_sign(env["WEBHOOK_SECRET"], msg_id, ts, body)})
    elif sig == "other":
        other = "whsec_" + base64.b64encode(os.urandom(24)).decode()
        headers.update({"svix-id": msg_id, "svix-timestamp": str(ts),
                        "svix-signature": svix_sign(other, msg_id, ts, body)})
    if callable(sig):
        sig(headers)
        b = headers.pop("__body__", None)
        if b is not None:
            body = b.encode() if isinstance(b, str) else b
    headers.update(req.headers)
    st, text = http_send(url, req.method, path, headers, body, req.chunked)
    if sig == "replay" and st // 100 == 2:
        st, text = http_send(url, req.method, path, headers, body, req.chunked)
    return st, text


def fill(env, data):
    """Raw bytes with {PATH}, {HOST} and {SVIX} (Svix headers that pass every check of
    the head: fresh timestamp, an id, a v1 entry of the right shape; the signature itself
    is forged) filled in."""
    u = urllib.parse.urlsplit(env["WEBHOOK_URL"])
    svix = ("svix-id: msg_forged_%d\r\nsvix-timestamp: %d\r\nsvix-signature: v1,%s=\r\n"
            % (time.time_ns(), int(time.time()), "A" * 43)).encode()
    return data.replace(b"{PATH}", u.path.encode()).replace(b"{HOST}", u.netloc.encode()).replace(b"{SVIX}", svix)


def raw_exchange(env, data, read_timeout=15):
    u = urllib.parse.urlsplit(env["WEBHOOK_URL"])
    data = fill(env, data)
    s = socket.create_connection((u.hostname, u.port), timeout=read_timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf = b""
        while b"\r\n" not in buf:
            try:
                chunk = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
        if buf.startswith(b"HTTP/1."):
            return int(buf.split(b" ")[1]), buf.decode(errors="replace")
        return 0, "closed without an answer"
    finally:
        s.close()


def slow_client(env, slow, result):
    """Trickle a request; result["closed_after"] = seconds until the server closed it."""
    u = urllib.parse.urlsplit(env["WEBHOOK_URL"])
    head = fill(env, slow.head)
    t0 = time.time()
    s = socket.create_connection((u.hostname, u.port), timeout=2)
    result["closed_after"] = None
    try:
        s.sendall(head)
        i = 0
        while time.time() - t0 < slow.duration:
            if slow.tail:
                piece = slow.tail[i % len(slow.tail):i % len(slow.tail) + 1]
            else:  # endless chunked body: 1 KiB chunks as fast as they go
                piece = b"400\r\n" + b"a" * 1024 + b"\r\n"
            i += 1
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                result["closed_after"] = time.time() - t0
                return
            # a closed (or answered) connection shows up as readable
            s.settimeout(slow.interval if slow.interval > 0 else 0.001)
            try:
                got = s.recv(4096)
                if got == b"" or got.startswith(b"HTTP/1."):
                    result["closed_after"] = time.time() - t0
                    result["answer"] = got[:40]
                    return
            except socket.timeout:
                pass
            except (ConnectionResetError, OSError):
                result["closed_after"] = time.time() - t0
                return
    finally:
        s.close()


def produce(env, topic, key, value):
    p = subprocess.run(["kcat", "-P", "-b", env["KAFKA_BOOTSTRAP"], "-t", topic, "-k", key],
                       input=value.encode(), capture_output=True, timeout=30)
    return p.returncode == 0


def dlq_by_conn(env, prefixes):
    """Dead letters whose key starts with one of prefixes + '|': {prefix: [headers...]}."""
    p = subprocess.run(["kcat", "-b", env["KAFKA_BOOTSTRAP"], "-C", "-t", "trackstar.dlq.v1", "-e", "-q", "-J"],
                       capture_output=True, timeout=120)
    out = {k: [] for k in prefixes}
    for line in p.stdout.decode(errors="replace").splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        key = m.get("key") or ""
        conn = key.split("|", 1)[0]
        if conn in out:
            h = m.get("headers") or []
            out[conn].append({h[i]: h[i + 1] for i in range(0, len(h) - 1, 2)})
    return out


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


def db_row(env, table, conn, rid, cols):
    cols = [c for c in cols if c not in ("id",)] or ["id"]
    sql = (f"SELECT coalesce(json_agg(x), '[]') FROM (SELECT id, {', '.join(cols)} FROM {table} "
           f"WHERE connection_id = {sql_lit(conn)} AND id = {sql_lit(rid)}) x")
    p = subprocess.run(["psql", env["DATABASE_URL"], "-XtAq", "-c", sql], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return None
    rows = json.loads(p.stdout or "[]")
    return rows


def rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def stage_pids(env):
    pids = {}
    for s in STAGES:
        try:
            pids[s] = int(open(os.path.join(env["STACK_VAR"], "run", f"{s}.pid")).read().strip())
        except (OSError, ValueError):
            pids[s] = None
    return pids


def healthy(env):
    bad_ones = []
    for s, var in (("webhook-gw", "ADMIN_WEBHOOK_GW"), ("normalizer", "ADMIN_NORMALIZER"),
                   ("writer", "ADMIN_WRITER"), ("fetcher", "ADMIN_FETCHER")):
        try:
            with urllib.request.urlopen(env[var] + "/healthz", timeout=5) as r:
                if r.status != 200:
                    bad_ones.append(s)
        except Exception:  # noqa: BLE001 - any failure means not healthy
            bad_ones.append(s)
    return bad_ones


def error_lines(env):
    n = 0
    for s in STAGES:
        try:
            with open(os.path.join(env["LOGS"], f"{s}.log"), errors="replace") as f:
                n += sum(1 for line in f if '"level":"error"' in line)
        except OSError:
            pass
    return n


def run_case(env, case, ctx):
    """Send one case. Returns (status, text) for HTTP, ("closed", secs) for slow clients,
    ("kafka", ok) for produced messages."""
    r = case.build(ctx)
    if isinstance(r, tuple) and r and r[0] == "kafka":
        return "kafka", produce(env, r[1], r[2], r[3])
    if isinstance(r, hc.Raw):
        return raw_exchange(env, r.data)
    if isinstance(r, hc.Slow):
        res = {}
        slow_client(env, r, res)
        return "slow", res.get("closed_after")
    return send_req(env, r, ctx)


def check_answer(case, got):
    """The immediate part of the expectation. Returns None when fine, else why not."""
    kind = case.expect[0]
    status, text = got
    if kind == "http":
        want, reason = case.expect[1], case.expect[2]
        if status != want:
            return f"status {status} ({text[:120]!r}), want {want}"
        if reason:
            try:
                err = json.loads(text).get("error")
            except ValueError:
                err = None
            if err != reason:
                return f"error {err!r}, want {reason!r}"
        return None
    if kind == "http_4xx":
        return None if 400 <= status < 500 else f"status {status}, want a 4xx ({text[:80]!r})"
    if kind == "http_4xx_or_closed":
        return None if status == 0 or 400 <= status < 500 else f"status {status}, want a 4xx or a close"
    if kind == "closed":
        if status != "slow":
            return f"unexpected {status}"
        if text is None or text > SLOW_CLOSE_LIMIT_S:
            return f"still open after {SLOW_CLOSE_LIMIT_S} s"
        return None
    # dlq, stored, ignored: first the 2xx (or the produce)
    if status == "kafka":
        return None if text else "could not produce"
    return None if isinstance(status, int) and 200 <= status < 300 else f"status {status} ({text[:120]!r}), want 2xx"


def verify_pipeline(env, pending):
    """pending: [(case, ctx)] whose answers were right and that promise a later effect.
    Waits until each has its dead letter or row, or PIPELINE_WAIT_S passes."""
    deadline = time.time() + PIPELINE_WAIT_S
    left = list(pending)
    results = {}
    while True:
        dl = dlq_by_conn(env, [ctx.conn for _, ctx in pending])
        still = []
        for case, ctx in left:
            kind = case.expect[0]
            letters = dl.get(ctx.conn, [])
            if kind == "dlq":
                stage, text = case.expect[1], case.expect[2]
                if not letters:
                    still.append((case, ctx))
                    results[case.name] = "no dead letter yet"
                    continue
                h = letters[0]
                if len(letters) != 1:
                    results[case.name] = f"{len(letters)} dead letters, want 1"
                elif h.get("dlq_stage") != stage:
                    results[case.name] = f"dead-lettered by {h.get('dlq_stage')} ({h.get('dlq_reason')}), want {stage}"
                elif not h.get("dlq_reason") or text not in h.get("dlq_reason", ""):
                    results[case.name] = f"dlq_reason {h.get('dlq_reason')!r} lacks {text!r}"
                else:
                    results[case.name] = None
                    REASONS[case.name] = h.get("dlq_reason")
            elif kind == "stored":
                table, checks = case.expect[1], case.expect[2]
                rid = checks.get("id", "ord_1")
                rows = db_row(env, table, ctx.conn, rid, list(checks))
                if letters:
                    results[case.name] = f"dead-lettered: {letters[0].get('dlq_reason')}"
                elif not rows:
                    still.append((case, ctx))
                    results[case.name] = "no row yet"
                else:
                    diffs = [f"{k}: {str(rows[0].get(k))[:40]!r} != {str(v)[:40]!r}" for k, v in checks.items()
                             if rows[0].get(k) != v]
                    results[case.name] = "; ".join(diffs) if diffs else None
        left = still
        if not left or time.time() > deadline:
            break
        time.sleep(2)
    # A dead letter that never came: say what happened instead (stored as what?).
    for case, ctx in left:
        if case.expect[0] == "dlq":
            seen = []
            for table, col in (("orders", "order_number"), ("inventory_items", "onhand")):
                p = subprocess.run(["psql", env["DATABASE_URL"], "-XtAq", "-c",
                                    f"SELECT {col} FROM {table} WHERE connection_id = {sql_lit(ctx.conn)}"],
                                   capture_output=True, text=True, timeout=60)
                seen += [f"{table}.{col} = {v!r}" for v in p.stdout.split("\n") if v]
            if seen:
                results[case.name] = "not dead-lettered but stored: " + ", ".join(seen)[:200]
    # What must not happen: a dead letter for a case answered 4xx, stored or ignored.
    dl = dlq_by_conn(env, [ctx.conn for _, ctx in pending])
    for case, ctx in pending:
        if case.expect[0] == "ignored":
            results[case.name] = (f"dead-lettered: {dl[ctx.conn][0].get('dlq_reason')}" if dl.get(ctx.conn) else None)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack-env", required=True)
    ap.add_argument("--rounds", type=int, default=10, help="repetitions for the memory check")
    ap.add_argument("--rss-slack-mib", type=float, default=8.0)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    env = load_env(a.stack_env)
    run = f"{random.randrange(16**6):06x}"
    cases = [c for c in hc.CASES if a.only in c.name]
    print(f"hostile: {len(cases)} cases in the catalogue (run {run}) against {env['WEBHOOK_URL']}")
    pids0 = stage_pids(env)
    errors0 = error_lines(env)

    # ---- round 0: every case once, each outcome checked
    later = []
    slow_cases = [(i, c) for i, c in enumerate(cases) if c.group == "slow"]
    fast_cases = [(i, c) for i, c in enumerate(cases) if c.group != "slow"]
    for i, case in fast_cases:
        ctx = Ctx(run, i, 0, case.conn_suffix)
        got = run_case(env, case, ctx)
        why = check_answer(case, got)
        if why:
            bad(f"[{case.group}] {case.name}", why)
        elif case.expect[0] in ("dlq", "stored", "ignored"):
            later.append((case, ctx))
        else:
            ok(f"[{case.group}] {case.name}: {got[0] or 'closed'}")

    # Slow clients all at once; meanwhile a normal delivery must still be answered at once.
    threads, results = [], {}
    for i, case in slow_cases:
        results[case.name] = {}
        r = case.build(Ctx(run, i, 0, ""))
        t = threading.Thread(target=slow_client, args=(env, r, results[case.name]), daemon=True)
        t.start()
        threads.append(t)
    if slow_cases:
        time.sleep(2)
        ctx = Ctx(run, len(cases), 0, "")
        t0 = time.time()
        st, text = send_req(env, hc.Req(hc.o(ctx)), ctx)
        took = time.time() - t0
        if 200 <= st < 300 and took < SERVED_WHILE_SLOW_S:
            ok(f"a normal delivery is answered while slow clients hang on ({st} in {took:.2f} s)")
        else:
            bad("a normal delivery is answered while slow clients hang on", f"status {st} after {took:.1f} s")
        for t in threads:
            t.join(SLOW_CLOSE_LIMIT_S + 10)
        for i, case in slow_cases:
            why = check_answer(case, ("slow", results[case.name].get("closed_after")))
            if why:
                bad(f"[slow] {case.name}", why)
            else:
                ok(f"[slow] {case.name}: closed by the server after {results[case.name]['closed_after']:.1f} s")

    # Effects behind the gateway: dead letters with reasons, rows stored verbatim.
    res = verify_pipeline(env, later)
    for case, ctx in later:
        why = res.get(case.name)
        label = {"dlq": "dead letter", "stored": "stored exactly", "ignored": "2xx, neither stored nor dead-lettered"}
        if why:
            bad(f"[{case.group}] {case.name}", why)
        else:
            extra = f" ({REASONS.get(case.name)})" if case.expect[0] == "dlq" else ""
            ok(f"[{case.group}] {case.name}: {label[case.expect[0]]}{extra}")

    # ---- memory: the same inputs again and again; every stage up, RSS flat
    repeat = [(i, c) for i, c in fast_cases if c.group != "huge" or c.expect[0] == "http"]
    pids = stage_pids(env)

    def one_round(rnd):
        for i, case in repeat:
            run_case(env, case, Ctx(run, i, rnd, case.conn_suffix))

    one_round(1)  # warm-up: caches, pools and allocator arenas reach their working size
    time.sleep(3)
    rss_a = {s: rss_kib(p) for s, p in pids.items()}
    for rnd in range(2, 2 + a.rounds):
        one_round(rnd)
    time.sleep(5)  # let the stages finish what the last round gave them
    rss_b = {s: rss_kib(p) for s, p in pids.items()}
    sent = len(repeat) * (a.rounds + 1)
    for s in STAGES:
        if rss_a[s] is None or rss_b[s] is None:
            bad(f"{s} stays up", "process gone")
            continue
        grow = (rss_b[s] - rss_a[s]) / 1024
        line = f"{s} RSS flat over {sent} more hostile requests: {rss_a[s] // 1024} -> {rss_b[s] // 1024} MiB"
        if grow <= a.rss_slack_mib:
            ok(line)
        else:
            bad(line, f"grew {grow:.1f} MiB (allowed {a.rss_slack_mib})")

    # ---- every stage is the same process, healthy, and logged no error
    pids1 = stage_pids(env)
    gone = [s for s in STAGES if pids1[s] != pids0[s] or rss_kib(pids1[s]) is None]
    if gone:
        bad("every stage stayed up (same process)", ", ".join(gone))
    else:
        ok("every stage stayed up (same process, no restart)")
    sick = healthy(env)
    if sick:
        bad("every stage answers /healthz", ", ".join(sick))
    else:
        ok("every stage answers /healthz")
    e1 = error_lines(env)
    if e1 == errors0:
        ok("no stage logged an error (poison is a warning)")
    else:
        bad("no stage logged an error", f"{e1 - errors0} new \"level\":\"error\" lines")

    if failures:
        print("failed:", "; ".join(failures))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
