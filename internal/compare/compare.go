// Package compare sets a candidate's figures beside a baseline's, pairs
// the variants of two sweeps by their parameters, and applies regression
// gates ("rates.consumed_per_s may drop by at most 5%").
package compare

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/sweep"
)

// Side is one file's variants, each as a summary with its run count.
type Side struct {
	File     string
	Variants []Variant
}

// Variant is one set of parameters and its figures.
type Variant struct {
	Params  map[string]string
	Runs    int // runs in the summary's medians
	Summary measure.Summary
}

// Key identifies a variant by its parameters, order-independently.
func (v Variant) Key() string {
	keys := make([]string, 0, len(v.Params))
	for k := range v.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + v.Params[k]
	}
	return strings.Join(parts, " ")
}

// FromResult makes a side of one variant from a single result.
func FromResult(file string, r *result.Result) Side {
	return Side{File: file, Variants: []Variant{{Params: map[string]string{}, Runs: 1,
		Summary: measure.Summarize([]measure.Values{measure.Of(r)})}}}
}

// FromCapacity makes a side of one variant from a capacity search: its
// answer, capacity.rate_per_s, is the figure a CI job gates (it fails when
// capacity drops).
func FromCapacity(file string, params map[string]string, d *capacity.Doc) Side {
	if params == nil {
		params = map[string]string{}
	}
	v := measure.Values{catalog.CapacityPath: d.Capacity.RatePerS}
	return Side{File: file, Variants: []Variant{{Params: params, Runs: 1, Summary: measure.Summarize([]measure.Values{v})}}}
}

// FromSweep makes a side from a sweep document; each variant's figures
// are the medians of its completed runs.
func FromSweep(file string, d *sweep.Doc) Side {
	s := Side{File: file}
	for _, v := range d.Variants {
		s.Variants = append(s.Variants, Variant{Params: v.Params, Runs: v.Counted(), Summary: v.Summary})
	}
	return s
}

// Gate is a regression threshold: the figure may get worse by at most Pct
// percent.
type Gate struct {
	Figure catalog.Figure
	Pct    float64
}

// ParseGate parses METRIC=PCT (PCT may end in %). The metric must be a
// catalogue figure that can be gated; the percentage finite and not
// negative.
func ParseGate(s string) (Gate, error) {
	m, p, ok := strings.Cut(s, "=")
	if !ok {
		return Gate{}, fmt.Errorf("--max-regression %q: want METRIC=PCT, e.g. rates.consumed_per_s=5", s)
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(p), "%"), 64)
	if err != nil || pct < 0 || math.IsInf(pct, 0) || math.IsNaN(pct) {
		return Gate{}, fmt.Errorf("--max-regression %s: %q is not a percentage (a finite number, 0 or more)", m, p)
	}
	f, err := catalog.Gateable(strings.TrimSpace(m))
	if err != nil {
		return Gate{}, fmt.Errorf("--max-regression: %w", err)
	}
	return Gate{Figure: f, Pct: pct}, nil
}

// Pair is a baseline variant and the candidate variant with the same
// parameters.
type Pair struct {
	Key        string
	Base, Cand Variant
}

// Pairing is how two sides matched up.
type Pairing struct {
	Pairs              []Pair
	OnlyBase, OnlyCand []string // keys without a partner
}

// Match pairs variants by parameters. Two sides of one variant each pair
// whatever their parameters (a result against a one-variant sweep).
func Match(base, cand Side) Pairing {
	if len(base.Variants) == 1 && len(cand.Variants) == 1 {
		return Pairing{Pairs: []Pair{{Key: cand.Variants[0].Key(), Base: base.Variants[0], Cand: cand.Variants[0]}}}
	}
	var p Pairing
	byKey := map[string]Variant{}
	for _, v := range cand.Variants {
		byKey[v.Key()] = v
	}
	seen := map[string]bool{}
	for _, b := range base.Variants {
		k := b.Key()
		if c, ok := byKey[k]; ok {
			p.Pairs = append(p.Pairs, Pair{Key: k, Base: b, Cand: c})
			seen[k] = true
		} else {
			p.OnlyBase = append(p.OnlyBase, k)
		}
	}
	for _, c := range cand.Variants {
		if !seen[c.Key()] {
			p.OnlyCand = append(p.OnlyCand, c.Key())
		}
	}
	return p
}

// Verdict is one gate applied to one pair.
type Verdict struct {
	Gate       Gate
	Key        string
	Base, Cand measure.Stat
	WorsePct   float64 // how much worse the candidate is (negative: better)
	Crossed    bool    // the threshold is exceeded
	Overlap    bool    // both sides repeated and their spreads overlap: not declared
	// Missing says which side lacks the figure (MissingBoth, "baseline",
	// "candidate", or a candidate without the baseline's variant); such a
	// gate cannot be evaluated, and fails.
	Missing string
}

// MissingBoth is Verdict.Missing when neither side has the figure.
const MissingBoth = "both sides"

// Regression reports whether the verdict declares a regression.
func (v Verdict) Regression() bool { return v.Crossed && !v.Overlap && v.Missing == "" }

// Failed reports whether the gate failed: a regression, or a figure one
// side lacks (a gate that cannot be checked must not pass silently).
func (v Verdict) Failed() bool { return v.Regression() || v.Missing != "" }

// Apply evaluates every gate on every pair. A baseline variant without a
// partner in the candidate fails every gate: its figures are missing.
func Apply(p Pairing, gates []Gate) []Verdict {
	var out []Verdict
	for _, pr := range p.Pairs {
		for _, g := range gates {
			out = append(out, judge(pr, g))
		}
	}
	for _, k := range p.OnlyBase {
		for _, g := range gates {
			out = append(out, Verdict{Gate: g, Key: k, Missing: "candidate (no variant with these parameters)"})
		}
	}
	return out
}

func judge(pr Pair, g Gate) Verdict {
	v := Verdict{Gate: g, Key: pr.Key}
	path := g.Figure.Path
	b, okB := pr.Base.Summary.Stat(path, pr.Base.Runs)
	c, okC := pr.Cand.Summary.Stat(path, pr.Cand.Runs)
	switch {
	case !okB && !okC:
		v.Missing = MissingBoth
	case !okB:
		v.Missing = "baseline"
	case !okC:
		v.Missing = "candidate"
	}
	if v.Missing != "" {
		return v
	}
	v.Base, v.Cand = b, c
	v.WorsePct = worse(g.Figure.Better, b.Median, c.Median)
	v.Crossed = v.WorsePct > g.Pct
	// With repeats on both sides, a difference inside the noise is not a
	// regression: only spreads that do not overlap declare one.
	v.Overlap = b.N > 1 && c.N > 1 && b.Overlaps(c)
	return v
}

// worse is how much worse cand is than base, in percent of base, for the
// figure's direction.
func worse(better catalog.Better, base, cand float64) float64 {
	if base == 0 {
		if cand == base {
			return 0
		}
		base = 1e-9 // any change from zero is infinitely large
	}
	d := (cand - base) / base * 100
	if better == catalog.Higher {
		return -d
	}
	return d
}
