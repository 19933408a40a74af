#!/usr/bin/env python3
"""report.py - the benchmark run's results: one table (figure, baseline, ratio, goal,
pass/fail), the same as JSON, and a PNG chart, from the BENCH lines the benches printed.

  report.py table RESULTS_DIR
      reads RESULTS_DIR/bench.txt (BENCH lines), meta.txt, phases.csv, samples.csv and
      latency_*.txt; prints the table; writes results.json and chart.png (gnuplot).
      Exit 1 when a goal is missed or a bench failed to report.
  report.py fallback NAME LOG
      BENCH lines from the human output of a bench that does not print them yet
      (webhook_gw, writer); prints nothing when it does not recognise the output.

The BENCH line format is defined in docs/benchmarks.md.
"""
import json, os, re, shutil, subprocess, sys

GOAL_RE = re.compile(r"^(ratio|value)(>=|<=|<|>)(-?[0-9.]+)$")


def parse_line(line):
    """'BENCH k=v k=v ...' -> dict, or None. Values never hold spaces."""
    if not line.startswith("BENCH "):
        return None
    d = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            d[k] = v
    return d if "name" in d and "value" in d else None


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def judge(f):
    """Fill ratio, goal text and result ('pass', 'FAIL', 'info', 'no data')."""
    v, b = num(f.get("value")), num(f.get("baseline"))
    f["ratio"] = v / b if v is not None and b else None
    g = f.get("goal")
    if not g:
        f["result"] = "info" if v is not None else "no data"
        return
    m = GOAL_RE.match(g)
    if not m:
        f["result"] = "bad goal"
        return
    subject = f["ratio"] if m.group(1) == "ratio" else v
    if subject is None:
        f["result"] = "no data"
        return
    t = float(m.group(3))
    ok = {">=": subject >= t, "<=": subject <= t, "<": subject < t, ">": subject > t}[m.group(2)]
    f["result"] = "pass" if ok else "FAIL"


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100 or x == int(x):
        return "%.0f" % x
    return "%.2f" % x


