#!/usr/bin/env bash
# Client memory at scale: paced producers (1 msg/s each, jittered) and
# consumers over various worker and connection counts, 10 s each. Prints
# peak resident memory and the per-interval merge cost, then fits memory
# per worker and per connection. Figures go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/broker.sh
out="results/bench-scale-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
go build -o "$out/mqbench" ./cmd/mqbench

run() { # NAME WORKERS CONNECTIONS
  local half=$(($2 / 2)) cpc=$(($3 / 2))
  "$out/mqbench" run --quiet --duration 10s --producers "$half" --producer-connections "$cpc" --rate 1 \
    --consumers "$half" --consumer-connections "$cpc" --ack auto --queue "mqbench-scale-$1-%d" --queues 50 \
    --out "$out/$1.json" >/dev/null
  go run ./bench/baseline -summarize-scale "$1" "$2" "$3" "$out/$1.json"
}

echo "| run | workers | connections | peak RSS MiB | merge CPU µs/interval (mean, max) | published/s |"
echo "|---|---:|---:|---:|---:|---:|"
run w1000-c200 1000 200
run w5000-c100 5000 100
run w5000-c200 5000 200
run w5000-c400 5000 400
