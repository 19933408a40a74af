#!/usr/bin/env bash
# run.sh - `make bench`: every benchmark in one run on this machine, each figure next to
# the baseline it is judged against (measured minutes apart, not taken from a README:
# shared machines are noisy, ratios survive it), then one table, results.json and
# chart.png under results/<UTC timestamp>/.
#
#   normalizer   tests/bench/normalizer.sh   normalizer vs bare cJSON, per core
#   webhook_gw   tests/bench/webhook_gw.sh   webhook-gw vs nginx; p99 at 5,000 req/s
#   fetcher      tests/bench/fetcher.sh      fetcher vs the rate-limit bound (when present)
#   fetcher_scale tests/bench/fetcher_scale.sh N connections, 1 and 2 replicas: first sync vs bound, requests, RSS, restart
#   writer       tests/bench/writer.sh, else tests/bench/writer_db.c: writer vs bare COPY+merge
#   e2e          tests/bench/e2e.sh          HTTP to committed rows; memory soak
#
# BENCH_ONLY="normalizer e2e" runs a subset; BENCH_LONG=1 makes the memory soak 10 minutes.
# The benchmark stack (ports 25000+, build/bench-stack) runs for the whole run, and every
# process's RSS and CPU is sampled every second (samples.csv). Each bench's output is in
# its own log; its BENCH lines (docs/benchmarks.md) make the table.
# Exit 1 when a goal is missed or a bench did not report.
set -u
. "$(dirname "$0")/bench_lib.sh"
cd "$BENCH_ROOT" || exit 1

ALL="normalizer webhook_gw fetcher fetcher_scale writer e2e"
ONLY=${BENCH_ONLY:-$ALL}
TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$BENCH_ROOT/results/$TS
mkdir -p "$OUT"
SAMPLER_PID=
cleanup() {
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null && wait "$SAMPLER_PID" 2>/dev/null
    bench_stack down >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SOAK_S=$([ "${BENCH_LONG:-0}" = 1 ] && echo 600 || echo "${BENCH_E2E_SECONDS:-60}")
{
    echo "timestamp=$TS"
    echo "git=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo +dirty)"
    echo "cores=$(nproc)"
    echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "soak_s=$SOAK_S"
    echo "benches=$ONLY"
} >"$OUT/meta.txt"
echo "benchmarks: results in $OUT ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start)"

bench_note "starting the benchmark stack on ports $BENCH_PORT_BASE+ ($BENCH_STACK_VAR)"
# Fresh state every run: figures from a database grown by earlier runs (or made by an
# older schema) would not compare.
bench_stack down >&2
rm -rf "$BENCH_STACK_VAR"
bench_stack_up || bench_die "the benchmark stack did not start"
RUN=$BENCH_STACK_VAR/run
python3 tests/bench/sampler.py record "$OUT/samples.csv" 1 \
    webhook-gw="$RUN/webhook-gw.pid" normalizer="$RUN/normalizer.pid" writer="$RUN/writer.pid" \
    fetcher="$RUN/fetcher.pid" dev-broker="$RUN/dev-broker.pid" postgres="$BENCH_STACK_VAR/pg/postmaster.pid" \
    loadgen="$OUT/loadgen.pid" &
SAMPLER_PID=$!
export STACK_ENV BIN_DIR=$BENCH_BIN_DIR BENCH_RESULTS_DIR=$OUT

# writer: its own script when it exists, else its database-layer program on our PostgreSQL
# (it creates and drops databases of its own there).
writer_bench() {
    if [ -x tests/bench/writer.sh ]; then tests/bench/writer.sh; return; fi
    local src
    for src in tests/bench/bench_writer_db.c tests/bench/writer_db.c ""; do [ -f "$src" ] && break; done
    [ -n "$src" ] || { echo "no writer benchmark in tests/bench"; return 2; }
    bench_build "$BENCH_TOOLS/writer_db" "$src" writer/lib.a
    (set -a && . "$STACK_ENV" && BENCH_DATABASE_URL=$DATABASE_URL "$BENCH_TOOLS/writer_db")
}

failed=()
run_one() { # run_one NAME COMMAND...
    local name=$1 start rc
    shift
    echo
    echo "==== $name ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1 /proc/loadavg))"
    start=$(now_s)
    "$@" 2>&1 | tee "$OUT/$name.log"
    rc=${PIPESTATUS[0]}
    echo "$name,$rc,$start,$(now_s)" >>"$OUT/benches.csv"
    if grep -q '^BENCH ' "$OUT/$name.log"; then
        grep '^BENCH ' "$OUT/$name.log" >>"$OUT/bench.txt"
    else
        python3 tests/bench/report.py fallback "$name" "$OUT/$name.log" >"$OUT/$name.fallback"
        if [ -s "$OUT/$name.fallback" ]; then
            bench_note "$name printed no BENCH lines: figures parsed from its table"
            cat "$OUT/$name.fallback" >>"$OUT/bench.txt"
        else
            failed+=("$name")
        fi
    fi
    # A missed goal exits 1 and is in the table; anything else is the bench failing.
    [ "$rc" -le 1 ] || failed+=("$name")
}

for b in $ONLY; do
    case $b in
    normalizer) run_one normalizer tests/bench/normalizer.sh ;;
    webhook_gw) run_one webhook_gw tests/bench/webhook_gw.sh ;;
    fetcher)
        if [ -x tests/bench/fetcher.sh ]; then run_one fetcher tests/bench/fetcher.sh
        else bench_note "tests/bench/fetcher.sh does not exist yet: no fetcher figures"; failed+=(fetcher); fi ;;
    fetcher_scale) run_one fetcher_scale tests/bench/fetcher_scale.sh ;;
    writer) run_one writer writer_bench ;;
    e2e) BENCH_OUT=$OUT BENCH_SAMPLES=$OUT/samples.csv BENCH_LOADGEN_PIDFILE=$OUT/loadgen.pid \
        run_one e2e tests/bench/e2e.sh ;;
    *) bench_die "unknown bench '$b' (known: $ALL)" ;;
    esac
done

{
    echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "failed_benches=${failed[*]:-}"
} >>"$OUT/meta.txt"
kill "$SAMPLER_PID" 2>/dev/null && wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
echo
echo "==== results ($TS)"
python3 tests/bench/report.py table "$OUT"
