#!/usr/bin/env bash
# Runs a benchmark as N mqbench shards on Kubernetes and merges their results:
#
#   scripts/k8s-run.sh N [SCENARIO.yaml] [options]
#
#   N                 shards: an Indexed Job with N pods, shard I in pod I
#   SCENARIO.yaml     the scenario every shard runs (default: the example in
#                     deploy/kubernetes/scenario-configmap.yaml)
#   --image REF       the mqbench image (default $MQBENCH_IMAGE; required)
#   -n, --namespace NS
#   --context CTX     kubectl context (default: the current one)
#   --start-delay S   seconds from now to START_AT (default 60)
#   --timeout S       seconds the run may take after START_AT (default 3600)
#   --mqbench BIN     local mqbench for merge and report (default $MQBENCH_BIN,
#                     else built from this checkout with go build)
#   --keep            leave the Job, its pods and logs in the cluster
#
# What it does: renders deploy/kubernetes with an overlay (unique Job name
# mqbench-<UTC time>-<random>, N, START_AT, image, scenario) into
# results/k8s-<job>/, checks the broker Secret exists, applies, waits for the
# Job to complete or fail, takes each shard's result out of its pod's log into
# results/k8s-<job>/shard-I.json, merges them into merged.json, prints the
# report and deletes what it applied (unless --keep).
#
# START_AT is a wall-clock time because the pods start whenever they are
# scheduled and their images pulled, seconds apart; each waits for START_AT
# and all release their workers together. A pod that starts after START_AT
# runs late, and its result says so. Across pods the clocks must agree (NTP):
# they decide the common start and every end-to-end latency between a
# producer in one pod and a consumer in another.
#
# Needs kubectl with a context, a Secret mqbench-broker (key url) in the
# namespace (deploy/kubernetes/secret.example.yaml), and an image built from
# the Dockerfile and pushed where the cluster can pull it.
set -euo pipefail

SECRET_NAME=mqbench-broker
BASE_DIR=deploy/kubernetes
RESULT_BEGIN='----- BEGIN MQBENCH RESULT'
RESULT_END='----- END MQBENCH RESULT'

die() { echo "k8s-run.sh: $*" >&2; exit 1; }
say() { echo "k8s-run.sh: $*" >&2; }
usage_error() { echo "k8s-run.sh: $*" >&2; echo "usage: scripts/k8s-run.sh N [SCENARIO.yaml] [--image REF] [-n NS] [--context CTX] [--start-delay S] [--timeout S] [--mqbench BIN] [--keep]" >&2; exit 2; }

