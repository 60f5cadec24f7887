package htmlreport

import (
	"strings"
)

// Chart geometry, in SVG user units (the viewBox; CSS scales the chart to
// the page's width, so text keeps its proportions).
const (
	chartWidth  = 880.0
	chartHeight = 300.0
	titleY      = 20.0
	legendRowH  = 16.0
	tickFont    = 6.2 // estimated width of one character of tick text (11px)
	legendFont  = 6.8 // of legend text (12px)
)

// axisDef is one axis: its domain, whether it is logarithmic, its labelled
// ticks, and its title.
type axisDef struct {
	lo, hi float64
	log    bool
	ticks  []tick
	title  string
	grid   bool // draw a grid line at each tick
}

// legendItem is one entry of a chart's legend.
type legendItem struct {
	label string
	color string
	dash  string // stroke-dasharray of a line swatch; "" = solid
	shape string // "line" (default), "box" or "dot"
}

// chartSpec is what a chart's frame needs.
type chartSpec struct {
	kind   string // the data-chart attribute: throughput, latency, spectrum, sweep, capacity
	title  string
	legend []legendItem
	height float64 // 0 = chartHeight
}

// frame is a chart being drawn: its plot area and its scales. Marks are
// drawn by the chart's own code between beginChart and end.
type frame struct {
	m                        *markup
	x, y                     scale
	left, top, right, bottom float64
}

// legendRows lays the legend out left to right, wrapping at the chart's
// width; it returns each item's position and the number of rows.
func legendRows(items []legendItem, left float64) (xs []float64, rows []int, n int) {
	x, row := left, 0
	for _, it := range items {
		w := 26 + legendFont*float64(len([]rune(it.label))) + 14
		if x+w > chartWidth-10 && x > left {
			x, row = left, row+1
		}
		xs, rows = append(xs, x), append(rows, row)
		x += w
	}
	if len(items) > 0 {
		n = row + 1
	}
	return xs, rows, n
}

// margins computes the plot area: room on the left for the widest y tick
// label, at the top for the title and legend rows, at the bottom for the
// x tick labels (several lines for a sweep's parameters) and title.
func margins(spec chartSpec, xa, ya axisDef) (left, top, right, bottom float64) {
	widest := 0
	for _, t := range ya.ticks {
		widest = max(widest, len([]rune(t.label)))
	}
	left = max(52, 30+tickFont*float64(widest))
	_, _, rows := legendRows(spec.legend, left)
	top = titleY + 14 + legendRowH*float64(rows)
	lines := 1
	for _, t := range xa.ticks {
		lines = max(lines, strings.Count(t.label, "\n")+1)
	}
	h := spec.height
	if h == 0 {
		h = chartHeight
	}
	// The right margin leaves room for half of the last x tick label
	// ("99.999%"), which is centred on the plot's right edge.
	return left, top, chartWidth - 34, h - (22 + 13*float64(lines) + 10)
}

// beginChart opens the chart's <svg> and draws its title, legend, grid,
// axes and tick labels; the caller draws the marks and calls end.
func beginChart(m *markup, spec chartSpec, xa, ya axisDef) *frame {
	h := spec.height
	if h == 0 {
		h = chartHeight
	}
	m.charts++
	m.open("svg", "class", "chart", "data-chart", spec.kind, "viewBox", "0 0 "+num(chartWidth)+" "+num(h),
		"role", "img", "aria-label", spec.title)
	m.b.WriteByte('\n')
	left, top, right, bottom := margins(spec, xa, ya)
	f := &frame{m: m, left: left, top: top, right: right, bottom: bottom,
		x: scale{lo: xa.lo, hi: xa.hi, r0: left, r1: right, log: xa.log},
		y: scale{lo: ya.lo, hi: ya.hi, r0: bottom, r1: top, log: ya.log}}
	m.el("text", spec.title, "class", "title", "x", num(left), "y", num(titleY))
	f.legend(spec.legend)
	f.yAxis(ya)
	f.xAxis(xa)
	return f
}

// end closes the chart.
func (f *frame) end() { f.m.close("svg") }

func (f *frame) legend(items []legendItem) {
	xs, rows, _ := legendRows(items, f.left)
	for i, it := range items {
		x, y := xs[i], titleY+16+legendRowH*float64(rows[i])
		switch it.shape {
		case "box":
			f.m.leaf("rect", "class", "swatch", "x", num(x), "y", num(y-9), "width", "18", "height", "10", "fill", it.color)
		case "dot":
			f.m.leaf("circle", "class", "swatch", "cx", num(x+9), "cy", num(y-4), "r", "4", "fill", it.color)
		default:
			kv := []string{"class", "swatch", "x1", num(x), "x2", num(x + 18), "y1", num(y - 4), "y2", num(y - 4),
				"stroke", it.color, "stroke-width", "2.5"}
			if it.dash != "" {
				kv = append(kv, "stroke-dasharray", it.dash)
			}
			f.m.leaf("line", kv...)
		}
		f.m.el("text", it.label, "class", "legend", "x", num(x+24), "y", num(y))
	}
	f.m.b.WriteByte('\n')
}

