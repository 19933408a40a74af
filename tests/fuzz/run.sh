#!/usr/bin/env bash
# Build a libFuzzer target and run it for a while.
#
#   tests/fuzz/run.sh <target> <seconds>      e.g. tests/fuzz/run.sh canon 60
#
# Builds tests/fuzz/fuzz_<target>.c with clang -fsanitize=fuzzer,address,undefined against
# the target's stage sources (minus main.c; see stage_dir below) and common/*.c, then runs
# it on a scratch copy of tests/fuzz/corpus/<target>/ (the seeds in the repository are not
# modified), plus, read-only, the corpora named in extra_seeds below. Exits non-zero on a
# crash, leak or sanitizer report; the reproducer is left in build/fuzz/.
set -euo pipefail

target=${1:?usage: $0 <target> <seconds>}
seconds=${2:?usage: $0 <target> <seconds>}
case $seconds in '' | *[!0-9]*) echo "seconds must be a whole number" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tests/fuzz/fuzz_$target.c
seeds=$root/tests/fuzz/corpus/$target
out=$root/build/fuzz
[ -f "$src" ] || { echo "no fuzz target $src" >&2; exit 2; }
[ -d "$seeds" ] || { echo "no seed corpus $seeds" >&2; exit 2; }
CC=${FUZZ_CC:-clang}

mkdir -p "$out/corpus-$target"
cp -n "$seeds"/* "$out/corpus-$target"/ 2>/dev/null || true

# Which stage's sources a target links (every target links common/*.c), and which other
# corpora it also reads (libFuzzer writes new inputs only to the first directory).
extra_seeds=()
case $target in
    canon) stage_dir=normalizer ;;                 # canon_map(): the normalizer's mapping
    gw_envelope | svix_header) stage_dir=webhook-gw ;; # envelope/key and header rules
    json_arena) stage_dir=                         # common/json_arena.c against cJSON,
        extra_seeds=("$root"/tests/fuzz/corpus/*/) ;; # on every target's seeds
    *) echo "unknown fuzz target $target (add it to stage_dir in $0)" >&2; exit 2 ;;
esac
stage_srcs=()
[ -n "$stage_dir" ] && mapfile -t stage_srcs < <(ls "$root/$stage_dir"/*.c | grep -v '/main\.c$')
"$CC" -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wall -Wextra -Werror -Wno-missing-field-initializers \
    -I"$root" -I"$root/common" \
    -o "$out/fuzz_$target" "$src" "${stage_srcs[@]}" "$root"/common/*.c \
    -lrdkafka -lcurl -lcjson -lpq -lssl -lcrypto -lmicrohttpd -lpthread -lm -ldl

cd "$out"
# -max_len: bodies larger than this add nothing but time; CANON_MAX_BODY is tested elsewhere.
exec "./fuzz_$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix="$out/crash-$target-" "$out/corpus-$target" "${extra_seeds[@]}"
