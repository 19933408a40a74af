#!/usr/bin/env bash
# The whole test suite (what `make test` runs after building): the format check, the
# header check, unit tests without any infrastructure, then the integration suite on a
# local stack. Ends with one line "N passed, M failed" over all of them.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. tests/lib.sh # python3 without its shim, for every suite below
BUILD_DIR=${BUILD_DIR:-build/release}
out=$(mktemp); trap 'rm -f "$out"' EXIT
tests/format-check.sh 2>&1 | tee "$out"; frc=${PIPESTATUS[0]}
tests/header-check.sh 2>&1 | tee -a "$out"; hrc=${PIPESTATUS[0]}
tests/run-unit.sh "$BUILD_DIR"/tests/test_* 2>&1 | tee -a "$out"; urc=${PIPESTATUS[0]}
tests/run-integration.sh 2>&1 | tee -a "$out"; irc=${PIPESTATUS[0]}
p=0 f=0
while read -r line; do
  p=$((p + $(sed -E 's/^[a-z]+: ([0-9]+) passed.*/\1/' <<<"$line")))
  f=$((f + $(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")))
done < <(grep -E '^(format|headers|unit|integration): [0-9]+ passed, [0-9]+ failed' "$out")
[ $frc -ne 0 ] || [ $hrc -ne 0 ] || [ $urc -ne 0 ] || [ $irc -ne 0 ] && [ $f -eq 0 ] && f=1
echo "$p passed, $f failed"
[ $frc -eq 0 ] && [ $hrc -eq 0 ] && [ $urc -eq 0 ] && [ $irc -eq 0 ]
