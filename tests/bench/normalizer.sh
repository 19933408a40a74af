#!/usr/bin/env bash
# normalizer.sh - documents per CPU-second of bin/normalizer, consuming from and
# producing to a broker, next to a bare cJSON parse-and-print loop over the same
# documents in the same run (goal, issue 11: normalizer >= 0.6 x bare per core).
#
#  1. bare (before): bench_normalizer bare N          -> bare docs per CPU-second
#  2. load: N raw order webhooks (~2.7 KB, headers as webhook-gw sets them) onto the
#     raw topic of a dev broker of our own (so no other normalizer consumes them)
#  3. bin/normalizer alone on that topic, in a fresh consumer group; from its first
#     output to its N-th, read normalizer_records_out_total on /metrics and its CPU
#     time (every thread) from /proc/<pid>/stat: docs / CPU-second = "per core"
#  4. bare (after): the baseline is the mean of 1 and 4, which brackets the run
#
# Prints a table and BENCH lines (docs/benchmarks.md). Exit 1 on an error or a missed goal.
#   BENCH_NZ_DOCS (100000)  BENCH_NZ_PARTITIONS (16)  BENCH_NZ_TIMEOUT_S (300)
#   BENCH_PORT_BASE (25000): the broker on +592, the normalizer's admin port on +593
set -u
. "$(dirname "$0")/bench_lib.sh"

N=${BENCH_NZ_DOCS:-100000}
PARTS=${BENCH_NZ_PARTITIONS:-16}
TIMEOUT_S=${BENCH_NZ_TIMEOUT_S:-300}
BASE=${BENCH_PORT_BASE:-25000}
BPORT=$((BASE + 592)) APORT=$((BASE + 593))
GOAL=0.6
POLL_S=0.1
CONN=conn_bench_nz
WORK=$(mktemp -d /tmp/bench_normalizer.XXXXXX)
BROKER_PID= NZ_PID=

