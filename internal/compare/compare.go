// Package compare sets a candidate's figures beside a baseline's, pairs
// the variants of two sweeps by their parameters, and applies regression
// gates ("rates.consumed_per_s may drop by at most 5%").
package compare

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
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
	Runs    int
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
func FromResult(file string, r *report.Result) (Side, error) {
	d, err := measure.ToDoc(r)
	if err != nil {
		return Side{}, err
	}
	return Side{File: file, Variants: []Variant{{Params: map[string]string{}, Runs: 1, Summary: measure.Summarize([]measure.Doc{d})}}}, nil
}

// FromSweep makes a side from a sweep document.
func FromSweep(file string, d *sweep.Doc) Side {
	s := Side{File: file}
	for _, v := range d.Variants {
		s.Variants = append(s.Variants, Variant{Params: v.Params, Runs: len(v.Runs), Summary: v.Summary})
	}
	return s
}

// Gate is a regression threshold: Metric may get worse by at most Pct percent.
type Gate struct {
	Metric string
	Pct    float64
}

// ParseGate parses METRIC=PCT (PCT may end in %).
func ParseGate(s string) (Gate, error) {
	m, p, ok := strings.Cut(s, "=")
	if !ok {
		return Gate{}, fmt.Errorf("--max-regression %q: want METRIC=PCT, e.g. rates.consumed_per_s=5", s)
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(p), "%"), 64)
	if err != nil || pct < 0 {
		return Gate{}, fmt.Errorf("--max-regression %s: %q is not a percentage", m, p)
	}
	if err := measure.CheckPath(m); err != nil {
		return Gate{}, fmt.Errorf("--max-regression: %w", err)
	}
	return Gate{Metric: m, Pct: pct}, nil
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
	Missing    bool    // a side lacks the metric
}

// Regression reports whether the verdict declares a regression.
func (v Verdict) Regression() bool { return v.Crossed && !v.Overlap && !v.Missing }

// Apply evaluates every gate on every pair.
func Apply(p Pairing, gates []Gate) []Verdict {
	var out []Verdict
	for _, pr := range p.Pairs {
		for _, g := range gates {
			out = append(out, judge(pr, g))
		}
	}
	return out
}

func judge(pr Pair, g Gate) Verdict {
	v := Verdict{Gate: g, Key: pr.Key}
	b, okB := pr.Base.Summary.Stat(g.Metric, pr.Base.Runs)
	c, okC := pr.Cand.Summary.Stat(g.Metric, pr.Cand.Runs)
	if !okB || !okC {
		v.Missing = true
		return v
	}
	v.Base, v.Cand = b, c
	v.WorsePct = worse(g.Metric, b.Median, c.Median)
	v.Crossed = v.WorsePct > g.Pct
	// With repeats on both sides, a difference inside the noise is not a
	// regression: only spreads that do not overlap declare one.
	v.Overlap = b.N > 1 && c.N > 1 && b.Overlaps(c)
	return v
}

// worse is how much worse cand is than base, in percent of base, for the
// metric's direction.
func worse(metric string, base, cand float64) float64 {
	if base == 0 {
		if cand == base {
			return 0
		}
		base = 1e-9 // any change from zero is infinitely large
	}
	d := (cand - base) / base * 100
	if measure.DirectionOf(metric) == measure.HigherBetter {
		return -d
	}
	return d
}
