package capacity

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/kind"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Phases of a search.
const (
	PhaseProbe   = "probe"   // unpaced, to find a ceiling
	PhaseBracket = "bracket" // doubling until a step fails
	PhaseBisect  = "bisect"  // halving the gap to the precision
	PhaseConfirm = "confirm" // a repeat at the answer
)

// Stop reasons of a search.
const (
	StopCompleted   = "completed"
	StopBudget      = "budget"
	StopInterrupted = "interrupted"
	StopClient      = "client-bound"
)

// Config says what to search.
type Config struct {
	Tool      result.Tool
	Base      scenario.Scenario // validated; the search sets its rate
	SLO       []Objective
	MinRate   float64       // where bracketing starts (0: a tenth of the ceiling)
	MaxRate   float64       // the ceiling (0: found by an unpaced probe step)
	Step      time.Duration // each step's measured length
	Warmup    time.Duration // each step's own warm-up, before it
	Precision float64       // relative gap at which bisection stops (0.05 = 5%)
	Budget    time.Duration // the longest the whole search may take (0: none)
	// Tolerance is the share of errors (nacks, returns, RPC timeouts) a
	// step may have and pass.
	Tolerance float64
	// Run runs one step's scenario (driver.Run); a nil result means the
	// step measured nothing.
	Run func(ctx context.Context, sc scenario.Scenario) (*result.Result, error)
	// Progress is told before each step, with an estimate of the time
	// left (may be nil).
	Progress func(step int, phase string, rate float64, elapsed, left time.Duration)
	// Now is the clock the budget is kept by (nil: time.Now).
	Now func() time.Time
	// Kinds are the kinds of worker a run can have (driver.Kinds): the
	// first whose load the scenario offers is the load the search drives.
	Kinds []kind.Kind
}

// overhead is what a step costs beyond its warm-up and measured length
// (connecting, declaring, draining, cleaning up), for the budget's plan.
const overhead = 3 * time.Second

// stepScenario is the base scenario at a total rate (0: unpaced).
func (c Config) stepScenario(rate float64) scenario.Scenario {
	sc := c.Base.Clone()
	sc.Matrix, sc.Repeat, sc.Cooldown = nil, 0, 0
	sc.Duration = scenario.Duration(c.Warmup + c.Step)
	sc.Warmup = scenario.Duration(c.Warmup)
	sc.Interval = scenario.Duration(min(sc.Interval.D(), max(c.Step/10, 100*time.Millisecond)))
	if load := kind.Offering(c.Kinds, sc); load != nil {
		load.Pace(&sc, rate)
	}
	sc.Consumers.Messages, sc.RPC.Requests = 0, 0
	return sc
}

// searcher holds a search in progress.
type searcher struct {
	cfg   Config
	doc   *Doc
	start time.Time
	load  *kind.Load // the load the search drives
}

