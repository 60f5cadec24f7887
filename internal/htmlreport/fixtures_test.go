package htmlreport

import (
	"math"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/sweep"
)

// The fixtures are synthetic and deterministic: fixed times, latencies
// drawn from closed-form quantile functions (no randomness), so the
// golden files only change when the rendering does.

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func i64(v int64) *int64        { return &v }
func f64(v float64) *float64    { return &v }
func tp(t time.Time) *time.Time { return &t }

// latencies records n latencies per kind through the real recording path
// (registry, worker, collector) and returns their summaries with HDR
// histograms. Kind k's samples follow base + an exponential tail of the
// given mean, plus a few stalls of stall µs.
func latencies(t *testing.T, n int, dists map[metrics.Kind][3]float64) result.Latency {
	t.Helper()
	reg := metrics.NewRegistry(2, &metrics.Window{})
	w := reg.NewWorker()
	for k, d := range dists {
		base, mean, stall := d[0], d[1], d[2]
		for i := range n {
			u := (float64(i) + 0.5) / float64(n)
			us := base + mean*-math.Log(1-u)
			if i%5000 == 4999 {
				us = stall
			}
			w.Record(k, time.Duration(us*float64(time.Microsecond)))
		}
	}
	col := metrics.NewCollector(reg)
	col.Collect()
	var lat result.Latency
	for k := range dists {
		s, err := metrics.Summarize(col.Total(k))
		if err != nil {
			t.Fatal(err)
		}
		lat[k] = s
	}
	return lat
}

// sampleScenario is a paced, confirmed work queue with a recognisable
// password in its URL (masked, as results store it).
func sampleScenario(name string) scenario.Scenario {
	sc := scenario.Default()
	sc.Name = name
	sc.URL = "amqp://bench:S3cr3t-pw@rabbit.example:5672/"
	sc.Duration, sc.Warmup = scenario.Duration(12*time.Second), scenario.Duration(2*time.Second)
	sc.Producers.Count, sc.Producers.Rate, sc.Producers.Confirm, sc.Producers.Size = 2, 500, 100, 24
	sc.Consumers.Count, sc.Consumers.Prefetch = 2, 50
	sc.Queues = []scenario.Queue{{Name: "orders", Count: 1, Type: scenario.QueueQuorum, Durable: true,
		Arguments: map[string]any{"x-max-length": 100000}}}
	return sc.Masked()
}

// sampleRun is a 12-second run (2 s of warm-up) whose latencies are
// scaled by slow: a candidate with slow = 1.3 is 30% slower.
func sampleRun(t *testing.T, name string, slow float64) *result.Result {
	t.Helper()
	lat := latencies(t, 20000, map[metrics.Kind][3]float64{
		metrics.EndToEnd: {600 * slow, 900 * slow, 48000 * slow},
		metrics.Confirm:  {300 * slow, 500 * slow, 21000 * slow},
	})
	r := &result.Result{
		Schema: result.Schema, Tool: result.Tool{Name: "mqbench", Version: "v0.3.0"}, Scenario: sampleScenario(name),
		Broker:    result.Broker{URL: scenario.MaskURL("amqp://bench:S3cr3t-pw@rabbit.example:5672/"), Product: "RabbitMQ", Version: "4.1.0"},
		StartedAt: t0, EndedAt: t0.Add(13 * time.Second), MeasuredS: 10, StopReason: result.StopDuration,
		Latency: lat,
		Client: result.Client{CPUS: 1.21, CPUTotalS: 1.6, Cores: 0.12, CoresAvailable: 2, MaxRSSBytes: 31 << 20,
			CollectMeanUs: 140, CollectMaxUs: 420},
		Queues: []result.Queue{{Name: "orders", Type: "quorum", Consumers: 2, Consumed: 9990, Depth: i64(0)}},
		Faults: result.Faults{Reconnects: 1,
			Outages: []result.Outage{{Start: t0.Add(7 * time.Second), End: tp(t0.Add(7800 * time.Millisecond)), What: "consumer connection 1"}},
			Blocked: []result.Blocked{{Connection: "mqbench-producer-0", Reason: "low on memory", Start: t0.Add(9 * time.Second), End: tp(t0.Add(9500 * time.Millisecond))}}},
		Audit: &result.Audit{
			Total:    audit.Queue{Name: "", Expected: 12000, Consumed: 11990, Lost: 0, Unconfirmed: 10, Duplicates: 3, Redelivered: 5},
			Queues:   []audit.Queue{{Name: "orders", Expected: 12000, Consumed: 11990, Unconfirmed: 10, Duplicates: 3, Redelivered: 5}},
			Balanced: true, MemoryBytes: 6144,
		},
		Warnings: []string{"the broker blocked publishing connections 1 time(s) (low on memory)"},
	}
	var pub, conf, cons int64
	for i := range 12 {
		p := int64(float64(1000+20*(i%3)) / (1 + (slow-1)*0.3)) // a slower candidate also publishes less
		iv := result.Interval{TS: float64(i + 1), Seconds: 1, Warmup: i < 2, Published: p, Confirmed: p - 4, Consumed: p - int64(10*(i%2)),
			E2EP50Us: i64(int64((1100 + 60*float64(i%4)) * slow)), E2EP99Us: i64(int64((4500 + 900*float64(i%3)) * slow)),
			ConfirmP99Us: i64(int64((2600 + 300*float64(i%5)) * slow)), Backlog: i64(int64(3 * (i % 4))), CPUCores: 0.12}
		if i == 7 {
			iv.Disconnected, iv.E2EP99Us = 1, i64(int64(48000*slow))
		}
		if i == 9 {
			iv.Blocked = 1
		}
		r.Intervals = append(r.Intervals, iv)
		if !iv.Warmup {
			pub, conf, cons = pub+iv.Published, conf+iv.Confirmed, cons+iv.Consumed
		}
	}
	r.Totals = result.Totals{Published: pub, Confirmed: i64(conf), Nacked: i64(0), Unconfirmed: i64(pub - conf),
		Consumed: i64(cons), MaxUnacked: i64(50)}
	r.Rates = result.Rates{PublishedPerS: float64(pub) / 10, ConfirmedPerS: f64(float64(conf) / 10), ConsumedPerS: f64(float64(cons) / 10)}
	return r
}

