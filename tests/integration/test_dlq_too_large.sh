#!/usr/bin/env bash
# test_dlq_too_large.sh - records Kafka can never take (docs/testing.md, "Records too
# large for Kafka"). A canonical record can be far larger than its raw message (an order
# with 1000 empty line items: 3.3 KB raw, 124 KB canonical); librdkafka refuses a message
# over message.max.bytes at once (MSG_SIZE_TOO_LARGE), and retrying it forever stopped
# the partition and made SIGTERM useless. Here the stages' producers get a 64 KiB limit
# (message.max.bytes=65536 in their KAFKA_CONFIG_FILE) on a private broker of one partition, and:
#  - a raw record whose canonical form is over the limit is dead-lettered with its reason;
#  - a raw record itself over the limit gets a dead-letter stub (no value, dlq_stub=true,
#    the reason, and dlq_topic/partition/offset saying where the original is);
#  - the records after them on the same partition are processed;
#  - SIGTERM in the middle of 40 such records: the normalizer exits 0 at once, and after a
#    restart every one of them is dead-lettered and the record after them processed;
#  - a record that cannot go anywhere (message.max.bytes=1000: not even its stub fits) is
#    retried, not lost, SIGTERM still ends the stage with 0, and after a restart with room
#    it is published and the partition moves on;
#  - the writer: a canonical record PostgreSQL refuses and too large for the dead-letter
#    topic gets a stub too, and the writer goes on (a private database on the test
#    stack's PostgreSQL, when STACK_ENV names one).
# Ports: free ones in STACK_PORT_BASE+150..+400.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
BIN_DIR=${BIN_DIR:-bin}
case $BIN_DIR in /*) ;; *) BIN_DIR=$ROOT/$BIN_DIR ;; esac
LIB=$ROOT/tests/integration/lib
WORK=$(mktemp -d /tmp/test_dlq_too_large.XXXXXX)
LIMIT=65536
PIDS=()
DB=
cleanup() {
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "$DB" ] && psql "$ADMIN_DB" -qXc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
  if [ "$T_FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap cleanup EXIT

base=${STACK_PORT_BASE:-27000}
read -r BPORT NPORT WPORT < <(python3 "$LIB/free_ports.py" 3 $((base + 150)) $((base + 400)))
BOOT=127.0.0.1:$BPORT
DEV_BROKER_PORT=$BPORT DEV_BROKER_PARTITIONS=1 DEV_BROKER_READY_FILE=$WORK/broker.ready LOG_LEVEL=warn \
  "$BIN_DIR/dev-broker" 2>"$WORK/broker.log" &
PIDS+=($!)
wait_for 10 test -s "$WORK/broker.ready" || { fail "dev broker starts"; finish; exit 1; }

NZ_PID=
kafka_props() { # MESSAGE_MAX_BYTES: a KAFKA_CONFIG_FILE with that limit, its path on stdout
  echo "message.max.bytes=$1" >"$WORK/kafka-$1.properties"
  echo "$WORK/kafka-$1.properties"
}
start_normalizer() { # [MESSAGE_MAX_BYTES]
  KAFKA_BOOTSTRAP=$BOOT ADMIN_PORT=$NPORT KAFKA_CONFIG_FILE=$(kafka_props "${1:-$LIMIT}") \
    KAFKA_CONSUMER_EXTRA=session.timeout.ms=6000,heartbeat.interval.ms=500 LOG_LEVEL=info \
    "$BIN_DIR/normalizer" 2>>"$WORK/normalizer.log" &
  NZ_PID=$!
  PIDS+=("$NZ_PID")
  wait_for 20 curl -fsS -o /dev/null "http://127.0.0.1:$NPORT/readyz"
}
start_normalizer || { fail "normalizer starts" "$(tail -3 "$WORK/normalizer.log")"; finish; exit 1; }

# Every raw record of the test, written at once (a python start costs seconds on a busy
# machine): WORK/ID.json for ord_many (1000 empty line items: canonical form > LIMIT),
# ord_huge (raw > LIMIT), ord_b, ord_d, ord_after (small), and WORK/burst.tsv: 40 like
# ord_many as key TAB value lines.
python3 - "$WORK" <<'EOF'
import json, os, sys
work = sys.argv[1]
def raw(rid, kind):
    o = {"id": rid, "warehouse_customer_id": "wc_1", "warehouse_id": "wh_1",
         "created_date": "2026-01-05T10:00:00Z", "updated_date": "2026-01-06T09:00:00Z",
         "order_number": "#" + rid, "status": "open", "line_items": []}
    if kind == "many":
        o["line_items"] = [{}] * 1000
    if kind == "huge":
        o["trading_partner"] = "t" * 80000
    return json.dumps({"connection_id": "conn_big", "event_type": "order.updated",
                       "integration_name": "sandbox", "data": o}, separators=(",", ":"))
for rid, kind in (("ord_many", "many"), ("ord_huge", "huge"), ("ord_b", "small"),
                  ("ord_d", "small"), ("ord_after", "small"), ("ord_last", "small")):
    with open(os.path.join(work, rid + ".json"), "w") as f:
        f.write(raw(rid, kind) + "\n")
with open(os.path.join(work, "stuck.json"), "w") as f:  # its stub cannot fit 1000 bytes
    f.write(raw("stuck", "small") + "\n")
with open(os.path.join(work, "burst.tsv"), "w") as f:
    for i in range(1, 41):
        f.write("conn_big|orders|burst_%d\t%s\n" % (i, raw("burst_%d" % i, "many")))
EOF
send() { # ID
  kcat -P -b "$BOOT" -t trackstar.raw.v1 -k "conn_big|orders|$1" -H source=webhook \
    -H event_type=order.updated -H "event_id=msg_$1" "$WORK/$1.json" 2>>"$WORK/kcat.log"
}
dlq() { kcat -b "$BOOT" -C -t trackstar.dlq.v1 -e -q -f '%k\t%S\t%h\n' 2>/dev/null; }
orders() { kcat -b "$BOOT" -C -t trackstar.canonical.orders.v1 -e -q -f '%k\n' 2>/dev/null; }
has_order() { orders | grep -qx "conn_big|$1"; }
dlq_line() { dlq | grep -P "^conn_big\\|orders\\|$1\\t" | head -1; }

echo "-- normalizer: canonical form over the limit, raw over the limit, the records after"
send ord_many
send ord_b
send ord_huge
send ord_d
raw_len=$(stat -c %s "$WORK/ord_many.json")
in_dlq() { [ -n "$(dlq_line "$1")" ]; }
if wait_for 30 has_order ord_d && wait_for 10 in_dlq ord_huge; then
  pass "the records after them on the same partition were processed (ord_b, ord_d on trackstar.canonical.orders.v1)"
else fail "the partition moved on" "orders: $(orders | tr '\n' ' '); $(grep -v librdkafka "$WORK/normalizer.log" | tail -3)"; fi
check "ord_b published too" has_order ord_b
line=$(dlq_line ord_many)
if [ "$(cut -f2 <<<"$line")" = "$raw_len" ] && grep -q 'dlq_stage=normalizer' <<<"$line" &&
  grep -q 'dlq_reason=canonical record of [0-9]* bytes for trackstar.canonical.orders.v1 cannot be produced: Broker: Message size too large' <<<"$line"; then
  pass "canonical form over the limit: the raw record ($raw_len bytes) is dead-lettered with its reason"
else fail "canonical too large: dead letter with its reason" "$line"; fi
line=$(dlq_line ord_huge)
off=$(kcat -b "$BOOT" -C -t trackstar.raw.v1 -e -q -f '%k %o\n' 2>/dev/null | awk '$1 == "conn_big|orders|ord_huge" { print $2 }')
if [ "$(cut -f2 <<<"$line")" = -1 ] && grep -q 'dlq_stub=true' <<<"$line" &&
  grep -q "dlq_topic=trackstar.raw.v1,dlq_partition=0,dlq_offset=$off" <<<"$line" &&
  grep -q 'the original (80[0-9]* bytes) is not copied' <<<"$line" && grep -q 'event_id=msg_ord_huge' <<<"$line"; then
  pass "raw record over the limit: a stub (no value) with the reason and where the original is (offset $off)"
else fail "raw too large: stub" "$line"; fi
stubs=$(curl -s "http://127.0.0.1:$NPORT/metrics" | awk '$1 == "normalizer_dead_letter_stubs_total" { print $2 }')
check_eq "normalizer_dead_letter_stubs_total counts it" 1 "${stubs:-0}"
stub_off=$(kcat -b "$BOOT" -C -t trackstar.dlq.v1 -e -q -f '%k %o\n' 2>/dev/null | awk '$1 == "conn_big|orders|ord_huge" { print $2; exit }')
if KAFKA_BOOTSTRAP=$BOOT "$BIN_DIR/tsctl" dlq replay "0:$stub_off" >/dev/null 2>"$WORK/replay.err" </dev/null; then
  fail "tsctl refuses to replay a stub" "it replayed it"
else
  grep -q 'is a stub' "$WORK/replay.err" && pass "tsctl dlq replay refuses a stub, naming where the original is" ||
    fail "tsctl refuses to replay a stub" "$(cat "$WORK/replay.err")"
fi

echo "-- SIGTERM while 40 records too large for Kafka are going through"
kcat -P -b "$BOOT" -t trackstar.raw.v1 -K $'\t' -l -H source=webhook -H event_type=order.updated \
  -H event_id=msg_burst "$WORK/burst.tsv" 2>>"$WORK/kcat.log"
send ord_after
some_burst() { dlq | grep -q 'burst_'; }
wait_for 20 some_burst || true
t0=$(date +%s%N)
kill -TERM "$NZ_PID"
wait "$NZ_PID"; rc=$?
took=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 0 ] && [ "$took" -lt 12000 ]; then pass "SIGTERM during the failures: exit 0 after $took ms"
else fail "SIGTERM during the failures" "exit $rc after $took ms"; fi
start_normalizer || fail "normalizer restarts" "$(tail -3 "$WORK/normalizer.log")"
all_burst() { [ "$(dlq | grep -o 'conn_big|orders|burst_[0-9]*' | sort -u | wc -l)" = 40 ]; }
if wait_for 60 all_burst && wait_for 30 has_order ord_after; then
  pass "after the restart all 40 are dead-lettered and the record after them is processed"
else fail "after the restart" "$(dlq | grep -o 'burst_[0-9]*' | sort -u | wc -l) of 40 dead-lettered; ord_after $(has_order ord_after && echo published || echo missing)"; fi
if grep -q '"level":"error"' "$WORK/normalizer.log"; then fail "normalizer logged no error" "$(grep -m2 '"level":"error"' "$WORK/normalizer.log")"
else pass "normalizer logged no error"; fi

echo "-- SIGTERM while a failure that cannot pass goes on: not even the stub fits"
# With message.max.bytes=1000 (librdkafka's least) a record with a long key and event id
# cannot go anywhere: its output, its copy and its stub are all too large. It must not be
# lost (its offset is not stored, it is retried), and SIGTERM must still end the stage.
kill -TERM "$NZ_PID"; wait "$NZ_PID"
: >"$WORK/normalizer.log"
start_normalizer 1000 || fail "normalizer restarts with message.max.bytes=1000" "$(tail -3 "$WORK/normalizer.log")"
long_key="conn_big|orders|stuck_$(printf 'k%.0s' $(seq 600))"
kcat -P -b "$BOOT" -t trackstar.raw.v1 -k "$long_key" -H source=webhook -H event_type=order.updated \
  -H "event_id=msg_stuck_$(printf 'i%.0s' $(seq 400))" "$WORK/stuck.json" 2>>"$WORK/kcat.log"
refused() { grep -q 'dead-letter stub refused; retrying' "$WORK/normalizer.log"; }
if wait_for 30 refused; then pass "the stub too is refused for good: retried, the error logged"
else fail "stub refused for good" "$(grep -v librdkafka "$WORK/normalizer.log" | tail -3)"; fi
t0=$(date +%s%N)
kill -TERM "$NZ_PID"
wait "$NZ_PID"; rc=$?
took=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 0 ] && [ "$took" -lt 12000 ]; then pass "SIGTERM during a failure that cannot pass: exit 0 after $took ms"
else fail "SIGTERM during a failure that cannot pass" "exit $rc after $took ms"; fi
start_normalizer || fail "normalizer restarts" "$(tail -3 "$WORK/normalizer.log")"
send ord_last
if wait_for 60 has_order stuck && wait_for 30 has_order ord_last; then
  pass "nothing lost: with room again the record is published after the restart, and the partition moves on"
else fail "the record after the restart" "stuck $(has_order stuck && echo published || echo missing); ord_last $(has_order ord_last && echo published || echo missing)"; fi

echo "-- writer: a refused record too large for the dead-letter topic"
if [ -n "${STACK_ENV:-}" ] && [ -f "$STACK_ENV" ]; then
  # shellcheck disable=SC1090
  PGPORT=$(. "$STACK_ENV" && echo "$PGPORT")
  ADMIN_DB="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
  DB=hard_dlq_$$
  if psql "$ADMIN_DB" -qXc "CREATE DATABASE $DB" >/dev/null 2>"$WORK/psql.err"; then
    DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$DB" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" \
      LOG_LEVEL=warn "$BIN_DIR/writer" --migrate 2>"$WORK/writer.log" || fail "writer --migrate" "$(tail -3 "$WORK/writer.log")"
    KAFKA_BOOTSTRAP=$BOOT ADMIN_PORT=$WPORT KAFKA_CONFIG_FILE=$(kafka_props "$LIMIT") \
      KAFKA_CONSUMER_EXTRA=session.timeout.ms=6000,heartbeat.interval.ms=500 \
      DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$DB" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" \
      LOG_LEVEL=info "$BIN_DIR/writer" 2>>"$WORK/writer.log" &
    PIDS+=($!)
    wait_for 30 curl -fsS -o /dev/null "http://127.0.0.1:$WPORT/readyz" || fail "writer starts" "$(tail -3 "$WORK/writer.log")"
    python3 - >"$WORK/refused.json" <<'EOF'
import json
print(json.dumps({"schema_version": 1, "entity": "order", "connection_id": "conn_w", "id": "ord_w",
                  "source": "webhook", "event_type": "order.updated", "source_updated_at": "not a time",
                  "line_items": [], "padding": "p" * 80000}))
EOF
    kcat -P -b "$BOOT" -t trackstar.canonical.orders.v1 -k "conn_w|ord_w" -H event_id=msg_w "$WORK/refused.json" 2>>"$WORK/kcat.log"
    wline() { dlq | grep -P '^conn_w\|ord_w\t' | head -1; }
    has_wline() { [ -n "$(wline)" ]; }
    if wait_for 30 has_wline && grep -q 'dlq_stage=writer' <<<"$(wline)" && grep -q 'dlq_stub=true' <<<"$(wline)" &&
      [ "$(cut -f2 <<<"$(wline)")" = -1 ] && grep -q 'dlq_topic=trackstar.canonical.orders.v1' <<<"$(wline)"; then
      pass "writer: the refused record too large for the dead-letter topic went as a stub"
    else fail "writer: stub" "$(wline); $(grep -v librdkafka "$WORK/writer.log" | tail -3)"; fi
    batches() { [ "$(curl -s "http://127.0.0.1:$WPORT/metrics" | awk '$1 == "writer_batches_total" { print $2 }')" -ge 1 ]; }
    wait_for 10 batches && pass "writer: the batch committed without it and the writer goes on" ||
      fail "writer: batch committed" "$(grep -v librdkafka "$WORK/writer.log" | tail -3)"
  else
    fail "private database for the writer" "$(cat "$WORK/psql.err")"
  fi
else
  echo "  ..    no STACK_ENV: the writer part needs the test stack's PostgreSQL (skipped)"
fi
finish
