// Package measure names the figures of a result by dotted paths into its
// JSON ("rates.consumed_per_s", "latency.end_to_end.p99_us"), reads them
// from results and summaries alike, knows which way is better for each, and
// computes medians and spreads over repeated runs.
package measure

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Doc is a result (or a summary) as generic JSON, for path lookups.
type Doc map[string]any

// ToDoc converts any JSON-encodable value (a report.Result) to a Doc.
func ToDoc(v any) (Doc, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var d Doc
	return d, json.Unmarshal(b, &d)
}

// Lookup returns the number at path, or false when the path is absent or
// null (a measure that did not apply).
func (d Doc) Lookup(path string) (float64, bool) {
	var cur any = map[string]any(d)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false
		}
		if cur, ok = m[part]; !ok {
			return 0, false
		}
	}
	f, ok := cur.(float64)
	return f, ok
}

// Set stores v at path, creating the maps on the way.
func (d Doc) Set(path string, v any) {
	parts := strings.Split(path, ".")
	m := map[string]any(d)
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// Direction says which way a metric improves.
type Direction int

// Directions.
const (
	Unknown      Direction = iota
	HigherBetter           // throughput
	LowerBetter            // latency, cost, errors
)

// DirectionOf returns the direction of a metric path: rates are better
// higher; latencies, client cost and error counts lower.
func DirectionOf(path string) Direction {
	switch {
	case strings.HasPrefix(path, "rates."):
		return HigherBetter
	case strings.HasPrefix(path, "latency."), strings.HasPrefix(path, "client."):
		return LowerBetter
	}
	switch path {
	case "totals.nacked", "totals.returned", "totals.rpc_timeouts", "totals.rpc_unmatched",
		"totals.rpc_late", "totals.rpc_duplicates":
		return LowerBetter
	}
	return Unknown
}

var latencyFields = []string{"p50_us", "p75_us", "p90_us", "p95_us", "p99_us", "p999_us", "p9999_us", "max_us", "mean_us"}

// Standard lists the metrics summarized for every variant and compared by
// default: rates, every latency percentile, and client CPU.
func Standard() []string {
	out := []string{"rates.published_per_s", "rates.confirmed_per_s", "rates.consumed_per_s",
		"rates.rpc_requests_per_s", "rates.rpc_replies_per_s"}
	for _, l := range []string{"end_to_end", "confirm", "rpc", "rpc_server"} {
		for _, f := range latencyFields {
			out = append(out, "latency."+l+"."+f)
		}
	}
	return append(out, "client.cpu_s")
}

// Stat is a metric over repeated runs.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Overlaps reports whether two stats' min–max spreads overlap.
func (s Stat) Overlaps(o Stat) bool { return s.Min <= o.Max && o.Min <= s.Max }

// Of computes the stat of path over docs; false when any doc lacks it.
func Of(docs []Doc, path string) (Stat, bool) {
	if len(docs) == 0 {
		return Stat{}, false
	}
	vals := make([]float64, 0, len(docs))
	for _, d := range docs {
		v, ok := d.Lookup(path)
		if !ok {
			return Stat{}, false
		}
		vals = append(vals, v)
	}
	sort.Float64s(vals)
	n := len(vals)
	med := vals[n/2]
	if n%2 == 0 {
		med = (vals[n/2-1] + vals[n/2]) / 2
	}
	return Stat{Median: med, Min: vals[0], Max: vals[n-1], N: n}, true
}

// Summary is the median (and min–max spread) of every standard metric over
// some runs, shaped like a result so that the same paths read it.
type Summary struct {
	Median Doc `json:"median"`
	Spread Doc `json:"spread"` // path → [min, max]
}

// Summarize builds the summary of docs over the standard metrics.
func Summarize(docs []Doc) Summary {
	s := Summary{Median: Doc{}, Spread: Doc{}}
	for _, p := range Standard() {
		if st, ok := Of(docs, p); ok {
			s.Median.Set(p, st.Median)
			s.Spread.Set(p, []float64{st.Min, st.Max})
		}
	}
	return s
}

// Stat reads a metric back from a summary (n is the number of runs).
func (s Summary) Stat(path string, n int) (Stat, bool) {
	med, ok := s.Median.Lookup(path)
	if !ok {
		return Stat{}, false
	}
	st := Stat{Median: med, Min: med, Max: med, N: n}
	var cur any = map[string]any(s.Spread)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return st, true
		}
		cur = m[part]
	}
	switch mm := cur.(type) {
	case []float64:
		st.Min, st.Max = mm[0], mm[1]
	case []any:
		if len(mm) == 2 {
			st.Min, _ = mm[0].(float64)
			st.Max, _ = mm[1].(float64)
		}
	}
	return st, true
}

// CheckPath rejects a metric path a gate cannot use.
func CheckPath(path string) error {
	if DirectionOf(path) == Unknown {
		return fmt.Errorf("metric %q: not a known metric with a direction (use rates.*, latency.<kind>.<pXX_us>, client.cpu_s or totals.<errors>)", path)
	}
	return nil
}
