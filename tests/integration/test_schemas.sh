#!/usr/bin/env bash
# test_schemas.sh - the public topics' JSON Schemas (docs/schemas):
#  - tests/fixtures/check_canonical.py: every canonical fixture validates against its
#    schema, keys in the schema's order;
#  - tests/fixtures/check_schema_compat.py: the schemas changed only additively since the
#    base revision (SCHEMA_BASE; default: the merge base with main on a branch, else the
#    previous commit), a fixture with unknown fields, enum values and event kinds still
#    validates, and each kind of breaking change is caught.
# Needs no stack. Alone: bash tests/integration/test_schemas.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. tests/lib.sh
export PYTHONDONTWRITEBYTECODE=1
scratch_dir
# jsonschema: the python3 on PATH if it has it, else Debian's (python3-jsonschema).
PY=python3
$PY -c 'import jsonschema' 2>/dev/null || PY=/usr/bin/python3
check "jsonschema is installed" $PY -c 'import jsonschema'

if $PY tests/fixtures/check_canonical.py >"$TMP/canon.out" 2>&1; then
  pass "check_canonical.py: $(grep -c '^ok ' "$TMP/canon.out") fixtures valid, keys in schema order"
else fail "check_canonical.py" "$(grep -v '^ok ' "$TMP/canon.out" | head -5)"; fi

base=${SCHEMA_BASE:-}
if [ -z "$base" ]; then
  mb=$(git merge-base HEAD main 2>/dev/null || true)
  if [ -n "$mb" ] && [ "$mb" != "$(git rev-parse HEAD)" ]; then base=$mb; else base=HEAD~1; fi
fi
$PY tests/fixtures/check_schema_compat.py --base "$base" | tee "$TMP/compat.out"
add_counts "$TMP/compat.out" "check_schema_compat.py"

finish
