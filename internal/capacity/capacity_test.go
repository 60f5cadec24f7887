package capacity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

func backlogs(step float64, vals ...int64) []result.Interval {
	out := make([]result.Interval, len(vals))
	for i, v := range vals {
		v := v
		out[i] = result.Interval{TS: float64(i+1) * step, Seconds: step, Backlog: &v}
	}
	return out
}

func TestBacklogSlope(t *testing.T) {
	cases := []struct {
		name string
		ivs  []result.Interval
		want float64
	}{
		{"flat", backlogs(1, 5, 5, 5, 5), 0},
		{"steady climb", backlogs(0.5, 0, 50, 100, 150, 200), 100},
		{"one spike", backlogs(1, 0, 0, 900, 0, 0), 0},
		{"too few", backlogs(1, 0, 1000), 0},
		{"draining", backlogs(1, 300, 200, 100, 0), -100},
	}
	for _, c := range cases {
		if got := BacklogSlope(c.ivs); got < c.want-0.001 || got > c.want+0.001 {
			t.Errorf("%s: slope %.3f, want %.3f", c.name, got, c.want)
		}
	}
}

func TestParseObjective(t *testing.T) {
	good := []string{"latency.end_to_end.p99_us<=50000", "latency.confirm.p999_us <= 2e4", "totals.rpc_timeouts<=0"}
	for _, s := range good {
		if _, err := ParseObjective(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := []string{"latency.end_to_end.p99_us=5", "latency.e2e.p99<=5", "rates.consumed_per_s<=5", "latency.end_to_end.p99_us<=-1", "latency.end_to_end.p99_us<=inf"}
	for _, s := range bad {
		if _, err := ParseObjective(s); err == nil {
			t.Errorf("%s: accepted", s)
		}
	}
}

// fake is a system that serves at most capacity msg/s: below it latency is
// flat, above it the backlog (and so latency) grows; the client saturates
// at clientMax.
type fake struct {
	capacity, clientMax float64
	runs                int
	// pacedFits: a paced step at clientMax leaves the client room (only
	// the unpaced probe saturates it).
	pacedFits bool
}

func (f *fake) run(_ context.Context, sc scenario.Scenario) (*result.Result, error) {
	f.runs++
	rate := sc.Producers.TotalRate
	achieved := rate
	if rate == 0 || rate > f.clientMax {
		achieved = f.clientMax
	}
	growth := max(0, achieved-f.capacity)
	served := achieved - growth
	r := &result.Result{StopReason: result.StopDuration, MeasuredS: 10, Client: result.Client{Cores: 0.5, CoresAvailable: 2},
		Scenario: sc, Queues: []result.Queue{{Name: "q", Type: scenario.QueueClassic, Consumers: 1}}}
	r.Rates.PublishedPerS, r.Rates.ConsumedPerS = achieved, &served
	r.Totals.Published = int64(achieved * 10)
	var b int64
	for i := 0; i < 10; i++ {
		b += int64(growth)
		v := b
		r.Intervals = append(r.Intervals, result.Interval{TS: float64(i + 1), Seconds: 1, Backlog: &v,
			Published: int64(achieved), Consumed: int64(served)})
	}
	// p99 rises with load: 1 ms at rest, 10 ms at 90% of capacity.
	load := achieved / f.capacity
	p99 := int64(1000 + 10000*load*load)
	if growth > 0 {
		p99 = 5_000_000
	}
	r.Latency[metrics.EndToEnd] = &metrics.Summary{Count: 100, P50Us: p99 / 2, P99Us: p99}
	if achieved >= f.clientMax && f.clientMax < 1e9 && (rate == 0 || !f.pacedFits) {
		r.Client.Cores = 1.9 // mqbench itself is saturated
	}
	return r, nil
}

func search(t *testing.T, f *fake, cfg Config) *Doc {
	t.Helper()
	cfg.Base = scenario.Default()
	cfg.Step, cfg.Run = time.Second, f.run
	doc, err := Search(context.Background(), withKinds(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSearchFindsTheKnee: the answer is within the precision below the
// true capacity, found by bracketing, bisecting and a confirmation.
func TestSearchFindsTheKnee(t *testing.T) {
	f := &fake{capacity: 1000, clientMax: 1e12}
	doc := search(t, f, Config{MinRate: 100, MaxRate: 100_000, Precision: 0.05})
	got := doc.Capacity.RatePerS
	if got > 1000 || got < 950 {
		t.Fatalf("capacity %.0f, want within 5%% below 1000; steps %+v", got, doc.Steps)
	}
	if doc.Capacity.LimitedBy != CheckBacklog || doc.Capacity.FirstFailingRate == nil || *doc.Capacity.FirstFailingRate <= got {
		t.Errorf("answer %+v", doc.Capacity)
	}
	last := doc.Steps[len(doc.Steps)-1]
	if last.Phase != PhaseConfirm || !last.Pass || last.TargetRate != got {
		t.Errorf("last step %+v: want a passing confirmation at the answer", last)
	}
	if !doc.Capacity.Confirmed || passesAt(doc, got) != 2 {
		t.Errorf("answer %+v passed %d times: want confirmed, passed twice", doc.Capacity, passesAt(doc, got))
	}
}

// TestBestIsTheRunAtTheCapacity: step rates are not round (they come from
// a probe, doubling and halving) while the capacity is rounded to 0.1/s;
// the run at the capacity is still found, so its latency can be shown.
func TestBestIsTheRunAtTheCapacity(t *testing.T) {
	doc := search(t, &fake{capacity: 1000, clientMax: 1e12}, Config{MinRate: 123.456, MaxRate: 100_000, Precision: 0.05})
	r := doc.Best()
	if r == nil || doc.Capacity.RatePerS == 0 {
		t.Fatalf("capacity %.1f: no run found at it among %+v", doc.Capacity.RatePerS, doc.Steps)
	}
	if d := r.Rates.PublishedPerS - doc.Capacity.RatePerS; d < -0.05 || d > 0.05 {
		t.Errorf("best run published %.3f/s, capacity %.1f/s", r.Rates.PublishedPerS, doc.Capacity.RatePerS)
	}
}

// TestTighterObjectiveNeverHigher: a tighter latency objective never
// yields a higher capacity than a looser one.
func TestTighterObjectiveNeverHigher(t *testing.T) {
	f := &fake{capacity: 1000, clientMax: 1e12}
	var prev float64 = -1
	for _, bound := range []float64{20000, 8000, 4000, 2000} { // looser to tighter
		doc := search(t, f, Config{MinRate: 50, MaxRate: 10_000, SLO: []Objective{{Path: "latency.end_to_end.p99_us", Max: bound}}})
		got := doc.Capacity.RatePerS
		if prev >= 0 && got > prev {
			t.Fatalf("p99 ≤ %.0fµs gave %.0f msg/s, above the looser objective's %.0f", bound, got, prev)
		}
		if got < 1000 && bound < 11000 && doc.Capacity.LimitedBy != "latency.end_to_end.p99_us" {
			t.Errorf("p99 ≤ %.0f: limited by %q, want the objective", bound, doc.Capacity.LimitedBy)
		}
		prev = got
	}
}

// TestClientBoundEndsTheSearch: a step where mqbench was the bottleneck
// ends the search, blaming the client, not the broker.
func TestClientBoundEndsTheSearch(t *testing.T) {
	f := &fake{capacity: 1e6, clientMax: 3000}
	doc := search(t, f, Config{MinRate: 1000, MaxRate: 100_000})
	if doc.Capacity.LimitedBy != CheckClient || doc.StopReason != StopClient {
		t.Fatalf("answer %+v, stop %s", doc.Capacity, doc.StopReason)
	}
}

// TestClientBoundProbeLimits: when nothing fails up to the ceiling and the
// ceiling is what a saturated client could send unpaced, the client
// limited the answer, not a max rate.
func TestClientBoundProbeLimits(t *testing.T) {
	doc := search(t, &fake{capacity: 1e6, clientMax: 5000, pacedFits: true}, Config{})
	if doc.Capacity.LimitedBy != CheckClient || doc.Capacity.RatePerS == 0 || doc.Capacity.FirstFailingRate != nil {
		t.Fatalf("answer %+v after %d steps: want limited by the client, nothing failing", doc.Capacity, len(doc.Steps))
	}
	if !doc.Capacity.Confirmed { // the ceiling is confirmed like any answer
		t.Errorf("answer %+v: want the ceiling confirmed", doc.Capacity)
	}
}

// TestProbeFindsTheCeiling: without a maximum an unpaced step sets it.
func TestProbeFindsTheCeiling(t *testing.T) {
	f := &fake{capacity: 800, clientMax: 1e12}
	f.clientMax = 5000 // unpaced, the client reaches 5,000/s (not saturated below it)
	doc := search(t, f, Config{})
	if doc.Steps[0].Phase != PhaseProbe || doc.Steps[1].TargetRate != 500 {
		t.Fatalf("steps %+v: want a probe, then bracketing from a tenth of its rate", doc.Steps[:2])
	}
	if got := doc.Capacity.RatePerS; got > 800 || got < 760 {
		t.Fatalf("capacity %.0f, want just under 800", got)
	}
}

// TestBudgetAndInterrupt: a budget too small for the next step, or an
// interrupt, ends the search with the best answer so far.
func TestBudgetAndInterrupt(t *testing.T) {
	f := &fake{capacity: 1000, clientMax: 1e12}
	// Each step takes 1 s + 1 s warm-up + 3 s overhead on a simulated
	// clock: a 14 s budget holds two steps, not a third.
	now := time.Unix(0, 0)
	doc := search(t, f, Config{MinRate: 100, MaxRate: 100_000, Warmup: time.Second, Budget: 14 * time.Second,
		Now: func() time.Time { now = now.Add(5 * time.Second / 2); return now }})
	if doc.StopReason != StopBudget || len(doc.Steps) == 0 || len(doc.Steps) > 3 {
		t.Fatalf("stop %s after %d steps: want the budget to stop it", doc.StopReason, len(doc.Steps))
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	cfg := Config{Base: scenario.Default(), Step: time.Second, MinRate: 100, MaxRate: 100_000,
		Run: func(c context.Context, sc scenario.Scenario) (*result.Result, error) {
			if n++; n == 3 {
				cancel()
			}
			return f.run(c, sc)
		}}
	doc, err := Search(ctx, withKinds(cfg))
	if err != nil || doc.StopReason != StopInterrupted || doc.Capacity.RatePerS != 400 {
		t.Fatalf("err %v stop %s capacity %.0f: want the best so far (400) after an interrupt", err, doc.StopReason, doc.Capacity.RatePerS)
	}
}

func TestJudgeChecks(t *testing.T) {
	f := &fake{capacity: 1000, clientMax: 1e12}
	ok, _ := f.run(context.Background(), scenario.Scenario{Producers: scenario.Producers{TotalRate: 500}})
	if v := Judge(ok, 500, loadOf("producer"), nil, 0); !v.Pass {
		t.Fatalf("a healthy step failed: %+v", v)
	}
	short := *ok
	short.Rates.PublishedPerS = 480
	nacked := int64(10)
	errs := *ok
	errs.Totals.Nacked = &nacked
	failed := &result.Result{StopReason: result.StopError, Error: "channel closed"}
	cases := []struct {
		r    *result.Result
		want string
	}{{&short, CheckRate}, {&errs, CheckErrors}, {failed, CheckRun}}
	for _, c := range cases {
		v := Judge(c.r, 500, loadOf("producer"), nil, 0)
		if v.Pass || !strings.Contains(strings.Join(v.Failed, ","), c.want) {
			t.Errorf("want %s to fail: %+v", c.want, v)
		}
	}
	if v := Judge(&errs, 500, loadOf("producer"), nil, 0.01); !v.Pass {
		t.Errorf("10 nacks in 5000 within a 1%% tolerance failed: %+v", v)
	}
}

// TestLatencyKind: a search is read by its first latency objective's
// kind, else by the RPC round trip when no step measured end-to-end
// latency, else by end-to-end latency.
func TestLatencyKind(t *testing.T) {
	rpcOnly := &result.Result{}
	rpcOnly.Latency[metrics.RPC] = &metrics.Summary{Count: 1}
	for _, c := range []struct {
		doc  Doc
		want metrics.Kind
	}{
		{Doc{}, metrics.EndToEnd},
		{Doc{Steps: []Step{{Result: rpcOnly}}}, metrics.RPC},
		{Doc{SLO: []Objective{{Path: "rates.consumed_per_s"}, {Path: "latency.confirm.p999_us"}}, Steps: []Step{{Result: rpcOnly}}}, metrics.Confirm},
	} {
		if got := c.doc.LatencyKind(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.doc.SLO, got, c.want)
		}
	}
}
