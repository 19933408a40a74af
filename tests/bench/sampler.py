#!/usr/bin/env python3
"""sampler.py - RSS and CPU time of the stack's processes while the benchmarks run, and
what they say afterwards: whether memory stayed flat, and how many cores each used.

  sampler.py record OUT.csv INTERVAL_S NAME=PIDFILE ...
      every INTERVAL_S append "epoch_s,name,rss_kb,cpu_ticks" per process until SIGTERM.
      A name whose pid file holds PostgreSQL's postmaster counts the postmaster and all
      its children (backends, checkpointer, WAL writer): PostgreSQL is one stage here.
  sampler.py flat CSV START END [MAX_GROWTH]
      per process, RSS over [START, END] (epoch s): the median of the samples in the
      second fifth (after warm-up) against the median of the last fifth; prints one
      BENCH line per process (goal for the four stages: growth <= MAX_GROWTH, default
      1.10; a growth under 4 MiB counts as none).
  sampler.py cpu CSV START END LABEL [EVENTS]
      per process, the cores used on average over [START, END]; informational BENCH lines.
      "machine" is every CPU's busy time: machine minus the rest is other work. With
      EVENTS (the events the phase accepted), also each process's CPU per event (µs) and
      the pipeline's: every process but the load generator (and "machine").

BENCH lines: docs/benchmarks.md.
"""
import os, signal, statistics, sys, time

CLK_TCK = os.sysconf("SC_CLK_TCK")
STAGES = ("webhook-gw", "fetcher", "normalizer", "writer")
RSS_FLOOR_KB = 4096  # growth below this is noise (allocator arenas, page-cache effects)


def read_pid(pidfile):
    try:
        with open(pidfile) as f:
            return int(f.readline().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def proc_stat(pid):
    """(ppid, cpu_ticks) from /proc/<pid>/stat, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[11]) + int(rest[12])


def proc_rss(pid, proportional=False):
    """VmRSS in kB; with proportional, Pss: PostgreSQL's processes all map the same
    shared buffers, and summing their RSS would count those pages once per process."""
    path, key = ("/proc/%d/smaps_rollup" % pid, "Pss:") if proportional else ("/proc/%d/status" % pid, "VmRSS:")
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_of(root):
    """root and every descendant (PostgreSQL forks one process per connection)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                kids.setdefault(st[0], []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def machine():
    """(memory in use kB, busy ticks of every CPU): what the whole machine is doing,
    so that a reader sees how much of it other work took during the run."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v[:8]) - v[3] - v[4]  # everything but idle and iowait
    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, rest = line.split(":", 1)
            mem[k] = int(rest.split()[0])
    return mem["MemTotal"] - mem["MemAvailable"], busy


def record(out_path, interval, specs):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    with open(out_path, "a", buffering=1) as out:
        while not stop:
            now = time.time()
            for name, pidfile in specs:
                pid = read_pid(pidfile)
                if pid is None or proc_stat(pid) is None:
                    continue
                pids = children_of(pid) if name == "postgres" else [pid]
                rss = cpu = 0
                for p in pids:
                    st = proc_stat(p)
                    if st:
                        cpu += st[1]
                        rss += proc_rss(p, proportional=name == "postgres")
                out.write("%.3f,%s,%d,%d\n" % (now, name, rss, cpu))
            out.write("%.3f,machine,%d,%d\n" % ((now,) + machine()))
            time.sleep(max(0.0, interval - (time.time() - now)))


def load(csv_path, start, end):
    rows = {}
    with open(csv_path) as f:
        for line in f:
            p = line.strip().split(",")
            if len(p) != 4:
                continue
            t = float(p[0])
            if start <= t <= end:
                rows.setdefault(p[1], []).append((t, int(p[2]), int(p[3])))
    return rows


def flat(csv_path, start, end, max_growth):
    rows = load(csv_path, start, end)
    span = end - start
    ok = True
    for name in sorted(rows):
        if name == "machine":
            continue
        s = rows[name]
        warm = [r for t, r, _ in s if start + 0.2 * span <= t < start + 0.4 * span]
        last = [r for t, r, _ in s if t >= start + 0.8 * span]
        if not warm or not last:
            print("sampler: too few samples for %s" % name, file=sys.stderr)
            continue
        w, e = statistics.median(warm), statistics.median(last)
        # A small absolute change is not a trend, whatever its ratio on a tiny process.
        ratio = 1.0 if e - w < RSS_FLOOR_KB else e / w
        # The goal is on the pipeline's stages. PostgreSQL's cache and the dev broker's
        # retained log (5 MiB per partition) grow by design until their caps: shown only.
        goal = " goal=ratio<=%.2f" % max_growth if name in STAGES else ""
        if goal:
            ok &= ratio <= max_growth
        print("BENCH name=memory.%s.rss stage=%s value=%.1f unit=MiB baseline=%.1f "
              "baseline_name=rss_after_warmup%s window_s=%.0f growth=%.3f"
              % (name, name, e / 1024, w / 1024, goal, span, ratio))
    return ok


NOT_PIPELINE = ("loadgen", "machine")


def cpu(csv_path, start, end, label, events=0):
    rows = load(csv_path, start, end)
    per_event, pipeline = [], 0.0
    for name in sorted(rows):
        s = rows[name]
        if len(s) < 2 or s[-1][0] <= s[0][0]:
            continue
        cpu_s = (s[-1][2] - s[0][2]) / CLK_TCK
        # the samples' own span: the window's ends fall between two samples
        cores = cpu_s / (s[-1][0] - s[0][0])
        print("BENCH name=e2e.%s.cpu.%s stage=%s value=%.2f unit=cores" % (label, name, name, cores))
        if events > 0:
            # the CPU of the whole window per event: the events span it, sample to sample
            us = cores * (end - start) / events * 1e6
            per_event.append((name, us))
            if name not in NOT_PIPELINE:
                pipeline += us
    if not per_event:
        return
    for name, us in per_event:
        print("BENCH name=e2e.%s.cpu_per_event.%s stage=%s value=%.0f unit=us" % (label, name, name, us))
    print("BENCH name=e2e.%s.cpu_per_event.pipeline stage=e2e value=%.0f unit=us" % (label, pipeline))
    print("%s: CPU per event (µs): %s; pipeline (all but the load generator) %.0f"
          % (label, ", ".join("%s %.0f" % (n, us) for n, us in per_event if n != "machine"), pipeline))


def main(argv):
    if len(argv) >= 4 and argv[1] == "record":
        specs = [tuple(a.split("=", 1)) for a in argv[4:]]
        record(argv[2], float(argv[3]), specs)
        return 0
    if len(argv) in (5, 6) and argv[1] == "flat":
        return 0 if flat(argv[2], float(argv[3]), float(argv[4]),
                         float(argv[5]) if len(argv) == 6 else 1.10) else 1
    if len(argv) in (6, 7) and argv[1] == "cpu":
        cpu(argv[2], float(argv[3]), float(argv[4]), argv[5], int(argv[6]) if len(argv) == 7 else 0)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
