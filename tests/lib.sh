# tests/lib.sh - shared helpers for the shell test suites (sourced, not run).
# A suite calls `check NAME CMD...` or `pass NAME` / `fail NAME WHY`, and ends with
# `finish`, which prints "N passed, M failed" and sets the exit status.

T_PASSED=0
T_FAILED=0
T_FAILED_NAMES=()

pass() { T_PASSED=$((T_PASSED + 1)); printf '  ok    %s\n' "$1"; }
fail() {
  T_FAILED=$((T_FAILED + 1)); T_FAILED_NAMES+=("$1")
  printf '  FAIL  %s: %s\n' "$1" "${2:-}"
}
# check NAME EXPECTED ACTUAL
check_eq() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi; }
# check NAME CMD... : passes when the command succeeds
check() { local n=$1; shift; if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "command failed: $*"; fi; }

finish() {
  [ ${#T_FAILED_NAMES[@]} -gt 0 ] && printf 'failed: %s\n' "${T_FAILED_NAMES[*]}"
  echo "$T_PASSED passed, $T_FAILED failed"
  [ "$T_FAILED" -eq 0 ]
}

# wait_for SECONDS CMD... : retry CMD every 0.2 s until it succeeds
wait_for() {
  local s=$1; shift
  local i
  for ((i = 0; i < s * 5; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
