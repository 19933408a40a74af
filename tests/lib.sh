# tests/lib.sh - shared helpers for the shell test suites (sourced, not run).
# A suite calls `check NAME CMD...` or `pass NAME` / `fail NAME WHY`, and ends with
# `finish`, which prints "N passed, M failed" and sets the exit status.

# Every `python3` of the suites goes straight to the interpreter: where python3 is a pyenv
# shim (CI's machines), each call through the shim costs about a second under load, and
# the suites make thousands (the topic job's stand-in Kafka CLI alone: 1,200 calls, five
# of test_deploy's ten minutes). Same interpreter, so the same packages. Done once: the
# suites' children inherit the PATH.
if [ -z "${TS_PYTHON_RESOLVED:-}" ] && command -v python3 >/dev/null 2>&1; then
  if ts_py_dir=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null) &&
    [ -n "$ts_py_dir" ]; then
    PATH="$ts_py_dir:$PATH"
  fi
  export PATH TS_PYTHON_RESOLVED=1
  unset ts_py_dir
fi

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

# add_counts FILE NAME: fold a helper's "N passed, M failed" last line into this suite's
# tally (a helper without that line crashed: one failure).
add_counts() {
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -z "$line" ]; then fail "$2" "no result line (crashed?)"; return; fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
  T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
  [ "$f" -gt 0 ] && T_FAILED_NAMES+=("$2")
  return 0
}

# stack_env: load the local stack's env file ($STACK_ENV) and its secrets, for suites
# that run against the shared stack.
stack_env() {
  : "${STACK_ENV:?STACK_ENV must name the env file of the local stack (var/stack.env)}"
  # shellcheck disable=SC1090
  . "$STACK_ENV"
  # shellcheck disable=SC1090,SC1091
  . "$STACK_VAR/secrets.env"
}

# simctl METHOD PATH [BODY]: the simulator's control API (after stack_env).
simctl() {
  curl -sS --max-time 20 -X "$1" -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$SIM_URL$2"
}

# scratch_dir: $TMP, removed when the suite exits.
scratch_dir() { TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT; }
