//go:build linux

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// mergeRSSLimit is the most resident memory `mqbench merge` may take for
// three one-hour shards (issue 22). Holding every slot's decoded
// histograms, as merge once did, took 1.9 GB resident for the ones below.
const mergeRSSLimit = 200 << 20

// TestMergeThreeHourLongShardsInBoundedMemory generates the results of
// three shards that ran for an hour at 1 s intervals, each interval with
// its end-to-end and confirm histograms (as sharded runs store them), and
// merges them with the mqbench binary in a process of its own, whose peak
// resident memory the kernel reports (ru_maxrss) when it exits.
func TestMergeThreeHourLongShardsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates three one-hour results (about ten seconds)")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	const shards, seconds = 3, 3600
	pool := histogramPool(t, 40)
	files := make([]string, shards)
	for i := range shards {
		files[i] = filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		if err := result.SaveJSON(files[i], hourLongShard(t, i, shards, seconds, pool)); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "merged.json")
	// Measured through a small helper process: see testdata/peakrss.
	helper := filepath.Join(t.TempDir(), "peakrss")
	if b, err := exec.Command("go", "build", "-o", helper, "./testdata/peakrss").CombinedOutput(); err != nil {
		t.Fatalf("go build peakrss: %v\n%s", err, b)
	}
	start := time.Now()
	b, err := exec.Command(helper, append([]string{bin, "merge", "--out", out}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("mqbench merge: %v\n%s", err, b)
	}
	took := time.Since(start)
	m := regexp.MustCompile(`(?m)^peak_rss_bytes (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("peakrss printed no peak:\n%s", b)
	}
	rss, _ := strconv.ParseInt(string(m[1]), 10, 64)
	t.Logf("merged %d × %d intervals (%.1f MiB of results each) in %s, peak RSS %.1f MiB",
		shards, seconds, fileMiB(t, files[0]), took.Round(time.Millisecond), float64(rss)/(1<<20))
	if rss >= mergeRSSLimit {
		t.Errorf("mqbench merge peaked at %.1f MiB resident, want under %d MiB", float64(rss)/(1<<20), mergeRSSLimit>>20)
	}
	merged, err := result.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Intervals) != seconds {
		t.Fatalf("%d merged intervals, want %d", len(merged.Intervals), seconds)
	}
	for _, k := range []int{0, seconds / 2, seconds - 1} {
		iv := merged.Intervals[k]
		if iv.Published != shards*1000 || iv.E2EP99Us == nil || iv.ConfirmP99Us == nil {
			t.Errorf("merged interval %d: published %d, p99 %v, confirm p99 %v", k, iv.Published, iv.E2EP99Us, iv.ConfirmP99Us)
		}
	}
	if e := merged.Latency[metrics.EndToEnd]; e == nil || e.Count != shards*2000 {
		t.Errorf("merged end-to-end latency %+v", e)
	}
}

// histogramPool is n encoded interval histograms per kind (end-to-end,
// confirm), each of 2,000 samples spread log-uniformly over 100 µs to
// 100 ms (a busy interval's spread: hundreds of distinct buckets, so the
// encodings are as long as real ones); pool[k] holds kind k's. A shard's
// intervals cycle through them (encoding 21,600 distinct ones would take
// longer than the merge).
func histogramPool(t *testing.T, n int) [2][]string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var pool [2][]string
	for k := range pool {
		for range n {
			h := metrics.NewHistogram()
			for range 2000 {
				v := int64(100 * math.Pow(1000, rng.Float64()))
				if err := h.RecordValue(v); err != nil {
					t.Fatal(err)
				}
			}
			enc, err := metrics.EncodeHDR(h)
			if err != nil {
				t.Fatal(err)
			}
			pool[k] = append(pool[k], enc)
		}
	}
	return pool
}

// hourLongShard is shard i of n after seconds one-second intervals, each
// publishing, confirming and consuming 1,000 messages, with its interval
// histograms from pool; its whole-run latencies are one pool histogram per
// kind (only the intervals' size matters here).
func hourLongShard(t *testing.T, i, n, seconds int, pool [2][]string) *result.Result {
	t.Helper()
	sc := scenario.Default()
	sc.Name = "merge-memory"
	sc.Duration = scenario.Duration(time.Duration(seconds) * time.Second)
	sc.Producers.Confirm = 100
	sc.Shard = &scenario.Shard{Index: i, Count: n}
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 2 * time.Millisecond)
	r := &result.Result{Schema: result.Schema, Tool: result.Tool{Name: "mqbench", Version: "test"}, Scenario: sc,
		StartedAt: start, EndedAt: start.Add(time.Duration(seconds) * time.Second), MeasuredS: float64(seconds),
		StopReason: result.StopDuration, Shard: &result.Shard{Index: i, Count: n, RunID: "memory"},
		Queues: []result.Queue{}, Connections: []result.Connection{}, Warnings: []string{}}
	for k, kind := range []metrics.Kind{metrics.EndToEnd, metrics.Confirm} {
		h, err := metrics.DecodeHDR(pool[k][0])
		if err != nil {
			t.Fatal(err)
		}
		if r.Latency[kind], err = metrics.Summarize(h); err != nil {
			t.Fatal(err)
		}
	}
	p := func(v int64) *int64 { return &v }
	var total int64
	for s := 1; s <= seconds; s++ {
		e2e, conf := pool[0][s%len(pool[0])], pool[1][s%len(pool[1])]
		r.Intervals = append(r.Intervals, result.Interval{TS: float64(s), Seconds: 1, Published: 1000, Confirmed: 1000, Consumed: 1000,
			E2EP50Us: p(3000), E2EP99Us: p(90000), ConfirmP99Us: p(90000), Backlog: p(0), CPUCores: 0.2,
			HDR: map[string]string{metrics.EndToEnd.String(): e2e, metrics.Confirm.String(): conf}})
		total += 1000
	}
	r.Totals = result.Totals{Published: total, Confirmed: p(total), Consumed: p(total)}
	r.Rates = result.Rates{PublishedPerS: 1000}
	return r
}

// fileMiB is the size of a file in MiB.
func fileMiB(t *testing.T, path string) float64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return float64(fi.Size()) / (1 << 20)
}