// quickRun is a small result with the figures a grid or a capacity step
// reads, and no histograms.
func quickRun(started time.Time, rate, p50, p99 float64, stop string) *result.Result {
	sum := &metrics.Summary{Count: int64(rate * 10), MinUs: int64(p50 / 3), MeanUs: p50 * 1.2, P50Us: int64(p50),
		P75Us: int64(p50 * 1.3), P90Us: int64(p50 * 1.8), P95Us: int64(p99 * 0.7), P99Us: int64(p99),
		P999Us: int64(p99 * 1.6), P9999Us: int64(p99 * 2), MaxUs: int64(p99 * 2.5)}
	r := &result.Result{Schema: result.Schema, Tool: result.Tool{Name: "mqbench", Version: "v0.3.0"}, Scenario: sampleScenario("step"),
		StartedAt: started, EndedAt: started.Add(11 * time.Second), MeasuredS: 10, StopReason: stop,
		Totals: result.Totals{Published: int64(rate * 10), Consumed: i64(int64(rate * 10))},
		Rates:  result.Rates{PublishedPerS: rate, ConsumedPerS: f64(rate * 0.995)},
		Client: result.Client{CPUS: rate / 20000, Cores: rate / 200000, CoresAvailable: 2}}
	r.Latency[metrics.EndToEnd] = sum
	return r
}

// sampleSweep is prefetch × ack over three variants, three runs each; one
// run of the last variant was interrupted and is left out of its median.
func sampleSweep() *sweep.Doc {
	d := &sweep.Doc{Schema: sweep.Schema, Tool: result.Tool{Name: "mqbench", Version: "v0.3.0"}, Name: "prefetch-ack",
		ParamNames: []string{"prefetch", "ack"}, Repeat: 3, StartedAt: t0, EndedAt: t0.Add(2 * time.Minute), StopReason: "completed"}
	type shape struct {
		prefetch, ack  string
		rate, p50, p99 float64
	}
	for vi, s := range []shape{{"1", "manual", 380, 4_200_000, 6_400_000}, {"10", "manual", 14500, 61000, 118000}, {"100", "auto", 23400, 39000, 101000}} {
		v := sweep.Variant{Params: map[string]string{"prefetch": s.prefetch, "ack": s.ack}}
		var vals []measure.Values
		for run := range 3 {
			f := 1 + 0.03*float64(run-1) // runs spread ±3%
			stop := result.StopDuration
			if vi == 2 && run == 2 {
				stop = result.StopInterrupted
			}
			r := quickRun(t0.Add(time.Duration(vi*3+run)*12*time.Second), s.rate*f, s.p50/f, s.p99/f, stop)
			v.Runs = append(v.Runs, r)
			if stop == result.StopInterrupted {
				v.Excluded = append(v.Excluded, run)
				continue
			}
			vals = append(vals, measure.Of(r))
		}
		v.Summary = measure.Summarize(vals)
		d.Variants = append(d.Variants, v)
	}
	return d
}

