#!/usr/bin/env bash
# Efficiency benchmark: mqbench against a minimal amqp091-go loop
# (bench/baseline), one producer and one consumer, 16-byte bodies, same
# broker, same session, alternating runs:
#   A  no confirms, auto ack
#   B  confirm window 1000, prefetch 1000, ack multiple every 100
#   C  as B, persistent messages to a durable queue
# each run three ways back to back: the loop, mqbench (coalesced socket
# writes, the default) and mqbench --no-coalesce. Prints client CPU seconds
# per million messages and throughput with mqbench/loop ratios (medians over
# ROUNDS rounds, default 3); then the end-to-end latency at a low rate
# (500 msg/s, coalesced and not, alternating, ROUNDS rounds); then the
# client memory of 5,000 workers over 200 connections. DURATION (default
# 20s) sets each run's length. Figures go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/broker.sh
d="${DURATION:-20s}"
rounds="${ROUNDS:-3}"
out="results/bench-baseline-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
go build -o "$out/mqbench" ./cmd/mqbench
go build -o "$out/baseline" ./bench/baseline

mq() { # OUT FLAGS...: one quiet mqbench run
  local o=$1; shift
  "$out/mqbench" run --quiet --duration "$d" --size 16 --producers 1 --consumers 1 "$@" --out "$o" >/dev/null 2>&1
}

variant() { # NAME ROUND LOOP-FLAGS -- MQBENCH-FLAGS
  local name=$1 r=$2; shift 2
  local loop=() flags=()
  while [ "$1" != "--" ]; do loop+=("$1"); shift; done; shift
  flags=("$@")
  echo "round $r variant $name: loop, mqbench, mqbench --no-coalesce" >&2
  "$out/baseline" -duration "$d" -size 16 "${loop[@]}" -out "$out/$name-loop-$r.json"
  mq "$out/$name-mqbench-$r.json" --queue "mqbench-bench-$name-$$" "${flags[@]}"
  mq "$out/$name-nocoalesce-$r.json" --queue "mqbench-bench-$name-$$" --no-coalesce "${flags[@]}"
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
  join() { ls "$out"/$v-"$1"-*.json | paste -sd+; }
  args+=("$v=$(join loop),$(join mqbench),$(join nocoalesce)")
done
{
  echo "## CPU and throughput against the loop"
  echo
  "$out/baseline" -compare "${args[@]}"
} | tee "$out/comparison.md"

# Low rate: coalescing must not add latency that matters when the
# connection is mostly idle. The size is mqbench's default (32 bytes).
for r in $(seq 1 "$rounds"); do
  echo "round $r: 500 msg/s, coalesced and not" >&2
  "$out/mqbench" run --quiet --duration "$d" --rate 500 --queue "mqbench-bench-L-$$" --out "$out/L-on-$r.json" >/dev/null 2>&1
  "$out/mqbench" run --quiet --duration "$d" --rate 500 --queue "mqbench-bench-L-$$" --no-coalesce --out "$out/L-off-$r.json" >/dev/null 2>&1
done
{
  echo
  echo "## End-to-end latency at 500 msg/s"
  echo
  "$out/baseline" -latency "L=$(ls "$out"/L-on-*.json | paste -sd+),$(ls "$out"/L-off-*.json | paste -sd+)"
} | tee -a "$out/comparison.md"

# Memory: 5,000 workers over 200 connections (scripts/bench-scale.sh's
# w5000-c200), coalesced.
echo "5,000 workers over 200 connections" >&2
"$out/mqbench" run --quiet --duration 10s --producers 2500 --producer-connections 100 --rate 1 \
  --consumers 2500 --consumer-connections 100 --ack auto --queue "mqbench-bench-M-$$-%d" --queues 50 \
  --out "$out/M.json" >/dev/null 2>&1
{
  echo
  echo "## Memory"
  echo
  echo "| run | workers | connections | peak RSS MiB | merge CPU µs/interval (mean, max) | published/s |"
  echo "|---|---:|---:|---:|---:|---:|"
  "$out/baseline" -summarize-scale w5000-c200 5000 200 "$out/M.json"
} | tee -a "$out/comparison.md"
echo "figures in $out" >&2
