#!/usr/bin/env bash
# The contract with Trackstar's own OpenAPI file, on the running local stack: one webhook
# per WMS and connection event type built from the spec's examples, again with every
# nullable property null, and again with only the id and the dates (plus what the spec
# requires); every WMS record of a modelled entity is stored, every connection event has
# its effect, nothing is dead-lettered (tests/integration/lib/openapi_contract.py).
# It reads the spec, so a new spec version is a new run, not new code.
#
# The spec is Trackstar's file and is not in this repository: TRACKSTAR_OPENAPI names it,
# else the newest ../shared/reference/trackstar-openapi-*.json beside the checkout.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
. "${STACK_ENV:?run through tests/run-integration.sh or set STACK_ENV}"

SPEC=${TRACKSTAR_OPENAPI:-$(ls "$ROOT"/../shared/reference/trackstar-openapi-*.json 2>/dev/null | sort | tail -1)}
if [ -z "$SPEC" ] || [ ! -r "$SPEC" ]; then
  # Not a pass: say loudly that the contract was not checked, and why.
  echo "  SKIP  no Trackstar OpenAPI file (set TRACKSTAR_OPENAPI): the contract was not checked"
  finish
  exit
fi
echo "  spec: $SPEC"
python3 "$ROOT/tests/integration/lib/openapi_contract.py" --spec "$SPEC" --env "$STACK_ENV" \
  --tsctl "$ROOT/${BIN_DIR:-bin}/tsctl"
