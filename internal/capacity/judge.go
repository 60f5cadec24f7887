package capacity

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/result"
)

// The checks every step passes besides the user's objectives.
const (
	CheckBacklog = "backlog" // the consumers (or RPC servers) kept up
	CheckRate    = "rate"    // the producers (or RPC clients) held the target rate
	CheckErrors  = "errors"  // nacks, returns, RPC timeouts within the tolerance
	CheckClient  = "client"  // mqbench itself was not the bottleneck
	CheckRun     = "run"     // the run completed
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
}

// Judge checks a step's result against the objectives and the
// always-enforced checks. target is the step's total rate; rpc says the
// load is RPC requests, not published messages; tolerance is the share of
// errors (nacks, returns, RPC timeouts) allowed.
func Judge(r *result.Result, target float64, rpc bool, objectives []Objective, tolerance float64) Verdict {
	var v Verdict
	fail := func(what, why string) {
		v.Failed = append(v.Failed, what)
		v.Reasons = append(v.Reasons, why)
	}
	if r == nil || (r.StopReason != result.StopDuration && r.StopReason != result.StopMessageCount) {
		reason := "no result"
		if r != nil {
			reason = r.StopReason + ": " + r.Error
		}
		fail(CheckRun, "the step did not complete ("+reason+")")
		return v
	}
	for _, o := range objectives {
		f, _ := catalog.Lookup(o.Path)
		got, ok := f.Value(r)
		switch {
		case !ok:
			fail(o.Path, "not measured")
		case got > o.Max:
			fail(o.Path, fmt.Sprintf("%s %g > %g", o.Path, got, o.Max))
		}
	}
	achieved := achievedRate(r, rpc)
	if achieved < target*(1-RateShortfall) {
		fail(CheckRate, fmt.Sprintf("achieved %.0f/s of %.0f/s", achieved, target))
	}
	v.BacklogSlope = BacklogSlope(r.Intervals)
	if limit := math.Max(BacklogGrowth*target, BacklogFloor); v.BacklogSlope > limit {
		fail(CheckBacklog, fmt.Sprintf("backlog grew %.1f/s (limit %.1f/s)", v.BacklogSlope, limit))
	}
	if errs, base := errorCount(r, rpc); errs > tolerance*base {
		fail(CheckErrors, fmt.Sprintf("%.0f errors in %.0f (tolerance %g%%)", errs, base, tolerance*100))
	}
	if result.ClientBound(r.Client.Cores, r.Client.CoresAvailable) {
		v.ClientBound = true
		fail(CheckClient, fmt.Sprintf("mqbench used %.2f of %d cores", r.Client.Cores, r.Client.CoresAvailable))
	}
	v.Pass = len(v.Failed) == 0
	return v
}

// errorCount is the nacks and returns of published messages, or the
// timeouts of RPC requests, and what they are out of.
func errorCount(r *result.Result, rpc bool) (errs, of float64) {
	t := r.Totals
	n := func(p *int64) float64 {
		if p == nil {
			return 0
		}
		return float64(*p)
	}
	if rpc {
		return n(t.RPCTimeouts), n(t.RPCRequests)
	}
	return n(t.Nacked) + n(t.Returned), float64(t.Published)
}

// BacklogSlope fits a line through the backlog samples of the measured
// intervals (least squares over their end times) and returns its slope in
// messages per second: one high sample does not fail a step, a steady
// climb does. Fewer than three samples give 0.
func BacklogSlope(intervals []result.Interval) float64 {
	var xs, ys []float64
	for _, iv := range intervals {
		if iv.Warmup || iv.Drain || iv.Backlog == nil || iv.Seconds <= 0 {
			continue
		}
		xs = append(xs, iv.TS)
		ys = append(ys, float64(*iv.Backlog))
	}
	n := float64(len(xs))
	if n < 3 {
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

// achievedRate is the load a run achieved: its publish rate, or for an
// RPC-only search (rpc) its request rate.
func achievedRate(r *result.Result, rpc bool) float64 {
	if rpc && r.Rates.RPCRequestsPerS != nil {
		return *r.Rates.RPCRequestsPerS
	}
	return r.Rates.PublishedPerS
}
