#!/usr/bin/env bash
# writer.sh - the writer benchmark (issue 7): records/s and rows/s written by bin/writer
# from the canonical orders topic, next to a bare COPY-to-staging-and-merge loop over the
# same rows in the same run (goal: writer >= 0.75 x bare).
#
#  1. bench_writer_db N: the writer's database layer (wdb_apply), the bare loop and a
#     row-by-row writer over N generated orders, insert/update/replay passes, each in a
#     fresh database (its BENCH lines are forwarded as they are). Its bare records/s
#     for the insert and update passes are the baselines of step 3.
#  2. A fresh database and, on the benchmark stack's dev broker, every pipeline topic
#     under a prefix of this run's own (the stack's own writer consumes the unprefixed
#     topics: it would write the same records at the same time, and a fresh group would
#     also read what earlier runs left there). bin/writer on that prefix, in a fresh
#     consumer group, WRITER_BATCH_MAX at its default; it applies the migrations itself.
#     Measuring starts once it is ready (/readyz) and has its partitions assigned.
#  3. bench_writer_topic run: per pass (insert, then update) it stops the writer, ANALYZEs
#     its database (as bench_writer_db does before each pass), produces
#     the same N orders to <prefix>trackstar.canonical.orders.v1 keyed like the normalizer keys them,
#     continues the writer, and times it until writer_records_applied_total has grown
#     by N (polled every 20 ms). Then, from the writer's metrics, how its time split
#     between transactions and publication.
#
# Exit 0 when every goal is met, 1 when one is missed, 2 when it could not measure.
#   BENCH_WRITER_RECORDS (20000)   BENCH_PORT_BASE (25000): the writer's admin port on +594
#   STACK_ENV (build/bench-stack/stack.env): a running benchmark stack (bench_stack_up)
set -u
. "$(dirname "$0")/bench_lib.sh"
cd "$BENCH_ROOT" || exit 2

N=${BENCH_WRITER_RECORDS:-20000}
APORT=$((${BENCH_PORT_BASE:-25000} + 594))
ADMIN=http://127.0.0.1:$APORT
STACK_ENV=${STACK_ENV:-$BENCH_STACK_VAR/stack.env}
WORK=$(mktemp -d /tmp/bench_writer.XXXXXX)
DB=wdb_bench_topic
export PGOPTIONS="-c client_min_messages=warning"
WRITER_PID=

fail() { echo "bench: $*" >&2; exit 2; }
cleanup() {
    [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null && wait "$WRITER_PID" 2>/dev/null
    [ -n "${BENCH_KEEP:-}" ] || psql -XqAc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" "$DATABASE_URL" 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] && bench_note "work dir kept: $WORK" || rm -rf "$WORK"
}

[ -s "$STACK_ENV" ] || fail "no benchmark stack ($STACK_ENV): start it with bench_stack_up"
set -a && . "$STACK_ENV" && set +a
[ -x "$BENCH_BIN_DIR/writer" ] || fail "missing $BENCH_BIN_DIR/writer (run make)"
trap cleanup EXIT
( bench_build "$BENCH_TOOLS/writer_db" tests/bench/bench_writer_db.c writer/lib.a &&
  bench_build "$BENCH_TOOLS/writer_topic" tests/bench/bench_writer_topic.c ) || exit 2

# ---- 1. the database layer and the bare loop ----------------------------------------
BENCH_DATABASE_URL=$DATABASE_URL "$BENCH_TOOLS/writer_db" "$N" | tee "$WORK/db.out"
db_rc=${PIPESTATUS[0]}
[ "$db_rc" -le 1 ] || fail "bench_writer_db failed (exit $db_rc)"
# field NAME KEY: KEY's value on the BENCH line named NAME
field() { awk -v n="name=$1" -v k="$2=" '$1 == "BENCH" && $2 == n {
    for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' "$WORK/db.out"; }
BARE_INSERT=$(field writer.insert.records_per_s baseline)
BARE_UPDATE=$(field writer.update.records_per_s baseline)
ROWS=$(field writer.insert.records_per_s rows_per_record)
[ -n "$BARE_INSERT" ] && [ -n "$BARE_UPDATE" ] && [ -n "$ROWS" ] || fail "no bare figures from bench_writer_db"

# ---- 2. a fresh database, topics of our own, the writer -------------------------------
psql -XqAc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" "$DATABASE_URL" >/dev/null ||
    fail "cannot create database $DB"
env DATABASE_URL="${DATABASE_URL%/*}/$DB" WRITER_MIGRATIONS_DIR=writer/migrations \
    "$BENCH_BIN_DIR/writer" --migrate 2>"$WORK/migrate.log" || fail "writer --migrate: $(tail -3 "$WORK/migrate.log")"
PREFIX=bench_wt_$$_$RANDOM.
"$BENCH_TOOLS/writer_topic" topics "$KAFKA_BOOTSTRAP" "$PREFIX" || fail "cannot create the $PREFIX topics"
env KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP" KAFKA_TOPIC_PREFIX="$PREFIX" DATABASE_URL="${DATABASE_URL%/*}/$DB" \
    ADMIN_PORT=$APORT WRITER_GROUP="bench-writer-$PREFIX" WRITER_MIGRATIONS_DIR=writer/migrations LOG_LEVEL=info \
    KAFKA_CONSUMER_EXTRA=session.timeout.ms=30000,heartbeat.interval.ms=500 \
    "$BENCH_BIN_DIR/writer" 2>"$WORK/writer.log" &
WRITER_PID=$!
wait_ready "$ADMIN/readyz" 60 "$WRITER_PID" || fail "writer not ready: $(tail -3 "$WORK/writer.log")"
for ((i = 0; i < 600; i++)); do
    grep -q '"partitions assigned"' "$WORK/writer.log" && break
    kill -0 "$WRITER_PID" 2>/dev/null || fail "writer exited: $(tail -3 "$WORK/writer.log")"
    sleep 0.1
done
grep -q '"partitions assigned"' "$WORK/writer.log" || fail "writer got no partitions in 60 s"

# ---- 3. from the topic ----------------------------------------------------------------
BENCH_DATABASE_URL=${DATABASE_URL%/*}/$DB "$BENCH_TOOLS/writer_topic" run "$KAFKA_BOOTSTRAP" "$PREFIX" "$N" "$WRITER_PID" "$ADMIN" "$ROWS" \
    "$BARE_INSERT" "$BARE_UPDATE"
topic_rc=$?
# Where the writer's time went over both passes (writer_batch_phase_seconds): its
# transactions, and its own time on their publications beyond the next transaction. The
# publication is the part the bare loop does not have.
curl -fsS "$ADMIN/metrics" 2>/dev/null | awk '
    /^writer_batch_phase_seconds_sum\{phase="apply"\}/ { apply = $2 }
    /^writer_batch_phase_seconds_sum\{phase="publish"\}/ { publish = $2 }
    /^writer_batch_records_sum / { recs = $2 }
    /^writer_batch_records_count / { nb = $2 }
    END { if (nb > 0) printf "bench: the writer over both passes: %d batches of %.0f records, transactions %.2f s, publication beyond them %.2f s\n", nb, recs / nb, apply, publish }' >&2
[ "$topic_rc" -le 1 ] || fail "bench_writer_topic failed (exit $topic_rc): $(tail -3 "$WORK/writer.log")"
[ "$db_rc" -eq 0 ] && [ "$topic_rc" -eq 0 ] && exit 0
exit 1
