package merge

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// shard makes shard i of n: started offset after t0, measuring secs
// seconds, publishing perSec messages every second (one interval per
// second), with latencies values.
func shard(t *testing.T, i, n int, offset time.Duration, secs int, perSec int64, values ...int64) *result.Result {
	t.Helper()
	sc := scenario.Default()
	sc.Name = "merge-test"
	sc.Shard = &scenario.Shard{Index: i, Count: n}
	r := &result.Result{Schema: result.Schema, Scenario: sc, StartedAt: t0.Add(offset), MeasuredS: float64(secs),
		StopReason: result.StopDuration, Shard: &result.Shard{Index: i, Count: n, RunID: "abc"}}
	r.EndedAt = r.StartedAt.Add(time.Duration(secs) * time.Second)
	h := hdr.New(1, 60_000_000, 3)
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	s, err := metrics.Summarize(h)
	if err != nil {
		t.Fatal(err)
	}
	r.Latency[metrics.EndToEnd] = s
	for k := 1; k <= secs; k++ {
		iv := result.Interval{TS: float64(k), Seconds: 1, Published: perSec, Consumed: perSec}
		enc, _ := metrics.EncodeHDR(h)
		iv.HDR = map[string]string{metrics.EndToEnd.String(): enc}
		p50, p99 := h.ValueAtQuantile(50), h.ValueAtQuantile(99)
		iv.E2EP50Us, iv.E2EP99Us = &p50, &p99
		r.Intervals = append(r.Intervals, iv)
	}
	consumed := perSec * int64(secs)
	r.Totals = result.Totals{Published: perSec * int64(secs), Consumed: &consumed}
	r.Rates = result.Rates{PublishedPerS: float64(perSec), ConsumedPerS: ptrF(float64(perSec))}
	r.Queues = []result.Queue{{Name: "q", Type: "classic", Consumers: 1, Consumed: consumed}}
	return r
}

// TestMergeFigures: totals add up; the latency is that of all samples;
// rates count only the window every shard measured; intervals line up by
// wall-clock time.
func TestMergeFigures(t *testing.T) {
	a := shard(t, 0, 2, 0, 10, 100, 100, 200, 300)
	b := shard(t, 1, 2, 2*time.Second, 10, 300, 1000, 2000, 3000, 4000)
	m, err := Merge([]Input{{"b.json", b}, {"a.json", a}}) // any order
	if err != nil {
		t.Fatal(err)
	}
	if m.Totals.Published != 4000 || *m.Totals.Consumed != 4000 {
		t.Errorf("totals %+v", m.Totals)
	}
	e := m.Latency[metrics.EndToEnd]
	if e.Count != 7 || e.MinUs != 100 || e.MaxUs < 4000 || e.P50Us < 1000 || e.P50Us > 1001 {
		t.Errorf("merged latency %+v: want the 7 samples together (median 1000)", e)
	}
	// Common window: 2 s (b's start) to 10 s (a's end): 8 s, in which a
	// published 100/s and b 300/s.
	if m.MeasuredS != 8 || m.Rates.PublishedPerS != 400 {
		t.Errorf("measured %.3f s at %.3f/s, want 8 s at 400/s", m.MeasuredS, m.Rates.PublishedPerS)
	}
	if m.Merged.StartSkewS != 2 || len(m.Merged.PerShard) != 2 || m.Merged.PerShard[1].File != "b.json" {
		t.Errorf("merged section %+v", m.Merged)
	}
	// a's intervals end at 1..10 s, b's at 3..12 s: slots 1..12, where 3..10
	// hold both.
	if len(m.Intervals) != 12 {
		t.Fatalf("%d intervals, want 12", len(m.Intervals))
	}
	both := m.Intervals[4] // ends at 5 s
	if both.Published != 400 || both.Seconds != 1 || *both.E2EP99Us < 4000 {
		t.Errorf("interval at 5 s: %+v", both)
	}
	if one := m.Intervals[0]; one.Published != 100 || *one.E2EP99Us != 300 {
		t.Errorf("interval at 1 s: %+v", one)
	}
	if m.Queues[0].Consumers != 2 || m.Queues[0].Consumed != 4000 {
		t.Errorf("queues %+v", m.Queues)
	}
	if m.Shard != nil || m.Scenario.Shard != nil || m.Merged == nil {
		t.Error("a merged result is not a shard's")
	}
}

