#!/usr/bin/env bash
# Makes sure Debian's prometheus server binary is installed: the exporter's
# agreement test (internal/promexport, TestPrometheusAgrees) starts a
# private Prometheus that scrapes a run. Installed with apt-get where that
# is possible (root on Debian), without starting the package's service: the
# test runs its own server on its own port, and nothing is left running.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "prometheus.sh: prometheus is missing; install it (Debian: apt-get install prometheus) for the exporter's agreement test" >&2
  exit 1
fi
echo "prometheus.sh: installing prometheus for the exporter's agreement test" >&2
# policy-rc.d exit 101: "do not start services" during the install.
created=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created=1
fi
status=0
{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } || status=$?
[ -n "$created" ] && rm -f /usr/sbin/policy-rc.d
if [ "$status" != 0 ]; then
  echo "prometheus.sh: apt-get install prometheus failed" >&2
  exit 1
fi
# Should a service have started anyway, stop it: the machine stays clean.
pkill -x prometheus 2>/dev/null || true
exit 0
