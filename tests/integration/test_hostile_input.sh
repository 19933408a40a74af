#!/usr/bin/env bash
# test_hostile_input.sh - the hostile-input catalogue (tests/faults/hostile_cases.py, about
# 90 cases with the outcome each must get) against the shared test stack: malformed and
# truncated JSON, wrong types, missing ids, huge numbers and strings, deep nesting,
# invalid UTF-8, NUL bytes, SQL-looking strings, header injection, oversized bodies, slow
# clients, forged, stale and replayed signatures, unknown event types. Each must get its
# clear 4xx from webhook-gw, or (validly signed, not mappable) exactly one dead letter
# with a reason, or be stored exactly. Then the cases are repeated: every stage must stay
# the same process, healthy, with flat RSS, and log no error.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"
BIN_DIR=${BIN_DIR:-bin}
# Sanitizer builds keep freed memory in quarantine (ASan), so their RSS climbs for a
# while without a leak; LeakSanitizer reports real leaks when the stack stops.
slack=8
case "$BIN_DIR" in *san*) slack=128 ;; esac
exec python3 "$ROOT/tests/faults/hostile_run.py" --stack-env "$STACK_ENV" --rounds "${HOSTILE_ROUNDS:-10}" \
  --rss-slack-mib "${HOSTILE_RSS_SLACK_MIB:-$slack}"
