#!/usr/bin/env bash
# test_canonical_schemas.sh - every canonical fixture (tests/fixtures/canonical, the
# normalizer's exact output for tests/fixtures/raw: test_canon_fixtures) is valid
# against its entity's JSON Schema in docs/schemas, keys in the schema's order, and
# every schema is a valid draft 2020-12 schema (tests/fixtures/check_canonical.py).
# Needs no stack.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
out=$(python3 "$ROOT/tests/fixtures/check_canonical.py" 2>&1)
rc=$?
n=$(grep -c '^ok ' <<<"$out")
if [ $rc -eq 0 ] && [ "$n" -gt 0 ]; then
  pass "$n canonical fixtures valid against docs/schemas, keys in schema order"
else
  fail "canonical fixtures against docs/schemas" "$(grep -v '^ok ' <<<"$out" | tail -5)"
fi
finish