func (f *frame) yAxis(a axisDef) {
	for _, t := range a.ticks {
		y := f.y.at(t.v)
		if a.grid {
			f.m.leaf("line", "class", "grid", "x1", num(f.left), "x2", num(f.right), "y1", num(y), "y2", num(y))
		}
		f.m.el("text", t.label, "class", "tick", "x", num(f.left-6), "y", num(y+4), "text-anchor", "end")
	}
	f.m.leaf("line", "class", "axis", "x1", num(f.left), "x2", num(f.left), "y1", num(f.top), "y2", num(f.bottom))
	mid := (f.top + f.bottom) / 2
	f.m.el("text", a.title, "class", "axis-title", "x", "14", "y", num(mid), "text-anchor", "middle",
		"transform", "rotate(-90 14 "+num(mid)+")")
	f.m.b.WriteByte('\n')
}

// xAxis draws the x ticks; a label with newlines (a sweep variant's
// parameters) is written as one line per parameter.
func (f *frame) xAxis(a axisDef) {
	lines := 1
	for _, t := range a.ticks {
		x := f.x.at(t.v)
		if a.grid {
			f.m.leaf("line", "class", "grid", "x1", num(x), "x2", num(x), "y1", num(f.top), "y2", num(f.bottom))
		}
		parts := strings.Split(t.label, "\n")
		lines = max(lines, len(parts))
		f.m.open("text", "class", "tick", "x", num(x), "y", num(f.bottom+16), "text-anchor", "middle")
		for i, p := range parts {
			dy := "0"
			if i > 0 {
				dy = "13"
			}
			f.m.el("tspan", p, "x", num(x), "dy", dy)
		}
		f.m.close("text")
	}
	f.m.leaf("line", "class", "axis", "x1", num(f.left), "x2", num(f.right), "y1", num(f.bottom), "y2", num(f.bottom))
	f.m.el("text", a.title, "class", "axis-title", "x", num((f.left+f.right)/2), "y", num(f.bottom+22+13*float64(lines)),
		"text-anchor", "middle")
	f.m.b.WriteByte('\n')
}

// line draws one series as a path (class mark) with a tooltip naming it.
func (f *frame) line(d *pathData, color, dash, tip string) {
	if d.b.Len() == 0 {
		return
	}
	kv := []string{"class", "mark", "d", d.String(), "fill", "none", "stroke", color, "stroke-width", "2",
		"stroke-linejoin", "round"}
	if dash != "" {
		kv = append(kv, "stroke-dasharray", dash)
	}
	f.m.open("path", kv...)
	f.m.el("title", tip)
	f.m.close("path")
}

// dot draws a point with a tooltip.
func (f *frame) dot(x, y, r float64, color, tip string) {
	f.m.open("circle", "class", "mark", "cx", num(x), "cy", num(y), "r", num(r), "fill", color)
	f.m.el("title", tip)
	f.m.close("circle")
}

// band shades the vertical strip between data x0 and x1 (warm-up, a
// blocked connection) behind the marks.
func (f *frame) band(x0, x1 float64, class, tip string) {
	a, b := f.x.at(x0), f.x.at(x1)
	f.m.open("rect", "class", class, "x", num(a), "y", num(f.top), "width", num(max(b-a, 1)), "height", num(f.bottom-f.top))
	f.m.el("title", tip)
	f.m.close("rect")
}

// hline draws a labelled horizontal reference line at data y (an
// objective's bound), dashed. The label sits at the left, where latency
// curves are low and leave room.
func (f *frame) hline(v float64, color, label string) {
	y := f.y.at(v)
	f.m.leaf("line", "class", "mark ref", "x1", num(f.left), "x2", num(f.right), "y1", num(y), "y2", num(y),
		"stroke", color, "stroke-dasharray", "6 4", "stroke-width", "1.5")
	f.m.el("text", label, "class", "ref-label", "x", num(f.left+6), "y", num(y-5), "fill", color)
}

// vline draws a labelled vertical reference line at data x (the capacity).
func (f *frame) vline(v float64, color, label string) {
	x := f.x.at(v)
	f.m.leaf("line", "class", "mark ref", "x1", num(x), "x2", num(x), "y1", num(f.top), "y2", num(f.bottom),
		"stroke", color, "stroke-width", "2")
	anchor, dx := "start", 5.0
	if x > (f.left+f.right)/2 { // keep the label inside the plot
		anchor, dx = "end", -5
	}
	f.m.el("text", label, "class", "ref-label", "x", num(x+dx), "y", num(f.top+12), "text-anchor", anchor, "fill", color)
}
