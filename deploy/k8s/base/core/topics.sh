#!/bin/sh
# topics.sh - creates every Kafka topic the pipeline uses, with its partitions,
# replication and retention/compaction settings, using Apache Kafka's own CLI (run it
# in the apache/kafka image). The one topic job of both deployments: docker-compose
# mounts this file, Kubernetes ships it in a ConfigMap (it lives here, in the kustomize
# base, because kustomize only loads files from inside a kustomization).
#
# Safe to run again: existing topics are kept, their settings are brought up to date,
# and a topic with fewer partitions than asked for is an error unless
# TOPIC_ALLOW_PARTITION_INCREASE=1 (adding partitions moves keys to other partitions,
# which breaks per-record ordering for a while: see docs/operations.md).
#
# The topic list must equal topic_all in common/topics.c, which follows the entity
# registry (common/entities.h): tests/unit/test_registry.c checks the entity loop below
# against the registry, tests/integration/test_deploy.sh runs the job and compares.
#
# Environment (defaults in brackets):
#   KAFKA_BOOTSTRAP                  bootstrap servers (required)
#   KAFKA_TOPIC_PREFIX               prefix for every topic name, as the stages use it []
#   KAFKA_BIN                        directory of kafka-topics.sh [/opt/kafka/bin]
#   KAFKA_COMMAND_CONFIG             client properties file (SASL/TLS); used when it exists []
#   TOPIC_PARTITIONS                 partitions of the raw, canonical, event and DLQ topics [12]
#   TOPIC_FETCH_ASSIGN_PARTITIONS    partitions of the fetcher assignment topic: the most
#                                    fetcher replicas that get work [TOPIC_PARTITIONS]
#   TOPIC_REPLICATION                replication factor [3]
#   TOPIC_MIN_INSYNC                 min.insync.replicas [2, or 1 when replication < 3]
#   TOPIC_RAW_RETENTION_MS           raw topic retention, the replay log a rebuild reads; -1 keeps it
#                                    forever (docs/operations.md) [7776000000 = 90 days]
#   TOPIC_DLQ_RETENTION_MS           dead-letter retention [2592000000 = 30 days]
#   TOPIC_CANONICAL_RETENTION_MS     retention of the internal canonical topics (what the writer
#                                    has yet to apply): longer than any writer outage you plan
#                                    to ride out [604800000 = 7 days]
#   TOPIC_MAX_MESSAGE_BYTES          max.message.bytes of the data topics: room for the largest
#                                    event webhook-gw downloads (WEBHOOK_GW_MAX_FETCH_BYTES,
#                                    16 MiB) plus headers [17825792 = 17 MiB]
#   TOPIC_ALLOW_PARTITION_INCREASE   1 = add partitions to existing topics that have fewer [0]
#   TOPIC_WAIT_SECONDS               how long to wait for the broker to answer [180]
set -eu

die() { echo "topics: $*" >&2; exit 1; }
say() { echo "topics: $*"; }

: "${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP is required}"
PREFIX=${KAFKA_TOPIC_PREFIX:-}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
PARTITIONS=${TOPIC_PARTITIONS:-12}
ASSIGN_PARTITIONS=${TOPIC_FETCH_ASSIGN_PARTITIONS:-$PARTITIONS}
REPLICATION=${TOPIC_REPLICATION:-3}
if [ "$REPLICATION" -ge 3 ] 2>/dev/null; then DEFAULT_MIN_ISR=2; else DEFAULT_MIN_ISR=1; fi
MIN_ISR=${TOPIC_MIN_INSYNC:-$DEFAULT_MIN_ISR}
RAW_RETENTION=${TOPIC_RAW_RETENTION_MS:-7776000000}
DLQ_RETENTION=${TOPIC_DLQ_RETENTION_MS:-2592000000}
CANONICAL_RETENTION=${TOPIC_CANONICAL_RETENTION_MS:-604800000}
MAX_MESSAGE=${TOPIC_MAX_MESSAGE_BYTES:-17825792}
ALLOW_INCREASE=${TOPIC_ALLOW_PARTITION_INCREASE:-0}
WAIT_SECONDS=${TOPIC_WAIT_SECONDS:-180}
# The assignment topic holds only the connections a fetcher's sweep hands to their
# owners (read from the end, useful for seconds): ten minutes bound its size.
ASSIGN_RETENTION=600000

# is_int VALUE: an optionally negative decimal integer.
is_int() {
  case "$1" in -[0-9]* | [0-9]*) ;; *) return 1 ;; esac
  case "${1#-}" in *[!0-9]*) return 1 ;; esac
}
for pair in "TOPIC_PARTITIONS=$PARTITIONS" "TOPIC_FETCH_ASSIGN_PARTITIONS=$ASSIGN_PARTITIONS" \
  "TOPIC_REPLICATION=$REPLICATION" "TOPIC_MIN_INSYNC=$MIN_ISR" "TOPIC_RAW_RETENTION_MS=$RAW_RETENTION" \
  "TOPIC_DLQ_RETENTION_MS=$DLQ_RETENTION" "TOPIC_CANONICAL_RETENTION_MS=$CANONICAL_RETENTION" \
  "TOPIC_MAX_MESSAGE_BYTES=$MAX_MESSAGE" \
  "TOPIC_WAIT_SECONDS=$WAIT_SECONDS"; do
  is_int "${pair#*=}" || die "${pair%%=*}: '${pair#*=}' is not an integer"
