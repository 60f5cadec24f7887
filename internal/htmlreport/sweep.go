package htmlreport

import (
	"strconv"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/sweep"
)

// figureColor gives each grid figure one colour in every bar chart.
func figureColor(path string) string {
	switch path {
	case "rates.published_per_s", "latency.end_to_end.p99_us":
		return blue
	case "rates.consumed_per_s":
		return green
	case "rates.rpc_replies_per_s":
		return purple
	case "latency.end_to_end.p50_us":
		return sky
	case "latency.end_to_end.p999_us":
		return black
	case "latency.confirm.p99_us":
		return orange
	case "latency.rpc.p99_us":
		return vermillion
	}
	return grey
}

// paramLabel names a variant by its parameters in matrix order, one per
// line: "prefetch=1\nack=auto".
func paramLabel(names []string, params map[string]string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+"="+params[n])
	}
	if len(parts) == 0 {
		return "(one variant)"
	}
	return strings.Join(parts, "\n")
}

// gridFigures are the catalogue's grid figures that some variant has.
func gridFigures(d *sweep.Doc) []catalog.Figure {
	var out []catalog.Figure
	for _, f := range catalog.Grid() {
		for _, v := range d.Variants {
			if _, ok := v.Summary.Stat(f.Path, v.Counted()); ok {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// unitCharts are the bar charts of a sweep: one per unit, so that bars on
// one axis are comparable (rates together, latencies together).
var unitCharts = []struct {
	unit         catalog.Unit
	title, yAxis string
}{
	{catalog.PerSecond, "Throughput per variant (median of the runs, whiskers min–max)", "per second"},
	{catalog.Micros, "Latency per variant (median of the runs, whiskers min–max)", "latency"},
	{catalog.Seconds, "Client CPU per variant", "CPU seconds"},
}

// writeSweep writes a sweep's section: its bar charts, its grid (one row
// per variant) and each variant's runs.
func writeSweep(m *chart.Markup, id, what, file string, d *sweep.Doc) {
	heading(m, id, what, d.Name, file)
	m.El("p", strconv.Itoa(len(d.Variants))+" variants × "+strconv.Itoa(d.Repeat)+" runs over "+
		strings.Join(d.ParamNames, ", ")+" · started "+d.StartedAt.UTC().Format(time.RFC3339)+" · stop reason: "+d.StopReason, "class", "meta")
	figs := gridFigures(d)
	m.Open("div", "class", "charts")
	for _, uc := range unitCharts {
		var ss []barSeries
		var paths []string
		for _, f := range figs {
			if f.Unit == uc.unit {
				ss, paths = append(ss, barSeries{label: f.Label, color: figureColor(f.Path)}), append(paths, f.Path)
			}
		}
		if len(ss) == 0 {
			continue
		}
		groups := make([]barGroup, len(d.Variants))
		for i, v := range d.Variants {
			g := barGroup{label: paramLabel(d.ParamNames, v.Params)}
			for _, p := range paths {
				st, ok := v.Summary.Stat(p, v.Counted())
				g.vals, g.ok = append(g.vals, st), append(g.ok, ok)
			}
			groups[i] = g
		}
		barChart(m, chart.Spec{Kind: "sweep", Title: uc.title}, uc.unit, uc.yAxis, groups, ss)
	}
	m.Close("div")
	m.El("h3", "Grid")
	sweepGrid(d, figs).write(m)
	writeVariantRuns(m, d)
	m.Close("section")
}

// sweepGrid is the sweep's table: parameters, runs, each grid figure as
// "median (min–max)", and a note where runs were left out.
func sweepGrid(d *sweep.Doc, figs []catalog.Figure) table {
	t := table{header: append(append([]string(nil), d.ParamNames...), "runs"), lead: len(d.ParamNames)}
	for _, f := range figs {
		t.header = append(t.header, f.Label)
	}
	t.header = append(t.header, "note")
	for _, v := range d.Variants {
		row := make([]string, 0, len(t.header))
		for _, p := range d.ParamNames {
			row = append(row, v.Params[p])
		}
		row = append(row, strconv.Itoa(v.Counted()))
		for _, f := range figs {
			cell := "-"
			if st, ok := v.Summary.Stat(f.Path, v.Counted()); ok {
				cell = statCell(f, st)
			}
			row = append(row, cell)
		}
		t.rows = append(t.rows, append(row, v.Note()))
	}
	return t
}

// writeVariantRuns lists each variant's runs in a collapsed <details>.
func writeVariantRuns(m *chart.Markup, d *sweep.Doc) {
	m.El("h3", "Runs")
	figs := []string{"rates.published_per_s", "rates.consumed_per_s", "latency.end_to_end.p99_us", "latency.rpc.p99_us"}
	for _, v := range d.Variants {
		m.Open("details")
		m.El("summary", oneLine(paramLabel(d.ParamNames, v.Params))+": "+strconv.Itoa(len(v.Runs))+" runs")
		t := table{header: []string{"run", "started", "stop reason", "measured s"}, lead: 3}
		var shown []catalog.Figure
		for _, p := range figs {
			if f, ok := catalog.Lookup(p); ok {
				if _, has := v.Summary.Stat(p, v.Counted()); has {
					shown, t.header = append(shown, f), append(t.header, f.Label)
				}
			}
		}
		excluded := map[int]bool{}
		for _, i := range v.Excluded {
			excluded[i] = true
		}
		for i, r := range v.Runs {
			run := strconv.Itoa(i + 1)
			if excluded[i] {
				run += " (not in the median)"
			}
			row := []string{run, r.StartedAt.UTC().Format(time.RFC3339), r.StopReason, strconv.FormatFloat(r.MeasuredS, 'f', 2, 64)}
			vals := measure.Of(r)
			for _, f := range shown {
				cell := "-"
				if x, ok := vals[f.Path]; ok {
					cell = report.Value(f.Unit, x)
				}
				row = append(row, cell)
			}
			t.rows = append(t.rows, row)
		}
		t.write(m)
		m.Close("details")
	}
}
