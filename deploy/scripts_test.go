package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The scripts that run shards: scripts/k8s-run.sh (Kubernetes) and
// scripts/shards-local.sh (processes on this machine). Their pure parts are
// functions the tests call after sourcing the script (which then does not
// run); their runs are tested against fake kubectl, go and mqbench commands.

var shardScripts = []string{"scripts/k8s-run.sh", "scripts/shards-local.sh"}

func needBash(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
}

type shellResult struct {
	stdout, stderr string
	code           int
}

// runShell runs a bash command line in dir with extra environment.
func runShell(t *testing.T, dir, script string, env []string, args ...string) shellResult {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"-c", script, "test"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return shellResult{out.String(), errb.String(), code}
}

// call sources a script from the repository and runs one shell snippet.
func call(t *testing.T, script, snippet string, args ...string) shellResult {
	t.Helper()
	return runShell(t, root, "source "+script+" && "+snippet, []string{"MQBENCH_IMAGE=", "MQBENCH_BIN="}, args...)
}

func TestScriptsLint(t *testing.T) {
	needBash(t)
	for _, s := range shardScripts {
		if out, err := exec.Command("bash", "-n", filepath.Join(root, s)).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
		if fi, err := os.Stat(filepath.Join(root, s)); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed")
	}
	for _, s := range shardScripts {
		if out, err := exec.Command(sc, filepath.Join(root, s)).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", s, err, out)
		}
	}
}

