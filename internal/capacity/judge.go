package capacity

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/kind"
	"github.com/mqbench/mqbench/internal/result"
)

// The checks every step passes besides the user's objectives.
const (
	CheckBacklog = "backlog" // the consumers (or RPC servers) kept up
	CheckRate    = "rate"    // the producers (or RPC clients) held the target rate
	CheckErrors  = "errors"  // nacks, returns, RPC timeouts within the tolerance
	CheckClient  = "client"  // mqbench itself was not the bottleneck
	CheckRun     = "run"     // the run completed
	// CheckConsumed: the consumers (or RPC servers) consumed what was
	// published to them over the step.
	CheckConsumed = "consumed"
	// CheckSamples: the step's backlog was seen often enough to be judged.
	CheckSamples = "samples"
)

// Tolerances of the always-enforced checks.
const (
	// RateShortfall is how far below the target the achieved rate may be.
	RateShortfall = 0.02
	// BacklogGrowth is the backlog slope, as a share of the target rate,
	// above which the consumers did not keep up (1% of the rate piling up
	// every second); BacklogFloor keeps a tiny rate from failing on a
	// handful of messages in flight.
	BacklogGrowth = 0.01
	BacklogFloor  = 2.0 // messages per second
	// MinBacklogSamples is the fewest backlog samples a step is judged on:
	// a line through two points says nothing about a trend.
	MinBacklogSamples = 3
)

// ParseObjective parses PATH<=VALUE: a catalogue figure that can be gated
// (latencies are the schedule-based, coordinated-omission-correct ones)
// and its largest acceptable value.
func ParseObjective(s string) (Objective, error) {
	path, v, ok := strings.Cut(s, "<=")
	if !ok {
		return Objective{}, fmt.Errorf("--slo %q: want PATH<=VALUE, e.g. latency.end_to_end.p99_us<=50000", s)
	}
	path = strings.TrimSpace(path)
	f, err := catalog.Gateable(path)
	if err != nil {
		return Objective{}, fmt.Errorf("--slo: %w", err)
	}
	if f.Better != catalog.Lower {
		return Objective{}, fmt.Errorf("--slo %s: an objective bounds a figure from above; %s is %s", path, path, f.Better)
	}
	max, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || max < 0 || math.IsInf(max, 0) || math.IsNaN(max) {
		return Objective{}, fmt.Errorf("--slo %s: %q is not a bound (a finite number, 0 or more)", path, v)
	}
	return Objective{Path: path, Max: max}, nil
}

// Verdict is what one step showed.
type Verdict struct {
	Pass         bool
	Failed       []string // objective paths and checks that failed, with the figure
	Reasons      []string // why, one per failure, for the table
	BacklogSlope float64
	ClientBound  bool
	Notes        []string // what could not be checked, and why
}

