package htmlreport

import (
	"math"
	"strings"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// capacityFigure is the latency a capacity chart plots against the rate:
// the figure of the first objective on a latency (so its bound is a line
// on the same axis), else the end-to-end p99, or the RPC round trip's p99
// when no step measured end-to-end latency (an RPC-only search).
func capacityFigure(d *capacity.Doc) catalog.Figure {
	for _, o := range d.SLO {
		if f, ok := catalog.Lookup(o.Path); ok && f.Kind >= 0 && f.Unit == catalog.Micros {
			return f
		}
	}
	return catalog.Latency(d.LatencyKind(), catalog.StatP99)
}

// rpcOnly reports whether a run had RPC clients and no producers: its
// rate is the RPC requests', not the publishers'.
func rpcOnly(r *result.Result) bool {
	return r.Scenario.Producers.Count == 0 && r.Rates.RPCRequestsPerS != nil
}

// stepRate is the rate a step achieved: messages published per second, or
// RPC requests per second in an RPC-only search.
func stepRate(r *result.Result) float64 {
	if rpcOnly(r) {
		return *r.Rates.RPCRequestsPerS
	}
	return r.Rates.PublishedPerS
}

// capPoint is one step on the capacity chart.
type capPoint struct {
	rate, us float64
	step     capacity.Step
	n        int // the step's number, from 1
}

// capacityPoints are the steps that have a result with the plotted figure.
func capacityPoints(d *capacity.Doc, fig catalog.Figure) []capPoint {
	var out []capPoint
	for i, st := range d.Steps {
		if st.Result == nil {
			continue
		}
		if v, ok := fig.Value(st.Result); ok {
			out = append(out, capPoint{rate: stepRate(st.Result), us: v, step: st, n: i + 1})
		}
	}
	return out
}

// latencyObjectives are the objectives whose bound is a latency: each is a
// dashed line on the chart.
func latencyObjectives(d *capacity.Doc) []capacity.Objective {
	var out []capacity.Objective
	for _, o := range d.SLO {
		if f, ok := catalog.Lookup(o.Path); ok && f.Unit == catalog.Micros {
			out = append(out, o)
		}
	}
	return out
}

// capacityChart plots each step's latency against the rate it achieved,
// passing steps filled and failing ones hollow (colour and shape, so it
// reads in greyscale), with every latency objective's bound dashed and the
// capacity found as a vertical line.
func capacityChart(m *chart.Markup, d *capacity.Doc) {
	fig := capacityFigure(d)
	pts := capacityPoints(d, fig)
	objs := latencyObjectives(d)
	maxRate, lo, hi := d.Capacity.RatePerS, math.Inf(1), 0.0
	for _, p := range pts {
		maxRate, lo, hi = max(maxRate, p.rate), min(lo, p.us), max(hi, p.us)
	}
	for _, o := range objs {
		lo, hi = min(lo, o.Max), max(hi, o.Max)
	}
	xTitle := "achieved publish rate (messages/s)"
	if len(pts) > 0 && rpcOnly(pts[0].step.Result) {
		xTitle = "achieved RPC request rate (requests/s)"
	}
	xa := chart.Axis{Title: xTitle, Grid: true}
	xa.Lo, xa.Hi, xa.Ticks = chart.LinearTicks(0, maxRate*1.05, 8, chart.RateLabel)
	ya := chart.Axis{Title: fig.Label + " (log scale)", Grid: true, Log: true}
	ya.Lo, ya.Hi, ya.Ticks = chart.LogTicks(lo, hi, chart.MicrosLabel)
	spec := chart.Spec{Kind: "capacity", Title: "Latency against achieved rate, per step", Height: chart.Height + 40,
		Legend: []chart.LegendItem{{Label: "step passed", Color: passColor, Shape: "dot"}, {Label: "step failed (hollow)", Color: failColor, Shape: "dot"}}}
	f := chart.Begin(m, spec, xa, ya)
	for _, o := range objs {
		ofig, _ := catalog.Lookup(o.Path)
		f.HLine(o.Max, failColor, "objective "+ofig.Label+" ≤ "+report.Micros(int64(o.Max)))
	}
	if d.Capacity.RatePerS > 0 {
		label := "capacity " + report.Rate(d.Capacity.RatePerS) + "/s"
		if d.Capacity.LimitedBy != "" {
			label += " (limited by " + figureName(d.Capacity.LimitedBy) + ")"
		}
		f.VLine(d.Capacity.RatePerS, blue, label)
	}
	drawTrend(f, pts)
	for _, p := range pts {
		drawStep(f, p, fig)
	}
	f.End()
}

// figureName is a catalogue path's label ("e2e p99"), or the text itself
// (a check such as "backlog").
func figureName(path string) string {
	if f, ok := catalog.Lookup(path); ok {
		return f.Label
	}
	return path
}

// drawTrend joins the steps in order of rate with a faint line, to
// show the knee of the curve.
func drawTrend(f *chart.Frame, pts []capPoint) {
	sorted := append([]capPoint(nil), pts...)
	for i := 1; i < len(sorted); i++ { // insertion sort: stable, a handful of steps
		for j := i; j > 0 && sorted[j].rate < sorted[j-1].rate; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	var d chart.Path
	for _, p := range sorted {
		d.Line(f.X.At(p.rate), f.Y.At(p.us))
	}
	if len(sorted) > 1 {
		f.M.Leaf("path", "class", "trend", "d", d.String(), "fill", "none", "stroke", "#b8bcc4", "stroke-width", "1.2")
	}
}

// drawStep draws one step, its tooltip saying what it was and how it
// fared.
func drawStep(f *chart.Frame, p capPoint, fig catalog.Figure) {
	st := p.step
	verdict := "passed"
	if !st.Pass {
		verdict = "failed: " + strings.Join(st.Failed, ", ")
	}
	tip := "step " + itoa(p.n) + " (" + st.Phase + ") at target " + report.Rate(st.TargetRate) + "/s: achieved " +
		report.Rate(p.rate) + "/s, " + fig.Label + " " + report.Micros(int64(p.us)) + " — " + verdict
	kv := []string{"class", "mark step", "cx", chart.Num(f.X.At(p.rate)), "cy", chart.Num(f.Y.At(p.us)), "r", "5.5"}
	if st.Pass {
		kv = append(kv, "fill", passColor)
	} else {
		kv = append(kv, "fill", "#ffffff", "stroke", failColor, "stroke-width", "2.5")
	}
	f.M.Open("circle", kv...)
	f.M.El("title", tip)
	f.M.Close("circle")
}
