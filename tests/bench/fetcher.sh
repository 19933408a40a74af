#!/usr/bin/env bash
# Benchmark: the fetcher backfills one simulator connection of BENCH_ORDERS orders
# (default 100000) and the time is printed next to the bound the rate limit sets
# (pages / 10 GET per second). Goal: at least 0.9 of the bound, zero 429 answers when
# the rate headers are honoured, and flat memory (RSS sampled every second).
#
# It runs in a private environment (tests/integration/lib/fx_env.sh) on ports
# FX_BASE (default 23500)+. Env: BENCH_ORDERS, BIN_DIR.
#
# Then, on the same database, the store of stream state against the statement it
# replaced (tests/bench/bench_fx_streams_put.c, made by `make bench`).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/bench/bench_lib.sh"
FX_BASE=${FX_BASE:-23500}
. "$ROOT/tests/integration/lib/fx_env.sh"
trap fx_env_down EXIT
ORDERS=${BENCH_ORDERS:-100000}
RATE=10

# Every order in Trackstar's copy: by default a tenth are older than the historical sync's
# window (SIM_OLD_HISTORY_PERCENT), held by the WMS only, so the API lists 90% of them and
# the check below (every order read) could never pass.
fx_env_up SIM_LOG_REQUESTS=1 SIM_OLD_HISTORY_PERCENT=0 || { echo "bench: environment did not start (see $FX_DIR)"; FX_KEEP=1; exit 1; }
# Only get_orders, so that every request of the run is an orders page.
read -r C TOK < <(fx_sim_conn "{\"integration_name\":\"sandbox\",\"orders\":$ORDERS,\"emit_created\":0,\"available_actions\":[\"get_orders\"]}")
printf '%s\n' "$TOK" | fx_cmd connection-add "$C" sandbox >/dev/null
mark=$(wc -l <"$FX_DIR/sim.log")
fx_fetcher bench 1 FETCHER_RATE_PER_TOKEN=$RATE || { echo "bench: fetcher not ready"; FX_KEEP=1; exit 1; }
pid=$(fx_pid bench)
done_() { [ "$(fx_sql "SELECT state FROM fetcher_streams WHERE connection_id='$C' AND resource='orders'")" = idle ]; }
rss=()
for ((i = 0; i < 1800; i++)); do
  rss+=("$(($(ps -o rss= -p "$pid") / 1024))")
  done_ && break
  sleep 1
done
done_ || { echo "bench: the backfill did not finish in 30 min"; FX_KEEP=1; exit 1; }

start=$(grep -m1 "\"connection_id\":\"$C\",\"resource\":\"orders\",\"kind\"" "$FX_DIR/bench.log" | sed -E 's/.*"ts":"([^"]*)".*/\1/')
end=$(grep "\"msg\":\"run finished\",\"connection_id\":\"$C\",\"resource\":\"orders\"" "$FX_DIR/bench.log" | tail -1 | sed -E 's/.*"ts":"([^"]*)".*/\1/')
tail -n +"$mark" "$FX_DIR/sim.log" >"$FX_DIR/bench-sim.log"
read -r maxps throttled pages _ < <(python3 "$ROOT/tests/integration/lib/fx_check.py" rate "$FX_DIR/bench-sim.log" /wms/orders)
# every run's records (records_seen is the last run's only: the runs after the backfill read none)
records=$(grep "\"msg\":\"run finished\",\"connection_id\":\"$C\",\"resource\":\"orders\"" "$FX_DIR/bench.log" |
  sed -E 's/.*"records":"([0-9]+)".*/\1/' | awk '{ s += $1 } END { print s + 0 }')
python3 - "$start" "$end" "$pages" "$records" "$ORDERS" "$throttled" "$maxps" "$RATE" "${rss[*]}" <<'PY'
import datetime, math, sys
start, end, pages, records, orders, throttled, maxps, rate, rss = sys.argv[1:]
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
elapsed = (t(end) - t(start)).total_seconds()
pages, records, orders, rate = int(pages), int(records), int(orders), int(rate)
bound = pages / rate
ideal = math.ceil(orders / 1000) / rate
rss = [int(x) for x in rss.split()]
print(f"fetcher backfill: {records} orders in {pages} pages")
print(f"  time                {elapsed:8.1f} s")
print(f"  rate-limit bound    {bound:8.1f} s   (pages / {rate} per s)   ratio {bound / elapsed:.2f}")
print(f"  bound at 1000/page  {ideal:8.1f} s   (ceil(orders / 1000) / {rate})   ratio {ideal / elapsed:.2f}")
print(f"  429 answers         {int(throttled):8d}     most requests in one second: {maxps}")
print(f"  RSS MiB             min {min(rss)} / max {max(rss)} / last {rss[-1]}  (samples, 1 per s: {' '.join(map(str, rss))})")
# BENCH lines (docs/benchmarks.md): throughput against the bound's throughput
print(f"BENCH name=fetcher.records_per_s stage=fetcher value={records / elapsed:.0f} unit=records/s "
      f"baseline={records / bound:.0f} baseline_name=rate_limit_bound goal=ratio>=0.9 pages={pages}")
print(f"BENCH name=fetcher.http_429 stage=fetcher value={int(throttled)} unit=answers goal=value<=0")
print(f"BENCH name=fetcher.rss_growth stage=fetcher value={max(rss) - rss[min(3, len(rss) - 1)]} unit=MiB "
      f"rss_max={max(rss)}")
ok = bound / elapsed >= 0.9 and int(throttled) == 0 and records >= orders
print("bench fetcher:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
backfill_rc=$?

STORE="$BENCH_BUILD/bench/bench_fx_streams_put"
[ -x "$STORE" ] || { echo "bench: missing $STORE (make bench builds it)"; exit 2; }
"$STORE" "$FX_DB" 20
store_rc=$?
[ "$store_rc" -le 1 ] || exit 2
exit $((backfill_rc > store_rc ? backfill_rc : store_rc))
