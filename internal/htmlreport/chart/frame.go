package chart

import (
	"strings"
)

// Chart geometry, in SVG user units (the viewBox; CSS scales the chart to
// the page's width, so text keeps its proportions).
const (
	// Width is every chart's width.
	Width = 880.0
	// Height is a chart's height unless its Spec says otherwise.
	Height = 300.0

	titleY     = 20.0
	legendRowH = 16.0
	tickFont   = 6.2 // estimated width of one character of tick text (11px)
	legendFont = 6.8 // of legend text (12px)
)

// Axis is one axis: its domain, whether it is logarithmic, its labelled
// ticks, and its title.
type Axis struct {
	Lo, Hi float64
	Log    bool
	Ticks  []Tick
	Title  string
	Grid   bool // draw a grid line at each tick
}

// LegendItem is one entry of a chart's legend.
type LegendItem struct {
	Label string
	Color string
	Dash  string // stroke-dasharray of a line swatch; "" = solid
	Shape string // "line" (default), "box" or "dot"
}

// Spec is what a chart's frame needs.
type Spec struct {
	Kind   string // the data-chart attribute: throughput, latency, spectrum, sweep, capacity
	Title  string
	Legend []LegendItem
	Height float64 // 0 = Height
}

// Frame is a chart being drawn: the markup it is written to, its scales
// from data to pixels, and its plot area in pixels. Marks are drawn by the
// chart's own code between Begin and End, with the Frame's methods or
// directly into M.
type Frame struct {
	M                        *Markup
	X, Y                     Scale
	Left, Top, Right, Bottom float64
}

