package compare

import (
	"fmt"
	"io"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
)

// Write prints every pair side by side with absolute and relative deltas,
// then the gates' verdicts. Markdown is for pasting into a pull request.
// The figures shown are the catalogue's compared ones that both sides
// have, plus every gated one.
func Write(w io.Writer, base, cand Side, p Pairing, verdicts []Verdict, gates []Gate, markdown bool) error {
	fmt.Fprintf(w, "baseline:  %s\ncandidate: %s\n", base.File, cand.File)
	figures := catalog.Compared()
	for _, g := range gates {
		if !contains(figures, g.Figure.Path) {
			figures = append(figures, g.Figure)
		}
	}
	header := []string{"metric", "baseline", "candidate", "delta", "delta %"}
	for _, pr := range p.Pairs {
		fmt.Fprintln(w)
		if pr.Key != "" {
			fmt.Fprintf(w, "variant %s\n", pr.Key)
		}
		rows := pairRows(pr, figures)
		if markdown {
			report.Markdown(w, header, 1, rows)
			continue
		}
		if err := report.WriteBox(w, header, rows); err != nil {
			return err
		}
	}
	for _, k := range p.OnlyBase {
		fmt.Fprintf(w, "\nonly in the baseline: %s\n", k)
	}
	for _, k := range p.OnlyCand {
		fmt.Fprintf(w, "\nonly in the candidate: %s\n", k)
	}
	if len(verdicts) > 0 {
		fmt.Fprintln(w, "\ngates:")
		for _, v := range verdicts {
			fmt.Fprintln(w, "  "+v.String())
		}
	}
	return nil
}

func pairRows(pr Pair, figures []catalog.Figure) [][]string {
	var rows [][]string
	for _, f := range figures {
		b, okB := pr.Base.Summary.Stat(f.Path, pr.Base.Runs)
		c, okC := pr.Cand.Summary.Stat(f.Path, pr.Cand.Runs)
		if !okB || !okC {
			continue
		}
		delta := c.Median - b.Median
		pct := "-"
		if b.Median != 0 {
			pct = fmt.Sprintf("%+.1f%%", delta/b.Median*100)
		}
		rows = append(rows, []string{f.Path, stat(f, b), stat(f, c), report.Signed(f.Unit, delta), pct})
	}
	return rows
}

// String says what a verdict found, in one line.
func (v Verdict) String() string {
	where := ""
	if v.Key != "" {
		where = " [" + v.Key + "]"
	}
	f := v.Gate.Figure
	limit := fmt.Sprintf("limit %g%%", v.Gate.Pct)
	switch {
	case v.Missing != "":
		side := "the " + v.Missing
		if v.Missing == MissingBoth {
			side = "either side"
		}
		return fmt.Sprintf("MISSING    %s: not in %s, so the gate cannot be checked: it fails%s", f.Path, side, where)
	case v.Regression():
		return fmt.Sprintf("REGRESSION %s: %.1f%% worse, %s → %s (%s)%s", f.Path, v.WorsePct,
			report.Value(f.Unit, v.Base.Median), report.Value(f.Unit, v.Cand.Median), limit, where)
	case v.Crossed:
		return fmt.Sprintf("NOT DECLARED %s: %.1f%% worse (%s), but the min–max spreads of the repeats overlap (%s vs %s)%s",
			f.Path, v.WorsePct, limit, spread(f, v.Base), spread(f, v.Cand), where)
	case v.WorsePct > 0:
		return fmt.Sprintf("ok         %s: %.1f%% worse (%s)%s", f.Path, v.WorsePct, limit, where)
	default:
		return fmt.Sprintf("ok         %s: %.1f%% better (%s)%s", f.Path, -v.WorsePct, limit, where)
	}
}

func stat(f catalog.Figure, s measure.Stat) string {
	if s.N <= 1 || s.Min == s.Max {
		return report.Value(f.Unit, s.Median)
	}
	return report.Value(f.Unit, s.Median) + " (" + spread(f, s) + ")"
}

func spread(f catalog.Figure, s measure.Stat) string {
	return report.Value(f.Unit, s.Min) + "–" + report.Value(f.Unit, s.Max)
}

func contains(list []catalog.Figure, path string) bool {
	for _, x := range list {
		if x.Path == path {
			return true
		}
	}
	return false
}
