#!/usr/bin/env bash
# CI regression gate: run a pinned scenario and compare it with the
# baseline kept in results/baseline/; exit 3 when a gate is crossed, 4
# when a gated figure is missing from a side (the gate cannot be checked).
#
#   scripts/ci-regression.sh                   # gate against the baseline
#   UPDATE_BASELINE=1 scripts/ci-regression.sh # record a new baseline (commit it)
#
# SCENARIO, BASELINE and GATES (space-separated METRIC=PCT) can be overridden.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario="${SCENARIO:-bench/scenarios/ci-regression.yaml}"
baseline="${BASELINE:-results/baseline/$(basename "$scenario" .yaml).json}"
gates="${GATES:-rates.consumed_per_s=10 latency.end_to_end.p99_us=50 latency.confirm.p99_us=50}"
candidate="results/$(date -u +%Y%m%dT%H%M%SZ)-$(basename "$scenario" .yaml)-candidate.json"

scripts/broker.sh
mkdir -p results/baseline
go build -o results/mqbench ./cmd/mqbench
results/mqbench run "$scenario" --quiet --out "$candidate"

if [ "${UPDATE_BASELINE:-}" = 1 ] || [ ! -f "$baseline" ]; then
  cp "$candidate" "$baseline"
  echo "ci-regression: baseline written to $baseline; commit it" >&2
  exit 0
fi

args=()
for g in $gates; do args+=(--max-regression "$g"); done
set +e
results/mqbench compare "$baseline" "$candidate" "${args[@]}" --format markdown | tee "${candidate%.json}-compare.md"
code=${PIPESTATUS[0]}
set -e
if [ "$code" = 3 ]; then
  echo "ci-regression: REGRESSION against $baseline (see above)" >&2
elif [ "$code" = 4 ]; then
  echo "ci-regression: a gated figure is missing from $baseline or $candidate: the gate could not be checked (see above)" >&2
fi
exit "$code"
