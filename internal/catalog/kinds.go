package catalog

import (
	"strings"

	"github.com/mqbench/mqbench/internal/result"
)

// kindFigure is the figure at a path under kinds: the figures a kind of
// worker reports of its own (result.KindFigures) — kinds.<kind>.counts.<name>
// (a count), kinds.<kind>.rates.<name> (per second, higher is better) and
// kinds.<kind>.latency.<name>.<stat> (a latency statistic, lower is
// better). They are not listed in All (which kinds a run has is only
// known from its result) but found by Lookup, so they can be compared,
// gated and used as capacity objectives like any other.
func kindFigure(path string) (Figure, bool) {
	parts := strings.Split(path, ".")
	if len(parts) < 4 || parts[0] != "kinds" {
		return Figure{}, false
	}
	kind, group, name := parts[1], parts[2], parts[3]
	figures := func(r *result.Result) *result.KindFigures {
		if r.Kinds == nil {
			return nil
		}
		return r.Kinds[kind]
	}
	f := Figure{Path: path, Kind: -1}
	switch {
	case group == "counts" && len(parts) == 4:
		f.Label, f.Unit, f.Better = kind+" "+name, Count, Neither
		f.get = func(r *result.Result) (float64, bool) {
			k := figures(r)
			if k == nil {
				return 0, false
			}
			v, ok := k.Counts[name]
			return float64(v), ok
		}
	case group == "rates" && len(parts) == 4:
		f.Label, f.Unit, f.Better, f.Gate = kind+" "+name+"/s", PerSecond, Higher, true
		f.get = func(r *result.Result) (float64, bool) {
			k := figures(r)
			if k == nil {
				return 0, false
			}
			v, ok := k.Rates[name]
			return v, ok
		}
	case group == "latency" && len(parts) == 5:
		st, ok := statByKey(parts[4])
		if !ok {
			return Figure{}, false
		}
		f.Label, f.Unit, f.Better, f.Gate = kind+" "+name+" "+st.label, Micros, Lower, st.gate
		if st.key == StatCount {
			f.Unit, f.Better, f.Gate = Count, Neither, false
		}
		f.get = func(r *result.Result) (float64, bool) {
			k := figures(r)
			if k == nil || k.Latency[name] == nil {
				return 0, false
			}
			return st.get(k.Latency[name]), true
		}
	default:
		return Figure{}, false
	}
	return f, true
}

// statByKey is the statistic of a latency summary with the JSON key key.
func statByKey(key string) (latencyStat, bool) {
	for _, s := range latencyStats {
		if s.key == key {
			return s, true
		}
	}
	return latencyStat{}, false
}
