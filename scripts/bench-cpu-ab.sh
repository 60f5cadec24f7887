#!/usr/bin/env bash
# CPU per message of this checkout against an earlier commit, in
# scripts/bench-baseline.sh's variant B (one producer, one consumer,
# 16-byte bodies, confirm window 1000, prefetch 1000, ack multiple every
# 100), runs alternating on the same broker so that its drift falls on
# both sides alike.
#
#   scripts/bench-cpu-ab.sh REF [ROUNDS]   # ROUNDS default 7, DURATION 20s
#   RATE=40000 scripts/bench-cpu-ab.sh REF  # paced (24-byte bodies: the stamp
#                                           # then holds the due time too)
#
# The figure is the whole process's CPU (client.cpu_total_s: start-up,
# load, drain and clean-up) per message moved ((published + consumed) / 2
# of the run's totals), so that it does not depend on how either version
# bounds its measured window. Prints each round and the median of the
# per-round ratios (this checkout / REF); a ratio above 1.03 is a rise of
# more than 3%. Unpaced, the client takes whatever CPU the broker (on the
# same cores) leaves it, and how many messages that buys varies with the
# broker's speed from run to run: the per-run figure scatters by ±10% on a
# 2-core machine. Paced below both sides' maximum (RATE), each run moves
# the same messages and the ratio is far steadier. Results go to
# results/bench-cpu-ab-*/.
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${1:?usage: scripts/bench-cpu-ab.sh REF [ROUNDS]}"
rounds="${2:-7}"
d="${DURATION:-20s}"
pace=()
size=16
if [ -n "${RATE:-}" ]; then pace=(--rate "$RATE"); size=24; fi
command -v jq >/dev/null 2>&1 || { echo "bench-cpu-ab.sh: needs jq (apt-get install jq)" >&2; exit 1; }
scripts/broker.sh
out="results/bench-cpu-ab-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
go build -o "$out/new" ./cmd/mqbench
tree="$(mktemp -d)"
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add --detach "$tree" "$ref" >/dev/null
(cd "$tree" && go build -o "$OLDPWD/$out/old" ./cmd/mqbench)

one() { # BINARY OUT
  "$1" run --quiet --duration "$d" --size "$size" --producers 1 --consumers 1 --queue "mqbench-cpu-ab-$$" \
    --confirm 1000 --prefetch 1000 --ack multiple --multi-ack-every 100 "${pace[@]}" --out "$2" >/dev/null 2>&1
}
perm() { # RESULT: CPU seconds per million messages
  jq '.client.cpu_total_s / ((.totals.published + .totals.consumed) / 2) * 1e6' "$1"
}

echo "| round | $ref CPU s/M msgs | this checkout CPU s/M msgs | ratio |" | tee "$out/rounds.md"
echo "|---:|---:|---:|---:|" | tee -a "$out/rounds.md"
ratios=()
for r in $(seq 1 "$rounds"); do
  # Alternate which side goes first, so neither always meets a warmer broker.
  if [ $((r % 2)) = 1 ]; then one "$out/old" "$out/old-$r.json"; one "$out/new" "$out/new-$r.json"
  else one "$out/new" "$out/new-$r.json"; one "$out/old" "$out/old-$r.json"; fi
  o=$(perm "$out/old-$r.json") n=$(perm "$out/new-$r.json")
  ratio=$(jq -n "$n / $o")
  ratios+=("$ratio")
  printf '| %d | %.2f | %.2f | %.3f |\n' "$r" "$o" "$n" "$ratio" | tee -a "$out/rounds.md"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')
echo "median ratio (this checkout / $ref) over $rounds rounds: $median" | tee -a "$out/rounds.md"
