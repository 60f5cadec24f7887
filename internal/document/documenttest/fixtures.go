// Package documenttest builds one small, deterministic fixture document of
// each kind (a result, a sweep, a capacity search, a capacity sweep), for
// the tests that walk every cell of the kinds × formats table.
package documenttest

import (
	"time"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/sweep"
)

// start is every fixture's start: fixed, so the golden files only change
// when the rendering does.
func start() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

func tool() result.Tool { return result.Tool{Name: "mqbench", Version: "v0.4.0"} }

func i64(v int64) *int64     { return &v }
func f64(v float64) *float64 { return &v }

// Scenario is a paced, confirmed work queue, its password masked as
// documents store it.
func Scenario(name string) scenario.Scenario {
	sc := scenario.Default()
	sc.Name = name
	sc.URL = "amqp://bench:S3cr3t-pw@rabbit.example:5672/"
	sc.Duration, sc.Warmup = scenario.Duration(10*time.Second), scenario.Duration(time.Second)
	sc.Producers.Count, sc.Producers.Rate, sc.Producers.Confirm = 1, 1000, 100
	sc.Consumers.Count, sc.Consumers.Prefetch = 1, 50
	return sc.Masked()
}

// Run is a 10-second run at rate messages per second whose end-to-end
// latency has the given p50 and p99 (µs), with three intervals and no
// histograms (its figures are what the tables read).
func Run(name string, started time.Time, rate, p50, p99 float64) *result.Result {
	n := int64(rate * 10)
	r := &result.Result{Schema: result.Schema, Tool: tool(), Scenario: Scenario(name),
		Broker:    result.Broker{URL: "amqp://bench:xxxxx@rabbit.example:5672/", Product: "RabbitMQ", Version: "4.0.5"},
		StartedAt: started, EndedAt: started.Add(11 * time.Second), MeasuredS: 10, StopReason: result.StopDuration,
		Totals: result.Totals{Published: n, Confirmed: i64(n), Nacked: i64(0), Consumed: i64(n), MaxUnacked: i64(50)},
		Rates:  result.Rates{PublishedPerS: rate, ConfirmedPerS: f64(rate), ConsumedPerS: f64(rate)},
		Client: result.Client{CPUS: rate / 20000, CPUTotalS: rate / 15000, Cores: rate / 200000, CoresAvailable: 2,
			MaxRSSBytes: 24 << 20, CollectMeanUs: 110, CollectMaxUs: 260},
		Queues: []result.Queue{{Name: "orders", Type: "classic", Consumers: 1, Consumed: n, Depth: i64(0)}},
	}
	r.Latency[metrics.EndToEnd] = summary(n, p50, p99)
	r.Latency[metrics.Confirm] = summary(n, p50/2, p99/2)
	for i := range 3 {
		per := int64(rate * 10 / 3)
		r.Intervals = append(r.Intervals, result.Interval{TS: float64(i+1) * 10 / 3, Seconds: 10.0 / 3,
			Published: per, Confirmed: per, Consumed: per, E2EP50Us: i64(int64(p50)), E2EP99Us: i64(int64(p99)),
			ConfirmP99Us: i64(int64(p99 / 2)), Backlog: i64(int64(i)), CPUCores: rate / 200000})
	}
	return r
}

func summary(n int64, p50, p99 float64) *metrics.Summary {
	return &metrics.Summary{Count: n, MinUs: int64(p50 / 3), MeanUs: p50 * 1.2, P50Us: int64(p50), P75Us: int64(p50 * 1.3),
		P90Us: int64(p50 * 1.8), P95Us: int64(p99 * 0.7), P99Us: int64(p99), P999Us: int64(p99 * 1.6),
		P9999Us: int64(p99 * 2), MaxUs: int64(p99 * 2.5)}
}

// Result is one run.
func Result() *result.Result { return Run("work-queue", start(), 1000, 1800, 5200) }

