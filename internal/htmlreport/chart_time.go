package htmlreport

import (
	"math"

	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// series is one line of a chart over time: y at each x, NaN where the
// interval has no value (the line breaks there rather than dropping to 0).
type series struct {
	label string
	color string
	dash  string
	xs    []float64
	ys    []float64
	fmt   func(float64) string // the tooltip's value format
}

// intervalRate is a count per second of one interval, NaN when the
// interval has no length.
func intervalRate(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return math.NaN()
	}
	return float64(n) / seconds
}

// chartIntervals are a run's intervals as the charts show them: folded
// (result.Fold), so a millisecond-long interval where the warm-up timer
// and the ticker fired together draws no spike, as in the CSV and merge.
func chartIntervals(r *result.Result) []result.Interval {
	return result.Fold(r.Intervals, r.Scenario.Interval.D())
}

// midpoints are the x positions of a run's intervals: the middle of each,
// since a rate is an average over the interval (t_s is its end).
func midpoints(iv []result.Interval) []float64 {
	xs := make([]float64, len(iv))
	for i, in := range iv {
		xs[i] = in.TS - in.Seconds/2
	}
	return xs
}

// rateSeries are a run's rates per interval: published, confirmed (with
// publisher confirms), consumed (with consumers) and RPC replies (with RPC
// clients).
func rateSeries(r *result.Result) []series {
	iv := chartIntervals(r)
	xs := midpoints(iv)
	mk := func(label, color string, count func(result.Interval) (int64, bool)) series {
		s := series{label: label, color: color, xs: xs, ys: make([]float64, len(iv)), fmt: report.Rate}
		for i, in := range iv {
			n, ok := count(in)
			s.ys[i] = math.NaN()
			if ok {
				s.ys[i] = intervalRate(n, in.Seconds)
			}
		}
		return s
	}
	var out []series
	if r.Scenario.Producers.Count > 0 || r.Totals.Published > 0 {
		out = append(out, mk("published/s", blue, func(in result.Interval) (int64, bool) { return in.Published, true }))
	}
	if r.Totals.Confirmed != nil {
		// dashed: with a full confirm window it lies on top of the others
		c := mk("confirmed/s", orange, func(in result.Interval) (int64, bool) { return in.Confirmed, true })
		c.dash = "5 3"
		out = append(out, c)
	}
	if r.Totals.Consumed != nil {
		out = append(out, mk("consumed/s", green, func(in result.Interval) (int64, bool) { return in.Consumed, true }))
	}
	if r.Totals.RPCReplies != nil {
		out = append(out, mk("rpc replies/s", purple, func(in result.Interval) (int64, bool) { return deref(in.RPCReplies) }))
	}
	return out
}

func deref(p *int64) (int64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// latencySeries are a run's per-interval latency percentiles; a series
// that no interval has is left out.
func latencySeries(r *result.Result) []series {
	iv := chartIntervals(r)
	xs := midpoints(iv)
	defs := []struct {
		label, color, dash string
		get                func(result.Interval) *int64
	}{
		{"e2e p50", sky, "", func(in result.Interval) *int64 { return in.E2EP50Us }},
		{"e2e p99", blue, "", func(in result.Interval) *int64 { return in.E2EP99Us }},
		{"confirm p99", orange, "", func(in result.Interval) *int64 { return in.ConfirmP99Us }},
		{"rpc p50", purple, "5 3", func(in result.Interval) *int64 { return in.RPCP50Us }},
		{"rpc p99", vermillion, "", func(in result.Interval) *int64 { return in.RPCP99Us }},
	}
	var out []series
	for _, d := range defs {
		s := series{label: d.label, color: d.color, dash: d.dash, xs: xs, ys: make([]float64, len(iv)),
			fmt: func(v float64) string { return report.Micros(int64(v)) }}
		seen := false
		for i, in := range iv {
			s.ys[i] = math.NaN()
			if p := d.get(in); p != nil {
				s.ys[i], seen = float64(*p), true
			}
		}
		if seen {
			out = append(out, s)
		}
	}
	return out
}

// extent returns the smallest and largest finite y over the series (on a
// log axis only positive values count); ok false when there is none.
func extent(ss []series, positive bool) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, y := range s.ys {
			if math.IsNaN(y) || (positive && y <= 0) {
				continue
			}
			lo, hi, ok = min(lo, y), max(hi, y), true
		}
	}
	return lo, hi, ok
}

// band is a shaded stretch of time on a time chart.
type band struct {
	from, to float64
	class    string // warmup, trouble, or phase-a and phase-b (alternating)
	tip      string
	label    string // written on the chart (a phase's name)
}

// runBands merges a run's consecutive warm-up intervals into one shaded
// band, and likewise the intervals that ended with a connection blocked by
// the broker or workers waiting for a lost connection; a phased run's
// phases come first (drawn behind), shaded in turn and named.
func runBands(iv []result.Interval) []band {
	out := phaseBands(iv)
	add := func(class, tip string, on func(result.Interval) bool) {
		for i := 0; i < len(iv); i++ {
			if !on(iv[i]) {
				continue
			}
			j := i
			for j+1 < len(iv) && on(iv[j+1]) {
				j++
			}
			out = append(out, band{from: iv[i].TS - iv[i].Seconds, to: iv[j].TS, class: class, tip: tip})
			i = j
		}
	}
	add("warmup", "warm-up (excluded from every statistic)", func(in result.Interval) bool { return in.Warmup })
	add("trouble", "blocked by the broker or disconnected", func(in result.Interval) bool { return in.Blocked > 0 || in.Disconnected > 0 })
	return out
}