// legendRows lays the legend out left to right, wrapping at the chart's
// width; it returns each item's position and the number of rows.
func legendRows(items []LegendItem, left float64) (xs []float64, rows []int, n int) {
	x, row := left, 0
	for _, it := range items {
		w := 26 + legendFont*float64(len([]rune(it.Label))) + 14
		if x+w > Width-10 && x > left {
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
func margins(spec Spec, xa, ya Axis) (left, top, right, bottom float64) {
	widest := 0
	for _, t := range ya.Ticks {
		widest = max(widest, len([]rune(t.Label)))
	}
	left = max(52, 30+tickFont*float64(widest))
	_, _, rows := legendRows(spec.Legend, left)
	top = titleY + 14 + legendRowH*float64(rows)
	lines := 1
	for _, t := range xa.Ticks {
		lines = max(lines, strings.Count(t.Label, "\n")+1)
	}
	h := spec.Height
	if h == 0 {
		h = Height
	}
	// The right margin leaves room for half of the last x tick label
	// ("99.999%"), which is centred on the plot's right edge.
	return left, top, Width - 34, h - (22 + 13*float64(lines) + 10)
}

// Begin opens the chart's <svg> and draws its title, legend, grid, axes
// and tick labels; the caller draws the marks and calls End.
func Begin(m *Markup, spec Spec, xa, ya Axis) *Frame {
	h := spec.Height
	if h == 0 {
		h = Height
	}
	m.charts++
	m.Open("svg", "class", "chart", "data-chart", spec.Kind, "viewBox", "0 0 "+Num(Width)+" "+Num(h),
		"role", "img", "aria-label", spec.Title)
	m.Newline()
	left, top, right, bottom := margins(spec, xa, ya)
	f := &Frame{M: m, Left: left, Top: top, Right: right, Bottom: bottom,
		X: Scale{Lo: xa.Lo, Hi: xa.Hi, R0: left, R1: right, Log: xa.Log},
		Y: Scale{Lo: ya.Lo, Hi: ya.Hi, R0: bottom, R1: top, Log: ya.Log}}
	m.El("text", spec.Title, "class", "title", "x", Num(left), "y", Num(titleY))
	f.legend(spec.Legend)
	f.yAxis(ya)
	f.xAxis(xa)
	return f
}

// End closes the chart.
func (f *Frame) End() { f.M.Close("svg") }

// legend draws the legend's swatches and labels above the plot.
func (f *Frame) legend(items []LegendItem) {
	xs, rows, _ := legendRows(items, f.Left)
	for i, it := range items {
		x, y := xs[i], titleY+16+legendRowH*float64(rows[i])
		switch it.Shape {
		case "box":
			f.M.Leaf("rect", "class", "swatch", "x", Num(x), "y", Num(y-9), "width", "18", "height", "10", "fill", it.Color)
		case "dot":
			f.M.Leaf("circle", "class", "swatch", "cx", Num(x+9), "cy", Num(y-4), "r", "4", "fill", it.Color)
		default:
			kv := []string{"class", "swatch", "x1", Num(x), "x2", Num(x + 18), "y1", Num(y - 4), "y2", Num(y - 4),
				"stroke", it.Color, "stroke-width", "2.5"}
			if it.Dash != "" {
				kv = append(kv, "stroke-dasharray", it.Dash)
			}
			f.M.Leaf("line", kv...)
		}
		f.M.El("text", it.Label, "class", "legend", "x", Num(x+24), "y", Num(y))
	}
	f.M.Newline()
}

// yAxis draws the y ticks, their grid lines, the axis and its title,
// written upwards along the left edge.
func (f *Frame) yAxis(a Axis) {
	for _, t := range a.Ticks {
		y := f.Y.At(t.V)
		if a.Grid {
			f.M.Leaf("line", "class", "grid", "x1", Num(f.Left), "x2", Num(f.Right), "y1", Num(y), "y2", Num(y))
		}
		f.M.El("text", t.Label, "class", "tick", "x", Num(f.Left-6), "y", Num(y+4), "text-anchor", "end")
	}
	f.M.Leaf("line", "class", "axis", "x1", Num(f.Left), "x2", Num(f.Left), "y1", Num(f.Top), "y2", Num(f.Bottom))
	mid := (f.Top + f.Bottom) / 2
	f.M.El("text", a.Title, "class", "axis-title", "x", "14", "y", Num(mid), "text-anchor", "middle",
		"transform", "rotate(-90 14 "+Num(mid)+")")
	f.M.Newline()
}

// xAxis draws the x ticks; a label with newlines (a sweep variant's
// parameters) is written as one line per parameter.
func (f *Frame) xAxis(a Axis) {
	lines := 1
	for _, t := range a.Ticks {
		x := f.X.At(t.V)
		if a.Grid {
			f.M.Leaf("line", "class", "grid", "x1", Num(x), "x2", Num(x), "y1", Num(f.Top), "y2", Num(f.Bottom))
		}
		parts := strings.Split(t.Label, "\n")
		lines = max(lines, len(parts))
		f.M.Open("text", "class", "tick", "x", Num(x), "y", Num(f.Bottom+16), "text-anchor", "middle")
		for i, p := range parts {
			dy := "0"
			if i > 0 {
				dy = "13"
			}
			f.M.El("tspan", p, "x", Num(x), "dy", dy)
		}
		f.M.Close("text")
	}
	f.M.Leaf("line", "class", "axis", "x1", Num(f.Left), "x2", Num(f.Right), "y1", Num(f.Bottom), "y2", Num(f.Bottom))
	f.M.El("text", a.Title, "class", "axis-title", "x", Num((f.Left+f.Right)/2), "y", Num(f.Bottom+22+13*float64(lines)),
		"text-anchor", "middle")
	f.M.Newline()
}

// Line draws one series as a path (class mark) with a tooltip naming it.
func (f *Frame) Line(d *Path, color, dash, tip string) {
	if d.Empty() {
		return
	}
	kv := []string{"class", "mark", "d", d.String(), "fill", "none", "stroke", color, "stroke-width", "2",
		"stroke-linejoin", "round"}
	if dash != "" {
		kv = append(kv, "stroke-dasharray", dash)
	}
	f.M.Open("path", kv...)
	f.M.El("title", tip)
	f.M.Close("path")
}

// Dot draws a point with a tooltip.
func (f *Frame) Dot(x, y, r float64, color, tip string) {
	f.M.Open("circle", "class", "mark", "cx", Num(x), "cy", Num(y), "r", Num(r), "fill", color)
	f.M.El("title", tip)
	f.M.Close("circle")
}

// Band shades the vertical strip between data x0 and x1 (warm-up, a
// blocked connection) behind the marks.
func (f *Frame) Band(x0, x1 float64, class, tip string) {
	a, b := f.X.At(x0), f.X.At(x1)
	f.M.Open("rect", "class", class, "x", Num(a), "y", Num(f.Top), "width", Num(max(b-a, 1)), "height", Num(f.Bottom-f.Top))
	f.M.El("title", tip)
	f.M.Close("rect")
}

// BandLabel names the strip between data x0 and x1 (a phase of the run)
// at its top left, inside the plot, when the strip is wide enough for
// the name (about 6 px a character at the labels' size); a narrower one
// is named by its band's tooltip only.
func (f *Frame) BandLabel(x0, x1 float64, label string) {
	a, b := f.X.At(x0), f.X.At(x1)
	if b-a < 6*float64(len(label))+6 {
		return
	}
	f.M.El("text", label, "class", "band-label", "x", Num(a+3), "y", Num(f.Top+11))
}

// HLine draws a labelled horizontal reference line at data y (an
// objective's bound), dashed. The label sits at the left, where latency
// curves are low and leave room.
func (f *Frame) HLine(v float64, color, label string) {
	y := f.Y.At(v)
	f.M.Leaf("line", "class", "mark ref", "x1", Num(f.Left), "x2", Num(f.Right), "y1", Num(y), "y2", Num(y),
		"stroke", color, "stroke-dasharray", "6 4", "stroke-width", "1.5")
	f.M.El("text", label, "class", "ref-label", "x", Num(f.Left+6), "y", Num(y-5), "fill", color)
}

// VLine draws a labelled vertical reference line at data x (the capacity).
func (f *Frame) VLine(v float64, color, label string) {
	x := f.X.At(v)
	f.M.Leaf("line", "class", "mark ref", "x1", Num(x), "x2", Num(x), "y1", Num(f.Top), "y2", Num(f.Bottom),
		"stroke", color, "stroke-width", "2")
	anchor, dx := "start", 5.0
	if x > (f.Left+f.Right)/2 { // keep the label inside the plot
		anchor, dx = "end", -5
	}
	f.M.El("text", label, "class", "ref-label", "x", Num(x+dx), "y", Num(f.Top+12), "text-anchor", anchor, "fill", color)
}
