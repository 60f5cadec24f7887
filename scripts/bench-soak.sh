#!/usr/bin/env bash
# A soak: the client's memory over a long run. 100 producers × 100
# consumers over 10 queues, unpaced, for MINUTES (default 30), then the
# same paced (PACED_RATE msg/s per producer, default 50). Every 10 s it
# samples mqbench's resident memory (/proc) and Go heap (its --prometheus
# endpoint's go_memstats_heap_alloc_bytes), and writes the curve to
# results/bench-soak-*/NAME.csv. The queues are kept at the end (--keep)
# so that the audit's left can be checked against the broker's own count
# of what they hold (rabbitmqctl); then they are deleted.
#
#   scripts/bench-soak.sh [MINUTES]
#
# It prints one line per variant for docs/PERFORMANCE.md: RSS at 2 min,
# its largest rise after that, the heap's, and the audit against the
# broker. Consumers ack manually with a prefetch of 100, so the backlog
# (if any) stays in the broker, not in the client, and the confirm window
# (100 per producer) keeps the publishers to what the broker takes in.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
paced="${PACED_RATE:-50}"
[[ "$minutes" =~ ^[0-9]+$ ]] && (( minutes >= 3 )) || { echo "bench-soak.sh: MINUTES must be a whole number ≥ 3, not '$minutes'" >&2; exit 2; }
scripts/broker.sh
out="results/bench-soak-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
go build -o "$out/mqbench" ./cmd/mqbench
ctl() { if [ -n "${MQBENCH_RABBITMQCTL:-}" ]; then $MQBENCH_RABBITMQCTL "$@"; else rabbitmqctl "$@"; fi; }

soak() { # NAME FLAGS...
  local name=$1; shift
  local port=$((20000 + RANDOM % 20000))
  local prefix="mqbench-soak-$name-$$"
  "$out/mqbench" run --quiet --duration "${minutes}m" --drain-timeout 30s \
    --producers 100 --consumers 100 --queue "$prefix-%d" --queues 10 --durable --keep \
    --confirm 100 --ack manual --prefetch 100 \
    --prometheus "127.0.0.1:$port" --out "$out/$name.json" "$@" >"$out/$name.log" 2>&1 &
  local pid=$! t=0
  echo "t_s,rss_bytes,heap_bytes" >"$out/$name.csv"
  while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    t=$((t + 10))
    local rss heap
    rss=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$pid/status" 2>/dev/null || true)
    heap=$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null | awk '/^go_memstats_heap_alloc_bytes / {printf "%d", $2}' || true)
    [ -n "$rss" ] && echo "$t,$rss,$heap" >>"$out/$name.csv"
  done
  local rc=0
  wait "$pid" || rc=$?
  # What the broker holds in the kept queues, read by rabbitmqctl.
  local held
  held=$(ctl -q list_queues name messages | awk -v p="$prefix-" 'index($1, p) == 1 {s += $2} END {print s + 0}')
  for q in $(ctl -q list_queues name | awk -v p="$prefix-" 'index($1, p) == 1 {print $1}'); do
    ctl -q delete_queue "$q" >/dev/null 2>&1 || true
  done
  if (( rc != 0 )); then
    echo "bench-soak.sh: $name: mqbench exited $rc (see $out/$name.log)" >&2
  fi
  go run ./bench/baseline -summarize-soak "$name" "$out/$name.csv" "$out/$name.json" "$held"
}

echo "| variant | minutes | RSS at 2 min MiB | RSS rise after 2 min MB | heap at 2 min MiB | heap rise after 2 min MB | published | audit: consumed + left = expected, left = broker's count, lost |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
soak unpaced
soak paced --rate "$paced"
echo "curves: $out/*.csv"
