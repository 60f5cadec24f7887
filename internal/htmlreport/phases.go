package htmlreport

import (
	"math"

	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// backlogSeries is a run's backlog at the end of each interval (NaN where
// it could not be read).
func backlogSeries(r *result.Result) []series {
	iv := chartIntervals(r)
	s := series{label: "backlog", color: vermillion, xs: make([]float64, len(iv)), ys: make([]float64, len(iv)),
		fmt: func(v float64) string { return report.Count(int64(v)) }}
	for i, in := range iv {
		s.xs[i], s.ys[i] = in.TS, math.NaN() // read at the interval's end
		if in.Backlog != nil {
			s.ys[i] = float64(*in.Backlog)
		}
	}
	return []series{s}
}

// backlogChart is a phased run's backlog over time, its phases shaded and
// named: what phases change (a fill, an outage, a drain) shows there first.
func backlogChart(m *chart.Markup, r *result.Result) {
	timeChart(m, chart.Spec{Kind: "backlog", Title: "Backlog at the end of each interval"}, backlogSeries(r), runBands(chartIntervals(r)),
		false, "messages waiting", chart.RateLabel)
}

// writePhases writes a phased run's phase table and recovery notes.
func writePhases(m *chart.Markup, r *result.Result) {
	header, rows := report.PhaseTable(r)
	if len(rows) == 0 {
		return
	}
	m.El("h3", "Phases")
	table{header: header, lead: 3, rows: rows}.write(m)
	notes(m, "notes", report.RecoveryNotes(r))
}
