package promexport

import (
	"fmt"
	"maps"
	"runtime"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	dto "github.com/prometheus/client_model/go"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// fakeRun is one run fed through the exporter as the engine feeds it.
type fakeRun struct {
	s   engine.Sink
	lat [metrics.NumKinds]*hdr.Histogram
	c   metrics.Counts
}

func startRun(e *Exporter, l Labels) *fakeRun {
	r := &fakeRun{s: e.Run(l, map[string]int{"producer": 2, "consumer": 3})}
	for k := range r.lat {
		r.lat[k] = metrics.NewHistogram()
	}
	return r
}

// interval is one live snapshot, every gauge non-zero, one latency sample
// of each kind.
func (r *fakeRun) interval(published int64) {
	for _, h := range r.lat {
		h.Reset()
		_ = h.RecordValue(1500)
	}
	r.c[metrics.Published] = published
	backlog := int64(10)
	r.s.(engine.SnapshotSink).Snapshot(engine.Snapshot{Counts: r.c, Latency: r.lat, ConnectionsUp: 4,
		Interval: result.Interval{Seconds: 1, Backlog: &backlog, Blocked: 1, Disconnected: 2, CPUCores: 0.5}})
	r.s.Interval(result.Interval{})
}

// finish is the final snapshot and Done.
func (r *fakeRun) finish() {
	r.s.(engine.SnapshotSink).Snapshot(engine.Snapshot{Final: true, Counts: r.c})
	r.s.Done(&result.Result{})
}

// gather returns the exporter's series as the registry serves them: by
// family name, then by labels ("name=value," in the served order).
func gather(t *testing.T, e *Exporter) map[string]map[string]*dto.Metric {
	t.Helper()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]*dto.Metric{}
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "mqbench_") {
			continue // the Go runtime's and the process's own series
		}
		out[f.GetName()] = map[string]*dto.Metric{}
		for _, m := range f.GetMetric() {
			key := ""
			for _, lp := range m.GetLabel() {
				key += lp.GetName() + "=" + lp.GetValue() + ","
			}
			out[f.GetName()][key] = m
		}
	}
	return out
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// variants are the variant labels /metrics serves series of.
func variants(t *testing.T, e *Exporter) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, series := range gather(t, e) {
		for _, m := range series {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "variant" {
					out[lp.GetValue()] = true
				}
			}
		}
	}
	return out
}

// TestSweepKeepsBoundedSeries: a long sweep of distinct variants through
// one exporter serves the series of at most two runs — the one under way
// and the last finished — and its heap stops growing: a run's six latency
// histograms take about 1.1 MB, so 40 more runs kept would be 45 MB.
func TestSweepKeepsBoundedSeries(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var base uint64
	const runs = 50
	prev := ""
	for i := range runs {
		if i == 10 {
			base = heapInUse()
		}
		v := fmt.Sprintf("prefetch=%d", i)
		r := startRun(e, Labels{Scenario: "sweep", Variant: v})
		r.interval(500)
		want := map[string]bool{v: true}
		if prev != "" {
			want[prev] = true
		}
		if got := variants(t, e); !maps.Equal(got, want) {
			t.Fatalf("during run %d /metrics serves the runs %v, want %v (this one and the last finished)", i+1, got, want)
		}
		r.interval(1000)
		r.finish()
		if got := variants(t, e); !maps.Equal(got, map[string]bool{v: true}) {
			t.Fatalf("after run %d /metrics serves the runs %v, want only %s", i+1, got, v)
		}
		prev = v
	}
	grown := int64(heapInUse()) - int64(base)
	t.Logf("heap grew %.1f MB over the last %d runs", float64(grown)/1e6, runs-10)
	if grown > 10<<20 {
		t.Fatalf("heap grew %.1f MB over %d runs: the exporter keeps every run", float64(grown)/1e6, runs-10)
	}
}

// TestRunThatNeverStartedShowsNothing: a run whose setup failed (its sink
// made, no snapshot ever) serves no series — no workers gauge left
// standing for the rest of the process.
func TestRunThatNeverStartedShowsNothing(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_ = e.Run(Labels{Scenario: "failed"}, map[string]int{"producer": 2})
	if got := gather(t, e); len(got) != 0 {
		t.Fatalf("a run that never started serves %d metric families", len(got))
	}
}

// TestGaugesAfterTheRun: once a run is done its live-state gauges read
// what is true of a finished run — no connections, none blocked, no
// workers waiting, no CPU, no workers — and its backlog, no longer
// measured, is not served; its counters and histograms keep their final
// values for a last scrape.
func TestGaugesAfterTheRun(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := startRun(e, Labels{Scenario: "done"})
	r.interval(300)
	r.interval(900)
	r.finish()
	got := gather(t, e)
	const lv = "scenario=done,shard=,variant=,"
	for _, name := range []string{"mqbench_connections_up", "mqbench_connections_blocked", "mqbench_disconnected_workers", "mqbench_client_cpu_cores"} {
		m := got[name][lv]
		if m == nil || m.GetGauge().GetValue() != 0 {
			t.Errorf("%s after the run: %v, want 0", name, m.GetGauge())
		}
	}
	for _, role := range []string{"producer", "consumer"} {
		if m := got["mqbench_workers"]["role="+role+","+lv]; m == nil || m.GetGauge().GetValue() != 0 {
			t.Errorf("mqbench_workers{role=%q} after the run: %v, want 0", role, m.GetGauge())
		}
	}
	if m := got["mqbench_backlog_messages"]; len(m) != 0 {
		t.Errorf("mqbench_backlog_messages served after the run: %v", m)
	}
	if m := got["mqbench_messages_published_total"][lv]; m.GetCounter().GetValue() != 900 {
		t.Errorf("published after the run: %v, want the final 900", m.GetCounter())
	}
	if m := got["mqbench_end_to_end_latency_seconds"][lv]; m.GetHistogram().GetSampleCount() != 2 {
		t.Errorf("end-to-end histogram after the run: %d samples, want the run's 2", m.GetHistogram().GetSampleCount())
	}
}

// TestServesTheClientsOwnCost: beside the run's series the endpoint
// serves the Go runtime's and the process's own, which say what the
// client costs over a long run (scripts/bench-soak.sh reads the heap).
func TestServesTheClientsOwnCost(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	want := []string{"go_memstats_heap_alloc_bytes", "go_goroutines"}
	if runtime.GOOS == "linux" {
		want = append(want, "process_resident_memory_bytes")
	}
	for _, n := range want {
		if !names[n] {
			t.Errorf("%s is not served", n)
		}
	}
}