func TestK8sRunArguments(t *testing.T) {
	needBash(t)
	const show = `parse_args "$@" && echo "$SHARDS|$SCENARIO|$IMAGE|$NAMESPACE|$CONTEXT|$START_DELAY|$TIMEOUT|$MQBENCH|$KEEP"`
	ok := []struct {
		args []string
		want string
	}{
		{[]string{"3"}, "3|||||60|3600||0"},
		{[]string{"3", "s.yaml"}, "3|s.yaml||||60|3600||0"},
		{[]string{"03", "s.yaml", "--image", "r/m:v1", "-n", "bench", "--context", "kind", "--keep"}, "3|s.yaml|r/m:v1|bench|kind|60|3600||1"},
		{[]string{"--image=r/m:v1", "2", "--start-delay=120", "--timeout", "600", "--mqbench", "/x/mq"}, "2||r/m:v1|||120|600|/x/mq|0"},
		{[]string{"5", "--", "-odd-name.yaml"}, "5|-odd-name.yaml||||60|3600||0"},
	}
	for _, c := range ok {
		r := call(t, "scripts/k8s-run.sh", show, c.args...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != c.want {
			t.Errorf("parse_args %q: exit %d, %q; want %q (stderr %s)", c.args, r.code, strings.TrimSpace(r.stdout), c.want, r.stderr)
		}
	}
	bad := []struct {
		args []string
		msg  string
	}{
		{nil, "the number of shards is missing"},
		{[]string{"0"}, "N must be a whole number of shards from 1 to 1000"},
		{[]string{"1001"}, "from 1 to 1000"},
		{[]string{"three"}, "not 'three'"},
		{[]string{"99999999999999999999"}, "from 1 to 1000"},
		{[]string{"2", "a.yaml", "b.yaml"}, "too many arguments: b.yaml"},
		{[]string{"2", "--image"}, "--image needs a value"},
		{[]string{"2", "--start-delay", "2"}, "--start-delay must be whole seconds from 5"},
		{[]string{"2", "--timeout", "1h"}, "--timeout must be whole seconds"},
		{[]string{"2", "--namespace", "Bad_NS"}, "not a namespace name"},
		{[]string{"2", "--frobnicate"}, "unknown option --frobnicate"},
	}
	for _, c := range bad {
		r := call(t, "scripts/k8s-run.sh", show, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.msg) || !strings.Contains(r.stderr, "usage:") {
			t.Errorf("parse_args %q: exit %d, stderr %q; want exit 2 and %q with the usage", c.args, r.code, r.stderr, c.msg)
		}
	}
	// MQBENCH_IMAGE is the default image.
	r := runShell(t, root, "source scripts/k8s-run.sh && "+show, []string{"MQBENCH_IMAGE=reg/mq:v9"}, "2")
	if !strings.HasPrefix(r.stdout, "2||reg/mq:v9|") {
		t.Errorf("MQBENCH_IMAGE not used: %q", r.stdout)
	}
}

func TestK8sRunNames(t *testing.T) {
	needBash(t)
	// 1795688100 = 2026-11-26T10:15:00Z
	cases := map[string]string{
		`job_name 1795688100 a1b2`:                       "mqbench-20261126-101500-a1b2",
		`start_at 1795688100 60`:                         "2026-11-26T10:16:00Z",
		`start_at 1795688100 3600`:                       "2026-11-26T11:15:00Z",
		`results_dir mqbench-20261126-101500-a1b2`:       "results/k8s-mqbench-20261126-101500-a1b2",
		`shard_file results/k8s-j 7`:                     "results/k8s-j/shard-7.json",
		`split_image reg.example:5000/team/mqbench:v1.2`: "reg.example:5000/team/mqbench v1.2 -",
		`split_image reg.example:5000/team/mqbench`:      "reg.example:5000/team/mqbench - -",
		`split_image mqbench@sha256:0123abcd`:            "mqbench - sha256:0123abcd",
		`split_image ghcr.io/o/mqbench:v1@sha256:0123`:   "ghcr.io/o/mqbench v1 sha256:0123",
		`random_suffix | grep -Ex '[0-9a-f]{4}'`:         "",
	}
	for snippet, want := range cases {
		r := call(t, "scripts/k8s-run.sh", snippet)
		if r.code != 0 || strings.TrimSpace(r.stdout) != want && want != "" {
			t.Errorf("%s = %q (exit %d, %s), want %q", snippet, strings.TrimSpace(r.stdout), r.code, r.stderr, want)
		}
	}
	for _, snippet := range []string{`job_name 1795688100 UPPER`, `split_image ""`, `split_image "a b"`, `split_image "repo:"`} {
		if r := call(t, "scripts/k8s-run.sh", snippet); r.code == 0 {
			t.Errorf("%s succeeded with %q", snippet, r.stdout)
		}
	}
	// A fresh job name is a valid DNS label, short enough for pod names.
	r := call(t, "scripts/k8s-run.sh", `job_name "$(date +%s)" "$(random_suffix)"`)
	if name := strings.TrimSpace(r.stdout); !regexp.MustCompile(`^mqbench-\d{8}-\d{6}-[0-9a-f]{4}$`).MatchString(name) {
		t.Errorf("job name %q", name)
	}
}

func TestShardsLocalArguments(t *testing.T) {
	needBash(t)
	const show = `parse_args "$@" && echo "$SHARDS|$SCENARIO|${RUN_FLAGS[*]+${RUN_FLAGS[*]}}"`
	ok := map[string][]string{
		"3|bench/scenarios/quickstart.yaml|":                       {"3", "bench/scenarios/quickstart.yaml"},
		"2||--duration 5s -x 4":                                    {"2", "--duration", "5s", "-x", "4"},
		"4|s.yaml|--prometheus :9419 --url amqp://localhost:5673/": {"4", "s.yaml", "--prometheus", ":9419", "--url", "amqp://localhost:5673/"},
	}
	for want, args := range ok {
		r := call(t, "scripts/shards-local.sh", show, args...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != want {
			t.Errorf("parse_args %q = %q (exit %d, %s), want %q", args, strings.TrimSpace(r.stdout), r.code, r.stderr, want)
		}
	}
	bad := map[string][]string{
		"the number of shards is missing":  nil,
		"from 1 to 64, not '0'":            {"0"},
		"from 1 to 64, not '65'":           {"65"},
		"--shard is set by this script":    {"2", "s.yaml", "--shard", "0/2"},
		"--start-at=x is set by":           {"2", "--start-at=x"},
		"--out is set by this script":      {"2", "--out", "f.json"},
		"-o is set by this script":         {"2", "s.yaml", "-o", "f.json"},
		"--shards=2 is set by this script": {"2", "--shards=2"},
	}
	for msg, args := range bad {
		r := call(t, "scripts/shards-local.sh", show, args...)
		if r.code != 2 || !strings.Contains(r.stderr, msg) {
			t.Errorf("parse_args %q: exit %d, stderr %q; want exit 2 and %q", args, r.code, r.stderr, msg)
		}
	}
	ports := map[string]string{
		`parse_args 3 s.yaml --prometheus :9419 -z 5s && shard_flags 2`: ":9421",
		`parse_args 3 --prometheus=0.0.0.0:9419 && shard_flags 1`:       "--prometheus=0.0.0.0:9420",
		`parse_args 3 --prometheus '[::1]:9419' && shard_flags 2`:       "[::1]:9421",
		`parse_args 2 s.yaml && shard_flags 1 | wc -l`:                  "0",
		`rfc3339 1795688100`:            "2026-11-26T10:15:00Z",
		`run_dir 1795688100`:            "results/shards-20261126T101500Z",
		`shard_file results/shards-x 3`: "results/shards-x/shard-3.json",
		`parse_args 3 s.yaml --name 'two words' && shard_flags 0 | sed -n 2p`: "two words",
	}
	for snippet, want := range ports {
		r := call(t, "scripts/shards-local.sh", snippet)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("%s = %q (exit %d, %s), want it to contain %q", snippet, r.stdout, r.code, r.stderr, want)
		}
	}
}

// sandbox copies a script into dir/scripts/ (it cds to its parent) and puts
// fake commands first on PATH.
func sandbox(t *testing.T, script string, fakes map[string]string) (dir string, env []string) {
	t.Helper()
	dir = t.TempDir()
	bin := filepath.Join(dir, "fakebin")
	for _, d := range []string{filepath.Join(dir, "scripts"), bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, script), read(t, script), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range fakes {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_LOG=" + filepath.Join(dir, "calls.log")}
}

// fakeMQBenchCLI plays mqbench's run, merge and report.
const fakeMQBenchCLI = `#!/usr/bin/env bash
echo "mqbench $*" >>"$FAKE_LOG"
case "$1" in
  run)
    out="" shard=""
    while (( $# )); do
      case "$1" in --out) out="$2"; shift ;; --shard) shard="$2"; shift ;; esac
      shift
    done
    if [[ "${shard%/*}" == "${FAKE_FAIL_SHARD:-none}" ]]; then echo "shard $shard: broker unreachable" >&2; exit 1; fi
    printf '{"schema":"mqbench.result/v1","shard":"%s"}\n' "$shard" >"$out"
    echo "table of shard $shard" ;;
  merge)
    shift; out=""; ins=()
    while (( $# )); do if [[ "$1" == --out ]]; then out="$2"; shift; else ins+=("$1"); fi; shift; done
    printf '{"schema":"mqbench.result/v1","merged":%d}\n' "${#ins[@]}" >"$out" ;;
  report) echo "REPORT $2" ;;
esac
`

// fakeGo builds the fake mqbench.
const fakeGo = `#!/usr/bin/env bash
echo "go $*" >>"$FAKE_LOG"
[[ "$1 $2" == "build -o" && "$4" == ./cmd/mqbench ]] || { echo "fake go: unexpected $*" >&2; exit 1; }
cp "$(dirname "$0")/mqbench-fake" "$3"
`

func TestShardsLocalRun(t *testing.T) {
	needBash(t)
	dir, env := sandbox(t, "scripts/shards-local.sh", map[string]string{"go": fakeGo, "mqbench-fake": fakeMQBenchCLI})
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("name: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env = append(env, "START_DELAY=2")
	r := runShell(t, dir, "scripts/shards-local.sh 3 s.yaml --duration 5s --prometheus :9419", env)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "results", "shards-*"))
	if len(runs) != 1 {
		t.Fatalf("want one results/shards-* directory, got %v", runs)
	}
	for i := 0; i < 3; i++ {
		var res map[string]string
		data, err := os.ReadFile(filepath.Join(runs[0], "shard-"+string(rune('0'+i))+".json"))
		if err != nil || json.Unmarshal(data, &res) != nil || res["shard"] != string(rune('0'+i))+"/3" {
			t.Errorf("shard %d result %q (%v)", i, data, err)
		}
	}
	if _, err := os.Stat(filepath.Join(runs[0], "merged.json")); err != nil {
		t.Errorf("no merged.json: %v", err)
	}
	if !strings.Contains(r.stdout, "REPORT "+filepath.Join("results", filepath.Base(runs[0]), "merged.json")) {
		t.Errorf("no report printed: %s", r.stdout)
	}
	calls := string(readAbs(t, filepath.Join(dir, "calls.log")))
	starts := regexp.MustCompile(`--start-at (\S+)`).FindAllStringSubmatch(calls, -1)
	if len(starts) != 3 || starts[0][1] != starts[1][1] || starts[1][1] != starts[2][1] {
		t.Errorf("the shards must share one --start-at:\n%s", calls)
	}
	for i, port := range []string{":9419", ":9420", ":9421"} {
		if !strings.Contains(calls, "--shard "+string(rune('0'+i))+"/3 ") || !strings.Contains(calls, "--prometheus "+port) {
			t.Errorf("shard %d: want --shard %d/3 and --prometheus %s in:\n%s", i, i, port, calls)
		}
	}
	if n := strings.Count(calls, "go build"); n != 1 {
		t.Errorf("mqbench built %d times, want once", n)
	}
	if !strings.Contains(calls, "mqbench merge "+filepath.Join("results", filepath.Base(runs[0]), "shard-0.json")) {
		t.Errorf("merge not called with the shard files:\n%s", calls)
	}

	// One failing shard fails the run, shows its stderr, and nothing is merged.
	dir, env = sandbox(t, "scripts/shards-local.sh", map[string]string{"go": fakeGo, "mqbench-fake": fakeMQBenchCLI})
	r = runShell(t, dir, "scripts/shards-local.sh 3 --duration 5s", append(env, "START_DELAY=1", "FAKE_FAIL_SHARD=1"))
	if r.code == 0 || !strings.Contains(r.stderr, "shard 1/3 exited with 1") || !strings.Contains(r.stderr, "broker unreachable") {
		t.Errorf("a failed shard: exit %d, stderr %s", r.code, r.stderr)
	}
	if calls := string(readAbs(t, filepath.Join(dir, "calls.log"))); strings.Contains(calls, "mqbench merge") {
		t.Errorf("merged despite a failed shard")
	}
}

func readAbs(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fakeKubectl plays a cluster for scripts/k8s-run.sh: a context, the Secret,
// an Indexed Job whose pods succeed (or, with FAKE_JOB_FAILS, whose pod 1
// fails), their logs with the wrapper's result markers.
const fakeKubectl = `#!/usr/bin/env bash
echo "kubectl $*" >>"$FAKE_LOG"
args=()
while (( $# )); do
  case "$1" in --context|--namespace) shift 2 ;; *) args+=("$1"); shift ;; esac
done
set -- "${args[@]}"
job=$(grep -o 'name: mqbench-[0-9]\{8\}-[0-9]\{6\}-[0-9a-f]\{4\}' "$FAKE_DIR"/results/k8s-*/manifest.yaml 2>/dev/null | head -n1 | cut -d' ' -f2)
case "$1 $2" in
  "config current-context") [[ -z "${FAKE_NO_CONTEXT:-}" ]] && echo fake-context || exit 1 ;;
  "get secret") [[ -z "${FAKE_NO_SECRET:-}" ]] || { echo 'Error from server (NotFound): secrets "mqbench-broker" not found' >&2; exit 1; } ;;
  "kustomize "*) { echo "# rendered from $2"; sed -n 's/^nameSuffix: -\(.*\)/  name: mqbench-\1/p' "$2/kustomization.yaml"; } ;;
  "apply -f") ;;
  "delete -f") ;;
  "wait --for=condition=Complete") [[ -z "${FAKE_JOB_FAILS:-}" ]] || exit 1 ;;
  "wait --for=condition=Failed") [[ -n "${FAKE_JOB_FAILS:-}" ]] || exit 1 ;;
  "get job/"*) echo "PodFailurePolicy: Container mqbench for pod $job-1-xyz failed with exit code 1 matching FailJob rule at index 0" ;;
  "get pods")
    for i in 0 1 2; do
      if [[ -n "${FAKE_JOB_FAILS:-}" && $i == 1 ]]; then echo "$i|Failed|$job-$i-xyz|1|2026-01-01T00:00:00Z"
      else echo "$i|Succeeded|$job-$i-xyz|0|2026-01-01T00:00:00Z"; fi
    done ;;
  "logs "*)
    i=$(echo "$2" | sed 's/.*-\([0-9]*\)-xyz$/\1/')
    echo "summary table of shard $i"
    if [[ -n "${FAKE_JOB_FAILS:-}" && $i == 1 ]]; then echo "mqbench: the run failed: broker unreachable"; exit 0; fi
    echo "----- BEGIN MQBENCH RESULT shard-$i -----"
    printf '{"schema":"mqbench.result/v1","shard":"%s/3"}\n' "$i"
    echo
    echo "----- END MQBENCH RESULT shard-$i -----" ;;
  *) echo "fake kubectl: unexpected $*" >&2; exit 1 ;;
esac
`

func TestK8sRunWithAFakeCluster(t *testing.T) {
	needBash(t)
	if testing.Short() {
		t.Skip("waits for START_AT (5 s)")
	}
	fakes := map[string]string{"kubectl": fakeKubectl, "mqbench-fake": fakeMQBenchCLI}
	start := func(t *testing.T, extraEnv []string, args string) (string, shellResult) {
		dir, env := sandbox(t, "scripts/k8s-run.sh", fakes)
		if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("name: s\nduration: 10s\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, "FAKE_DIR="+dir, "MQBENCH_IMAGE=", "MQBENCH_BIN=")
		env = append(env, extraEnv...)
		return dir, runShell(t, dir, "scripts/k8s-run.sh "+args+" --mqbench fakebin/mqbench-fake", env)
	}

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		dir, r := start(t, nil, "3 s.yaml --image reg.example/mqbench:v1 -n bench --start-delay 5")
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		t.Logf("stderr:\n%s", r.stderr)
		runs, _ := filepath.Glob(filepath.Join(dir, "results", "k8s-mqbench-*"))
		if len(runs) != 1 {
			t.Fatalf("want one results/k8s-mqbench-* directory, got %v", runs)
		}
		for i := 0; i < 3; i++ {
			var res map[string]string
			data := readAbs(t, filepath.Join(runs[0], "shard-"+string(rune('0'+i))+".json"))
			if err := json.Unmarshal(data, &res); err != nil || res["shard"] != string(rune('0'+i))+"/3" {
				t.Errorf("shard %d result %q: %v", i, data, err)
			}
		}
		kz := string(readAbs(t, filepath.Join(runs[0], "kustomize", "kustomization.yaml")))
		for _, want := range []string{"namespace: bench", "completions: 3", `value: "3"`, "newName: reg.example/mqbench", `newTag: "v1"`, "- scenario.yaml"} {
			if !strings.Contains(kz, want) {
				t.Errorf("the overlay lacks %q:\n%s", want, kz)
			}
		}
		if got := readAbs(t, filepath.Join(runs[0], "kustomize", "scenario.yaml")); string(got) != "name: s\nduration: 10s\n" {
			t.Errorf("the overlay's scenario is %q", got)
		}
		calls := string(readAbs(t, filepath.Join(dir, "calls.log")))
		for _, want := range []string{"kubectl --namespace bench get secret mqbench-broker", "kubectl --namespace bench apply -f results/k8s-", "mqbench merge results/k8s-", "--out results/k8s-", "kubectl --namespace bench delete -f results/k8s-"} {
			if !strings.Contains(calls, want) {
				t.Errorf("no %q among the calls:\n%s", want, calls)
			}
		}
		if !strings.Contains(r.stdout, "REPORT results/k8s-") || !strings.Contains(r.stdout, "/merged.json") {
			t.Errorf("no report: %s", r.stdout)
		}
	})

	t.Run("keep", func(t *testing.T) {
		t.Parallel()
		dir, r := start(t, nil, "3 --image reg.example/mqbench:v1 --start-delay 5 --keep")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		calls := string(readAbs(t, filepath.Join(dir, "calls.log")))
		if strings.Contains(calls, "delete") || !strings.Contains(r.stderr, "kept:") {
			t.Errorf("--keep deleted the Job or did not say how to:\n%s\n%s", calls, r.stderr)
		}
		runs, _ := filepath.Glob(filepath.Join(dir, "results", "k8s-mqbench-*", "kustomize", "kustomization.yaml"))
		if len(runs) != 1 || strings.Contains(string(readAbs(t, runs[0])), "configMapGenerator") {
			t.Errorf("without a scenario the base's example must be used (no configMapGenerator)")
		}
	})

	t.Run("job fails", func(t *testing.T) {
		dir, r := start(t, []string{"FAKE_JOB_FAILS=1"}, "3 s.yaml --image reg.example/mqbench:v1 --start-delay 5")
		if r.code == 0 {
			t.Fatal("a failed Job must fail the script")
		}
		for _, want := range []string{"failed: PodFailurePolicy", "shard 1 (mqbench-", "failed with exit code 1", "broker unreachable"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		calls := string(readAbs(t, filepath.Join(dir, "calls.log")))
		if !strings.Contains(calls, "logs mqbench-") || !strings.Contains(calls, "--tail=40") || !strings.Contains(calls, "delete -f") || strings.Contains(calls, "mqbench merge") {
			t.Errorf("want the failing pod's log tail, a clean-up and no merge:\n%s", calls)
		}
	})

	for name, c := range map[string]struct {
		env  []string
		args string
		msg  string
	}{
		"no image":        {nil, "3", "no image: build and push the Dockerfile"},
		"no context":      {[]string{"FAKE_NO_CONTEXT=1"}, "3 --image r/m:v1", "kubectl has no current context"},
		"no secret":       {[]string{"FAKE_NO_SECRET=1"}, "3 --image r/m:v1", "no Secret mqbench-broker"},
		"url in scenario": {nil, "3 url.yaml --image r/m:v1", "sets url:"},
		"no scenario":     {nil, "3 missing.yaml --image r/m:v1", "no scenario file missing.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			dir, env := sandbox(t, "scripts/k8s-run.sh", fakes)
			if err := os.WriteFile(filepath.Join(dir, "url.yaml"), []byte("url: amqp://guest:guest@localhost:5672/\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			env = append(env, "FAKE_DIR="+dir, "MQBENCH_IMAGE=", "MQBENCH_BIN=")
			r := runShell(t, dir, "scripts/k8s-run.sh "+c.args+" --mqbench fakebin/mqbench-fake", append(env, c.env...))
			if r.code != 1 || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, c.msg)
			}
			if calls, _ := os.ReadFile(filepath.Join(dir, "calls.log")); strings.Contains(string(calls), "apply") {
				t.Errorf("applied despite the error:\n%s", calls)
			}
		})
	}

	t.Run("no kubectl", func(t *testing.T) {
		dir, env := sandbox(t, "scripts/k8s-run.sh", nil)
		bash, _ := exec.LookPath("bash")
		// PATH with only what the script needs before it looks for kubectl.
		tools := filepath.Join(dir, "tools")
		if err := os.Mkdir(tools, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, tool := range []string{"dirname", "date", "od", "tr", "sed", "grep", "awk"} {
			if p, err := exec.LookPath(tool); err == nil {
				_ = os.Symlink(p, filepath.Join(tools, tool))
			}
		}
		env = append(env, "PATH="+tools)
		cmd := exec.Command(bash, "scripts/k8s-run.sh", "3", "--image", "r/m:v1")
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "kubectl is not installed") {
			t.Errorf("without kubectl: %v, %s", err, out)
		}
	})
}
