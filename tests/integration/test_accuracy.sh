#!/usr/bin/env bash
# Inventory accuracy as numbers, on the running local stack: with every webhook delivered
# a poll corrects nothing; with the simulator withholding webhooks, the poll's corrections
# equal the withheld versions newer than the rows, per resource, with their staleness, in
# sync_accuracy, sync_overview, `tsctl status` and writer_corrections_total
# (tests/integration/lib/accuracy_check.py; docs/operations.md, "Accuracy").
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"
python3 "$ROOT/tests/integration/lib/accuracy_check.py" --env "$STACK_ENV" \
  --tsctl "$ROOT/${BIN_DIR:-bin}/tsctl"
