#!/usr/bin/env bash
# Every tracked C header compiles on its own and when included twice in one translation
# unit: it includes what it uses, and its include guard covers all of it (a declaration
# after the #endif breaks the second include). Prints "headers: N passed, M failed" so
# tests/run.sh counts it.
set -uo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
# The Makefile's preprocessor and warning flags.
flags=(-D_GNU_SOURCE -Icommon -I. -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
       -Wno-missing-field-initializers)
bad=()
n=0
while IFS= read -r h; do
  n=$((n + 1))
  if ! out=$(printf '#include "%s"\n#include "%s"\n' "$h" "$h" | "$CC" "${flags[@]}" -fsyntax-only -x c - 2>&1); then
    bad+=("$h")
    printf 'headers: %s does not compile included twice:\n%s\n' "$h" "$(head -n 5 <<<"$out")"
  fi
done < <(git ls-files '*.h')
echo "headers: $((n - ${#bad[@]})) passed, ${#bad[@]} failed"
[ ${#bad[@]} -eq 0 ]
