#!/usr/bin/env bash
# test_fuzz_short.sh - a short libFuzzer run of every fuzz target (tests/fuzz/fuzz_*.c)
# through tests/fuzz/run.sh, FUZZ_SECONDS each (default 20): svix_header (signature
# header parsing and verification), gw_envelope (webhook envelope parsing, Kafka key,
# rebuilt truncated events), canon (the normalizer's mapping) and json_arena (the arena
# JSON parser against cJSON, on every target's seeds). Every run starts from
# the seed corpus in tests/fuzz/corpus/<target>/, which also holds the reproducers of
# bugs found before, so a regression fails at once. Any crash, leak, sanitizer report or
# broken invariant fails the target; the reproducer is left in build/fuzz/.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
SECS=${FUZZ_SECONDS:-20}
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c); t=${t#fuzz_}
  log="$ROOT/build/fuzz/run-$t.log"
  mkdir -p "$ROOT/build/fuzz"
  rm -f "$ROOT/build/fuzz/crash-$t-"*
  if "$ROOT/tests/fuzz/run.sh" "$t" "$SECS" >"$log" 2>&1; then
    pass "fuzz $t for ${SECS}s: $(grep -o 'Done [0-9]* runs' "$log" | tail -1 | sed 's/Done //'), no finding"
  else
    why=$(grep -m1 -E 'SUMMARY|ERROR: |error:' "$log")
    art=$(ls "$ROOT/build/fuzz/crash-$t-"* 2>/dev/null | head -1)
    fail "fuzz $t for ${SECS}s" "${why:-exit status $?}${art:+; reproducer $art}; log $log"
    grep -m1 "json_arena and cJSON differ" "$log" | sed 's/^/        /'
    grep -m3 -E "#[0-9]+ .* in (LLVMFuzzerTestOneInput|gw_|svix_|canon_|json_|val_)" "$log" | sed 's/^/        /'
  fi
done
finish
