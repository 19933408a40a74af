#!/usr/bin/env bash
# Ledger drift as a number, on the running local stack: with a consistent ledger no
# inventory window drifts; with the simulator's WMS forgetting some movements' entries,
# exactly the windows holding them drift, by their sums, in inventory_onhand_snapshots,
# sync_accuracy, sync_overview, `tsctl status` and writer_ledger_drifts_total
# (tests/integration/lib/ledger_drift_check.py; docs/operations.md, "Accuracy").
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"
python3 "$ROOT/tests/integration/lib/ledger_drift_check.py" --env "$STACK_ENV" \
  --tsctl "$ROOT/${BIN_DIR:-bin}/tsctl"