// Sweep is prefetch 1 and 50, two runs each; the second run of the
// second variant was interrupted and is left out of its median.
func Sweep() *sweep.Doc {
	d := &sweep.Doc{Schema: sweep.Schema, Tool: tool(), Name: "prefetch", ParamNames: []string{"prefetch"}, Repeat: 2,
		StartedAt: start(), EndedAt: start().Add(time.Minute), StopReason: "completed"}
	for vi, s := range []struct {
		prefetch       string
		rate, p50, p99 float64
	}{{"1", 400, 9000, 21000}, {"50", 5000, 2100, 6400}} {
		v := sweep.Variant{Params: map[string]string{"prefetch": s.prefetch}}
		var vals []measure.Values
		for run := range 2 {
			f := 1 + 0.02*float64(run)
			r := Run("prefetch", start().Add(time.Duration(vi*2+run)*12*time.Second), s.rate*f, s.p50/f, s.p99/f)
			v.Runs = append(v.Runs, r)
			if vi == 1 && run == 1 {
				r.StopReason = result.StopInterrupted
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

// Capacity is a search against e2e p99 ≤ 10ms over five steps: it
// passes at 2,000/s twice (confirmed) and fails at 4,000/s and 3,000/s.
func Capacity() *capacity.Doc { return search("capacity", 2000, true) }

// search is a capacity search whose answer is rate (passed twice when
// confirmed, once otherwise).
func search(name string, rate float64, confirmed bool) *capacity.Doc {
	d := &capacity.Doc{Schema: capacity.Schema, Tool: tool(), Scenario: Scenario(name),
		SLO: []capacity.Objective{{Path: "latency.end_to_end.p99_us", Max: 10000}}, StopReason: capacity.StopCompleted,
		StartedAt: start(), EndedAt: start().Add(80 * time.Second)}
	const slo = "latency.end_to_end.p99_us"
	note := "consumed not checked against published: the routing does not say what is owed"
	steps := []struct {
		phase       string
		target, p99 float64
		slope       float64
		failed      []string
	}{
		{"probe", 0, 48000, 120, []string{slo, "backlog"}},
		{"bracket", rate / 2, 3100, 0, nil},
		{"bracket", rate * 2, 26000, 41, []string{slo, "backlog"}},
		{"bisect", rate * 1.5, 14000, 3.5, []string{slo}},
		{"confirm", rate, 6200, 0.2, nil},
	}
	for i, s := range steps {
		got := s.target
		if got == 0 {
			got = rate * 2.6
		}
		st := capacity.Step{Phase: s.phase, TargetRate: s.target, Pass: len(s.failed) == 0, Failed: s.failed,
			BacklogSlope: s.slope, Notes: []string{note},
			Result: Run(name, start().Add(time.Duration(i)*16*time.Second), got, s.p99/3, s.p99)}
		for _, f := range s.failed {
			st.Reasons = append(st.Reasons, f+" over its bound")
		}
		d.Steps = append(d.Steps, st)
	}
	d.Capacity = capacity.Answer{RatePerS: rate, LimitedBy: slo, FirstFailingRate: f64(rate * 1.5),
		FailedObjectives: []string{slo}, Confirmed: confirmed, Basis: "passed twice (confirmed)"}
	if !confirmed {
		d.Capacity.Basis = "passed once, not confirmed: the confirmation failed"
	}
	return d
}

// CapacitySweep is the capacity at prefetch 1 (passed once) and 50
// (confirmed).
func CapacitySweep() *capacity.SweepDoc {
	return &capacity.SweepDoc{Schema: capacity.SweepSchema, Tool: tool(), Name: "prefetch-capacity", ParamNames: []string{"prefetch"},
		Variants: []capacity.SweepVariant{
			{Params: map[string]string{"prefetch": "1"}, Search: search("prefetch-capacity", 400, false)},
			{Params: map[string]string{"prefetch": "50"}, Search: search("prefetch-capacity", 2000, true)},
		}}
}

// BySchema is one fixture of each kind of document, keyed by its schema.
func BySchema() map[string]any {
	return map[string]any{
		result.Schema:        Result(),
		sweep.Schema:         Sweep(),
		capacity.Schema:      Capacity(),
		capacity.SweepSchema: CapacitySweep(),
	}
}