// Search runs the search and returns its document, complete whatever
// stopped it (the budget, ctx ending: the best answer so far).
func Search(ctx context.Context, cfg Config) (*Doc, error) {
	if cfg.Precision <= 0 {
		cfg.Precision = 0.05
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	load := kind.Offering(cfg.Kinds, cfg.Base)
	if load == nil {
		return nil, fmt.Errorf("capacity: the scenario offers no load to search with (no producers, no RPC clients)")
	}
	s := &searcher{cfg: cfg, start: cfg.Now(), load: load, doc: &Doc{
		Schema: Schema, Tool: cfg.Tool, Scenario: cfg.Base.Masked(), SLO: cfg.SLO,
		StartedAt: time.Now().UTC(), StopReason: StopCompleted,
	}}
	err := s.search(ctx)
	s.answer()
	s.doc.EndedAt = time.Now().UTC()
	return s.doc, err
}

// errStop ends a search early without an error: the budget, an interrupt,
// a client-bound step.
type errStop struct{ reason string }

func (e errStop) Error() string { return e.reason }

func (s *searcher) search(ctx context.Context) error {
	hi := s.cfg.MaxRate
	if hi <= 0 {
		st, err := s.step(ctx, PhaseProbe, 0)
		if err != nil {
			return s.stopped(err)
		}
		if hi = st.achieved; hi <= 0 {
			return s.stopped(fmt.Errorf("the unpaced probe step achieved no rate"))
		}
	}
	lo := s.cfg.MinRate
	if lo <= 0 {
		lo = hi / 10
	}
	pass, fail, err := s.bracket(ctx, lo, hi)
	if err != nil {
		return s.stopped(err)
	}
	if pass == 0 {
		return nil // nothing passed: nothing to narrow or confirm
	}
	if fail > 0 { // else nothing failed up to the ceiling: confirm the ceiling
		if pass, err = s.bisect(ctx, pass, fail); err != nil {
			return s.stopped(err)
		}
	}
	return s.stopped(s.confirm(ctx, pass))
}

// stopped turns an early stop into the document's stop reason; real
// errors are returned.
func (s *searcher) stopped(err error) error {
	if e, ok := err.(errStop); ok {
		s.doc.StopReason = e.reason
		return nil
	}
	if err != nil {
		s.doc.StopReason = result.StopError
	}
	return err
}

// bracket doubles the rate from lo until a step fails or the ceiling
// passes, and returns the last passing and first failing rates (0 when
// there is none).
func (s *searcher) bracket(ctx context.Context, lo, hi float64) (pass, fail float64, err error) {
	for rate := lo; ; rate = math.Min(rate*2, hi) {
		st, err := s.step(ctx, PhaseBracket, rate)
		if err != nil {
			return pass, fail, err
		}
		if !st.Pass {
			return pass, rate, nil
		}
		pass = rate
		if rate >= hi {
			return pass, 0, nil
		}
	}
}

// bisect narrows [pass, fail) to the precision and returns the highest
// passing rate.
func (s *searcher) bisect(ctx context.Context, pass, fail float64) (float64, error) {
	for (fail-pass)/pass > s.cfg.Precision {
		mid := (pass + fail) / 2
		st, err := s.step(ctx, PhaseBisect, mid)
		if err != nil {
			return pass, err
		}
		if st.Pass {
			pass = mid
		} else {
			fail = mid
		}
	}
	return pass, nil
}

// confirmFailures is how many failed confirmation steps end the
// confirmation: each lowers the rate by the precision, so three cost at
// most about three precisions of rate before the search gives up and
// answers with a rate that passed once.
const confirmFailures = 3

// confirm repeats steps until a rate has passed twice (the step that found
// it counts as the first pass). A failed repeat lowers the rate by the
// precision, and the lower rate must pass twice in turn: one pass after a
// failure is not yet a confirmation. The rate confirmed is always below
// every rate that failed (bisection's pass is, and a failure here makes
// this rate the lowest failed one before lowering it), so the passes
// counted are never at a rate the answer must stay below.
func (s *searcher) confirm(ctx context.Context, rate float64) error {
	for failed := 0; failed < confirmFailures; {
		if s.passesAt(rate) >= 2 {
			return nil
		}
		st, err := s.step(ctx, PhaseConfirm, rate)
		if err != nil {
			return err
		}
		if !st.Pass {
			failed++
			rate *= 1 - s.cfg.Precision
		}
	}
	return nil
}

// passesAt counts the judged steps at exactly rate that passed.
func (s *searcher) passesAt(rate float64) int {
	n := 0
	for _, st := range s.doc.Steps {
		if st.Phase != PhaseProbe && st.Pass && st.TargetRate == rate {
			n++
		}
	}
	return n
}

// stepResult is one step, judged.
type stepResult struct {
	Verdict
	achieved float64
}

// step runs the scenario at rate (0: unpaced), judges it and records it.
// It refuses to start a step the budget cannot hold, and stops the search
// when ctx ended or mqbench itself was the bottleneck.
func (s *searcher) step(ctx context.Context, phase string, rate float64) (stepResult, error) {
	if ctx.Err() != nil {
		return stepResult{}, errStop{StopInterrupted}
	}
	cost := s.cfg.Warmup + s.cfg.Step + overhead
	elapsed := s.cfg.Now().Sub(s.start)
	if s.cfg.Budget > 0 && elapsed+cost > s.cfg.Budget {
		return stepResult{}, errStop{StopBudget}
	}
	if s.cfg.Progress != nil {
		s.cfg.Progress(len(s.doc.Steps)+1, phase, rate, elapsed, s.left(cost))
	}
	res, err := s.cfg.Run(ctx, s.cfg.stepScenario(rate))
	v := Judge(res, rate, s.load, s.cfg.SLO, s.cfg.Tolerance)
	if phase == PhaseProbe { // unpaced: no target to hold, no objective to meet
		v = Verdict{Pass: res != nil && err == nil, BacklogSlope: v.BacklogSlope}
	}
	st := stepResult{Verdict: v}
	if res != nil {
		st.achieved = s.load.Achieved(res)
	}
	s.doc.Steps = append(s.doc.Steps, Step{Phase: phase, TargetRate: rate, Pass: v.Pass, Failed: v.Failed,
		Reasons: v.Reasons, Notes: v.Notes, BacklogSlope: round1(v.BacklogSlope), Result: res})
	switch {
	case res == nil && err != nil:
		return st, err // nothing measured: the setup is broken
	case res != nil && res.StopReason == result.StopInterrupted:
		return st, errStop{StopInterrupted}
	case v.ClientBound:
		return st, errStop{StopClient}
	}
	return st, nil
}

// left estimates the time the search still needs: the steps bisection
// must still run to reach the precision (or, while bracketing, doubling
// to the ceiling and then bisecting), at cost each.
func (s *searcher) left(cost time.Duration) time.Duration {
	steps := math.Ceil(math.Log2(1/s.cfg.Precision)) + 1 // bisection and the confirmation
	if lo, hi := s.bracketRange(); hi > lo && lo > 0 {
		steps += math.Ceil(math.Log2(hi / lo))
	}
	return time.Duration(steps) * cost
}

// bracketRange is the last passing rate and the ceiling, so far.
func (s *searcher) bracketRange() (lo, hi float64) {
	hi = s.cfg.MaxRate
	for _, st := range s.doc.Steps {
		if st.Phase == PhaseProbe && st.Result != nil {
			hi = s.load.Achieved(st.Result)
		}
		if st.Pass && st.TargetRate > lo {
			lo = st.TargetRate
		}
		if !st.Pass && st.Phase != PhaseProbe {
			return lo, lo // bracketing is over
		}
	}
	return lo, hi
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// Best is the run of the last passing step at the capacity found (nil
// when none passed). Step rates are not rounded and the capacity is (to
// 0.1/s), so they are matched rounded.
func (d *Doc) Best() *result.Result {
	var r *result.Result
	for _, st := range d.Steps {
		if st.Pass && st.Phase != PhaseProbe && d.Capacity.RatePerS > 0 && round1(st.TargetRate) == d.Capacity.RatePerS {
			r = st.Result
		}
	}
	return r
}

// LatencyKind is the latency a search is read by: the one its first
// latency objective names, else the RPC round trip for an RPC-only search
// (no step measured end-to-end latency), else end-to-end.
func (d *Doc) LatencyKind() metrics.Kind {
	for _, o := range d.SLO {
		if f, ok := catalog.Lookup(o.Path); ok && f.Kind >= 0 {
			return f.Kind
		}
	}
	for _, st := range d.Steps {
		if st.Result != nil && st.Result.Latency[metrics.EndToEnd] == nil && st.Result.Latency[metrics.RPC] != nil {
			return metrics.RPC
		}
	}
	return metrics.EndToEnd
}
