#!/usr/bin/env bash
# Every tracked C file must be exactly what `make format` (clang-format, .clang-format)
# makes of it. Prints "format: N passed, M failed" so tests/run.sh counts it.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format: clang-format not installed"; echo "format: 0 passed, 1 failed"; exit 1; }
bad=()
n=0
while IFS= read -r f; do
  n=$((n + 1))
  clang-format --style=file "$f" | cmp -s - "$f" || bad+=("$f")
done < <(git ls-files '*.c' '*.h')
if [ ${#bad[@]} -gt 0 ]; then
  printf 'format: differs from `make format`: %s\n' "${bad[@]}"
  echo "format: $((n - ${#bad[@]})) passed, ${#bad[@]} failed"
  exit 1
fi
echo "format: $n passed, 0 failed"
