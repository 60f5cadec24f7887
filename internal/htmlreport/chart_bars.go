package htmlreport

import (
	"math"
	"strconv"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
)

// barGroup is one group of bars: a sweep variant, labelled by its
// parameters (one per line), with one value per bar series (absent: no
// bar).
type barGroup struct {
	label string
	vals  []measure.Stat
	ok    []bool
}

// barSeries names and colours one bar of every group: a figure, or a side
// of a comparison.
type barSeries struct {
	label string
	color string
}

// groupFill is the share of a group's slot its bars take; the rest
// separates the groups.
const groupFill = 0.8

// barSlot places bar s of group g on the x axis, whose data units are
// groups: group g spans [g, g+1], its bars share the middle groupFill of
// it equally. It returns the bar's left edge and its width.
func barSlot(g, s, nSeries int) (left, width float64) {
	width = groupFill / float64(nSeries)
	return float64(g) + (1-groupFill)/2 + float64(s)*width, width
}

// barAxis chooses the value axis of a bar chart. Bars of latency spread
// over more than a factor of 20 (a prefetch of 1 with manual acks next to
// a prefetch of 1000) get a log axis, else a median of 40ms and one of 4s
// would leave the small bars invisible; everything else is linear from 0,
// the honest baseline for a bar.
func barAxis(unit catalog.Unit, lo, hi float64, title string) chart.Axis {
	a := chart.Axis{Title: title, Grid: true}
	if unit == catalog.Micros && lo > 0 && hi/lo > 20 {
		a.Log = true
		a.Title += " (log scale)"
		a.Lo, a.Hi, a.Ticks = chart.LogTicks(lo, hi, chart.MicrosLabel)
		return a
	}
	a.Lo, a.Hi, a.Ticks = chart.LinearTicks(0, hi, 5, tickFormat(unit))
	return a
}

// tickFormat is the tick label format of a unit.
func tickFormat(unit catalog.Unit) func(float64) string {
	switch unit {
	case catalog.Micros:
		return chart.MicrosLabel
	case catalog.Seconds:
		return chart.SecondsLabel
	case catalog.Cores:
		return chart.TrimmedSig3
	case catalog.Bytes:
		return func(v float64) string { return chart.TrimmedSig3(v/(1<<20)) + "MiB" }
	}
	return chart.RateLabel
}

// barChart draws grouped bars with min–max whiskers where a value is a
// median of several runs that differ.
func barChart(m *chart.Markup, spec chart.Spec, unit catalog.Unit, yTitle string, groups []barGroup, ss []barSeries) {
	lo, hi := math.Inf(1), 0.0
	for _, g := range groups {
		for i, st := range g.vals {
			if g.ok[i] {
				lo, hi = min(lo, st.Min, st.Median), max(hi, st.Max, st.Median)
			}
		}
	}
	ya := barAxis(unit, lo, hi, yTitle)
	xa := chart.Axis{Lo: 0, Hi: float64(len(groups)), Title: "variant"}
	for i, g := range groups {
		xa.Ticks = append(xa.Ticks, chart.Tick{V: float64(i) + 0.5, Label: g.label})
	}
	for _, s := range ss {
		spec.Legend = append(spec.Legend, chart.LegendItem{Label: s.label, Color: s.color, Shape: "box"})
	}
	if spec.Height == 0 {
		spec.Height = chart.Height + 20
	}
	f := chart.Begin(m, spec, xa, ya)
	for gi, g := range groups {
		for si, st := range g.vals {
			if g.ok[si] {
				drawBar(f, gi, si, len(ss), st, ss[si], unit, g.label)
			}
		}
	}
	f.End()
}

// drawBar draws one bar from the axis's bottom to the median, and its whisker.
func drawBar(f *chart.Frame, g, s, n int, st measure.Stat, bs barSeries, unit catalog.Unit, group string) {
	left, width := barSlot(g, s, n)
	x0, x1 := f.X.At(left), f.X.At(left+width)
	y := f.Y.At(st.Median)
	tip := oneLine(group) + " — " + bs.label + ": " + statText(unit, st)
	f.M.Open("rect", "class", "mark bar", "x", chart.Num(x0+1), "y", chart.Num(y), "width", chart.Num(max(x1-x0-2, 1)),
		"height", chart.Num(max(f.Bottom-y, 1)), "fill", bs.color)
	f.M.El("title", tip)
	f.M.Close("rect")
	if st.N <= 1 || st.Min == st.Max {
		return
	}
	cx, ylo, yhi := (x0+x1)/2, f.Y.At(st.Min), f.Y.At(st.Max)
	cw := min(6, (x1-x0)/3) // half the whisker cap's width
	num := chart.Num
	f.M.Open("path", "class", "mark whisker", "fill", "none", "stroke", black, "stroke-width", "1.2",
		"d", "M"+num(cx)+" "+num(ylo)+"V"+num(yhi)+"M"+num(cx-cw)+" "+num(ylo)+"H"+num(cx+cw)+"M"+num(cx-cw)+" "+num(yhi)+"H"+num(cx+cw))
	f.M.El("title", tip)
	f.M.Close("path")
}

// statText is a median with its spread and run count, as the grid prints
// it: "19,224 (18,900–19,500), 3 runs".
func statText(unit catalog.Unit, st measure.Stat) string {
	s := report.Value(unit, st.Median)
	if st.N > 1 && st.Min != st.Max {
		s += " (" + report.Value(unit, st.Min) + "–" + report.Value(unit, st.Max) + ")"
	}
	if st.N > 1 {
		s += ", " + strconv.Itoa(st.N) + " runs"
	}
	return s
}

// oneLine joins a multi-line group label with spaces.
func oneLine(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r == '\n' {
			out[i] = ' '
		}
	}
	return string(out)
}
