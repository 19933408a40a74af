# bench_lib.sh - shell helpers shared by tests/bench/*.sh (sourced, not run): the BENCH
# result line (format in docs/benchmarks.md), building a bench C program with the
# project's flags, and reading a process's CPU time and RSS from /proc.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_BIN_DIR=${BIN_DIR:-bin}
case $BENCH_BIN_DIR in /*) ;; *) BENCH_BIN_DIR=$BENCH_ROOT/$BENCH_BIN_DIR ;; esac
# The sanitizer binaries link the sanitizer build's libraries; the release ones, release.
case $BENCH_BIN_DIR in
*bin-san) BENCH_BUILD=${BUILD_DIR:-build/san} BENCH_SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" ;;
*) BENCH_BUILD=${BUILD_DIR:-build/release} BENCH_SANFLAGS="" ;;
esac
case $BENCH_BUILD in /*) ;; *) BENCH_BUILD=$BENCH_ROOT/$BENCH_BUILD ;; esac
BENCH_TOOLS=$BENCH_ROOT/build/bench-tools
CLK_TCK=$(getconf CLK_TCK)

bench_die() { echo "bench: $*" >&2; exit 1; }
bench_note() { echo "bench: $*" >&2; }

# bench_line name=... value=... unit=... [baseline=... baseline_name=...] [goal=...] ...
# One machine-readable result on stdout; run.sh collects every such line.
bench_line() { echo "BENCH $*"; }

# bench_build OUT SRC [LIB...]: compile a single-file bench program with the Makefile's
# warnings and include paths, linked against the given static libraries and libcommon.
bench_build() {
    local out=$1 src=$2
    shift 2
    mkdir -p "$(dirname "$out")"
    local libs=()
    for l in "$@"; do
        [ -f "$BENCH_BUILD/$l" ] || bench_die "missing $BENCH_BUILD/$l (run make first)"
        libs+=("$BENCH_BUILD/$l")
    done
    [ -f "$BENCH_BUILD/libcommon.a" ] || bench_die "missing $BENCH_BUILD/libcommon.a (run make first)"
    # shellcheck disable=SC2086
    (cd "$BENCH_ROOT" && cc -std=c11 -O2 -g -D_GNU_SOURCE -Icommon -I. -Wall -Wextra -Werror -Wshadow \
        -Wstrict-prototypes -Wno-missing-field-initializers $BENCH_SANFLAGS -o "$out" "$src" \
        "${libs[@]}" "$BENCH_BUILD/libcommon.a" -lrdkafka -lcurl -lcjson -lpq -lssl -lcrypto \
        -lmicrohttpd -lpthread -lm -ldl) || bench_die "cannot build $src"
}

# CPU time (user + system, every thread) of a process, in clock ticks.
proc_cpu_ticks() {
    # The command name (field 2) may hold spaces: cut after its closing parenthesis.
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }
    # fields after the name: 3=state ... 14=utime 15=stime -> positions 12, 13 here
    awk '{ print $12 + $13 }' <<<"$s"
}

proc_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# The sum of every sample of a Prometheus metric (all label sets) at URL/metrics.
metric_sum() {
    curl -fsS --max-time 2 "$1/metrics" 2>/dev/null |
        awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d\n", s }'
}

# wait_ready URL SECONDS PID: wait for a 200, failing early when the process died.
wait_ready() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
        [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 1
        sleep 0.1
    done
    return 1
}

# Elapsed wall time in seconds with ms, from EPOCHREALTIME.
now_s() { echo "$EPOCHREALTIME"; }

# ---- the benchmark's own local stack -------------------------------------------------
# Ports BENCH_PORT_BASE + the stack's offsets (default 25000: 25092 broker, 25432
# PostgreSQL, 25080 webhook-gw, ...), state under build/bench-stack, so that nothing
# here touches another stack on this machine.
BENCH_PORT_BASE=${BENCH_PORT_BASE:-25000}
BENCH_STACK_VAR=${BENCH_STACK_VAR:-$BENCH_ROOT/build/bench-stack}

bench_stack() { # bench_stack up|down|status
    STACK_PORT_BASE=$BENCH_PORT_BASE STACK_VAR=$BENCH_STACK_VAR BIN_DIR=$BENCH_BIN_DIR \
        "$BENCH_ROOT/deploy/stack/stack.sh" "$@"
}

# Start the stack and make PostgreSQL record commit times (track_commit_timestamp), so
# that request-to-row latency ends at the commit, not at the transaction's start. The
# setting needs a server restart; it is kept in the data directory, so that happens
# only the first time. Sets STACK_ENV.
# The stack's ports lie in Linux's ephemeral range (32768-60999), so a client socket of
# some other process can hold one for a moment: a failed start is tried again.
BENCH_STACK_TRIES=3
bench_stack_up() {
    local try
    for ((try = 1; ; try++)); do
        bench_stack up >&2 && break
        [ $try -ge $BENCH_STACK_TRIES ] && return 1
        bench_note "the stack did not start (try $try of $BENCH_STACK_TRIES); again in 3 s"
        sleep 3
    done
    STACK_ENV=$BENCH_STACK_VAR/stack.env
    local on
    on=$(set -a && . "$STACK_ENV" && psql -XtAc 'SHOW track_commit_timestamp' 2>/dev/null)
    if [ "$on" != on ]; then
        (set -a && . "$STACK_ENV" && psql -XqAc 'ALTER SYSTEM SET track_commit_timestamp = on') || return 1
        bench_stack down >&2 && bench_stack up >&2 || return 1
    fi
    export STACK_ENV
}
