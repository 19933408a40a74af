#!/usr/bin/env bash
# test_truth_2025.sh - the truth test for the 2025 API (no trackstar_* dates or filters), part of `make test`:
# on a stack of its own (build/truth-api2025, ports FAULT_PORT_BASE+), Trackstar as unkind as
# production (late ingestion, equal timestamps, quantity-only changes, mid-paging changes,
# short pages, duplicated, out-of-order and undelivered webhooks) and one fetcher SIGKILL;
# afterwards every table must equal the simulator's truth. tests/faults/truth_run.sh does
# the work.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export TRUTH_API=2025 FAULT_PORT_BASE=${FAULT_PORT_BASE:-24000}
exec bash "$ROOT/tests/faults/truth_run.sh"