# --- pure parts: no cluster, no files; scripts' tests source this file -----

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# in_range VALUE MIN MAX: VALUE is a whole number from MIN to MAX.
in_range() { is_uint "$1" && (( ${#1} <= 9 )) && (( 10#$1 >= $2 && 10#$1 <= $3 )); }

# parse_args ARGS... sets SHARDS, SCENARIO, IMAGE, NAMESPACE, CONTEXT,
# START_DELAY, TIMEOUT, MQBENCH, KEEP; exits 2 on a usage error.
parse_args() {
  SHARDS="" SCENARIO="" IMAGE="${MQBENCH_IMAGE:-}" NAMESPACE="" CONTEXT=""
  START_DELAY=60 TIMEOUT=3600 MQBENCH="${MQBENCH_BIN:-}" KEEP=0
  local positional=()
  while (( $# )); do
    case "$1" in
      --image|-n|--namespace|--context|--start-delay|--timeout|--mqbench)
        (( $# >= 2 )) || usage_error "$1 needs a value"
        case "$1" in
          --image) IMAGE="$2" ;;
          -n|--namespace) NAMESPACE="$2" ;;
          --context) CONTEXT="$2" ;;
          --start-delay) START_DELAY="$2" ;;
          --timeout) TIMEOUT="$2" ;;
          --mqbench) MQBENCH="$2" ;;
        esac
        shift 2 ;;
      --image=*) IMAGE="${1#*=}"; shift ;;
      --namespace=*) NAMESPACE="${1#*=}"; shift ;;
      --context=*) CONTEXT="${1#*=}"; shift ;;
      --start-delay=*) START_DELAY="${1#*=}"; shift ;;
      --timeout=*) TIMEOUT="${1#*=}"; shift ;;
      --mqbench=*) MQBENCH="${1#*=}"; shift ;;
      --keep) KEEP=1; shift ;;
      -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      --) shift; positional+=("$@"); break ;;
      -*) usage_error "unknown option $1" ;;
      *) positional+=("$1"); shift ;;
    esac
  done
  (( ${#positional[@]} >= 1 )) || usage_error "the number of shards is missing"
  (( ${#positional[@]} <= 2 )) || usage_error "too many arguments: ${positional[*]:2}"
  SHARDS="${positional[0]}"
  SCENARIO="${positional[1]:-}"
  in_range "$SHARDS" 1 1000 || usage_error "N must be a whole number of shards from 1 to 1000, not '$SHARDS'"
  in_range "$START_DELAY" 5 86400 || usage_error "--start-delay must be whole seconds from 5 to 86400, not '$START_DELAY'"
  in_range "$TIMEOUT" 1 604800 || usage_error "--timeout must be whole seconds from 1 to 604800, not '$TIMEOUT'"
  SHARDS=$((10#$SHARDS))
  START_DELAY=$((10#$START_DELAY)) TIMEOUT=$((10#$TIMEOUT))
  [[ -z "$NAMESPACE" || "$NAMESPACE" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || usage_error "not a namespace name: '$NAMESPACE'"
  return 0
}

# rfc3339 EPOCH: the UTC time as RFC 3339 (GNU date, else BSD date).
rfc3339() {
  date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$1" +%Y-%m-%dT%H:%M:%SZ
}

# utc_stamp EPOCH: 20261126-101500, for names.
utc_stamp() {
  date -u -d "@$1" +%Y%m%d-%H%M%S 2>/dev/null || date -u -r "$1" +%Y%m%d-%H%M%S
}

random_suffix() { od -An -N2 -tx1 /dev/urandom | tr -d ' \n'; }

# job_name EPOCH SUFFIX: mqbench-20261126-101500-SUFFIX, a DNS label (the
# Job's name is also a label value and its pods' name prefix).
job_name() {
  local name
  name="mqbench-$(utc_stamp "$1")-$2"
  [[ "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ && ${#name} -le 52 ]] || { echo "k8s-run.sh: unusable job name '$name'" >&2; return 1; }
  echo "$name"
}

# start_at NOW DELAY: START_AT, DELAY seconds after NOW (epoch seconds).
start_at() { rfc3339 $(( $1 + $2 )); }

results_dir() { echo "results/k8s-$1"; }
shard_file() { echo "$1/shard-$2.json"; }

# split_image REF prints "NAME TAG DIGEST" ('-' for an absent part):
# registry:5000/team/mqbench:v1@sha256:… → registry:5000/team/mqbench v1 sha256:…
split_image() {
  local ref="$1" name tag="-" digest="-"
  [[ -n "$ref" && "$ref" != *[[:space:]]* ]] || return 1
  if [[ "$ref" == *@* ]]; then digest="${ref#*@}"; ref="${ref%%@*}"; fi
  name="$ref"
  local last="${ref##*/}"
  if [[ "$last" == *:* ]]; then tag="${last##*:}"; name="${ref%:*}"; fi
  [[ -n "$name" && -n "$tag" && -n "$digest" ]] || return 1
  echo "$name $tag $digest"
}

# render_overlay DIR JOB SHARDS START_AT IMAGE DEADLINE NAMESPACE HAS_SCENARIO
# writes DIR/kustomization.yaml: the base with a unique name suffix, a run
# label, the image, N, START_AT and (HAS_SCENARIO=1) DIR/scenario.yaml as the
# scenario. DIR must be results/k8s-<job>/kustomize (kustomize takes the
# base by a relative path).
render_overlay() {
  local dir="$1" job="$2" shards="$3" start="$4" image="$5" deadline="$6" ns="$7" has_scenario="$8"
  local name tag digest
  read -r name tag digest < <(split_image "$image") || { echo "k8s-run.sh: not an image reference: '$image'" >&2; return 1; }
  {
    echo "# Written by scripts/k8s-run.sh for $job; kubectl kustomize renders it."
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources:"
    echo "  - ../../../$BASE_DIR"
    [[ -z "$ns" ]] || echo "namespace: $ns"
    echo "nameSuffix: -${job#mqbench-}"
    echo "labels:"
    echo "  - pairs:"
    echo "      mqbench.io/run: $job"
    echo "    includeSelectors: true"
    echo "    includeTemplates: true"
    echo "images:"
    echo "  - name: registry.example.invalid/mqbench"
    echo "    newName: $name"
    [[ "$tag" == - ]] || echo "    newTag: \"$tag\""
    [[ "$digest" == - ]] || echo "    digest: $digest"
    if [[ "$has_scenario" == 1 ]]; then
      echo "configMapGenerator:"
      echo "  - name: mqbench-scenario"
      echo "    behavior: replace"
      echo "    files:"
      echo "      - scenario.yaml"
    fi
    echo "patches:"
    echo "  - patch: |-"
    echo "      apiVersion: batch/v1"
    echo "      kind: Job"
    echo "      metadata:"
    echo "        name: mqbench"
    echo "      spec:"
    echo "        completions: $shards"
    echo "        parallelism: $shards"
    echo "        activeDeadlineSeconds: $deadline"
    echo "        template:"
    echo "          spec:"
    echo "            containers:"
    echo "              - name: mqbench"
    echo "                env:"
    echo "                  - name: MQBENCH_SHARDS"
    echo "                    value: \"$shards\""
    echo "                  - name: START_AT"
    echo "                    value: \"$start\""
  } >"$dir/kustomization.yaml"
}

# extract_result SHARD < LOG: the JSON result the pod printed between the
# marker lines (see the Job's command in deploy/kubernetes/job.yaml).
extract_result() {
  awk -v b="$RESULT_BEGIN shard-$1 -----" -v e="$RESULT_END shard-$1 -----" '
    $0 == b { inside = 1; found = 1; next }
    $0 == e { inside = 0; done = 1; next }
    inside { print }
    END { exit !(found && done) }'
}

# scenario_sets_url FILE: true when the scenario has a top-level url: key.
scenario_sets_url() { grep -Eq '^url[[:space:]]*:' "$1"; }

# --- the run ----------------------------------------------------------------

KUBECTL=(kubectl)
kc() { "${KUBECTL[@]}" "$@"; }

APPLIED="" RUN_DIR="" TMP=""
cleanup() {
  local rc=$?
  if [[ -n "$APPLIED" ]]; then
    if [[ "$KEEP" == 1 ]]; then
      say "kept: kubectl delete -f $RUN_DIR/manifest.yaml removes the Job, its pods and logs"
    else
      kc delete -f "$RUN_DIR/manifest.yaml" --ignore-not-found --wait=false >/dev/null 2>&1 \
        || say "could not delete what was applied; run: kubectl delete -f $RUN_DIR/manifest.yaml"
    fi
  fi
  [[ -z "$TMP" ]] || rm -rf "$TMP"
  exit "$rc"
}

# pods_of JOB prints "INDEX|PHASE|NAME|EXITCODE|STARTED" per pod (empty
# fields stay empty: the exit code while it runs, say).
pods_of() {
  kc get pods -l "batch.kubernetes.io/job-name=$1" -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{"|"}{.status.phase}{"|"}{.metadata.name}{"|"}{.status.containerStatuses[0].state.terminated.exitCode}{"|"}{.status.containerStatuses[0].state.terminated.startedAt}{.status.containerStatuses[0].state.running.startedAt}{"\n"}{end}'
}

# started_count JOB: how many of its pods have started their container.
started_count() { pods_of "$1" | awk -F'|' '$2 == "Running" || $2 == "Succeeded" || $2 == "Failed"' | wc -l | tr -d ' '; }

show_failed_pods() {
  local idx phase pod code started
  while IFS='|' read -r idx phase pod code started; do
    [[ "$phase" == Failed || ( -n "$code" && "$code" != 0 ) ]] || continue
    say "shard $idx ($pod) failed${code:+ with exit code $code}; the last lines of its log:"
    kc logs "$pod" -c mqbench --tail=40 >&2 2>&1 || true
  done < <(pods_of "$1")
}

wait_until_start() { # JOB START_EPOCH START_AT
  local running
  while (( $(date +%s) < $2 )); do
    running=$(started_count "$1")
    say "$running/$SHARDS shards started; START_AT $3 in $(( $2 - $(date +%s) ))s"
    kc wait --for=condition=Failed "job/$1" --timeout=0s >/dev/null 2>&1 && return 0
    sleep 5
  done
  running=$(started_count "$1")
  if (( running < SHARDS )); then
    say "WARNING: only $running of $SHARDS shards had started at START_AT; the others start late (their results say by how much). Raise --start-delay (image pulls, node scale-up)."
  fi
}

wait_for_job() { # JOB DEADLINE_EPOCH
  local last
  last=$(date +%s)
  while :; do
    if (( $(date +%s) - last >= 60 )); then
      last=$(date +%s)
      say "job $1 running: $(pods_of "$1" | awk -F'|' '$2 == "Succeeded"' | wc -l | tr -d ' ')/$SHARDS shards done"
    fi
    if kc wait --for=condition=Complete "job/$1" --timeout=10s >/dev/null 2>&1; then
      return 0
    fi
    if kc wait --for=condition=Failed "job/$1" --timeout=0s >/dev/null 2>&1; then
      say "job $1 failed: $(kc get "job/$1" -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}' 2>/dev/null || true)"
      show_failed_pods "$1"
      return 1
    fi
    if (( $(date +%s) >= $2 )); then
      say "job $1 did not finish within --timeout; its pods:"
      kc get pods -l "batch.kubernetes.io/job-name=$1" -o wide >&2 || true
      show_failed_pods "$1"
      return 1
    fi
  done
}

main() {
  cd "$(dirname "$0")/.."
  parse_args "$@"
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not installed (https://kubernetes.io/docs/tasks/tools/)"
  [[ -z "$CONTEXT" ]] || KUBECTL+=(--context "$CONTEXT")
  [[ -z "$NAMESPACE" ]] || KUBECTL+=(--namespace "$NAMESPACE")
  local ctx
  ctx="${CONTEXT:-$(kubectl config current-context 2>/dev/null || true)}"
  [[ -n "$ctx" ]] || die "kubectl has no current context; choose a cluster (kubectl config use-context NAME) or pass --context"
  [[ -n "$IMAGE" ]] || die "no image: build and push the Dockerfile (docker build -t REGISTRY/mqbench:TAG . && docker push REGISTRY/mqbench:TAG), then pass --image REGISTRY/mqbench:TAG or set MQBENCH_IMAGE"
  split_image "$IMAGE" >/dev/null || die "not an image reference: '$IMAGE'"
  if [[ -n "$SCENARIO" ]]; then
    [[ -f "$SCENARIO" ]] || die "no scenario file $SCENARIO"
    ! scenario_sets_url "$SCENARIO" || die "$SCENARIO sets url:, which would override the broker URL from the Secret (and put it, password and all, into a ConfigMap); remove it"
  fi
  kc get secret "$SECRET_NAME" -o name >/dev/null 2>&1 || die "no Secret $SECRET_NAME in namespace ${NAMESPACE:-(context default)} of context $ctx; create it: kubectl ${NAMESPACE:+-n $NAMESPACE }create secret generic $SECRET_NAME --from-literal=url='amqp://USER:PASSWORD@HOST:5672/' (see $BASE_DIR/secret.example.yaml)"

  TMP="$(mktemp -d)"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [[ -z "$MQBENCH" ]]; then
    command -v go >/dev/null 2>&1 || die "no local mqbench for merge and report: install Go, or pass --mqbench BIN"
    say "building mqbench for merge and report"
    go build -o "$TMP/mqbench" ./cmd/mqbench
    MQBENCH="$TMP/mqbench"
  fi
  [[ -x "$MQBENCH" ]] || die "--mqbench $MQBENCH is not an executable"

  local now job start start_epoch deadline
  now=$(date +%s)
  job=$(job_name "$now" "$(random_suffix)")
  start_epoch=$(( now + START_DELAY ))
  start=$(start_at "$now" "$START_DELAY")
  deadline=$(( START_DELAY + TIMEOUT ))
  RUN_DIR="$(results_dir "$job")"
  mkdir -p "$RUN_DIR/kustomize"
  local has_scenario=0
  if [[ -n "$SCENARIO" ]]; then cp "$SCENARIO" "$RUN_DIR/kustomize/scenario.yaml"; has_scenario=1; fi
  render_overlay "$RUN_DIR/kustomize" "$job" "$SHARDS" "$start" "$IMAGE" "$deadline" "$NAMESPACE" "$has_scenario"
  kc kustomize "$RUN_DIR/kustomize" >"$RUN_DIR/manifest.yaml" || die "kubectl kustomize $RUN_DIR/kustomize failed"

  say "job $job: $SHARDS shards of ${SCENARIO:-the example scenario}, image $IMAGE, context $ctx${NAMESPACE:+, namespace $NAMESPACE}, START_AT $start"
  APPLIED=1
  kc apply -f "$RUN_DIR/manifest.yaml" >/dev/null
  wait_until_start "$job" "$start_epoch" "$start"
  wait_for_job "$job" $(( start_epoch + TIMEOUT )) || die "no results (manifest and logs so far in $RUN_DIR)"

  local pods files=() late=() i idx phase pod code started p s
  pods="$(pods_of "$job")"
  for (( i = 0; i < SHARDS; i++ )); do
    pod="" started=""
    while IFS='|' read -r idx phase p code s; do
      if [[ "$idx" == "$i" && "$phase" == Succeeded ]]; then pod="$p" started="$s"; fi
    done <<<"$pods"
    [[ -n "$pod" ]] || die "no succeeded pod for shard $i"
    kc logs "$pod" -c mqbench >"$RUN_DIR/shard-$i.log" || die "kubectl logs $pod failed (logs go with the pod: was it deleted?)"
    extract_result "$i" <"$RUN_DIR/shard-$i.log" >"$(shard_file "$RUN_DIR" "$i")" \
      || die "shard $i's log has no complete result between the markers (log rotated? see $RUN_DIR/shard-$i.log)"
    files+=("$(shard_file "$RUN_DIR" "$i")")
    # RFC 3339 UTC stamps of one format compare as strings.
    if [[ -n "$started" && "$started" > "$start" ]]; then late+=("shard $i at $started"); fi
  done
  (( ${#late[@]} == 0 )) || say "containers started after START_AT $start: ${late[*]}"

  "$MQBENCH" merge "${files[@]}" --out "$RUN_DIR/merged.json"
  "$MQBENCH" report "$RUN_DIR/merged.json"
  say "results in $RUN_DIR (shard-I.json, merged.json, the logs and the applied manifest.yaml)"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
