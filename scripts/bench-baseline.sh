#!/usr/bin/env bash
# Efficiency benchmark: mqbench against a minimal amqp091-go loop
# (bench/baseline), one producer and one consumer, 16-byte bodies, same
# broker, same session, alternating runs:
#   A  no confirms, auto ack
#   B  confirm window 1000, prefetch 1000, ack multiple every 100
#   C  as B, persistent messages to a durable queue
# Prints client CPU seconds per million messages and throughput, with
# mqbench/loop ratios. DURATION (default 20s) sets each run's length.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/broker.sh
d="${DURATION:-20s}"
out="results/bench-baseline-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
go build -o "$out/mqbench" ./cmd/mqbench
go build -o "$out/baseline" ./bench/baseline

variant() { # NAME LOOP-FLAGS -- MQBENCH-FLAGS
  local name=$1; shift
  local loop=() mq=()
  while [ "$1" != "--" ]; do loop+=("$1"); shift; done; shift
  mq=("$@")
  echo "variant $name: loop" >&2
  "$out/baseline" -duration "$d" -size 16 "${loop[@]}" -out "$out/$name-loop.json"
  echo "variant $name: mqbench" >&2
  "$out/mqbench" run --quiet --duration "$d" --size 16 --producers 1 --consumers 1 \
    --queue "mqbench-bench-$name-$$" "${mq[@]}" --out "$out/$name-mqbench.json" >/dev/null
}

variant A -- --ack auto
variant B -confirm 1000 -prefetch 1000 -multi-ack 100 -- \
  --confirm 1000 --prefetch 1000 --ack multiple --multi-ack-every 100
variant C -confirm 1000 -prefetch 1000 -multi-ack 100 -persistent -durable -- \
  --confirm 1000 --prefetch 1000 --ack multiple --multi-ack-every 100 --persistent --durable

"$out/baseline" -compare \
  "A=$out/A-loop.json,$out/A-mqbench.json" \
  "B=$out/B-loop.json,$out/B-mqbench.json" \
  "C=$out/C-loop.json,$out/C-mqbench.json" | tee "$out/comparison.md"
echo "figures in $out" >&2
