#!/usr/bin/env bash
# test_deploy.sh - proves what can be proven of the deployments without a container
# engine: every kustomize overlay renders (kubectl's built-in kustomize) and its
# objects fit the binaries (tests/deploy/check_static.py, which also checks the image's
# packages, the compose file and the topic job on a stand-in Kafka CLI), then every
# binary runs with the exact configuration compose and Kubernetes give it, pointed at
# the local stack ($STACK_ENV), becomes ready and exits 0 on SIGTERM
# (tests/deploy/run_configs.py).
#
# Run by tests/run-integration.sh with a stack up; alone:
#   make up && STACK_ENV=var/stack.env bash tests/integration/test_deploy.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. tests/lib.sh

BIN_DIR=${BIN_DIR:-bin}
BUILD_DIR=${BUILD_DIR:-$([ "$BIN_DIR" = bin-san ] && echo build/san || echo build/release)}
: "${STACK_ENV:?STACK_ENV must name the env file of the local stack (var/stack.env)}"
DEPLOY_TESTS=tests/deploy
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the tree
FAKE_KAFKA_BIN="$ROOT/$DEPLOY_TESTS/fake-kafka-bin"
TOPICS_SH=deploy/k8s/base/core/topics.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "-- tools"
check "python3 with PyYAML (Debian python3-yaml)" python3 -c 'import yaml'
check "kubectl is installed (Debian kubernetes-client)" command -v kubectl

echo "-- kustomize: every overlay renders"
rendered=()
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  if kubectl kustomize "$dir" >"$work/$name.yaml" 2>"$work/$name.err"; then
    pass "kubectl kustomize $dir"
    # Deprecated fields (bases, commonLabels, patches*) print warnings: there must be none.
    check_eq "kubectl kustomize $dir prints no warning" "" "$(cat "$work/$name.err")"
    rendered+=(--rendered "$name=$work/$name.yaml")
  else
    fail "kubectl kustomize $dir" "$(grep -v '^# Warning' "$work/$name.err" | tail -3)"
  fi
done

echo "-- the project: binaries' configuration tables, topic_all"
mkdir -p "$work/help"
for b in "$BIN_DIR"/*; do
  [ -x "$b" ] || continue
  if "$b" --help >"$work/help/$(basename "$b").help" 2>&1; then :; else
    fail "$(basename "$b") --help" "exit $?"
  fi
done
# Built from the source, not a library, so that a sanitizer build's objects (which need
# the sanitizer runtime) never get in the way.
if cc -std=c11 -D_GNU_SOURCE -Icommon -o "$work/print_topics" "$DEPLOY_TESTS/print_topics.c" common/topics.c common/entities.c \
  && "$work/print_topics" | sort -u >"$work/topics.txt" && [ -s "$work/topics.txt" ]; then
  pass "topic_all read from common/topics.c ($(wc -l <"$work/topics.txt") topics)"
else
  fail "topic_all read from common/topics.c" "cannot build $DEPLOY_TESTS/print_topics.c with common/topics.c"
fi

echo "-- static checks: image, compose, rendered overlays, topic job"
python3 "$DEPLOY_TESTS/check_static.py" --help-dir "$work/help" --bin-dir "$BIN_DIR" \
  --topics "$work/topics.txt" "${rendered[@]}" | tee "$work/static.out"
add_counts "$work/static.out" "check_static.py"

echo "-- overlays: the topic Job's name follows its content; the secure overlay's credentials"
(cd "$DEPLOY_TESTS" && python3 check_overlays.py --bin-dir "$ROOT/$BIN_DIR" "${rendered[@]}") | tee "$work/overlays.out"
add_counts "$work/overlays.out" "check_overlays.py"

echo "-- the topic job's failure paths (stand-in Kafka CLI)"
topics_run() { # STATE VAR=value... : run topics.sh on the fake CLI
  local state=$1; shift
  env -i PATH="$PATH" KAFKA_BIN="$FAKE_KAFKA_BIN" FAKE_KAFKA_STATE="$state" KAFKA_BOOTSTRAP=kafka:9092 \
    TOPIC_REPLICATION=1 TOPIC_WAIT_SECONDS=2 "$@" sh "$TOPICS_SH" >"$state/out" 2>&1
}
st="$work/topics-down"; mkdir -p "$st"
if topics_run "$st" FAKE_KAFKA_DOWN=1; then fail "topic job fails when the broker never answers" "exit 0"
else check_eq "topic job fails when the broker never answers" 1 "$(grep -c 'not reachable' "$st/out")"; fi
st="$work/topics-grow"; mkdir -p "$st"
topics_run "$st" TOPIC_PARTITIONS=3 || fail "topic job: first run" "$(tail -3 "$st/out")"
if topics_run "$st" TOPIC_PARTITIONS=6; then fail "topic job refuses to add partitions silently" "exit 0"
else check_eq "topic job refuses to add partitions silently" 1 "$(grep -c 'TOPIC_ALLOW_PARTITION_INCREASE' "$st/out")"; fi
if topics_run "$st" TOPIC_PARTITIONS=6 TOPIC_ALLOW_PARTITION_INCREASE=1; then
  check_eq "topic job adds partitions when allowed" 6 \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["partitions"])' "$st/topic.wms.orders.v1.json")"
else fail "topic job adds partitions when allowed" "$(tail -3 "$st/out")"; fi
st="$work/topics-prefix"; mkdir -p "$st"
if topics_run "$st" KAFKA_TOPIC_PREFIX=staging. TOPIC_PARTITIONS=2; then
  check_eq "topic job puts KAFKA_TOPIC_PREFIX in front of every topic" \
    "$(sed 's/^/staging./' "$work/topics.txt" | sort | tr '\n' ' ')" \
    "$(ls "$st" | sed -n 's/^topic\.\(.*\)\.json$/\1/p' | sort | tr '\n' ' ')"
else fail "topic job with a prefix" "$(tail -3 "$st/out")"; fi
st="$work/topics-bad"; mkdir -p "$st"
if topics_run "$st" TOPIC_MIN_INSYNC=2; then fail "topic job rejects min.insync.replicas > replication" "exit 0"
else pass "topic job rejects min.insync.replicas > replication"; fi
if command -v shellcheck >/dev/null; then
  check "shellcheck $TOPICS_SH" shellcheck -s sh "$TOPICS_SH"
fi

echo "-- every binary with its deployed configuration, on the local stack"
python3 "$DEPLOY_TESTS/run_configs.py" --bin-dir "$BIN_DIR" --stack-env "$STACK_ENV" \
  --help-dir "$work/help" "${rendered[@]}" | tee "$work/run.out"
add_counts "$work/run.out" "run_configs.py"

finish