// TestMergeConfirmedRate: confirms count as a single run counts them, the
// answers to the window's publishes: each shard's publishes in the common
// window times the share it had confirmed. Worked by hand: a publishes
// 100/s and had 90% confirmed, b 300/s and 100%; over the common 8 s that
// is (800 × 0.9 + 2,400) / 8 = 390/s, where a plain sum of publish rates
// would say 400.
func TestMergeConfirmedRate(t *testing.T) {
	a := shard(t, 0, 2, 0, 10, 100, 100)
	b := shard(t, 1, 2, 2*time.Second, 10, 300, 100)
	for _, c := range []struct {
		r         *result.Result
		confirmed int64
	}{{a, 900}, {b, 3000}} {
		c.r.Totals.Confirmed = &c.confirmed
		c.r.Rates.ConfirmedPerS = ptrF(float64(c.confirmed) / 10)
	}
	m, err := Merge([]Input{{"a.json", a}, {"b.json", b}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Rates.PublishedPerS != 400 || m.Rates.ConfirmedPerS == nil || *m.Rates.ConfirmedPerS != 390 {
		t.Fatalf("published %.3f/s, confirmed %v/s: want 400 and 390", m.Rates.PublishedPerS, m.Rates.ConfirmedPerS)
	}
	if *m.Totals.Confirmed != 3900 {
		t.Errorf("confirmed total %d, want 3,900", *m.Totals.Confirmed)
	}
}

// TestMergeRefuses: inputs that are not the shards of one run are refused,
// naming the file and what is wrong.
func TestMergeRefuses(t *testing.T) {
	a, b, c := shard(t, 0, 3, 0, 2, 1, 1), shard(t, 1, 3, 0, 2, 1, 1), shard(t, 2, 3, 0, 2, 1, 1)
	notShard := shard(t, 0, 3, 0, 2, 1, 1)
	notShard.Shard = nil
	otherRun := shard(t, 2, 3, 0, 2, 1, 1)
	otherRun.Shard.RunID = "def"
	otherScenario := shard(t, 2, 3, 0, 2, 1, 1)
	otherScenario.Scenario.Producers.Count = 7
	zero := shard(t, 0, 3, 0, 2, 1, 1)
	zero.Shard.Count = 0
	negative := shard(t, 0, 3, 0, 2, 1, 1)
	negative.Shard.Count = -1
	outside := shard(t, 5, 3, 0, 2, 1, 1)
	otherURL := shard(t, 2, 3, 0, 2, 1, 1)
	otherURL.Scenario.URL, otherURL.Scenario.ManagementURL = "amqp://elsewhere:5672/", "http://elsewhere:15672/"
	merged, err := Merge([]Input{{"a", a}, {"b", b}, {"c", c}})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		in   []Input
		want string
	}{
		"none":           {nil, "no result"},
		"not a shard":    {[]Input{{"x.json", notShard}}, "x.json: not a shard's result"},
		"missing":        {[]Input{{"a", a}, {"c", c}}, "shards 1 of 3 are missing"},
		"twice":          {[]Input{{"a", a}, {"b", b}, {"b2", b}, {"c", c}}, "b2: shard 1 again (also b)"},
		"other run":      {[]Input{{"a", a}, {"b", b}, {"o", otherRun}}, "o: run def"},
		"other scenario": {[]Input{{"a", a}, {"b", b}, {"o", otherScenario}}, "field producers"},
		"merged":         {[]Input{{"m", merged}}, "m: already a merged result"},
		"count 0":        {[]Input{{"z", zero}}, "z: shard 0 of 0 is not a shard"},
		"count -1":       {[]Input{{"n", negative}}, "n: shard 0 of -1 is not a shard"},
		"index outside":  {[]Input{{"a", a}, {"b", b}, {"c", c}, {"x", outside}}, "x: shard 5 of 3 is not a shard"},
	} {
		_, err := Merge(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestMergeAcceptsOtherAddresses: shards may reach the broker by other
// URLs (pods in other places), and only some may sample the management
// API.
func TestMergeAcceptsOtherAddresses(t *testing.T) {
	a, b := shard(t, 0, 2, 0, 2, 1, 1), shard(t, 1, 2, 0, 2, 1, 1)
	b.Scenario.URL, b.Scenario.ManagementURL = "amqp://elsewhere:5672/", "http://elsewhere:15672/"
	if _, err := Merge([]Input{{"a", a}, {"b", b}}); err != nil {
		t.Fatal(err)
	}
}

// TestMergeIntervalsOnePerShardAndSlot: a run's last, short interval
// follows a whole one closely; it folds into that one (as charts and the
// CSV show it), so gauges (CPU cores, blocked connections) are never added
// up within a shard: the CPU is averaged over the time, the blocked
// connections are those at the end.
func TestMergeIntervalsOnePerShardAndSlot(t *testing.T) {
	a := shard(t, 0, 1, 0, 3, 10, 5)
	a.Intervals = append(a.Intervals, result.Interval{TS: 3.02, Seconds: 0.02, Published: 1, CPUCores: 0.1, Blocked: 1})
	for i := range a.Intervals[:3] {
		a.Intervals[i].CPUCores, a.Intervals[i].Blocked = 0.5, 1
	}
	m, err := Merge([]Input{{"a", a}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Intervals) != 3 {
		t.Fatalf("%d intervals, want 3 (the short last one folded into the third)", len(m.Intervals))
	}
	// (0.5 cores × 1 s + 0.1 × 0.02 s) / 1.02 s
	if last := m.Intervals[2]; last.CPUCores != 0.492 || last.Published != 11 || last.Blocked != 1 || last.TS != 3.02 || last.Seconds != 1.02 {
		t.Errorf("last interval %+v", last)
	}
	if m.Intervals[1].CPUCores != 0.5 || m.Intervals[1].Blocked != 1 {
		t.Errorf("intervals %+v", m.Intervals)
	}
}

// TestMergeReadsOldHistograms: results written before histograms were
// stored in HdrHistogram's own form (base64 of that text) merge beside
// new ones, whole-run and per interval.
func TestMergeReadsOldHistograms(t *testing.T) {
	a := shard(t, 0, 2, 0, 3, 10, 100, 200)
	b := shard(t, 1, 2, 0, 3, 10, 300)
	old := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	a.Latency[metrics.EndToEnd].HDR = old(a.Latency[metrics.EndToEnd].HDR)
	for i := range a.Intervals {
		a.Intervals[i].HDR[metrics.EndToEnd.String()] = old(a.Intervals[i].HDR[metrics.EndToEnd.String()])
	}
	m, err := Merge([]Input{{"a", a}, {"b", b}})
	if err != nil {
		t.Fatal(err)
	}
	if e := m.Latency[metrics.EndToEnd]; e.Count != 3 || e.MaxUs < 300 || !strings.HasPrefix(e.HDR, "HISTFAAA") {
		t.Errorf("merged latency %+v: want the 3 samples, stored in the standard form", e)
	}
	if p := m.Intervals[0].E2EP99Us; p == nil || *p < 300 {
		t.Errorf("interval p99 %v, want both shards' samples (300)", p)
	}
}

// TestMergeKindFigures: the figures kinds of worker report of their own
// survive a merge — counts and rates summed, timed operations' histograms
// merged exactly (the merged p99 is the p99 of every shard's samples).
func TestMergeKindFigures(t *testing.T) {
	kindShard := func(i int, values ...int64) *result.Result {
		r := shard(t, i, 3, 0, 10, 100, 100)
		h := metrics.NewHistogram()
		for _, v := range values {
			_ = h.RecordValue(v)
		}
		sum, err := metrics.Summarize(h)
		if err != nil {
			t.Fatal(err)
		}
		r.Kinds = map[string]*result.KindFigures{"churn": {
			Counts:  map[string]int64{"connections_opened": int64(len(values))},
			Rates:   map[string]float64{"connections_opened": float64(len(values)) / 10},
			Latency: map[string]*metrics.Summary{"tcp_connect": sum},
		}}
		return r
	}
	var in []Input
	for i, vals := range [][]int64{{100, 200}, {300}, {400, 500, 600}} {
		in = append(in, Input{File: strings.Repeat("s", i+1), Result: kindShard(i, vals...)})
	}
	m, err := Merge(in)
	if err != nil {
		t.Fatal(err)
	}
	k := m.Kinds["churn"]
	if k == nil || k.Counts["connections_opened"] != 6 || k.Rates["connections_opened"] != 0.6 {
		t.Fatalf("merged churn %+v", k)
	}
	if l := k.Latency["tcp_connect"]; l == nil || l.Count != 6 || l.MaxUs < 599 || l.MinUs > 100 {
		t.Fatalf("merged tcp_connect %+v", l)
	}
}
