#!/usr/bin/env bash
# Integration suite: start one local stack (deploy/stack/stack.sh) on test ports in a
# scratch directory, run the PostgreSQL-backed cmocka tests (test_db_*) and every
# tests/integration/test_*.sh against it, then stop it. Suites that need processes of
# their own (a paused broker, a second replica) start them on their own ports.
#
# Env: BIN_DIR (bin), TEST_PORT_BASE (27000), KEEP_STACK=1 leaves it running,
#      ONLY=<pattern> runs only the suites whose file name matches.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. tests/lib.sh # python3 without its shim, for every suite below
export BIN_DIR=${BIN_DIR:-bin}
BUILD_DIR=${BUILD_DIR:-$([ "$BIN_DIR" = bin-san ] && echo build/san || echo build/release)}
export STACK_VAR=${STACK_VAR:-$ROOT/build/test-stack}
export STACK_PORT_BASE=${TEST_PORT_BASE:-27000}
export STACK_ENV="$STACK_VAR/stack.env"
# Trackstar's crawls on the shared stack every 36 s for hourly resources (12 h: 7 min):
# the fetcher re-reads every complete listing after each crawl, and the suites leave
# dozens of connections behind, so the simulator's default (3.6 s) kept the stack busy
# with re-reads (~800 records/s) and slowed every later suite. The truth and fault tests
# run stacks of their own with their own scale.
export SIM_EXTRA_ENV="SIM_SYNC_SCALE=${TEST_SIM_SYNC_SCALE:-0.01} ${SIM_EXTRA_ENV:-}"
# A page the simulator keeps failing is retried 8 times; with the production backoff
# (0.5 s doubling to 60 s) a suite that injects 5xx waits two minutes for the run to fail.
FETCHER_ENV="FETCHER_BACKOFF_BASE_MS=100 FETCHER_BACKOFF_CAP_MS=2000 ${STACK_FETCHER_ENV:-}"

