package compare

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
)

// shownMetrics are compared side by side (when both sides have them);
// gated metrics are added if missing.
var shownMetrics = []string{
	"rates.published_per_s", "rates.confirmed_per_s", "rates.consumed_per_s", "rates.rpc_replies_per_s",
	"latency.end_to_end.p50_us", "latency.end_to_end.p99_us", "latency.end_to_end.p999_us", "latency.end_to_end.max_us",
	"latency.confirm.p50_us", "latency.confirm.p99_us", "latency.confirm.p999_us",
	"latency.rpc.p50_us", "latency.rpc.p99_us", "latency.rpc.p999_us",
	"latency.rpc_server.p50_us", "latency.rpc_server.p99_us",
	"client.cpu_s",
}

// Write prints every pair side by side with absolute and relative deltas,
// then the gates' verdicts. Markdown is for pasting into a pull request.
func Write(w io.Writer, base, cand Side, p Pairing, verdicts []Verdict, gates []Gate, markdown bool) error {
	fmt.Fprintf(w, "baseline:  %s\ncandidate: %s\n", base.File, cand.File)
	metrics := append([]string(nil), shownMetrics...)
	for _, g := range gates {
		if !contains(metrics, g.Metric) {
			metrics = append(metrics, g.Metric)
		}
	}
	for _, pr := range p.Pairs {
		fmt.Fprintln(w)
		if pr.Key != "" {
			fmt.Fprintf(w, "variant %s\n", pr.Key)
		}
		rows := pairRows(pr, metrics)
		header := []string{"metric", "baseline", "candidate", "delta", "delta %"}
		if markdown {
			writeMarkdown(w, header, rows)
			continue
		}
		t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithRowAlignment(tw.AlignRight), tablewriter.WithHeaderAlignment(tw.AlignRight))
		t.Header(header)
		if err := t.Bulk(rows); err != nil {
			return err
		}
		if err := t.Render(); err != nil {
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

func pairRows(pr Pair, metrics []string) [][]string {
	var rows [][]string
	for _, m := range metrics {
		b, okB := pr.Base.Summary.Stat(m, pr.Base.Runs)
		c, okC := pr.Cand.Summary.Stat(m, pr.Cand.Runs)
		if !okB || !okC {
			continue
		}
		delta := c.Median - b.Median
		pct := "-"
		if b.Median != 0 {
			pct = fmt.Sprintf("%+.1f%%", delta/b.Median*100)
		}
		rows = append(rows, []string{m, stat(m, b), stat(m, c), signed(m, delta), pct})
	}
	return rows
}

// String says what a verdict found, in one line.
func (v Verdict) String() string {
	where := ""
	if v.Key != "" {
		where = " [" + v.Key + "]"
	}
	limit := fmt.Sprintf("limit %g%%", v.Gate.Pct)
	switch {
	case v.Missing:
		return fmt.Sprintf("SKIPPED    %s: not in both results%s", v.Gate.Metric, where)
	case v.Regression():
		return fmt.Sprintf("REGRESSION %s: %.1f%% worse, %s → %s (%s)%s", v.Gate.Metric, v.WorsePct,
			value(v.Gate.Metric, v.Base.Median), value(v.Gate.Metric, v.Cand.Median), limit, where)
	case v.Crossed:
		return fmt.Sprintf("NOT DECLARED %s: %.1f%% worse (%s), but the min–max spreads of the repeats overlap (%s vs %s)%s",
			v.Gate.Metric, v.WorsePct, limit, spread(v.Gate.Metric, v.Base), spread(v.Gate.Metric, v.Cand), where)
	case v.WorsePct > 0:
		return fmt.Sprintf("ok         %s: %.1f%% worse (%s)%s", v.Gate.Metric, v.WorsePct, limit, where)
	default:
		return fmt.Sprintf("ok         %s: %.1f%% better (%s)%s", v.Gate.Metric, -v.WorsePct, limit, where)
	}
}

func value(metric string, v float64) string {
	switch {
	case strings.HasPrefix(metric, "latency.") && !strings.HasSuffix(metric, "count"):
		return report.Micros(int64(v + 0.5))
	case strings.HasSuffix(metric, "_s") && !strings.HasSuffix(metric, "per_s"):
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return report.Rate(v)
}

func signed(metric string, d float64) string {
	if d < 0 {
		return "-" + value(metric, -d)
	}
	return "+" + value(metric, d)
}

func stat(metric string, s measure.Stat) string {
	if s.N <= 1 || s.Min == s.Max {
		return value(metric, s.Median)
	}
	return value(metric, s.Median) + " (" + spread(metric, s) + ")"
}

func spread(metric string, s measure.Stat) string {
	return value(metric, s.Min) + "–" + value(metric, s.Max)
}

func writeMarkdown(w io.Writer, header []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|---|", strings.Join(header, " | "))
	for range header[1:] {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
