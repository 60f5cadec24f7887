#!/usr/bin/env bash
# Efficiency benchmark: mqbench against a minimal amqp091-go loop
# (bench/baseline), one producer and one consumer, 16-byte bodies, same
# broker, same session, alternating runs:
#   A  no confirms, auto ack
#   B  confirm window 1000, prefetch 1000, ack multiple every 100
#   C  as B, persistent messages to a durable queue
# Prints client CPU seconds per million messages and throughput, with
# mqbench/loop ratios: medians over ROUNDS rounds (default 3), each round
# running every variant's loop and mqbench back to back. DURATION (default
# 20s) sets each run's length.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/broker.sh
d="${DURATION:-20s}"
rounds="${ROUNDS:-3}"
out="results/bench-baseline-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
go build -o "$out/mqbench" ./cmd/mqbench
go build -o "$out/baseline" ./bench/baseline

variant() { # NAME ROUND LOOP-FLAGS -- MQBENCH-FLAGS
  local name=$1 r=$2; shift 2
  local loop=() mq=()
  while [ "$1" != "--" ]; do loop+=("$1"); shift; done; shift
  mq=("$@")
  echo "round $r variant $name: loop" >&2
  "$out/baseline" -duration "$d" -size 16 "${loop[@]}" -out "$out/$name-loop-$r.json"
  echo "round $r variant $name: mqbench" >&2
  "$out/mqbench" run --quiet --duration "$d" --size 16 --producers 1 --consumers 1 \
    --queue "mqbench-bench-$name-$$" "${mq[@]}" --out "$out/$name-mqbench-$r.json" >/dev/null 2>&1
}

for r in $(seq 1 "$rounds"); do
  variant A "$r" -- --ack auto
  variant B "$r" -confirm 1000 -prefetch 1000 -multi-ack 100 -- \
    --confirm 1000 --prefetch 1000 --ack multiple --multi-ack-every 100
  variant C "$r" -confirm 1000 -prefetch 1000 -multi-ack 100 -persistent -durable -- \
    --confirm 1000 --prefetch 1000 --ack multiple --multi-ack-every 100 --persistent --durable
done

args=()
for v in A B C; do
  loops=$(ls "$out"/$v-loop-*.json | paste -sd+)
  mqs=$(ls "$out"/$v-mqbench-*.json | paste -sd+)
  args+=("$v=$loops,$mqs")
done
"$out/baseline" -compare "${args[@]}" | tee "$out/comparison.md"
echo "figures in $out" >&2