done
if [ "$PARTITIONS" -lt 1 ] || [ "$ASSIGN_PARTITIONS" -lt 1 ]; then die "partition counts must be at least 1"; fi
if [ "$REPLICATION" -lt 1 ]; then die "TOPIC_REPLICATION must be at least 1"; fi
if [ "$MIN_ISR" -lt 1 ] || [ "$MIN_ISR" -gt "$REPLICATION" ]; then
  die "TOPIC_MIN_INSYNC=$MIN_ISR must be between 1 and TOPIC_REPLICATION=$REPLICATION"
fi

CONN="--bootstrap-server $KAFKA_BOOTSTRAP"
if [ -n "${KAFKA_COMMAND_CONFIG:-}" ] && [ -s "$KAFKA_COMMAND_CONFIG" ]; then
  CONN="$CONN --command-config $KAFKA_COMMAND_CONFIG"
fi
TOPICS="$KAFKA_BIN/kafka-topics.sh"
CONFIGS="$KAFKA_BIN/kafka-configs.sh"
if [ ! -x "$TOPICS" ] || [ ! -x "$CONFIGS" ]; then die "no Kafka CLI in $KAFKA_BIN"; fi

# The broker of a fresh compose stack or cluster may still be starting.
say "waiting up to ${WAIT_SECONDS}s for $KAFKA_BOOTSTRAP"
waited=0
# shellcheck disable=SC2086
until "$TOPICS" $CONN --list >/dev/null 2>&1; do
  [ "$waited" -ge "$WAIT_SECONDS" ] && die "broker $KAFKA_BOOTSTRAP not reachable after ${WAIT_SECONDS}s"
  sleep 2; waited=$((waited + 2))
done

# ensure NAME PARTITIONS CONFIGS: create if absent, then apply CONFIGS (comma-separated
# key=value) and check the partition count.
ensure() {
  name="$PREFIX$1" want=$2 configs="min.insync.replicas=$MIN_ISR,max.message.bytes=$MAX_MESSAGE,$3"
  create_cfg=""
  old_ifs=$IFS; IFS=,
  for kv in $configs; do create_cfg="$create_cfg --config $kv"; done
  IFS=$old_ifs
  # shellcheck disable=SC2086
  "$TOPICS" $CONN --create --if-not-exists --topic "$name" --partitions "$want" \
    --replication-factor "$REPLICATION" $create_cfg >/dev/null \
    || die "$name: create failed"
  # shellcheck disable=SC2086
  "$CONFIGS" $CONN --alter --entity-type topics --entity-name "$name" --add-config "$configs" >/dev/null \
    || die "$name: setting $configs failed"
  # shellcheck disable=SC2086
  have=$("$TOPICS" $CONN --describe --topic "$name" | sed -n 's/.*PartitionCount:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
  is_int "$have" || die "$name: cannot read its partition count"
  if [ "$have" -lt "$want" ]; then
    [ "$ALLOW_INCREASE" = 1 ] || die "$name has $have partitions, $want asked for: set TOPIC_ALLOW_PARTITION_INCREASE=1 to add them (see docs/operations.md)"
    # shellcheck disable=SC2086
    "$TOPICS" $CONN --alter --topic "$name" --partitions "$want" >/dev/null || die "$name: adding partitions failed"
    have=$want
  elif [ "$have" -gt "$want" ]; then
    say "$name keeps its $have partitions (Kafka cannot remove partitions; $want asked for)"
  fi
  say "$name ready: $have partitions, replication $REPLICATION, $configs"
}

# Internal topics.
ensure trackstar.raw.v1 "$PARTITIONS" "cleanup.policy=delete,retention.ms=$RAW_RETENTION"
ensure trackstar.dlq.v1 "$PARTITIONS" "cleanup.policy=delete,retention.ms=$DLQ_RETENTION"
ensure trackstar.fetcher-assignments.v1 "$ASSIGN_PARTITIONS" "cleanup.policy=delete,retention.ms=$ASSIGN_RETENTION"
# One message per purged connection (keyed by the hash of its id), kept for good: a
# rebuild from the raw topic reads it to leave purged connections out.
ensure trackstar.purged-connections.v1 "$PARTITIONS" "cleanup.policy=compact"
# Every entity of the registry (common/entities.h; tests/unit/test_registry.c checks the list).
ENTITIES="orders inventory products warehouses warehouse_locations shipping_methods returns \
  inbound_shipments bills warehouse_customers inventory_ledger order_channels \
  inbound_shipment_suppliers labor_activities order_packs"
# Internal canonical topics: every candidate version the normalizer maps, read by the
# writer only. A log, not compacted: compaction keeps the last candidate per key, which
# need not be the newest version, and the writer must see every one it has not applied.
# Partitions equal to the public topics' (a key maps to the same partition number).
for entity in $ENTITIES; do
  ensure "trackstar.canonical.$entity.v1" "$PARTITIONS" "cleanup.policy=delete,retention.ms=$CANONICAL_RETENTION"
done
# Public topics: compacted, so a new consumer can read the latest state of every
# record (and every connection's status) from the beginning. The writer publishes the
# entity topics: the last message per key is the row (a tombstone after a delete).
for entity in connection_events $ENTITIES; do
  ensure "wms.$entity.v1" "$PARTITIONS" "cleanup.policy=compact"
done
say "every topic is ready"
