package catalog

import (
	"strings"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// phaseScalar is one number of a phase (result.Phase) at
// phases.<phase>.<key>.
type phaseScalar struct {
	key, label string
	unit       Unit
	better     Better
	get        func(ph *result.Phase) (float64, bool)
}

// phaseScalars are a phase's own numbers, in the order its table shows
// them: its length, its backlog and what users time a phase by — the
// drain (to an empty backlog) and the recovery (to the steady latency).
var phaseScalars = []phaseScalar{
	{"start_s", "start s", Seconds, Neither, func(ph *result.Phase) (float64, bool) { return ph.StartS, true }},
	{"end_s", "end s", Seconds, Neither, func(ph *result.Phase) (float64, bool) { return ph.EndS, true }},
	{"s", "s", Seconds, Neither, func(ph *result.Phase) (float64, bool) { return ph.Seconds, true }},
	{"backlog_start", "backlog start", Count, Neither, func(ph *result.Phase) (float64, bool) { return ptr(ph.BacklogStart) }},
	{"backlog_end", "backlog end", Count, Neither, func(ph *result.Phase) (float64, bool) { return ptr(ph.BacklogEnd) }},
	{"backlog_peak", "backlog peak", Count, Lower, func(ph *result.Phase) (float64, bool) { return ptr(ph.BacklogPeak) }},
	{"drain_s", "drain s", Seconds, Lower, func(ph *result.Phase) (float64, bool) { return ptr(ph.DrainS) }},
	{"recovery_s", "recovery s", Seconds, Lower, func(ph *result.Phase) (float64, bool) { return ptr(ph.RecoveryS) }},
}

// phaseCounts are a phase's totals (phases.<phase>.totals.<key>) and
// phaseRates its rates (phases.<phase>.rates.<key>).
var (
	phaseCounts = []phaseScalar{
		{"published", "published", Count, Neither, func(ph *result.Phase) (float64, bool) { return float64(ph.Totals.Published), true }},
		{"confirmed", "confirmed", Count, Neither, func(ph *result.Phase) (float64, bool) { return float64(ph.Totals.Confirmed), true }},
		{"consumed", "consumed", Count, Neither, func(ph *result.Phase) (float64, bool) { return float64(ph.Totals.Consumed), true }},
		{"returned", "returned", Count, Lower, func(ph *result.Phase) (float64, bool) { return float64(ph.Totals.Returned), true }},
		{"nacked", "nacked", Count, Lower, func(ph *result.Phase) (float64, bool) { return float64(ph.Totals.Nacked), true }},
	}
	phaseRates = []phaseScalar{
		{"published_per_s", "published/s", PerSecond, Higher, func(ph *result.Phase) (float64, bool) { return ph.Rates.PublishedPerS, true }},
		{"confirmed_per_s", "confirmed/s", PerSecond, Higher, func(ph *result.Phase) (float64, bool) { return ph.Rates.ConfirmedPerS, true }},
		{"consumed_per_s", "consumed/s", PerSecond, Higher, func(ph *result.Phase) (float64, bool) { return ph.Rates.ConsumedPerS, true }},
	}
)

// phaseFigure is the figure at a path under phases: a phased run's
// per-phase figures — phases.<phase>.<key> (phaseScalars),
// phases.<phase>.totals.<count>, phases.<phase>.rates.<rate> and
// phases.<phase>.latency.<kind>.<stat>. Like the kinds' figures they are
// not listed in All (a run's phases are known from its result only) but
// found by Lookup, and listed for one result by Present: compare, gates,
// sweep medians and capacity objectives take them like any other.
func phaseFigure(path string) (Figure, bool) {
	parts := strings.Split(path, ".")
	if len(parts) < 3 || parts[0] != "phases" {
		return Figure{}, false
	}
	name := parts[1]
	phase := func(r *result.Result) *result.Phase {
		for i := range r.Phases {
			if r.Phases[i].Name == name {
				return &r.Phases[i]
			}
		}
		return nil
	}
	scalar := func(s phaseScalar) Figure {
		return Figure{Path: path, Label: name + " " + s.label, Unit: s.unit, Better: s.better, Gate: s.better != Neither, Kind: -1,
			get: func(r *result.Result) (float64, bool) {
				if ph := phase(r); ph != nil {
					return s.get(ph)
				}
				return 0, false
			}}
	}
	find := func(list []phaseScalar, key string) (Figure, bool) {
		for _, s := range list {
			if s.key == key {
				return scalar(s), true
			}
		}
		return Figure{}, false
	}
	switch {
	case len(parts) == 3:
		return find(phaseScalars, parts[2])
	case len(parts) == 4 && parts[2] == "totals":
		return find(phaseCounts, parts[3])
	case len(parts) == 4 && parts[2] == "rates":
		return find(phaseRates, parts[3])
	case len(parts) == 5 && parts[2] == "latency":
		return phaseLatency(path, name, parts[3], parts[4], phase)
	}
	return Figure{}, false
}

// phaseLatency is the figure of one statistic of one latency kind of a
// phase.
func phaseLatency(path, name, kindKey, statKey string, phase func(*result.Result) *result.Phase) (Figure, bool) {
	st, ok := statByKey(statKey)
	if !ok {
		return Figure{}, false
	}
	for _, k := range metrics.Kinds() {
		if k.String() != kindKey {
			continue
		}
		f := Figure{Path: path, Label: name + " " + k.Info().Short + " " + st.label, Unit: Micros, Better: Lower, Gate: st.gate, Kind: k,
			get: func(r *result.Result) (float64, bool) {
				ph := phase(r)
				if ph == nil || ph.Latency[k] == nil {
					return 0, false
				}
				return st.get(ph.Latency[k]), true
			}}
		if st.key == StatCount {
			f.Unit, f.Better, f.Gate = Count, Neither, false
		}
		return f, true
	}
	return Figure{}, false
}

// phasePaths are the paths of every figure r's phases have.
func phasePaths(r *result.Result) []string {
	var out []string
	for _, ph := range r.Phases {
		pre := "phases." + ph.Name + "."
		for _, s := range phaseScalars {
			out = append(out, pre+s.key)
		}
		for _, s := range phaseCounts {
			out = append(out, pre+"totals."+s.key)
		}
		for _, s := range phaseRates {
			out = append(out, pre+"rates."+s.key)
		}
		for _, k := range metrics.Kinds() {
			if ph.Latency[k] == nil {
				continue
			}
			for _, st := range latencyStats {
				out = append(out, pre+"latency."+k.String()+"."+st.key)
			}
		}
	}
	return out
}
