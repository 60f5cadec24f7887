// Package sweep runs one scenario over a matrix of parameters — every
// combination, each possibly repeated — and summarizes each variant by the
// median of its runs, so that settings are compared on more than noise.
package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Schema identifies the sweep document.
const Schema = "mqbench.sweep/v1"

// Doc is a whole sweep: every variant with its runs and summary.
type Doc struct {
	Schema     string      `json:"schema"`
	Tool       result.Tool `json:"tool"`
	Name       string      `json:"name"`
	ParamNames []string    `json:"param_names"` // in matrix order
	Repeat     int         `json:"repeat"`
	StartedAt  time.Time   `json:"started_at"`
	EndedAt    time.Time   `json:"ended_at"`
	StopReason string      `json:"stop_reason"` // completed, interrupted or error
	Variants   []Variant   `json:"variants"`
}

// Variant is one combination of parameters.
type Variant struct {
	Params map[string]string `json:"params"` // keyed by the names as the user wrote them
	Runs   []*result.Result  `json:"runs"`
	// Excluded lists the runs (indexes into Runs) left out of the median
	// because they did not complete: interrupted, or failed.
	Excluded []int `json:"excluded,omitempty"`
	measure.Summary
}

// Counted is the number of runs in the variant's median.
func (v Variant) Counted() int { return len(v.Runs) - len(v.Excluded) }

// Note says which runs the median leaves out, or "".
func (v Variant) Note() string {
	if len(v.Excluded) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d runs in the median (%d did not complete)", v.Counted(), len(v.Runs), len(v.Excluded))
}

// Config says how to run a sweep.
type Config struct {
	Name     string
	Tool     result.Tool
	Matrix   scenario.Matrix
	Repeat   int
	Cooldown time.Duration
	// Build makes the scenario of one point (already validated).
	Build func(scenario.Point) (scenario.Scenario, error)
	// Run runs one variant's scenario; a nil result means nothing was
	// measured.
	Run func(ctx context.Context, sc scenario.Scenario, p scenario.Point) (*result.Result, error)
	// Progress is told before each run (may be nil).
	Progress func(variant, variants, run, runs int, p scenario.Point)
}

// Run runs every point of the matrix Repeat times, declaring fresh topology
// for each run (each run is a whole mqbench run) and pausing Cooldown
// between runs. ctx ending stops the sweep after the current run; what was
// measured is kept. A failed run ends the sweep with its error, and the
// document holds everything measured until then.
func Run(ctx context.Context, cfg Config) (*Doc, error) {
	if cfg.Repeat < 1 {
		cfg.Repeat = 1
	}
	points := cfg.Matrix.Points()
	scs := make([]scenario.Scenario, len(points))
	for i, p := range points { // every variant is checked before anything runs
		sc, err := cfg.Build(p)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", p, err)
		}
		scs[i] = sc
	}
	doc := &Doc{Schema: Schema, Tool: cfg.Tool, Name: cfg.Name, Repeat: cfg.Repeat, StartedAt: time.Now().UTC(), StopReason: "completed"}
	for _, p := range cfg.Matrix {
		doc.ParamNames = append(doc.ParamNames, p.Name)
	}
	var runErr error
	first := true
sweep:
	for i, p := range points {
		v := Variant{Params: p.Map()}
		for r := 0; r < cfg.Repeat; r++ {
			if !first && cfg.Cooldown > 0 {
				select {
				case <-time.After(cfg.Cooldown):
				case <-ctx.Done():
				}
			}
			first = false
			if ctx.Err() != nil {
				doc.StopReason = result.StopInterrupted
				doc.add(v)
				break sweep
			}
			if cfg.Progress != nil {
				cfg.Progress(i+1, len(points), r+1, cfg.Repeat, p)
			}
			res, err := cfg.Run(ctx, scs[i], p)
			if res != nil {
				v.Runs = append(v.Runs, res)
			}
			if err != nil || (res != nil && res.StopReason == result.StopInterrupted) {
				runErr = err
				doc.StopReason = result.StopInterrupted
				if err != nil {
					doc.StopReason = result.StopError
				}
				doc.add(v)
				break sweep
			}
		}
		doc.add(v)
	}
	doc.EndedAt = time.Now().UTC()
	return doc, runErr
}

// add summarizes v and appends it, unless it has no run. Only completed
// runs enter the median: an interrupted or failed run measured less than
// the others, and averaging it in would bias the variant.
func (d *Doc) add(v Variant) {
	if len(v.Runs) == 0 {
		return
	}
	var vals []measure.Values
	for i, r := range v.Runs {
		if !Completed(r) {
			v.Excluded = append(v.Excluded, i)
			continue
		}
		vals = append(vals, measure.Of(r))
	}
	v.Summary = measure.Summarize(vals)
	d.Variants = append(d.Variants, v)
}

// Completed reports whether a run ran to its end: stopped by its duration,
// its message count or its exit condition, not interrupted and not failed.
func Completed(r *result.Result) bool {
	switch r.StopReason {
	case result.StopDuration, result.StopMessageCount, result.StopQueuesEmpty, result.StopIdle:
		return true
	}
	return false
}

// Load reads a sweep document.
func Load(path string) (*Doc, error) {
	var d Doc
	if err := result.LoadDoc(path, Schema, &d, func() string { return d.Schema }); err != nil {
		return nil, err
	}
	return &d, nil
}

// Grid is the sweep's comparison table: one row per variant.
func (d *Doc) Grid() report.Grid {
	g := report.Grid{Params: d.ParamNames}
	for _, v := range d.Variants {
		row := report.GridRow{Params: v.Params, Runs: v.Counted(), Stats: map[string]measure.Stat{}, Note: v.Note()}
		for _, f := range catalog.Grid() {
			if st, ok := v.Summary.Stat(f.Path, v.Counted()); ok {
				row.Stats[f.Path] = st
			}
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}
