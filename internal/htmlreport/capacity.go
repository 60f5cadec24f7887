package htmlreport

import (
	"strconv"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// writeCapacity writes a capacity search's section: the answer, the
// objectives, the rate-against-latency chart, every step, the scenario.
func writeCapacity(m *chart.Markup, id, file string, d *capacity.Doc) {
	heading(m, id, "Capacity:", d.Scenario.Name, file)
	m.El("p", strconv.Itoa(len(d.Steps))+" steps · started "+d.StartedAt.UTC().Format(time.RFC3339)+
		" · stop reason: "+d.StopReason, "class", "meta")
	kpis(m, capacityKPIs(d))
	if len(d.SLO) > 0 {
		m.El("h3", "Objectives")
		t := table{header: []string{"figure", "path", "at most"}, lead: 2}
		for _, o := range d.SLO {
			label, bound := o.Path, strconv.FormatFloat(o.Max, 'f', -1, 64)
			if f, ok := catalog.Lookup(o.Path); ok {
				label, bound = f.Label, report.Value(f.Unit, o.Max)
			}
			t.rows = append(t.rows, []string{label, o.Path, bound})
		}
		t.write(m)
	}
	fig := capacityFigure(d)
	if len(capacityPoints(d, fig)) > 0 {
		m.Open("div", "class", "charts")
		capacityChart(m, d)
		m.Close("div")
	}
	m.El("h3", "Steps")
	stepTable(d, fig).write(m)
	writeScenario(m, d.Scenario)
	m.Close("section")
}

// capacityKPIs are the answer's figures.
func capacityKPIs(d *capacity.Doc) []kpi {
	a := d.Capacity
	rate := "none passed"
	if a.RatePerS > 0 {
		rate = report.Rate(a.RatePerS) + "/s"
	}
	label := "capacity: the highest passing rate"
	if a.Basis != "" { // documents written before the answer said how sure it is have none
		label = "capacity: " + a.Basis
	}
	out := []kpi{{rate, label}}
	if a.LimitedBy != "" {
		out = append(out, kpi{figureName(a.LimitedBy), "limited by"})
	}
	if a.FirstFailingRate != nil {
		out = append(out, kpi{report.Rate(*a.FirstFailingRate) + "/s", "first failing rate"})
	}
	if len(a.FailedObjectives) > 0 {
		names := make([]string, len(a.FailedObjectives))
		for i, p := range a.FailedObjectives {
			names[i] = figureName(p)
		}
		out = append(out, kpi{strings.Join(names, ", "), "objectives failed there"})
	}
	return out
}

// stepTable has a row per step: its target, what it achieved, the
// plotted latency's percentiles, the backlog's growth and the verdict.
func stepTable(d *capacity.Doc, fig catalog.Figure) table {
	k := fig.Kind
	stats := []catalog.Figure{catalog.Latency(k, catalog.StatP50), catalog.Latency(k, catalog.StatP99), catalog.Latency(k, catalog.StatP999)}
	t := table{header: []string{"step", "phase", "target/s", "published/s", "consumed/s"}, lead: 2}
	for _, f := range stats {
		t.header = append(t.header, f.Label)
	}
	t.header = append(t.header, "backlog growth/s", "result")
	consumed, _ := catalog.Lookup("rates.consumed_per_s")
	for i, st := range d.Steps {
		row := []string{strconv.Itoa(i + 1), st.Phase, report.Rate(st.TargetRate)}
		r := st.Result
		if r == nil {
			row = append(row, "-", "-", "-", "-", "-")
		} else {
			row = append(row, report.Rate(stepRate(r)), valueOr(consumed, r))
			for _, f := range stats {
				row = append(row, valueOr(f, r))
			}
		}
		row = append(row, strconv.FormatFloat(st.BacklogSlope, 'f', 1, 64), verdict(st))
		t.rows = append(t.rows, row)
	}
	last := len(t.header) - 1
	t.cellClass = func(r, c int) string {
		switch {
		case c != last:
			return ""
		case d.Steps[r].Pass:
			return "pass"
		}
		return "fail"
	}
	return t
}

// valueOr formats a figure of a result, "-" when it does not apply.
func valueOr(f catalog.Figure, r *result.Result) string {
	if v, ok := f.Value(r); ok {
		return report.Value(f.Unit, v)
	}
	return "-"
}

// verdict says whether a step passed, or what it failed.
func verdict(st capacity.Step) string {
	if st.Pass {
		return "pass"
	}
	if len(st.Failed) == 0 {
		return "failed"
	}
	return "failed: " + strings.Join(st.Failed, ", ")
}
