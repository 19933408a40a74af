#!/usr/bin/env bash
# Run the cmocka unit tests given as arguments. Tests named test_db_* need PostgreSQL
# and run in the integration suite instead. Prints "N passed, M failed" (test cases).
set -uo pipefail
passed=0 failed=0 bad=()
for t in "$@"; do
  case "$(basename "$t")" in test_db_*) continue ;; esac
  out=$("$t" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ]; then
    [ -z "$f" ] && failed=$((failed + 1))
    bad+=("$(basename "$t")"); printf '%s\n' "$out" | grep -v '^\[ *\(RUN\|OK\) ' >&2
  fi
  printf '  %-40s %s\n' "$(basename "$t")" "$([ $rc -eq 0 ] && echo ok || echo FAIL)"
done
[ ${#bad[@]} -gt 0 ] && echo "failed: ${bad[*]}"
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#bad[@]} -eq 0 ]
