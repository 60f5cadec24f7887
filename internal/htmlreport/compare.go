package htmlreport

import (
	"math"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
)

// writeCompare writes the comparison: the gates' verdicts, the two sides
// on the same axes, the figures side by side with their deltas, then each
// side's own section.
func writeCompare(m *chart.Markup, c Comparison) error {
	base, cand := c.Base.side(), c.Candidate.side()
	p := compare.Match(base, cand)
	verdicts := compare.Apply(p, c.Gates)
	heading(m, "compare", "Comparison:", "baseline against candidate", "")
	pairs(m, [][2]string{{"baseline", c.Base.File}, {"candidate", c.Candidate.File}})
	writeVerdicts(m, verdicts)
	m.Open("div", "class", "charts")
	if c.Base.Result != nil && c.Candidate.Result != nil {
		overlayThroughput(m, "Throughput per interval: baseline and candidate", []namedRun{
			{name: "baseline", file: c.Base.File, r: c.Base.Result}, {name: "candidate", file: c.Candidate.File, r: c.Candidate.Result}})
		if err := overlaySpectra(m, []namedRun{
			{name: "baseline: " + c.Base.File, file: c.Base.File, r: c.Base.Result},
			{name: "candidate: " + c.Candidate.File, file: c.Candidate.File, r: c.Candidate.Result}}); err != nil {
			return err
		}
	} else {
		pairBars(m, p)
	}
	m.Close("div")
	figures := comparedFigures(c.Gates)
	for _, pr := range p.Pairs {
		if pr.Key != "" {
			m.El("h3", "Variant "+pr.Key)
		} else {
			m.El("h3", "Figures side by side")
		}
		pairTable(pr, figures).write(m)
	}
	var unpaired []string
	for _, k := range p.OnlyBase {
		unpaired = append(unpaired, "only in the baseline: "+k)
	}
	for _, k := range p.OnlyCand {
		unpaired = append(unpaired, "only in the candidate: "+k)
	}
	notes(m, "notes", unpaired)
	m.Close("section")
	if err := writeSide(m, "compare-base", "Baseline:", c.Base); err != nil {
		return err
	}
	return writeSide(m, "compare-candidate", "Candidate:", c.Candidate)
}

// writeSide writes one side's own section, as a run or a sweep.
func writeSide(m *chart.Markup, id, what string, d Document) error {
	if d.Sweep != nil {
		writeSweep(m, id, what, d.File, d.Sweep)
		return nil
	}
	return writeRun(m, id, what, d.File, d.Result)
}

// writeVerdicts lists what each gate found; red when one failed.
func writeVerdicts(m *chart.Markup, vs []compare.Verdict) {
	if len(vs) == 0 {
		return
	}
	class := "notes"
	var lines []string
	for _, v := range vs {
		if v.Failed() {
			class = "notes bad"
		}
		lines = append(lines, strings.TrimSpace(v.String()))
	}
	m.El("h3", "Gates")
	notes(m, class, lines)
}

// comparedFigures are the catalogue's compared figures and every gated
// one, as the text comparison shows them.
func comparedFigures(gates []compare.Gate) []catalog.Figure {
	figs := catalog.Compared()
	for _, g := range gates {
		seen := false
		for _, f := range figs {
			seen = seen || f.Path == g.Figure.Path
		}
		if !seen {
			figs = append(figs, g.Figure)
		}
	}
	return figs
}

// pairTable sets a pair's figures side by side: each that both sides
// have, with the delta and the delta in percent of the baseline, coloured
// by whether the figure got better or worse.
func pairTable(pr compare.Pair, figures []catalog.Figure) table {
	t := table{header: []string{"figure", "baseline", "candidate", "delta", "delta %"}, lead: 1}
	var better []int // per row: +1 better, -1 worse, 0 neither
	for _, f := range figures {
		b, okB := pr.Base.Summary.Stat(f.Path, pr.Base.Runs)
		c, okC := pr.Cand.Summary.Stat(f.Path, pr.Cand.Runs)
		if !okB || !okC {
			continue
		}
		d := c.Median - b.Median
		pct, dir := "-", 0
		if b.Median != 0 {
			x := d / b.Median * 100
			pct = strconv.FormatFloat(x, 'f', 1, 64) + "%"
			if x >= 0 {
				pct = "+" + pct
			}
			dir = direction(f.Better, x)
		}
		t.rows = append(t.rows, []string{f.Label, statCell(f, b), statCell(f, c), report.Signed(f.Unit, d), pct})
		better = append(better, dir)
	}
	t.cellClass = func(r, col int) string {
		switch {
		case col != 4:
			return ""
		case better[r] > 0:
			return "pass"
		case better[r] < 0:
			return "fail"
		}
		return ""
	}
	return t
}

// direction says whether a change of pct percent is better (+1), worse
// (-1) or neither (0, including changes under 0.05% that print as 0.0%).
func direction(b catalog.Better, pct float64) int {
	if b == catalog.Neither || math.Abs(pct) < 0.05 {
		return 0
	}
	if (b == catalog.Higher) == (pct > 0) {
		return 1
	}
	return -1
}

// pairBars draws, for sweeps, each paired variant's consumed rate and
// end-to-end p99 (or whichever rate and latency both sides have) with the
// baseline and candidate as bars side by side.
func pairBars(m *chart.Markup, p compare.Pairing) {
	for _, paths := range [][]string{
		{"rates.consumed_per_s", "rates.rpc_replies_per_s", "rates.published_per_s"},
		{"latency.end_to_end.p99_us", "latency.rpc.p99_us"},
	} {
		for _, path := range paths {
			f, _ := catalog.Lookup(path)
			groups, found := pairGroups(p, f)
			if !found {
				continue
			}
			ss := []barSeries{{label: "baseline", color: runColor(0)}, {label: "candidate", color: runColor(1)}}
			barChart(m, chart.Spec{Kind: "sweep", Title: f.Label + ": baseline and candidate per variant"}, f.Unit, f.Label, groups, ss)
			break
		}
	}
}

// pairGroups are the bars of one figure per pair; false when no pair has
// it on both sides.
func pairGroups(p compare.Pairing, f catalog.Figure) ([]barGroup, bool) {
	var groups []barGroup
	found := false
	for _, pr := range p.Pairs {
		b, okB := pr.Base.Summary.Stat(f.Path, pr.Base.Runs)
		c, okC := pr.Cand.Summary.Stat(f.Path, pr.Cand.Runs)
		label := strings.ReplaceAll(pr.Key, " ", "\n")
		if label == "" {
			label = "(one variant)"
		}
		groups = append(groups, barGroup{label: label, vals: []measure.Stat{b, c}, ok: []bool{okB, okC}})
		found = found || (okB && okC)
	}
	return groups, found
}
