#!/usr/bin/env bash
# The local stand-in for a sharded Kubernetes run (scripts/k8s-run.sh): N
# mqbench processes on this machine, one shard each, released together.
#
#   scripts/shards-local.sh N [SCENARIO.yaml] [run flags...]
#
# Builds mqbench once, sets START_AT a few seconds ahead (START_DELAY seconds,
# default 5: every process must be connected and waiting by then), starts
#   mqbench run SCENARIO --shard I/N --start-at START_AT --out DIR/shard-I.json --quiet [run flags]
# for I = 0..N-1 in the background, waits for all of them (any failure fails
# the whole run, with that shard's stderr), then merges the shards into
# DIR/merged.json and prints the report. DIR is results/shards-<UTC time>,
# or $SHARDS_DIR when set.
#
# --prometheus HOST:PORT among the run flags gives shard I port PORT+I (N
# processes cannot share one port); deploy/prometheus/prometheus.yml scrapes
# 9419 to 9422.
set -euo pipefail

die() { echo "shards-local.sh: $*" >&2; exit 1; }
usage_error() { echo "shards-local.sh: $*" >&2; echo "usage: scripts/shards-local.sh N [SCENARIO.yaml] [mqbench run flags...]" >&2; exit 2; }

# --- pure parts: the tests source this file ---------------------------------

# parse_args ARGS... sets SHARDS, SCENARIO (may be empty) and RUN_FLAGS;
# exits 2 on a usage error. The second argument is the scenario unless it is
# a flag. Flags the script sets itself are refused.
parse_args() {
  SHARDS="" SCENARIO="" RUN_FLAGS=()
  (( $# >= 1 )) || usage_error "the number of shards is missing"
  case "$1" in -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (( ${#1} > 4 )) || (( 10#$1 < 1 || 10#$1 > 64 )); then
    usage_error "N must be a whole number of shards from 1 to 64, not '$1'"
  fi
  SHARDS=$((10#$1)); shift
  if (( $# )) && [[ "$1" != -* ]]; then SCENARIO="$1"; shift; fi
  local a
  for a in "$@"; do
    case "$a" in
      --shard|--shard=*|--shards|--shards=*|--start-at|--start-at=*|--out|--out=*|-o|-o=*)
        usage_error "$a is set by this script (each shard gets its own)" ;;
    esac
  done
  RUN_FLAGS=("$@")
}

# shard_flags I: RUN_FLAGS for shard I, with --prometheus HOST:PORT moved to
# PORT+I. Prints one flag per line.
shard_flags() {
  local i="$1" prev="" a
  for a in ${RUN_FLAGS[@]+"${RUN_FLAGS[@]}"}; do
    if [[ "$prev" == --prometheus ]]; then a="$(shift_port "$a" "$i")"
    elif [[ "$a" == --prometheus=* ]]; then a="--prometheus=$(shift_port "${a#--prometheus=}" "$i")"
    fi
    printf '%s\n' "$a"
    prev="$a"
  done
}

# shift_port HOST:PORT I: HOST:(PORT+I) (IPv6 "[::1]:9419" too).
shift_port() {
  local addr="$1" port
  port="${addr##*:}"
  [[ "$addr" == *:* && "$port" =~ ^[0-9]+$ ]] || { echo "$addr"; return; }
  echo "${addr%:*}:$(( 10#$port + $2 ))"
}

rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$1" +%Y-%m-%dT%H:%M:%SZ; }
run_dir() { echo "results/shards-$(date -u -d "@$1" +%Y%m%dT%H%M%SZ 2>/dev/null || date -u -r "$1" +%Y%m%dT%H%M%SZ)"; }
shard_file() { echo "$1/shard-$2.json"; }

# --- the run ----------------------------------------------------------------

PIDS=()
stop_shards() {
  local p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

main() {
  cd "$(dirname "$0")/.."
  parse_args "$@"
  if [[ -n "$SCENARIO" && ! -f "$SCENARIO" ]]; then die "no scenario file $SCENARIO"; fi
  local delay="${START_DELAY:-5}"
  if ! [[ "$delay" =~ ^[0-9]+$ ]] || (( ${#delay} > 5 )); then die "START_DELAY must be whole seconds, not '$delay'"; fi
  command -v go >/dev/null 2>&1 || die "Go is not installed (https://go.dev/dl/)"

  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand $tmp now
  trap "stop_shards; rm -rf '$tmp'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  go build -o "$tmp/mqbench" ./cmd/mqbench

  local now dir start i
  now=$(date +%s)
  dir="${SHARDS_DIR:-$(run_dir "$now")}"
  start="$(rfc3339 $(( now + delay )))"
  mkdir -p "$dir"
  echo "shards-local.sh: $SHARDS shards of ${SCENARIO:-the scenario the flags describe}, START_AT $start, results in $dir" >&2
  local scenario_arg=()
  [[ -z "$SCENARIO" ]] || scenario_arg=("$SCENARIO")
  for (( i = 0; i < SHARDS; i++ )); do
    local flags=() f
    while IFS= read -r f; do flags+=("$f"); done < <(shard_flags "$i")
    "$tmp/mqbench" run ${scenario_arg[@]+"${scenario_arg[@]}"} --shard "$i/$SHARDS" --start-at "$start" \
      --out "$(shard_file "$dir" "$i")" --quiet ${flags[@]+"${flags[@]}"} \
      >"$dir/shard-$i.log" 2>"$dir/shard-$i.err" &
    PIDS+=("$!")
  done

  local failed=0 rc
  for (( i = 0; i < SHARDS; i++ )); do
    rc=0
    wait "${PIDS[$i]}" || rc=$?
    if (( rc != 0 )); then
      failed=1
      echo "shards-local.sh: shard $i/$SHARDS exited with $rc; its stderr:" >&2
      tail -n 40 "$dir/shard-$i.err" >&2 || true
    fi
  done
  PIDS=()
  (( failed == 0 )) || die "a shard failed (outputs in $dir)"

  local files=()
  for (( i = 0; i < SHARDS; i++ )); do files+=("$(shard_file "$dir" "$i")"); done
  "$tmp/mqbench" merge "${files[@]}" --out "$dir/merged.json"
  "$tmp/mqbench" report "$dir/merged.json"
  echo "shards-local.sh: results in $dir" >&2
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
