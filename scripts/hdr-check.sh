#!/usr/bin/env bash
# Checks that the histograms mqbench stores are HdrHistogram's own: decodes
# every one of a result (the whole run's latencies and each interval's)
# with an independent implementation, hdr-histogram-js, and compares the
# count and percentiles with what mqbench printed beside them
# (scripts/hdr-check.js says how closely, and why).
#
#   scripts/hdr-check.sh [RESULT.json]
#
# Without a file it makes one: a 3-second run against $MQBENCH_URL (default
# amqp://guest:guest@localhost:5672/) with publisher confirms, as one shard
# of one so that its intervals carry their histograms too. It installs
# Node.js with apt-get where it can (root on Debian), and hdr-histogram-js
# (pinned) with npm into ${XDG_CACHE_HOME:-~/.cache}/mqbench, outside the
# checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "hdr-check.sh: $*" >&2; exit 1; }

version=3.0.1
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "hdr-check.sh: installing Node.js and npm" >&2
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } ||
      die "apt-get install nodejs npm failed"
  else
    die "Node.js and npm are missing; install them (Debian: apt-get install -y nodejs npm)"
  fi
fi
lib="${XDG_CACHE_HOME:-$HOME/.cache}/mqbench/hdr-histogram-js-$version"
if [ ! -f "$lib/node_modules/hdr-histogram-js/package.json" ]; then
  mkdir -p "$lib"
  npm install --prefix "$lib" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "hdr-histogram-js@$version" >&2 ||
    die "npm install hdr-histogram-js@$version failed"
fi

if [ $# -gt 1 ]; then
  echo "usage: scripts/hdr-check.sh [RESULT.json]" >&2; exit 2
fi
file="${1:-}"
if [ -z "$file" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  go build -o "$tmp/mqbench" ./cmd/mqbench
  now=$(date +%s)
  start=$(date -u -d "@$((now + 3))" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$((now + 3))" +%Y-%m-%dT%H:%M:%SZ)
  file="$tmp/result.json"
  "$tmp/mqbench" run --url "${MQBENCH_URL:-amqp://guest:guest@localhost:5672/}" --shard 0/1 --start-at "$start" \
    --duration 3s --rate 500 --confirm 50 --quiet --out "$file" >/dev/null ||
    die "the run that makes the result to check failed"
fi
NODE_PATH="$lib/node_modules" node scripts/hdr-check.js "$file"
