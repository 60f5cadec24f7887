// Package catalog defines every figure mqbench reports, once: its path in
// the result's JSON, its unit, which way is better, its label, and whether
// it can be gated. The result's fill, the summary table, the sweep grid,
// the medians of repeated runs, compare and its gates, CSV and markdown all
// read this one list, so a figure (a latency kind, a total) is added in one
// place.
package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// Unit says what a figure counts, and so how it is printed.
type Unit int

// Units.
const (
	Count     Unit = iota // events or messages
	PerSecond             // events per second
	Micros                // microseconds (latencies)
	Seconds               // seconds (CPU, wall)
	Bytes                 // bytes (memory)
	Cores                 // CPU cores
)

// Better says which way a figure improves.
type Better int

// Directions.
const (
	Neither Better = iota // a fact about the run (how many were published)
	Higher                // throughput
	Lower                 // latency, cost, errors
)

// String names the direction in words, as messages and tables show it.
func (b Better) String() string {
	switch b {
	case Higher:
		return "higher is better"
	case Lower:
		return "lower is better"
	}
	return "no direction"
}

// Figure is one number of a result.
type Figure struct {
	Path   string // dotted JSON path, e.g. "latency.end_to_end.p99_us"
	Label  string // short label for tables, grids, CSV and markdown
	Unit   Unit
	Better Better
	// Gate says whether the figure can be a regression gate or a capacity
	// objective: it has a direction and is comparable between runs.
	Gate bool
	// Kind is the latency kind of a latency figure, else -1.
	Kind metrics.Kind
	get  func(*result.Result) (float64, bool)
}

// Value reads the figure from a result; false when the measure does not
// apply to the run (null in the JSON).
func (f Figure) Value(r *result.Result) (float64, bool) {
	if r == nil {
		return 0, false
	}
	return f.get(r)
}

// Catalogue is the ordered list of figures with an index by path. It is
// built once by New and never changed.
type Catalogue struct {
	figures []Figure
	byPath  map[string]int
}

// std is the catalogue of mqbench.result/v1; read-only after initialisation.
var std = New()

// Std returns the catalogue of the current result schema.
func Std() *Catalogue { return std }

// All returns every figure in order: rates, totals, latencies, client cost.
// The slice must not be modified.
func All() []Figure { return std.figures }

// Lookup returns the figure at path: one of All, one a kind of worker
// reports of its own (kinds.<kind>.…, see kindFigure), or one of a phase
// (phases.<phase>.…, see phaseFigure).
func Lookup(path string) (Figure, bool) {
	i, ok := std.byPath[path]
	if ok {
		return std.figures[i], true
	}
	if f, ok := kindFigure(path); ok {
		return f, true
	}
	return phaseFigure(path)
}

// Present returns every figure r can have: All, then the figures of its
// kinds of worker and of its phases, which only its result says it has.
func Present(r *result.Result) []Figure {
	out := All()
	if r == nil || (len(r.Kinds) == 0 && len(r.Phases) == 0) {
		return out
	}
	out = append([]Figure(nil), out...)
	for _, p := range append(kindPaths(r), phasePaths(r)...) {
		if f, ok := Lookup(p); ok {
			out = append(out, f)
		}
	}
	return out
}

// kindPaths are the paths of every figure r's kinds of worker report.
func kindPaths(r *result.Result) []string {
	var out []string
	for name, k := range r.Kinds {
		if k == nil {
			continue
		}
		for c := range k.Counts {
			out = append(out, "kinds."+name+".counts."+c)
		}
		for c := range k.Rates {
			out = append(out, "kinds."+name+".rates."+c)
		}
		for op := range k.Latency {
			for _, st := range latencyStats {
				out = append(out, "kinds."+name+".latency."+op+"."+st.key)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Gateable returns the figure at path if it can be gated, or an error that
// says why not and lists the paths that can.
func Gateable(path string) (Figure, error) {
	f, ok := Lookup(path)
	switch {
	case !ok:
		return f, fmt.Errorf("unknown metric %q; metrics that can be gated: %s", path, GatePaths())
	case !f.Gate:
		return f, fmt.Errorf("metric %q cannot be gated (%s, %s); metrics that can: %s", path, f.Label, f.Better, GatePaths())
	}
	return f, nil
}

// GatePaths lists the gateable paths compactly: latency kinds and their
// percentiles are written once as latency.<kind>.<stat>.
func GatePaths() string {
	var plain []string
	for _, f := range std.figures {
		if f.Gate && f.Kind < 0 {
			plain = append(plain, f.Path)
		}
	}
	var kinds, stats []string
	for _, k := range metrics.Kinds() {
		kinds = append(kinds, k.String())
	}
	for _, s := range latencyStats {
		if s.gate {
			stats = append(stats, s.key)
		}
	}
	sort.Strings(plain)
	return strings.Join(plain, ", ") + ", latency.<" + strings.Join(kinds, "|") + ">.<" + strings.Join(stats, "|") + ">" +
		", phases.<phase>.<drain_s|recovery_s|backlog_peak>, phases.<phase>.rates.<published_per_s|confirmed_per_s|consumed_per_s>, phases.<phase>.latency.<kind>.<stat>"
}

// Latency returns the figure of one statistic ("p99_us") of a latency kind.
func Latency(k metrics.Kind, stat string) Figure {
	f, ok := Lookup("latency." + k.String() + "." + stat)
	if !ok {
		panic("catalog: no latency statistic " + stat) // a programming error, caught by tests
	}
	return f
}

// New builds the catalogue. Figures are listed in the order tables show
// them.
func New() *Catalogue {
	c := &Catalogue{byPath: map[string]int{}}
	c.addRates()
	c.addTotals()
	c.addLatencies()
	c.addClient()
	c.addDrain()
	c.addAudit()
	c.addCapacity()
	return c
}

func (c *Catalogue) add(f Figure) {
	if _, dup := c.byPath[f.Path]; dup {
		panic("catalog: figure listed twice: " + f.Path)
	}
	if f.get == nil {
		panic("catalog: figure without accessor: " + f.Path)
	}
	c.byPath[f.Path] = len(c.figures)
	c.figures = append(c.figures, f)
}

func num(v float64) (float64, bool) { return v, true }

func ptr[T int64 | float64](p *T) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return float64(*p), true
}
