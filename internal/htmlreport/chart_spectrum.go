package htmlreport

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/report"
)

// maxNines is the deepest percentile a spectrum shows: 99.9999%.
const maxNines = 6

// spectrumStep is the spacing of the sampled percentiles on the nines
// axis: 20 per nine, enough for the line to look continuous, few enough
// for a small file.
const spectrumStep = 0.05

// specPoint is one point of a percentile spectrum.
type specPoint struct {
	x    float64 // position on the nines axis
	pct  float64 // the percentile, 0–100
	us   float64 // the latency at it, µs
	mark bool    // p50, a whole nine or the maximum: drawn as a dot with its value
}

// spectrumXs are the positions sampled up to end: every spectrumStep, plus
// the median and the whole nines exactly, so their tooltips say p50 and
// p99.9 rather than the nearest sample's percentile.
func spectrumXs(end float64) (xs []float64, marks map[float64]bool) {
	marks = map[float64]bool{chart.NinesX(0.5): true}
	for n := 1; float64(n) <= end+1e-9; n++ {
		marks[float64(n)] = true
	}
	steps := int(math.Floor(end/spectrumStep + 1e-9))
	for i := 0; i <= steps; i++ {
		x := float64(i) * spectrumStep
		if math.Abs(x-math.Round(x)) < 1e-9 {
			x = math.Round(x) // 20 × 0.05 is a whole nine: one point, not two
		}
		xs = append(xs, x)
	}
	for x := range marks {
		xs = append(xs, x)
	}
	slices.Sort(xs)
	return slices.Compact(xs), marks
}

// spectrumOf reads the percentile spectrum of a latency summary from its
// HDR histogram: the value at percentiles spaced evenly on the nines axis,
// from 0% to the deepest percentile the samples resolve, then the maximum.
//
// With n samples, percentiles beyond 1 - 1/n all fall on the last sample,
// so the curve stops at x = log10(n) (capped at maxNines) and ends with the
// maximum there: a flat line further right would claim a resolution the
// data does not have. A summary without a histogram (written by a tool
// that did not store one) is drawn from its stored percentiles instead.
func spectrumOf(s *metrics.Summary) ([]specPoint, error) {
	if s.HDR == "" {
		return summaryPoints(s), nil
	}
	h, err := metrics.DecodeHDR(s.HDR)
	if err != nil {
		return nil, err
	}
	n := h.TotalCount()
	if n == 0 {
		return nil, nil
	}
	end := min(maxNines, math.Log10(float64(n)))
	xs, marks := spectrumXs(end)
	pcts := make([]float64, len(xs))
	for i, x := range xs {
		pcts[i] = chart.NinesPercentile(x)
	}
	vals := h.ValueAtPercentilesSlice(pcts)
	pts := make([]specPoint, 0, len(xs)+1)
	for i, x := range xs {
		pts = append(pts, specPoint{x: x, pct: pcts[i], us: float64(vals[i]), mark: marks[x]})
	}
	return append(pts, specPoint{x: end, pct: 100, us: float64(h.Max()), mark: true}), nil
}

// summaryPoints are the stored percentiles of a summary on the nines axis.
func summaryPoints(s *metrics.Summary) []specPoint {
	pts := []specPoint{{0, 0, float64(s.MinUs), false}}
	for _, p := range []struct {
		q  float64
		us int64
	}{{.5, s.P50Us}, {.75, s.P75Us}, {.9, s.P90Us}, {.95, s.P95Us}, {.99, s.P99Us}, {.999, s.P999Us}, {.9999, s.P9999Us}} {
		pts = append(pts, specPoint{chart.NinesX(p.q), p.q * 100, float64(p.us), true})
	}
	last := pts[len(pts)-1].x
	return append(pts, specPoint{last, 100, float64(s.MaxUs), true})
}

// spectrumLine is one curve of a spectrum chart: a run's or a kind's.
type spectrumLine struct {
	label string
	color string
	pts   []specPoint
}

// spectrumChart draws percentile spectra on the nines axis (x) against a
// log latency axis (y).
func spectrumChart(m *chart.Markup, title string, lines []spectrumLine) {
	end := 0.0
	var ss []series
	for _, l := range lines {
		s := series{}
		for _, p := range l.pts {
			end = max(end, p.x)
			s.ys = append(s.ys, p.us)
		}
		ss = append(ss, s)
	}
	// Whole nines, at least to 99% so a short run's curve is not stretched.
	n := min(maxNines, max(2, int(math.Ceil(end-1e-9))))
	xa := chart.Axis{Lo: 0, Hi: float64(n), Ticks: chart.NinesTicks(n), Title: "percentile (nines scale)", Grid: true}
	ya := chart.Axis{Title: "latency (log scale)", Grid: true, Log: true}
	lo, hi, _ := extent(ss, true)
	ya.Lo, ya.Hi, ya.Ticks = chart.LogTicks(lo, hi, chart.MicrosLabel)
	spec := chart.Spec{Kind: "spectrum", Title: title}
	for _, l := range lines {
		spec.Legend = append(spec.Legend, chart.LegendItem{Label: l.label, Color: l.color})
	}
	f := chart.Begin(m, spec, xa, ya)
	for _, l := range lines {
		var d chart.Path
		for _, p := range l.pts {
			d.Line(f.X.At(p.x), f.Y.At(p.us))
		}
		f.Line(&d, l.color, "", l.label)
		for _, p := range l.pts {
			if !p.mark {
				continue
			}
			f.Dot(f.X.At(p.x), f.Y.At(p.us), 3, l.color, l.label+" "+pctLabel(p.pct)+": "+report.Micros(int64(p.us)))
		}
	}
	f.End()
}

// pctLabel names a percentile for a tooltip: p50, p99.9, max.
func pctLabel(p float64) string {
	if p >= 100 {
		return "max"
	}
	return "p" + strconv.FormatFloat(math.Round(p*1e4)/1e4, 'f', -1, 64)
}

// kindSpectra are one run's spectra, one line per latency kind present.
func kindSpectra(lat [metrics.NumKinds]*metrics.Summary, file string) ([]spectrumLine, error) {
	var out []spectrumLine
	for _, k := range metrics.Kinds() {
		s := lat[k]
		if s == nil {
			continue
		}
		pts, err := spectrumOf(s)
		if err != nil {
			return nil, fmt.Errorf("%s: latency.%s.hdr: %w", file, k, err)
		}
		if len(pts) > 0 {
			out = append(out, spectrumLine{label: k.Info().Label, color: kindColor(k), pts: pts})
		}
	}
	return out, nil
}

// kindColor gives each latency kind one colour in every chart.
func kindColor(k metrics.Kind) string {
	return [...]string{blue, sky, grey, orange, vermillion, purple}[int(k)%6]
}
