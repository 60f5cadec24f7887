// Package measure turns runs into numbers to compare: each run's figures
// by their catalogue path, and the median with its min–max spread over
// repeated runs — written in the shape of a result, so the same paths
// ("rates.consumed_per_s", "latency.end_to_end.p99_us") read a single
// result, a sweep variant's median and its spread.
package measure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/result"
)

// Values is one run's figures by catalogue path. A figure that does not
// apply to the run (null in its JSON) is absent.
type Values map[string]float64

// Of reads every catalogue figure of r, its kinds' and phases' included.
func Of(r *result.Result) Values {
	out := Values{}
	for _, f := range catalog.Present(r) {
		if v, ok := f.Value(r); ok {
			out[f.Path] = v
		}
	}
	return out
}

// Stat is a figure over repeated runs.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Overlaps reports whether two stats' min–max spreads overlap.
func (s Stat) Overlaps(o Stat) bool { return s.Min <= o.Max && o.Min <= s.Max }

// StatOf computes the stat of path over runs; false when any run lacks it
// (a median over some of the runs would compare unlike things).
func StatOf(runs []Values, path string) (Stat, bool) {
	if len(runs) == 0 {
		return Stat{}, false
	}
	vals := make([]float64, 0, len(runs))
	for _, r := range runs {
		v, ok := r[path]
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

// Summary is the median and min–max spread of every figure over some runs.
// In JSON both have the shape of a result: median.rates.consumed_per_s is a
// number, spread.rates.consumed_per_s is [min, max].
type Summary struct {
	Median Tree[float64]    `json:"median"`
	Spread Tree[[2]float64] `json:"spread"`
}

// Summarize builds the summary of runs over every figure all of them have.
func Summarize(runs []Values) Summary {
	s := Summary{Median: Tree[float64]{}, Spread: Tree[[2]float64]{}}
	paths := map[string]bool{}
	for _, r := range runs {
		for p := range r {
			paths[p] = true
		}
	}
	for p := range paths {
		if st, ok := StatOf(runs, p); ok {
			s.Median[p] = st.Median
			s.Spread[p] = [2]float64{st.Min, st.Max}
		}
	}
	return s
}

// Stat reads a figure back from a summary of n runs.
func (s Summary) Stat(path string, n int) (Stat, bool) {
	med, ok := s.Median[path]
	if !ok {
		return Stat{}, false
	}
	st := Stat{Median: med, Min: med, Max: med, N: n}
	if sp, ok := s.Spread[path]; ok {
		st.Min, st.Max = sp[0], sp[1]
	}
	return st, true
}

// Tree holds values by dotted path and is written as nested JSON objects
// ({"rates": {"consumed_per_s": …}}), the shape of a result.
type Tree[T any] map[string]T

// MarshalJSON nests the paths, in sorted order.
func (t Tree[T]) MarshalJSON() ([]byte, error) {
	root := map[string]any{}
	for path, v := range t {
		parts := strings.Split(path, ".")
		m := root
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
	return json.Marshal(root) // maps marshal with sorted keys
}

// UnmarshalJSON flattens nested objects back into dotted paths; every
// other value is a leaf of type T.
func (t *Tree[T]) UnmarshalJSON(b []byte) error {
	*t = Tree[T]{}
	return t.flatten("", b)
}

func (t Tree[T]) flatten(prefix string, b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		for k, v := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if err := t.flatten(p, v); err != nil {
				return err
			}
		}
		return nil
	}
	if prefix == "" || bytes.Equal(b, []byte("null")) {
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	t[prefix] = v
	return nil
}