// Judge checks a step's result against the objectives and the
// always-enforced checks. target is the step's total rate; rpc says the
// load is RPC requests, not published messages; tolerance is the share of
// errors (nacks, returns, RPC timeouts) allowed.
//
// The backlog is read from the result's intervals (Interval.Backlog: all
// that is owed to the consumers, stream consumer lag included; nil when
// the interval's sample failed, which is unknown, never 0). A step whose
// backlog was not seen often enough cannot be judged, and fails
// (CheckSamples) rather than pass on what nobody saw.
func Judge(r *result.Result, target float64, load *kind.Load, objectives []Objective, tolerance float64) Verdict {
	var v Verdict
	if r == nil || (r.StopReason != result.StopDuration && r.StopReason != result.StopMessageCount) {
		reason := "no result"
		if r != nil {
			reason = r.StopReason + ": " + r.Error
		}
		v.fail(CheckRun, "the step did not complete ("+reason+")")
		return v
	}
	for _, o := range objectives {
		f, _ := catalog.Lookup(o.Path)
		got, ok := f.Value(r)
		switch {
		case !ok:
			v.fail(o.Path, "not measured")
		case got > o.Max:
			v.fail(o.Path, fmt.Sprintf("%s %g > %g", o.Path, got, o.Max))
		}
	}
	achieved := load.Achieved(r)
	if achieved < target*(1-RateShortfall) {
		v.fail(CheckRate, fmt.Sprintf("achieved %.0f/s of %.0f/s", achieved, target))
	}
	v.BacklogSlope = BacklogSlope(r.Intervals)
	limit := math.Max(BacklogGrowth*target, BacklogFloor)
	if load.InFlight != nil && r.MeasuredS > 0 {
		// A least-squares slope of a backlog held between 0 and H can reach
		// about 1.5·H over the span fitted (a step to H halfway through).
		// RPC timeouts reopen the loop (a timed-out request stays queued):
		// the error tolerance bounds how much that adds.
		limit = math.Max(limit, 1.5*load.InFlight(r.Scenario)/r.MeasuredS)
	}
	if v.BacklogSlope > limit {
		v.fail(CheckBacklog, fmt.Sprintf("backlog grew %.1f/s (limit %.1f/s)", v.BacklogSlope, limit))
	}
	short, note := consumedShort(r, load, tolerance)
	if short != "" {
		v.fail(CheckConsumed, short)
	} else if note != "" {
		v.Notes = append(v.Notes, note)
	}
	if why := unjudged(r.Intervals); why != "" {
		v.fail(CheckSamples, why)
	}
	if errs, base := load.Errors(r); errs > tolerance*base {
		v.fail(CheckErrors, fmt.Sprintf("%.0f errors in %.0f (tolerance %g%%)", errs, base, tolerance*100))
	}
	if result.ClientBound(r.Client.Cores, r.Client.CoresAvailable) {
		v.ClientBound = true
		v.fail(CheckClient, fmt.Sprintf("mqbench used %.2f of %d cores", r.Client.Cores, r.Client.CoresAvailable))
	}
	v.Pass = len(v.Failed) == 0
	return v
}

// fail records a failed check (or objective) and why it failed.
func (v *Verdict) fail(what, why string) {
	v.Failed = append(v.Failed, what)
	v.Reasons = append(v.Reasons, why)
}

// measured reports whether an interval is in the step's measured window.
func measured(iv result.Interval) bool { return !iv.Warmup && !iv.Drain && iv.Seconds > 0 }

// unjudged says why the backlog of a step cannot be judged ("" when it
// can): fewer than MinBacklogSamples samples, or measured intervals whose
// sample failed — an unknown backlog at the end of a step can hide the
// very climb the check looks for.
func unjudged(intervals []result.Interval) string {
	var known, unknown int
	for _, iv := range intervals {
		switch {
		case !measured(iv):
		case iv.Backlog == nil:
			unknown++
		default:
			known++
		}
	}
	switch {
	case known < MinBacklogSamples:
		return fmt.Sprintf("only %d backlog samples in %d measured intervals (%d needed): the step cannot be judged",
			known, known+unknown, MinBacklogSamples)
	case unknown > 0:
		return fmt.Sprintf("the backlog was unknown in %d of %d measured intervals (its sample failed): the step cannot be judged",
			unknown, known+unknown)
	}
	return ""
}

// BacklogSlope fits a line through the backlog samples of the measured
// intervals (least squares over their end times) and returns its slope in
// messages per second: one high sample does not fail a step, a steady
// climb does. Intervals without a sample are left out; fewer than three
// samples give 0 (and Judge fails such a step as one it cannot judge).
func BacklogSlope(intervals []result.Interval) float64 {
	var xs, ys []float64
	for _, iv := range intervals {
		if !measured(iv) || iv.Backlog == nil {
			continue
		}
		xs = append(xs, iv.TS)
		ys = append(ys, float64(*iv.Backlog))
	}
	return fitSlope(xs, ys)
}

// fitSlope is the slope of the least-squares line through (xs, ys); 0
// for fewer than MinBacklogSamples points.
func fitSlope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < MinBacklogSamples {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