// phaseBands are the bands of a phased run's phases: each phase's
// consecutive intervals (every boundary ends one), shaded in turn.
func phaseBands(iv []result.Interval) []band {
	var out []band
	for i := 0; i < len(iv); i++ {
		name := iv[i].Phase
		if name == "" || iv[i].Drain {
			continue
		}
		j := i
		for j+1 < len(iv) && iv[j+1].Phase == name && !iv[j+1].Drain {
			j++
		}
		class := "phase-a"
		if len(out)%2 == 1 {
			class = "phase-b"
		}
		out = append(out, band{from: iv[i].TS - iv[i].Seconds, to: iv[j].TS, class: class, tip: "phase " + name, label: name})
		i = j
	}
	return out
}

// bandLegend names the kinds of shaded bands a chart has.
func bandLegend(bands []band) []chart.LegendItem {
	var out []chart.LegendItem
	for _, k := range []struct{ class, label, color string }{
		{"phase-a", "phases (named)", "#e8eef8"}, {"warmup", "warm-up", "#eceef1"}, {"trouble", "blocked or disconnected", "#fbd9cc"},
	} {
		for _, b := range bands {
			if b.class == k.class {
				out = append(out, chart.LegendItem{Label: k.label, Color: k.color, Shape: "box"})
				break
			}
		}
	}
	return out
}

// timeChart draws series over time. Latencies use a log y axis (a stall
// of seconds and a median of milliseconds stay readable together); rates
// a linear one from zero.
func timeChart(m *chart.Markup, spec chart.Spec, ss []series, bands []band, logY bool, yTitle string, yFmt func(float64) string) {
	maxT := 0.0
	for _, s := range ss {
		for _, x := range s.xs {
			maxT = max(maxT, x)
		}
	}
	for _, b := range bands {
		maxT = max(maxT, b.to)
	}
	xa := chart.Axis{Title: "time since the start (s)", Grid: true}
	xa.Lo, xa.Hi, xa.Ticks = chart.LinearTicks(0, maxT, 8, chart.SecondsLabel)
	ya := chart.Axis{Title: yTitle, Grid: true, Log: logY}
	lo, hi, _ := extent(ss, logY)
	if logY {
		ya.Lo, ya.Hi, ya.Ticks = chart.LogTicks(lo, hi, yFmt)
	} else {
		ya.Lo, ya.Hi, ya.Ticks = chart.LinearTicks(0, hi, 5, yFmt)
	}
	for _, s := range ss {
		spec.Legend = append(spec.Legend, chart.LegendItem{Label: s.label, Color: s.color, Dash: s.dash})
	}
	spec.Legend = append(spec.Legend, bandLegend(bands)...)
	f := chart.Begin(m, spec, xa, ya)
	for _, b := range bands {
		f.Band(b.from, b.to, b.class, b.tip)
		if b.label != "" {
			f.BandLabel(b.from, b.to, b.label)
		}
	}
	for _, s := range ss {
		drawSeries(f, s)
	}
	f.End()
}

// drawSeries draws one line; with few points each gets a dot whose tooltip
// gives its value.
func drawSeries(f *chart.Frame, s series) {
	var d chart.Path
	finite := 0
	for i, y := range s.ys {
		if math.IsNaN(y) {
			d.Gap()
			continue
		}
		finite++
		d.Line(f.X.At(s.xs[i]), f.Y.At(y))
	}
	f.Line(&d, s.color, s.dash, s.label)
	if finite > 60 {
		return
	}
	for i, y := range s.ys {
		if !math.IsNaN(y) {
			f.Dot(f.X.At(s.xs[i]), f.Y.At(y), 2.5, s.color, s.label+" at "+chart.SecondsLabel(math.Round(s.xs[i]*10)/10)+": "+s.fmt(y))
		}
	}
}

// throughputChart is a run's rates per interval, warm-up shaded.
func throughputChart(m *chart.Markup, r *result.Result) {
	timeChart(m, chart.Spec{Kind: "throughput", Title: "Throughput per interval"}, rateSeries(r), runBands(chartIntervals(r)),
		false, "messages per second", chart.RateLabel)
}

// latencyTimeChart is a run's latency percentiles per interval.
func latencyTimeChart(m *chart.Markup, r *result.Result) {
	timeChart(m, chart.Spec{Kind: "latency", Title: "Latency percentiles per interval"}, latencySeries(r), runBands(chartIntervals(r)),
		true, "latency (log scale)", chart.MicrosLabel)
}

// drawable reports whether the series have at least one finite value (on
// a log axis, a positive one): a chart without would draw only axes.
func drawable(ss []series, logY bool) bool {
	_, _, ok := extent(ss, logY)
	return ok
}
