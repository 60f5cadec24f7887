package htmlreport

import (
	"math"
	"strconv"

	"github.com/mqbench/mqbench/internal/catalog"
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
func barAxis(unit catalog.Unit, lo, hi float64, title string) axisDef {
	a := axisDef{title: title, grid: true}
	if unit == catalog.Micros && lo > 0 && hi/lo > 20 {
		a.log = true
		a.title += " (log scale)"
		a.lo, a.hi, a.ticks = logTicks(lo, hi, fmtMicros)
		return a
	}
	a.lo, a.hi, a.ticks = linearTicks(0, hi, 5, tickFormat(unit))
	return a
}

// tickFormat is the tick label format of a unit.
func tickFormat(unit catalog.Unit) func(float64) string {
	switch unit {
	case catalog.Micros:
		return fmtMicros
	case catalog.Seconds:
		return fmtSeconds
	case catalog.Cores:
		return sig3
	case catalog.Bytes:
		return func(v float64) string { return sig3(v/(1<<20)) + "MiB" }
	}
	return fmtRate
}

// barChart draws grouped bars with min–max whiskers where a value is a
// median of several runs that differ.
func barChart(m *markup, spec chartSpec, unit catalog.Unit, yTitle string, groups []barGroup, ss []barSeries) {
	lo, hi := math.Inf(1), 0.0
	for _, g := range groups {
		for i, st := range g.vals {
			if g.ok[i] {
				lo, hi = min(lo, st.Min, st.Median), max(hi, st.Max, st.Median)
			}
		}
	}
	ya := barAxis(unit, lo, hi, yTitle)
	xa := axisDef{lo: 0, hi: float64(len(groups)), title: "variant"}
	for i, g := range groups {
		xa.ticks = append(xa.ticks, tick{float64(i) + 0.5, g.label})
	}
	for _, s := range ss {
		spec.legend = append(spec.legend, legendItem{label: s.label, color: s.color, shape: "box"})
	}
	if spec.height == 0 {
		spec.height = chartHeight + 20
	}
	f := beginChart(m, spec, xa, ya)
	for gi, g := range groups {
		for si, st := range g.vals {
			if g.ok[si] {
				f.bar(gi, si, len(ss), st, ss[si], unit, g.label)
			}
		}
	}
	f.end()
}

// bar draws one bar from the axis's bottom to the median, and its whisker.
func (f *frame) bar(g, s, n int, st measure.Stat, bs barSeries, unit catalog.Unit, group string) {
	left, width := barSlot(g, s, n)
	x0, x1 := f.x.at(left), f.x.at(left+width)
	y := f.y.at(st.Median)
	tip := oneLine(group) + " — " + bs.label + ": " + statText(unit, st)
	f.m.open("rect", "class", "mark bar", "x", num(x0+1), "y", num(y), "width", num(max(x1-x0-2, 1)),
		"height", num(max(f.bottom-y, 1)), "fill", bs.color)
	f.m.el("title", tip)
	f.m.close("rect")
	if st.N <= 1 || st.Min == st.Max {
		return
	}
	cx, ylo, yhi := (x0+x1)/2, f.y.at(st.Min), f.y.at(st.Max)
	cw := min(6, (x1-x0)/3) // half the whisker cap's width
	f.m.open("path", "class", "mark whisker", "fill", "none", "stroke", black, "stroke-width", "1.2",
		"d", "M"+num(cx)+" "+num(ylo)+"V"+num(yhi)+"M"+num(cx-cw)+" "+num(ylo)+"H"+num(cx+cw)+"M"+num(cx-cw)+" "+num(yhi)+"H"+num(cx+cw))
	f.m.el("title", tip)
	f.m.close("path")
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
