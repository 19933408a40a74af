#!/usr/bin/env python3
"""fx_check.py - what the fetcher put on the raw topic, compared with the simulator.

  fx_check.py truth SIM_URL API_KEY CONN RESOURCE OUT.jsonl
      every current record of RESOURCE (the simulator's truth endpoint), one per line
  fx_check.py truths SIM_URL API_KEY CONN OUT_DIR RESOURCE...
      truth of each RESOURCE into OUT_DIR/RESOURCE.jsonl
  fx_check.py covered RAW.json CONN RESOURCE TRUTH.jsonl
      every truth record reached the raw topic in its current version (same id and
      updated_date), published exactly as served; prints "ok N" or the missing ones
  fx_check.py headers RAW.json CONN
      every polled message of CONN carries the raw-topic headers of the contract
  fx_check.py statuses RAW.json CONN RESOURCE
      the sync-status states published for (CONN, RESOURCE), in order
  fx_check.py rate SIM_LOG PATH_PREFIX
      the most requests (to paths starting with PATH_PREFIX) seen in one second, and
      the number of 429 answers, from the simulator's debug request log
"""
import collections
import json
import os
import sys
import urllib.request


def raw_messages(path):
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break  # a recording (fx_raw_record) still being written: its last line is not whole yet
            line = line.strip()
            if not line:
                continue
            m = json.loads(line)
            h = m.get("headers") or []
            m["h"] = dict(zip(h[0::2], h[1::2]))
            yield m


def data_elements(text):
    """The exact text of each element of the page's "data" array (json.raw_decode
    reports where each one ends), so records can be compared byte for byte."""
    dec = json.JSONDecoder()
    i = text.index('"data"')
    i = text.index("[", i) + 1
    out = []
    while True:
        while text[i] in " \t\r\n,":
            i += 1
        if text[i] == "]":
            return out
        _, end = dec.raw_decode(text, i)
        out.append(text[i:end])
        i = end


def truth(sim, key, conn, res, out):
    token, n = None, 0
    with open(out, "w") as f:
        while True:
            url = f"{sim}/_sim/truth/{res}?connection_id={conn}&limit=1000"
            if token:
                url += "&page_token=" + urllib.parse.quote(token)
            req = urllib.request.Request(url, headers={"x-trackstar-api-key": key})
            with urllib.request.urlopen(req) as r:
                text = r.read().decode()
            for rec in data_elements(text):
                f.write(rec.replace("\n", "\\n") + "\n")
                n += 1
            token = json.loads(text).get("next_token")
            if not token:
                break
    print(n)


def truths(sim, key, conn, out_dir, *resources):
    """truth for each of RESOURCES into OUT_DIR/<resource>.jsonl, in one process (the
    suite's checks fetch up to 15 at a time: one interpreter start each was seconds under
    load)."""
    import contextlib, io
    for res in resources:
        with contextlib.redirect_stdout(io.StringIO()):
            truth(sim, key, conn, res, os.path.join(out_dir, res + ".jsonl"))


