#!/usr/bin/env bash
# test_faults_short.sh - the fault test, short version (part of `make test`): on a stack
# of its own (ports 24000+, build/faults-short) 20 simulator connections stream webhooks
# (with duplicate and out-of-order deliveries) and polls while every stage is SIGKILLed
# and restarted twice, PostgreSQL is restarted twice and the broker is paused twice; the
# first pause checks that webhooks get 503 and are retried. At the end the database must
# equal the simulator's truth, the dead-letter topic must hold exactly the poison
# injected, and no log may show a crash. tests/faults/fault_run.sh does the work; the
# long version is tests/faults/soak.sh (make soak).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export FAULT_NAME=short FAULT_PORT_BASE=${FAULT_PORT_BASE:-24000}
exec bash "$ROOT/tests/faults/fault_run.sh"