rm -rf "$STACK_VAR"
mkdir -p "$STACK_VAR"
stop() { [ "${KEEP_STACK:-0}" = 1 ] || deploy/stack/stack.sh down; }
trap stop EXIT
if ! STACK_FETCHER_ENV=$FETCHER_ENV deploy/stack/stack.sh up; then
  echo "integration: the local stack did not start; logs:" >&2
  tail -n 20 "$STACK_VAR"/logs/*.log >&2
  echo "integration: 0 passed, 1 failed"
  exit 1
fi
# shellcheck disable=SC1090
. "$STACK_ENV"
export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
export TEST_PG_LOG="$STACK_VAR/logs/postgres.log"   # test_db_* scan it for unique violations

passed=0 failed=0 bad=() bad_out=() times=()
OUT_DIR="$STACK_VAR/out"   # every suite's output, kept for the failure digest at the end
mkdir -p "$OUT_DIR"
tally() { # name output-file rc
  local line p f
  line=$(grep -E '^([a-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
  p=$(sed -E 's/^([a-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
  f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
  [ -z "$line" ] && p=0 f=0
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$3" -ne 0 ]; then [ "$f" -eq 0 ] && failed=$((failed + 1)); bad+=("$1"); bad_out+=("$2"); fi
}

for t in "$BUILD_DIR"/tests/test_db_*; do
  [ -x "$t" ] || continue
  case "$(basename "$t")" in *${ONLY:-}*) ;; *) continue ;; esac
  echo "== $(basename "$t")"
  out="$OUT_DIR/$(basename "$t").out"
  "$t" >"$out" 2>&1; rc=$?
  grep -v '^\[ *\(RUN\|OK\) ' "$out" | tail -n 30
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  printf '%s passed, %s failed\n' "${p:-0}" "${f:-0}" >>"$out"
  tally "$(basename "$t")" "$out" $rc
done

# Suites that bring a world of their own (broker, PostgreSQL, simulator on ports apart
# from the shared stack's, or no ports at all) run in a second lane beside the others:
# the suites mostly wait on clocks (one lane kept two cores under half busy), so two
# lanes halve the wall time. Their output is shown when the lane ends. TEST_LANES=1
# runs everything in one lane, in file order.
# SOLO suites run first, alone: the simulator's own checks run its clocks 2000 times
# faster than Trackstar's and failed when a truth run shared the cores.
SOLO="test_simulator"
# test_token_keys (own ports, 21000+) brings its own world too, but runs in the first lane.
# test_rebuild (ports 26000+, apart from the fetcher's 23000+ and the fault and truth runs'
# 24000-24432) and test_fuzz_short (no ports) are back in the second: the sanitized
# rehearsal had it at 1,437 s against the first's 1,640, and test_fetcher's smaller
# connections and single raw-topic reads, and the fault runs' single comparisons, took
# minutes off it, more than test_deploy's faster checks took off the first.
OWN_WORLD="test_faults_short test_fetcher test_truth_2025 test_truth_2026 test_rebuild test_fuzz_short"
LANES=${TEST_LANES:-2}
selected() { case "$1" in *${ONLY:-}*) return 0 ;; esac; return 1; }
own_world() { [ "$LANES" -gt 1 ] && [[ " $OWN_WORLD " == *" $1 "* ]]; }
LANE_DIR="$STACK_VAR/lane2"
mkdir -p "$LANE_DIR"
lane2=()
for n in $OWN_WORLD; do
  [ -f "tests/integration/$n.sh" ] && selected "$n.sh" && own_world "$n" && lane2+=("$n")
done
run_shown() { # name label: run a suite with its output shown as it goes, and tally it
  local out t0 rc
  echo "== $1.sh$2"
  out="$OUT_DIR/$1.sh.out"
  t0=$SECONDS
  bash "tests/integration/$1.sh" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}
  tally "$1.sh" "$out" "$rc"
  times+=("$((SECONDS - t0)) $1.sh$2")
}
for n in $SOLO; do
  selected "$n.sh" && [ -f "tests/integration/$n.sh" ] && run_shown "$n" " (alone)"
done
( for n in ${lane2[@]+"${lane2[@]}"}; do
    t0=$SECONDS
    bash "tests/integration/$n.sh" >"$LANE_DIR/$n.out" 2>&1; echo $? >"$LANE_DIR/$n.rc"
    echo $((SECONDS - t0)) >"$LANE_DIR/$n.seconds"
  done ) &
lane2_pid=$!

for t in tests/integration/test_*.sh; do
  n=$(basename "$t" .sh)
  selected "$n.sh" || continue
  own_world "$n" && continue
  [[ " $SOLO " == *" $n "* ]] && continue
  run_shown "$n" ""
done
wait "$lane2_pid"
for n in ${lane2[@]+"${lane2[@]}"}; do
  echo "== $n.sh (second lane)"
  cat "$LANE_DIR/$n.out"
  tally "$n.sh" "$LANE_DIR/$n.out" "$(cat "$LANE_DIR/$n.rc" 2>/dev/null || echo 1)"
  times+=("$(cat "$LANE_DIR/$n.seconds" 2>/dev/null || echo 0) $n.sh (lane 2)")
done
# Where the run's time went (the CI runs the whole suite twice: plain and sanitized).
echo "== seconds per suite ($SECONDS s in all)"
printf '%s\n' "${times[@]}" | sort -rn | awk '{s = $1; $1 = ""; printf "  ..    %5d s %s\n", s, $0}'

# Whole-stack checks after every suite: no stage logged an error it should not have,
# and PostgreSQL never saw a unique violation.
echo "== stack logs"
if grep -l '"level":"error"' "$STACK_VAR"/logs/{writer,normalizer,webhook-gw,fetcher}.log 2>/dev/null; then
  grep -h '"level":"error"' "$STACK_VAR"/logs/*.log | head -20
  failed=$((failed + 1)); bad+=("stack-logs-errors")
else passed=$((passed + 1)); echo "  ok    no error in any stage log"; fi
# Under SANITIZE=1 a finding is a line in a stage's log, not necessarily a failed test.
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$STACK_VAR"/logs/*.log 2>/dev/null; then
  grep -hE -A5 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$STACK_VAR"/logs/*.log | head -40
  failed=$((failed + 1)); bad+=("sanitizer-findings")
else passed=$((passed + 1)); echo "  ok    no sanitizer finding in any log"; fi
if grep -q 'duplicate key value violates unique constraint' "$STACK_VAR"/logs/postgres.log; then
  failed=$((failed + 1)); bad+=("postgres-unique-violation")
else passed=$((passed + 1)); echo "  ok    no unique violation in the PostgreSQL log"; fi

# A long run's output is often read from its end only: each failed suite's FAIL lines
# again, with the lines that led to them.
if [ ${#bad_out[@]} -gt 0 ]; then
  echo "== failures in detail"
  for f in "${bad_out[@]}"; do
    echo "-- $(basename "$f" .out)"
    grep -B6 -E '^ *FAIL|^\[  FAILED  \]' "$f" | head -40
    grep -qE '^ *FAIL|^\[  FAILED  \]' "$f" || tail -n 15 "$f"
  done
fi
[ ${#bad[@]} -gt 0 ] && echo "failed: ${bad[*]}"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
