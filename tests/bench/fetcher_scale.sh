#!/usr/bin/env bash
# Benchmark: the fetcher's cost as connections grow, N = 100 and 1,000 (10,000 with
# BENCH_SCALE_LARGE=1; any list with BENCH_SCALE_NS="..."): time to the first sync of all,
# requests (useful, 429), fetcher RSS per connection, idle CPU and a restart's requests.
# Figures only: no goals. Each N runs on a fresh stack of its own on ports
# BENCH_SCALE_PORT_BASE (default 25400)+; tests/bench/fetcher_scale.py says how.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec python3 "$ROOT/tests/bench/fetcher_scale.py"