def oldest(sim, key, conn, res):
    """What Trackstar's historical-sync-completed would carry as oldest_data_date."""
    import datetime
    out = "/tmp/fx_oldest_%d.jsonl" % os.getpid()
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        truth(sim, key, conn, res, out)
    dates = [json.loads(l)["updated_date"] for l in open(out)]
    os.unlink(out)
    print(min(dates) if dates else datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"))


def polled(raw, conn, resources):
    """{resource: (seen, exact)} of CONN's polled messages, in one pass over RAW (a dump
    of the raw topic runs to tens of MB: read once for every resource, not once each)."""
    out = {r: (collections.defaultdict(set), {}) for r in resources}
    for m in raw_messages(raw):
        h = m["h"]
        res = h.get("resource")
        if h.get("source") != "poll" or h.get("connection_id") != conn or res not in out:
            continue
        if h.get("event_type") != res + ".polled":
            continue
        v = json.loads(m["payload"])
        seen, exact = out[res]
        seen[v["id"]].add(v.get("updated_date"))
        exact[(v["id"], v.get("updated_date"))] = m["payload"]
    return out


def covered(raw, conn, res, truth_file):
    ok, msg = covered_by(*polled(raw, conn, [res])[res], truth_file)
    print(msg)
    if not ok:
        sys.exit(1)


def covered_many(raw, conn, truth_dir, *resources):
    """covered for each of RESOURCES, their truths in TRUTH_DIR/<resource>.jsonl; stops at
    the first not covered, its name in front of the report."""
    got = polled(raw, conn, resources)
    for res in resources:
        ok, msg = covered_by(*got[res], os.path.join(truth_dir, res + ".jsonl"))
        if not ok:
            print(f"{res}: {msg}")
            sys.exit(1)
    print("ok")


def covered_by(seen, exact, truth_file):
    missing, inexact, n = [], 0, 0
    with open(truth_file) as f:
        for line in f:
            rec = json.loads(line)
            n += 1
            if rec.get("updated_date") not in seen.get(rec["id"], ()):
                missing.append(f'{rec["id"]}@{rec.get("updated_date")}')
                continue
            # "exactly as served": same bytes as the simulator renders the record
            if exact[(rec["id"], rec.get("updated_date"))] != line.rstrip("\n"):
                inexact += 1
    if missing or inexact:
        return False, f"missing {len(missing)} of {n} (e.g. {missing[:3]}), not byte-exact {inexact}"
    return True, f"ok {n}"


def headers(raw, conn):
    n = 0
    for m in raw_messages(raw):
        h = m["h"]
        if h.get("source") != "poll" or h.get("connection_id") != conn:
            continue
        if h.get("event_type") == "pipeline.sync-status":
            k = m["key"].split("|")
            ok = k[0] == conn and k[1] == "sync_status" and k[2] == h.get("resource")
            body = json.loads(m["payload"])
            ok = ok and set(body) == {"connection_id", "integration_name", "resource", "state", "last_started_at",
                                      "last_success_at", "records_seen", "last_error", "updated_at"}
        elif h.get("resource") == "connections":
            # GET /connections/{id}'s object as served: keyed by the connection itself,
            # never holding a token
            v = json.loads(m["payload"])
            ok = (h.get("event_type") == "connections.polled" and m["key"] == f"{conn}|connections|{conn}"
                  and v.get("connection_id") == conn and "access_token" not in m["payload"]
                  and h.get("event_id", "").startswith(f"poll:{conn}:connections:{conn}:"))
        else:
            res = h.get("resource")
            v = json.loads(m["payload"])
            ok = (h.get("event_type") == f"{res}.polled" and m["key"] == f"{conn}|{res}|{v['id']}"
                  and h.get("event_id", "").startswith(f"poll:{conn}:{res}:{v['id']}:{v.get('updated_date')}")
                  and h.get("received_at", "").endswith("Z") and h.get("integration_name"))
        if not ok:
            print("bad message:", json.dumps(m)[:400])
            sys.exit(1)
        n += 1
    print(f"ok {n}")


def statuses(raw, conn, res):
    out = []
    for m in raw_messages(raw):
        if m["h"].get("event_type") == "pipeline.sync-status" and m["key"] == f"{conn}|sync_status|{res}":
            out.append(json.loads(m["payload"])["state"])
    print(" ".join(out))


def rate(log, prefix, conn=None):
    """Requests per second on paths under prefix (of one connection's token when conn is
    given): the busiest second, the 429s, the total."""
    per_sec = collections.Counter()
    throttled = 0
    with open(log) as f:
        for line in f:
            if '"msg":"request"' not in line:
                continue
            e = json.loads(line)
            if not e.get("path", "").startswith(prefix):
                continue
            if conn and e.get("connection_id") != conn:
                continue
            per_sec[e["ts"][:19]] += 1
            throttled += e.get("status") == "429"
    # The busiest three seconds as well: the sim logs a request when it arrives, and
    # requests the fetcher spaced out can arrive together across a calendar second's
    # edge (a loaded or sanitized run saw 8 in one second at a budget of 4, 0 429s); a
    # budget is a rate, so it is judged over a window too.
    import datetime
    secs = collections.Counter()
    for k, n in per_sec.items():
        secs[int(datetime.datetime.fromisoformat(k).timestamp())] += n
    max3 = max((sum(secs.get(t + i, 0) for i in range(3)) for t in secs), default=0)
    print(max(per_sec.values()) if per_sec else 0, throttled, sum(per_sec.values()), max3)


def conn_reads(log, seconds):
    """GETs of the connections' API-key endpoints (the listing GET /connections and
    GET /connections/{id}) in the first `seconds` after the first of them: the pages, the
    single reads, and the 429s among all of them over the whole log."""
    import datetime
    t0, pages, singles, throttled = None, 0, 0, 0
    with open(log) as f:
        for line in f:
            if '"msg":"request"' not in line:
                continue
            e = json.loads(line)
            path = e.get("path", "")
            single = path.startswith("/connections/") and path.count("/") == 2 and \
                path not in ("/connections/sync", "/connections/on-demand-syncs")
            if e.get("method") != "GET" or not (path == "/connections" or single):
                continue
            throttled += e.get("status") == "429"
            t = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
            t0 = t if t0 is None else t0
            if t - t0 <= float(seconds):
                pages += path == "/connections"
                singles += single
    print(pages, singles, throttled)


if __name__ == "__main__":
    import urllib.parse
    cmd, args = sys.argv[1], sys.argv[2:]
    {"truth": truth, "truths": truths, "oldest": oldest, "covered": covered,
     "covered-many": covered_many, "headers": headers, "statuses": statuses, "rate": rate,
     "conn_reads": conn_reads}[cmd](*args)
