#!/usr/bin/env bash
# test_alerts.sh - the alert rules (deploy/monitoring/alerts.yaml):
#  - promtool check rules accepts them;
#  - promtool test rules runs deploy/monitoring/alerts_test.yaml: every alert fires on a
#    synthetic series of a broken pipeline and stays quiet on a healthy one;
#  - the PrometheusRule of the monitoring component carries the same groups (as
#    rendered by kustomize, and as the generator prints them);
#  - every alert has its runbook entry in docs/operations.md (a "### <alert>" heading,
#    the anchor its runbook_url names).
# Needs no stack. Alone: bash tests/integration/test_alerts.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. tests/lib.sh
export PYTHONDONTWRITEBYTECODE=1
scratch_dir
MON=deploy/monitoring

check "promtool is installed (Debian prometheus)" command -v promtool
if promtool check rules "$MON/alerts.yaml" >"$TMP/check.out" 2>&1; then pass "promtool check rules $MON/alerts.yaml ($(grep -o '[0-9]* rules found' "$TMP/check.out"))"
else fail "promtool check rules" "$(tail -5 "$TMP/check.out")"; fi
if (cd "$MON" && promtool test rules alerts_test.yaml) >"$TMP/test.out" 2>&1; then pass "promtool test rules $MON/alerts_test.yaml"
else fail "promtool test rules" "$(grep -v '^$' "$TMP/test.out" | head -20)"; fi
# Every alert is exercised by the unit tests, both firing and quiet.
for a in $(sed -n 's/^ *- alert: //p' "$MON/alerts.yaml"); do
  fires=$(grep -c "alertname: $a\$" "$MON/alerts_test.yaml")
  quiet=$(grep -c "alertname: $a, exp_alerts: \[\]" "$MON/alerts_test.yaml")
  [ "$fires" -ge 1 ] && [ "$quiet" -ge 1 ] && pass "$a: unit-tested firing ($fires) and quiet ($quiet)" \
    || fail "$a: unit-tested firing and quiet" "firing $fires, quiet $quiet"
  grep -q "^### $a\$" docs/operations.md && pass "$a: runbook entry in docs/operations.md" \
    || fail "$a: runbook entry in docs/operations.md" "no '### $a' heading"
done
check "PrometheusRule file is generated from alerts.yaml (tests/deploy/prometheusrule.py --check)" \
  python3 tests/deploy/prometheusrule.py --check
if kubectl kustomize deploy/k8s/overlays/monitoring >"$TMP/mon.yaml" 2>"$TMP/mon.err"; then
  same=$(python3 - "$TMP/mon.yaml" "$MON/alerts.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
rule = [d for d in docs if d.get("kind") == "PrometheusRule"]
want = yaml.safe_load(open(sys.argv[2]))["groups"]
print(int(len(rule) == 1 and rule[0]["spec"]["groups"] == want))
PY
)
  check_eq "rendered PrometheusRule (overlays/monitoring) has exactly alerts.yaml's groups" 1 "$same"
else fail "kubectl kustomize deploy/k8s/overlays/monitoring" "$(tail -3 "$TMP/mon.err")"; fi

finish