// sampleCapacity is a search over six steps against one objective,
// e2e p99 ≤ 50ms: it passes up to 6,000 msg/s and fails at 7,000.
func sampleCapacity() *capacity.Doc {
	d := &capacity.Doc{Schema: capacity.Schema, Tool: result.Tool{Name: "mqbench", Version: "v0.3.0"}, Scenario: sampleScenario("capacity"),
		SLO: []capacity.Objective{{Path: "latency.end_to_end.p99_us", Max: 50000}}, StopReason: "completed",
		StartedAt: t0, EndedAt: t0.Add(90 * time.Second)}
	steps := []struct {
		phase       string
		target, got float64
		p99, slope  float64
		failed      []string
	}{
		{"probe", 1000, 1000, 4100, 0, nil},
		{"bracket", 2000, 1999, 5200, 0.1, nil},
		{"bracket", 4000, 3996, 9800, 0.3, nil},
		{"bracket", 8000, 7420, 210000, 310, []string{"latency.end_to_end.p99_us", "backlog", "rate"}},
		{"bisect", 6000, 5994, 31000, 1.2, nil},
		{"bisect", 7000, 6950, 74000, 42, []string{"latency.end_to_end.p99_us", "backlog"}},
	}
	for i, s := range steps {
		r := quickRun(t0.Add(time.Duration(i)*15*time.Second), s.got, s.p99/4, s.p99, result.StopDuration)
		d.Steps = append(d.Steps, capacity.Step{Phase: s.phase, TargetRate: s.target, Pass: len(s.failed) == 0,
			Failed: s.failed, BacklogSlope: s.slope, Result: r})
	}
	d.Capacity = capacity.Answer{RatePerS: 6000, LimitedBy: "latency.end_to_end.p99_us", FirstFailingRate: f64(7000),
		FailedObjectives: []string{"latency.end_to_end.p99_us"}}
	return d
}

// sampleCapacitySweep is the capacity at prefetch 10 and 50: the same
// search, the second variant's passing once (not confirmed).
func sampleCapacitySweep() *capacity.SweepDoc {
	once := sampleCapacity()
	once.Capacity.Basis = "passed once, not confirmed: the confirmation failed"
	twice := sampleCapacity()
	twice.Capacity.Confirmed, twice.Capacity.Basis = true, "passed twice (confirmed)"
	return &capacity.SweepDoc{Schema: capacity.SweepSchema, Tool: result.Tool{Name: "mqbench", Version: "v0.3.0"},
		Name: "prefetch-capacity", ParamNames: []string{"prefetch"}, Variants: []capacity.SweepVariant{
			{Params: map[string]string{"prefetch": "10"}, Search: twice},
			{Params: map[string]string{"prefetch": "50"}, Search: once}}}
}

// goldenInputs are the reports the golden files and the browser test
// render, by name.
func goldenInputs(t *testing.T) []struct {
	name string
	in   Input
} {
	t.Helper()
	base, cand := sampleRun(t, "ci-regression", 1), sampleRun(t, "ci-regression", 1.3)
	gate := mustGate(t, "latency.end_to_end.p99_us=10")
	return []struct {
		name string
		in   Input
	}{
		{"run", Input{Results: []Result{{File: "results/2026-11-26T12-00-00Z-work-queue.json", Doc: sampleRun(t, "work-queue", 1)}}}},
		{"sweep", Input{Sweeps: []Sweep{{File: "results/prefetch-ack-sweep.json", Doc: sampleSweep()}}}},
		{"compare", Input{Compare: &Comparison{Base: Document{File: "results/baseline/ci-regression.json", Result: base},
			Candidate: Document{File: "results/new.json", Result: cand}, Gates: gate}}},
		{"capacity", Input{Capacities: []Capacity{{File: "results/capacity.json", Doc: sampleCapacity()}}}},
		{"capacity-sweep", Input{CapacitySweeps: []CapacitySweep{{File: "results/capacity-sweep.json", Doc: sampleCapacitySweep()}}}},
	}
}
