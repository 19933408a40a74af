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

rm -rf "$STACK_VAR"
mkdir -p "$STACK_VAR"
stop() { [ "${KEEP_STACK:-0}" = 1 ] || deploy/stack/stack.sh down; }
trap stop EXIT
if ! deploy/stack/stack.sh up; then
  echo "integration: the local stack did not start; logs:" >&2
  tail -n 20 "$STACK_VAR"/logs/*.log >&2
  echo "integration: 0 passed, 1 failed"
  exit 1
fi
# shellcheck disable=SC1090
. "$STACK_ENV"
export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
export TEST_PG_LOG="$STACK_VAR/logs/postgres.log"   # test_db_* scan it for unique violations

passed=0 failed=0 bad=()
tally() { # name output-file rc
  local line p f
  line=$(grep -E '^([a-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
  p=$(sed -E 's/^([a-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
  f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
  [ -z "$line" ] && p=0 f=0
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$3" -ne 0 ]; then [ "$f" -eq 0 ] && failed=$((failed + 1)); bad+=("$1"); fi
}

for t in "$BUILD_DIR"/tests/test_db_*; do
  [ -x "$t" ] || continue
  case "$(basename "$t")" in *${ONLY:-}*) ;; *) continue ;; esac
  echo "== $(basename "$t")"
  out=$(mktemp)
  "$t" >"$out" 2>&1; rc=$?
  grep -v '^\[ *\(RUN\|OK\) ' "$out" | tail -n 30
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  printf '%s passed, %s failed\n' "${p:-0}" "${f:-0}" >>"$out"
  tally "$(basename "$t")" "$out" $rc
  rm -f "$out"
done

for t in tests/integration/test_*.sh; do
  case "$(basename "$t")" in *${ONLY:-}*) ;; *) continue ;; esac
  echo "== $(basename "$t")"
  out=$(mktemp)
  bash "$t" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}
  tally "$(basename "$t")" "$out" "$rc"
  rm -f "$out"
done

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

[ ${#bad[@]} -gt 0 ] && echo "failed: ${bad[*]}"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
