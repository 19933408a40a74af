#!/usr/bin/env bash
# tests/faults/soak.sh - the long fault test (make soak): the scenario of
# tests/faults/fault_run.sh with more connections, more data and many more faults, on
# its own stack (ports 24300+, build/faults-soak). SOAK_MINUTES (default 15) sets the
# length of the fault phase; the number of faults grows with it (about one every 8 s).
# Every FAULT_* setting of fault_run.sh can still be given. Last line "N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIN=${SOAK_MINUTES:-15}
case $MIN in '' | *[!0-9]*) echo "SOAK_MINUTES must be a whole number"; exit 2 ;; esac
faults=$((MIN * 60 / 8))          # kills + restarts + pauses in the fault phase
export FAULT_NAME=${FAULT_NAME:-soak}
export FAULT_PORT_BASE=${FAULT_PORT_BASE:-24300}
export FAULT_SECONDS=${FAULT_SECONDS:-$((MIN * 60))}
export FAULT_CONNECTIONS=${FAULT_CONNECTIONS:-30}
export FAULT_ORDERS=${FAULT_ORDERS:-300} FAULT_PRODUCTS=${FAULT_PRODUCTS:-60} FAULT_RETURNS=${FAULT_RETURNS:-30}
export FAULT_INBOUND=${FAULT_INBOUND:-15} FAULT_BILLS=${FAULT_BILLS:-40} FAULT_LOCATIONS=${FAULT_LOCATIONS:-8}
export FAULT_KILLS=${FAULT_KILLS:-$((faults * 2 / 10 > 2 ? faults * 2 / 10 : 2))}   # per stage: 80% of faults are kills
export FAULT_PG_RESTARTS=${FAULT_PG_RESTARTS:-$((faults / 10 > 2 ? faults / 10 : 2))}
export FAULT_PAUSES=${FAULT_PAUSES:-$((faults / 10 > 2 ? faults / 10 : 2))}
export FAULT_MUTATIONS=${FAULT_MUTATIONS:-20}
export FAULT_POLL_S=${FAULT_POLL_S:-30}
export FAULT_CONVERGE_S=${FAULT_CONVERGE_S:-900}
exec bash "$ROOT/tests/faults/fault_run.sh"
