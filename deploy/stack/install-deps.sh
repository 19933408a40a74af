#!/usr/bin/env bash
# Install the Debian packages the project builds, tests and runs with, if any is
# missing. Safe to run again: it only calls apt-get when something is absent.
set -euo pipefail

PKGS=(
  gcc make pkg-config ca-certificates curl jq python3 procps iproute2
  librdkafka-dev libcurl4-openssl-dev libcjson-dev libpq-dev libssl-dev
  libmicrohttpd-dev libcmocka-dev kcat
  postgresql-15 postgresql-client-15
  clang clang-format libclang-rt-14-dev wrk nginx-light gnuplot-nox python3-yaml
  # promtool (alert rules, /metrics), the Prometheus text parser and the Python
  # consumer example, and the schema checks (through /usr/bin/python3 when the python3
  # on PATH lacks them).
  prometheus python3-prometheus-client python3-confluent-kafka python3-jsonschema
  python3-cryptography
)
# kubectl renders the Kubernetes overlays in the deploy tests. Debian's
# kubernetes-client provides it; a kubectl from elsewhere is fine too (and would
# conflict with that package on /usr/bin/kubectl).
command -v kubectl >/dev/null 2>&1 || PKGS+=(kubernetes-client)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent or stale on a fresh machine.
$SUDO apt-get update -qq
# policy-rc.d keeps Debian from starting the system's own nginx/PostgreSQL services:
# the project runs its own instances on its own ports.
if [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$SUDO" ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
