package htmlreport

import (
	"strconv"
	"time"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// writeRun writes one run's section (headed "Run:", or "Baseline:" in a
// comparison): what ran and how it ended, its charts, then every table of
// the text report and the scenario.
func writeRun(m *chart.Markup, id, what, file string, r *result.Result) error {
	heading(m, id, what, r.Scenario.Name, file)
	m.El("p", runMeta(r), "class", "meta")
	if r.Error != "" {
		notes(m, "notes bad", []string{"error: " + r.Error})
	}
	notes(m, "notes", prefixed("warning: ", r.Warnings))
	kpis(m, runKPIs(r))
	if err := runCharts(m, file, r); err != nil {
		return err
	}
	m.El("h3", "Rates and totals")
	countsTable(r).write(m)
	if lt, ok := latencyTable(r); ok {
		m.El("h3", "Latency")
		lt.write(m)
	}
	writePhases(m, r)
	writeQueues(m, r)
	writeAudit(m, r.Audit)
	writeFaults(m, r)
	writeClient(m, r)
	writeScenario(m, r.Scenario)
	m.Close("section")
	return nil
}

// runMeta is the line under a run's heading.
func runMeta(r *result.Result) string {
	s := r.Tool.Name + " " + r.Tool.Version + " · broker " + r.Broker.Product + " " + r.Broker.Version + " at " + r.Broker.URL +
		" · started " + r.StartedAt.UTC().Format(time.RFC3339) + " · measured " + strconv.FormatFloat(r.MeasuredS, 'f', 2, 64) + " s"
	if w := r.Scenario.Warmup.D(); w > 0 {
		s += " (warm-up " + w.String() + " excluded)"
	}
	return s + " · stop reason: " + r.StopReason
}

func prefixed(p string, items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = p + it
	}
	return out
}

// runKPIs are the figures of the summary line: the rates the run has, and
// the median and p99 of its main latencies.
func runKPIs(r *result.Result) []kpi {
	var out []kpi
	for _, p := range []string{"rates.published_per_s", "rates.consumed_per_s", "rates.rpc_replies_per_s"} {
		f, _ := catalog.Lookup(p)
		if v, ok := f.Value(r); ok && (p != "rates.published_per_s" || r.Scenario.Producers.Count > 0) {
			out = append(out, kpi{report.Value(f.Unit, v), f.Label})
		}
	}
	for _, k := range []metrics.Kind{metrics.EndToEnd, metrics.Confirm, metrics.RPC} {
		if r.Latency[k] == nil {
			continue
		}
		for _, st := range []string{catalog.StatP50, catalog.StatP99} {
			f := catalog.Latency(k, st)
			v, _ := f.Value(r)
			out = append(out, kpi{report.Value(f.Unit, v), f.Label})
		}
	}
	return out
}

// runCharts draws the charts that the run has data for: a chart without a
// mark would only draw axes (and fail the browser self-check).
func runCharts(m *chart.Markup, file string, r *result.Result) error {
	m.Open("div", "class", "charts")
	defer m.Close("div")
	if rs := rateSeries(r); len(r.Intervals) > 0 && drawable(rs, false) {
		throughputChart(m, r)
	}
	if ls := latencySeries(r); drawable(ls, true) {
		latencyTimeChart(m, r)
	}
	if bs := backlogSeries(r); len(r.Phases) > 0 && drawable(bs, false) {
		backlogChart(m, r)
	}
	lines, err := kindSpectra(r.Latency, file)
	if err != nil {
		return err
	}
	if len(lines) > 0 {
		spectrumChart(m, "Percentile spectrum of every latency (whole run)", lines)
	}
	return nil
}

// countRow pairs a total with its rate, as the text report does.
type countRow struct{ total, rate string }

var countRows = []countRow{
	{"totals.published", "rates.published_per_s"}, {"totals.confirmed", "rates.confirmed_per_s"},
	{"totals.nacked", ""}, {"totals.unconfirmed", ""}, {"totals.returned", ""},
	{"totals.consumed", "rates.consumed_per_s"}, {"totals.max_unacked", ""},
	{"totals.rpc_requests", "rates.rpc_requests_per_s"}, {"totals.rpc_replies", "rates.rpc_replies_per_s"},
	{"totals.rpc_timeouts", ""}, {"totals.rpc_unmatched", ""}, {"totals.rpc_late", ""},
	{"totals.rpc_duplicates", ""}, {"totals.rpc_served", ""},
}

// countsTable lists the totals that apply to the run (null ones do not),
// each with its rate over the measured window where it has one.
func countsTable(r *result.Result) table {
	t := table{header: []string{"figure", "total", "per second"}, lead: 1}
	for _, c := range countRows {
		f, _ := catalog.Lookup(c.total)
		v, ok := f.Value(r)
		if !ok || (c.total == "totals.published" && r.Scenario.Producers.Count == 0 && v == 0) {
			continue
		}
		rate := ""
		if c.rate != "" {
			rf, _ := catalog.Lookup(c.rate)
			if rv, ok := rf.Value(r); ok {
				rate = report.Rate(rv)
			}
		}
		t.rows = append(t.rows, []string{f.Label, report.Count(int64(v)), rate})
	}
	return t
}

// latencyTable has one row per latency kind present, every statistic of
// the catalogue as a column.
func latencyTable(r *result.Result) (table, bool) {
	t := table{header: append([]string{"latency"}, catalog.LatencyStatLabels()...), lead: 1}
	for _, k := range metrics.Kinds() {
		s := r.Latency[k]
		if s == nil {
			continue
		}
		row := []string{k.Info().Label}
		for i, v := range catalog.LatencyRow(s) {
			row = append(row, report.Value(catalog.LatencyUnit(i), v))
		}
		t.rows = append(t.rows, row)
	}
	return t, len(t.rows) > 0
}
