#!/usr/bin/env bash
# Benchmark: the fetcher's cost as connections grow, N = 100 and 1,000 (10,000 with
# BENCH_SCALE_LARGE=1; any list with BENCH_SCALE_NS="..."), with one and two fetcher
# replicas (BENCH_SCALE_REPLICAS): time to the first sync of all against the rate-limit
# bound, requests per useful one, 429s, RSS per owned connection, idle CPU and a restart's
# API-key requests, each next to its goal (marked, never an error), and fetcher_scale.png.
# Each run is on a fresh stack of its own on ports BENCH_SCALE_PORT_BASE (default 25400)+;
# tests/bench/fetcher_scale.py says how.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec python3 "$ROOT/tests/bench/fetcher_scale.py"
