#!/usr/bin/env bash
# Quick start: make sure a broker answers, then run the 10-second
# quickstart benchmark. Extra arguments go to `mqbench run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/broker.sh
exec go run ./cmd/mqbench run bench/scenarios/quickstart.yaml "$@"