cleanup() {
    for p in $NZ_PID $BROKER_PID; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    [ -n "${KEEP_WORK:-}" ] && bench_note "work dir kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

for b in dev-broker normalizer; do [ -x "$BENCH_BIN_DIR/$b" ] || bench_die "missing $BENCH_BIN_DIR/$b (run make)"; done
TOOL=$BENCH_TOOLS/bench_normalizer
bench_build "$TOOL" tests/bench/bench_normalizer.c normalizer/lib.a
kv() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

# ---- 1. bare, before ---------------------------------------------------------------
"$TOOL" bare "$N" "$CONN" >"$WORK/bare1" || bench_die "bare run failed"

# ---- 2. a broker of our own, loaded -------------------------------------------------
DEV_BROKER_PORT=$BPORT DEV_BROKER_PARTITIONS=$PARTS DEV_BROKER_READY_FILE=$WORK/broker.ready \
    LOG_LEVEL=warn "$BENCH_BIN_DIR/dev-broker" 2>"$WORK/broker.log" &
BROKER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/broker.ready" ] && break; sleep 0.1; done
[ -s "$WORK/broker.ready" ] || bench_die "dev broker did not start on $BPORT: $(tail -3 "$WORK/broker.log")"
"$TOOL" load "127.0.0.1:$BPORT" trackstar.raw.v1 "$N" "$CONN" >"$WORK/load" || bench_die "loading the raw topic failed"

# ---- 3. the normalizer, alone --------------------------------------------------------
PER_DOC=$(kv "$WORK/bare1" outputs_per_doc)
TARGET=$(awk -v n="$N" -v p="$PER_DOC" 'BEGIN { printf "%d", n * p + 0.5 }')
[ "$TARGET" -gt 0 ] || bench_die "the documents map to no output (outputs_per_doc=$PER_DOC)"
KAFKA_BOOTSTRAP=127.0.0.1:$BPORT ADMIN_PORT=$APORT LOG_LEVEL=warn NORMALIZER_GROUP=bench-nz-$$-$RANDOM \
    KAFKA_CONSUMER_EXTRA=session.timeout.ms=6000,heartbeat.interval.ms=500 \
    "$BENCH_BIN_DIR/normalizer" 2>"$WORK/normalizer.log" &
NZ_PID=$!
ADMIN=http://127.0.0.1:$APORT
wait_ready "$ADMIN/readyz" 30 "$NZ_PID" || bench_die "normalizer not ready: $(tail -3 "$WORK/normalizer.log")"

out0=0 cpu0=0 t0= out1=0 cpu1=0 t1= rss=0 bcpu0=0 bcpu1=0
deadline=$((SECONDS + TIMEOUT_S))
while :; do
    kill -0 "$NZ_PID" 2>/dev/null || bench_die "normalizer exited: $(tail -3 "$WORK/normalizer.log")"
    out=$(metric_sum "$ADMIN" normalizer_records_out_total)
    cpu=$(proc_cpu_ticks "$NZ_PID")
    bcpu=$(proc_cpu_ticks "$BROKER_PID")
    now=$(now_s)
    r=$(proc_rss_kb "$NZ_PID"); [ "${r:-0}" -gt "$rss" ] && rss=$r
    # The window opens at the first sample with output: group join and start-up
    # are not the mapping's cost, and the process is idle while it waits for them.
    if [ -z "$t0" ] && [ "${out:-0}" -gt 0 ]; then out0=$out cpu0=$cpu t0=$now bcpu0=$bcpu; fi
    if [ -n "$t0" ] && [ "${out:-0}" -ge "$TARGET" ]; then out1=$out cpu1=$cpu t1=$now bcpu1=$bcpu; break; fi
    [ $SECONDS -ge $deadline ] && bench_die "normalizer published ${out:-0} of $TARGET records in ${TIMEOUT_S} s"
    sleep "$POLL_S"
done
DLQ=$(metric_sum "$ADMIN" normalizer_dead_letters_total)
REDELIVER=$(metric_sum "$ADMIN" normalizer_redeliveries_total)
kill "$NZ_PID" 2>/dev/null; wait "$NZ_PID" 2>/dev/null; NZ_PID=

# ---- 4. bare, after ------------------------------------------------------------------
"$TOOL" bare "$N" "$CONN" >"$WORK/bare2" || bench_die "bare run failed"

# ---- report --------------------------------------------------------------------------
read -r NZ_CPU_RATE NZ_WALL_RATE CPU_S WALL_S < <(awk -v o0="$out0" -v o1="$out1" -v c0="$cpu0" -v c1="$cpu1" \
    -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v per="$PER_DOC" 'BEGIN {
        docs = (o1 - o0) / per; cpu = (c1 - c0) / hz; wall = t1 - t0
        printf "%.0f %.0f %.2f %.2f\n", (cpu > 0 ? docs / cpu : 0), (wall > 0 ? docs / wall : 0), cpu, wall }')
B1=$(kv "$WORK/bare1" bare_docs_per_cpu_s) B2=$(kv "$WORK/bare2" bare_docs_per_cpu_s)
C1=$(kv "$WORK/bare1" canon_docs_per_cpu_s) C2=$(kv "$WORK/bare2" canon_docs_per_cpu_s)
BARE=$(awk -v a="$B1" -v b="$B2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
CANON=$(awk -v a="$C1" -v b="$C2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
RATIO=$(awk -v a="$NZ_CPU_RATE" -v b="$BARE" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
CRATIO=$(awk -v a="$CANON" -v b="$BARE" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')

echo
echo "normalizer benchmark ($(nproc) cores; $N documents of $(kv "$WORK/load" avg_bytes) bytes; $PARTS partitions)"
printf '%-46s %14s\n' "run" "docs/CPU-s"
printf '%-46s %14s   (before %s, after %s)\n' "bare cJSON parse+print (baseline)" "$BARE" "$B1" "$B2"
printf '%-46s %14s   (%s x bare; before %s, after %s)\n' "canon_map alone, no Kafka" "$CANON" "$CRATIO" "$C1" "$C2"
printf '%-46s %14s   (%s x bare; %s docs/s wall; %s CPU-s over %s s)\n' \
    "bin/normalizer through the broker" "$NZ_CPU_RATE" "$RATIO" "$NZ_WALL_RATE" "$CPU_S" "$WALL_S"
BROKER_CPU_S=$(awk -v a="$bcpu0" -v b="$bcpu1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
echo "normalizer: dead letters $DLQ, redeliveries $REDELIVER, peak RSS $((rss / 1024)) MiB; dev broker used $BROKER_CPU_S CPU-s in the same window"

bench_line name=normalizer.docs_per_cpu_s stage=normalizer value="$NZ_CPU_RATE" unit=docs/cpu-s \
    baseline="$BARE" baseline_name=bare_cjson_parse_print goal="ratio>=$GOAL"
bench_line name=normalizer.canon_map_docs_per_cpu_s stage=normalizer value="$CANON" unit=docs/cpu-s \
    baseline="$BARE" baseline_name=bare_cjson_parse_print
bench_line name=normalizer.docs_per_s_wall stage=normalizer value="$NZ_WALL_RATE" unit=docs/s
bench_line name=normalizer.dead_letters stage=normalizer value="$DLQ" unit=messages goal="value<=0"

ok=1
awk -v r="$RATIO" -v g="$GOAL" 'BEGIN { exit !(r >= g) }' && echo "goal normalizer >= $GOAL x bare per core: met ($RATIO)" ||
    { echo "goal normalizer >= $GOAL x bare per core: MISSED ($RATIO)"; ok=0; }
[ "$DLQ" = 0 ] || { echo "documents were dead-lettered: $DLQ"; ok=0; }
[ $ok = 1 ]
