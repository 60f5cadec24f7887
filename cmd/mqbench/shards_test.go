package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
)

// TestShardFlags: --shard, --shards with $JOB_COMPLETION_INDEX and
// --start-at set the scenario; mistakes are usage errors naming the flag
// and value.
func TestShardFlags(t *testing.T) {
	at := "--start-at=2030-01-02T03:04:05Z"
	queue := "--queue=q-%d"
	f := newFlagSet()
	if _, err := f.parse([]string{"--shard", "2/5", at, queue}); err != nil {
		t.Fatal(err)
	}
	sc, err := resolve("", f)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Shard == nil || sc.Shard.Index != 2 || sc.Shard.Count != 5 || sc.StartAt == nil || sc.StartAt.Year() != 2030 {
		t.Fatalf("shard %+v start %v", sc.Shard, sc.StartAt)
	}
	t.Setenv(jobIndexEnv, "3")
	f = newFlagSet()
	if _, err := f.parse([]string{"--shards", "4", at, queue}); err != nil {
		t.Fatal(err)
	}
	if sc, err = resolve("", f); err != nil || sc.Shard.Index != 3 || sc.Shard.Count != 4 {
		t.Fatalf("--shards 4 with %s=3: %+v %v", jobIndexEnv, sc.Shard, err)
	}
	cases := []usageCase{
		{[]string{"run", "--shard", "3/3", at, queue}, []string{"shard index 3", "0 to 2"}},
		{[]string{"run", "--shard", "one", at, queue}, []string{"--shard one", "I/N"}},
		{[]string{"run", "--shard", "0/2", at, queue, "--cmessages", "100"}, []string{"--cmessages = 100", "one pool"}},
		{[]string{"run", "--shard", "0/2", at, queue, "--exit-when", "empty", "--pmessages", "10"}, []string{"--exit-when = empty", "not both"}},
		{[]string{"run", at, "--sweep", "prefetch=1,2"}, []string{"--start-at = 2030-01-02T03:04:05Z", "starts one run"}},
		{[]string{"run", "--shard", "0/2", queue}, []string{"start_at", "--start-at"}},
		{[]string{"run", "--shard", "0/2", at}, []string{"queues[0].name", "named queues"}},
		{[]string{"run", "--shard", "0/2", "--shards", "2", at, queue}, []string{"--shard and --shards"}},
		{[]string{"run", "--shards", "9", at, queue}, []string{"shard index 3", "0 to 8"}},
		{[]string{"run", "--start-at", "tomorrow"}, []string{`--start-at "tomorrow"`, "RFC 3339"}},
		{[]string{"run", "--shard", "0/2", at, queue, "--sweep", "prefetch=1,2"}, []string{"sweep cannot be sharded"}},
		{[]string{"capacity", "--shard", "0/2", at, queue, "--slo", "latency.end_to_end.p99_us<=1000"}, []string{"cannot be sharded"}},
	}
	t.Setenv(jobIndexEnv, "12")
	cases[8].want = []string{"--shards 9 with $" + jobIndexEnv + "=12", "shard index 12", "0 to 8"}
	expectUsageErrors(t, cases)
	os.Unsetenv(jobIndexEnv)
	if code, _, stderr := run("run", "--shards", "2", at, queue); code != exitUsage || !strings.Contains(stderr, jobIndexEnv+" is not set") {
		t.Errorf("--shards without %s: exit %d %q", jobIndexEnv, code, stderr)
	}
}

// TestMergeCommandRefuses: merge's mistakes exit 2 naming the file.
func TestMergeCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	plain := htmlResult(t, dir, "plain", 1)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"merge"}, "give the shards' result files"},
		{[]string{"merge", plain}, "plain.json: not a shard's result"},
		{[]string{"merge", bad}, "bad.json: not a JSON document"},
		{[]string{"merge", filepath.Join(dir, "none.json")}, "none.json"},
	} {
		code, _, stderr := run(c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
}

// TestShardsLocalScript runs scripts/shards-local.sh for real: three
// mqbench processes of 1,000 msg/s each against the broker, one start
// time, merged to 3,000 msg/s ± 1%. The merged totals are the shards'
// sums, the audit balances, and report, compare and the HTML report read
// the merged result.
func TestShardsLocalScript(t *testing.T) {
	url := brokertest.URL(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	suffix := brokertest.Suffix(t)
	scenario := filepath.Join(dir, "s.yaml")
	os.WriteFile(scenario, []byte("name: local-shards\nqueues:\n  - name: mqbench-local-shards-"+suffix+"-%d\n    count: 3\n    durable: true\n"), 0o644)
	cmd := exec.Command("bash", "scripts/shards-local.sh", "3", scenario, "--url", url,
		"-x", "3", "-y", "3", "-r", "1000", "-c", "100", "-z", "4s")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "START_DELAY=4", "SHARDS_DIR="+filepath.Join(dir, "out"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("shards-local.sh: %v\n%s", err, out)
	}
	var published int64
	for i := 0; i < 3; i++ {
		r, err := result.Load(filepath.Join(dir, "out", "shard-"+string(rune('0'+i))+".json"))
		if err != nil {
			t.Fatal(err)
		}
		published += r.Totals.Published
	}
	merged := filepath.Join(dir, "out", "merged.json")
	m, err := result.Load(merged)
	if err != nil {
		t.Fatal(err)
	}
	if m.Totals.Published != published || m.Audit == nil || !m.Audit.Balanced || m.Audit.Total.Expected != published {
		t.Fatalf("merged published %d (shards %d), audit %+v", m.Totals.Published, published, m.Audit)
	}
	if r := m.Rates.PublishedPerS; r < 2970 || r > 3030 {
		t.Errorf("3 shards × 1,000 msg/s merged to %.1f msg/s, want 3,000 ± 1%%", r)
	}
	if !strings.Contains(string(out), "merged from 3 shards") {
		t.Errorf("no merged report printed:\n%s", out)
	}
	if code, stdout, stderr := run("compare", merged, merged); code != exitOK || !strings.Contains(stdout, "rates.published_per_s") {
		t.Errorf("compare the merged result: exit %d %s %s", code, stdout, stderr)
	}
	page := filepath.Join(dir, "m.html")
	if code, _, stderr := run("report", "--format", "html", "--out", page, merged); code != exitOK {
		t.Errorf("html report of the merged result: exit %d %s", code, stderr)
	}
	data, _ := os.ReadFile(merged)
	var raw map[string]any
	if json.Unmarshal(data, &raw) != nil || raw["merged"] == nil {
		t.Error("no merged section in the JSON")
	}
}