def read_kv_file(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def table(d):
    figs = []
    bench_txt = os.path.join(d, "bench.txt")
    if os.path.exists(bench_txt):
        for line in open(bench_txt):
            f = parse_line(line.strip())
            if f:
                judge(f)
                figs.append(f)
    meta = read_kv_file(os.path.join(d, "meta.txt"))
    failed_benches = [b for b in meta.get("failed_benches", "").split() if b]

    # ---- the table ----
    w = max([len(f["name"]) for f in figs] + [20])
    head = "%-*s %12s %-11s %12s %7s %-14s %s" % (w, "figure", "value", "unit", "baseline", "ratio", "goal", "result")
    print(head)
    print("-" * len(head))
    cpu = [f for f in figs if ".cpu." in f["name"]]
    for f in figs:
        if f in cpu:
            continue
        print("%-*s %12s %-11s %12s %7s %-14s %s" % (
            w, f["name"], fmt(num(f["value"])), f.get("unit", ""), fmt(num(f.get("baseline"))),
            fmt(f["ratio"]), f.get("goal", ""), f["result"]))
    goals = [f for f in figs if f.get("goal")]
    missed = [f for f in goals if f["result"] != "pass"]
    print("-" * len(head))
    print("%d goals: %d met, %d missed or without data%s" % (
        len(goals), len(goals) - len(missed), len(missed),
        "; benches that failed to run or report: " + " ".join(failed_benches) if failed_benches else ""))
    if cpu:  # cores used per process in each e2e phase: where the machine's time went
        phases = list(dict.fromkeys(f["name"].split(".")[1] for f in cpu))  # in run order
        procs = sorted({f["stage"] for f in cpu if "stage" in f}, key=lambda n: (n == "machine", n))
        val = {(f["name"].split(".")[1], f.get("stage")): f["value"] for f in cpu}
        print("cores used during each end-to-end phase (machine = every process on this machine, ours and others'):")
        print("%-12s" % "phase" + "".join("%11s" % p[:10] for p in procs))
        for ph in phases:
            print("%-12s" % ph + "".join("%11s" % val.get((ph, p), "-") for p in procs))
    if meta.get("soak_s") and any(f["name"].startswith("memory.") for f in figs):
        print("memory soak: %s s%s" % (meta["soak_s"], "" if int(meta["soak_s"]) >= 600
                                       else " (short default; BENCH_LONG=1 runs the 10-minute soak)"))

    # ---- JSON ----
    with open(os.path.join(d, "results.json"), "w") as out:
        json.dump({"meta": meta, "figures": figs, "goals": len(goals), "goals_missed": [f["name"] for f in missed],
                   "failed_benches": failed_benches}, out, indent=1)
    chart(d, figs)
    print("results: %s (results.json, chart.png, logs)" % d)
    return 0 if not missed and not failed_benches else 1


# ---- the chart -------------------------------------------------------------------------

def chart(d, figs):
    if not shutil.which("gnuplot"):
        print("report: gnuplot is not installed (Debian gnuplot-nox): no chart.png", file=sys.stderr)
        return
    data = os.path.join(d, "chart-data")
    os.makedirs(data, exist_ok=True)
    plots = []

    # 1. request-to-row latency distribution (CDF) of every e2e phase
    lat_files = sorted(f for f in os.listdir(d) if f.startswith("latency_") and f.endswith(".txt"))
    series = []
    for lf in lat_files:
        vals = sorted(float(x) for x in open(os.path.join(d, lf)) if x.strip())
        if not vals:
            continue
        step = max(1, len(vals) // 2000)  # at most ~2000 points per curve
        pts = [(vals[i], (i + 1) / len(vals)) for i in range(0, len(vals), step)] + [(vals[-1], 1.0)]
        out = os.path.join(data, lf.replace(".txt", ".cdf"))
        with open(out, "w") as o:
            o.write("".join("%.3f %.5f\n" % (max(x, 0.1), p) for x, p in pts))
        series.append("'%s' using 1:2 with lines lw 2 title '%s'" % (out, lf[8:-4]))
    if series:
        plots.append("set title 'End to end: request to committed row'\nset xlabel 'latency, ms (log)'\n"
                     "set ylabel 'fraction of orders'\nset logscale x\nset key bottom right\nset yrange [0:1]\n"
                     "plot " + ", ".join(series) + "\nunset logscale x\nset yrange [*:*]\n")

    # 2. throughput per stage: measured / baseline, against each goal
    rows = [f for f in figs if f.get("ratio") is not None and "/" in f.get("unit", "")]
    if rows:
        out = os.path.join(data, "ratios.dat")
        with open(out, "w") as o:
            for i, f in enumerate(rows):
                m = GOAL_RE.match(f.get("goal", "") or "")
                goal = float(m.group(3)) if m and m.group(1) == "ratio" else float("nan")
                o.write('%d "%s" %.4f %s "%s %s"\n' % (i, f["name"], f["ratio"], goal, fmt(num(f["value"])), f.get("unit")))
        plots.append("set title 'Throughput per stage, as a fraction of its baseline (points: goal)'\n"
                     "set xlabel ''\nset ylabel 'measured / baseline'\nset style fill solid 0.6\nset boxwidth 0.6\n"
                     "set xtics rotate by 30 right font ',7'\nset yrange [0:%.2f]\nset key off\n"
                     "plot '%s' using 1:3:xtic(2) with boxes, '' using 1:4 with points pt 7 ps 1.5, "
                     "'' using 1:3:5 with labels offset 0,1 font ',7'\nset xtics norotate font ''\nset key\n"
                     % (1.15 * max([1.0] + [f["ratio"] for f in rows]), out))

    # 3. end to end: delivered against offered, per phase
    phases = os.path.join(d, "phases.csv")
    thr = {f["name"].split(".")[1]: num(f["value"]) for f in figs
           if f["name"].startswith("e2e.") and f["name"].endswith(".throughput")}
    if os.path.exists(phases) and thr:
        out = os.path.join(data, "e2e.dat")
        with open(out, "w") as o:
            for line in open(phases):
                p = line.strip().split(",")
                if len(p) >= 2 and p[0] in thr:
                    o.write("%s %s\n" % (p[1], thr[p[0]]))
        plots.append("set title 'End to end: delivered against offered'\nset xlabel 'offered events/s'\n"
                     "set ylabel 'rows committed, events/s'\nset key top left\nset yrange [0:*]\n"
                     "plot '%s' using 1:2 with linespoints lw 2 pt 7 title 'delivered', x with lines dt 2 title 'offered'\n"
                     % out)

    # 4. RSS of every process over the run
    samples = os.path.join(d, "samples.csv")
    if os.path.exists(samples):
        per = {}
        t0 = None
        for line in open(samples):
            p = line.strip().split(",")
            if len(p) != 4 or p[1] == "machine":
                continue
            t = float(p[0])
            t0 = t if t0 is None else min(t0, t)
            per.setdefault(p[1], []).append((t, int(p[2]) / 1024))
        series = []
        for name in sorted(per):
            out = os.path.join(data, "rss_%s.dat" % name)
            with open(out, "w") as o:
                o.write("".join("%.1f %.1f\n" % (t - t0, r) for t, r in per[name]))
            series.append("'%s' using 1:2 with lines lw 2 title '%s'" % (out, name))
        if series:
            plots.append("set title 'RSS over the run'\nset xlabel 'seconds'\nset ylabel 'MiB'\nset key top left font ',7'\n"
                         "set yrange [0:*]\nplot " + ", ".join(series) + "\n")

    if not plots:
        return
    rows_n = (len(plots) + 1) // 2
    script = ("set terminal pngcairo size 1600,%d noenhanced font ',10'\nset output '%s'\nset grid\n"
              "set multiplot layout %d,2 title 'trackstar-pipeline benchmarks %s'\n"
              % (560 * rows_n, os.path.join(d, "chart.png"), rows_n, os.path.basename(d)))
    script += "".join(plots) + "unset multiplot\n"
    gp = os.path.join(data, "chart.gp")
    with open(gp, "w") as o:
        o.write(script)
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        print("report: gnuplot failed: " + r.stderr.strip()[-500:], file=sys.stderr)


# ---- fallback parsers for benches without BENCH lines ----------------------------------

def fallback(name, log):
    text = open(log, errors="replace").read()
    if name == "webhook_gw":
        ng = re.search(r"^nginx return 200 \(wrk, max\)\s+(\d+)", text, re.M)
        gw = re.search(r"^webhook-gw verify\+ack \(wrk, max\)\s+(\d+)\s+(\S+)\s+(\S+)", text, re.M)
        fx = re.search(r"^webhook-gw fixed (\d+)/s \(gw_loadgen\)\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
        if ng and gw:
            print("BENCH name=webhook_gw.rate stage=webhook-gw value=%s unit=req/s baseline=%s "
                  "baseline_name=nginx_return_200 goal=ratio>=0.5" % (gw.group(1), ng.group(1)))
        if fx:
            print("BENCH name=webhook_gw.p99_at_%s stage=webhook-gw value=%s unit=ms goal=value<20"
                  % (fx.group(1), fx.group(4)))
            print("BENCH name=webhook_gw.rate_at_%s stage=webhook-gw value=%s unit=req/s baseline=%s "
                  "baseline_name=offered_rate" % (fx.group(1), fx.group(2), fx.group(1)))
    elif name == "writer":
        for m in re.finditer(r"^(insert|update|replay)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+x", text, re.M):
            goal = " goal=ratio>=0.75" if m.group(1) != "replay" else ""
            print("BENCH name=writer.%s.records_per_s stage=writer value=%s unit=records/s baseline=%s "
                  "baseline_name=bare_copy_and_merge%s" % (m.group(1), m.group(2), m.group(3), goal))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "table":
        return table(argv[2])
    if len(argv) == 4 and argv[1] == "fallback":
        return fallback(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
