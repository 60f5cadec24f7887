package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/metrics"
)

// WriteCapacity prints a capacity search: every step (target, achieved
// rates, latency, backlog slope, verdict), what the verdicts could not
// check, then one line with the answer.
func WriteCapacity(w io.Writer, d *capacity.Doc) error {
	fmt.Fprintf(w, "capacity search %q  objectives: %s  stop: %s\n\n", d.Scenario.Name, objectives(d.SLO), d.StopReason)
	kind := d.LatencyKind()
	label := kind.Info().Short
	header := []string{"step", "phase", "target/s", "published/s", "consumed/s",
		label + " p50", label + " p99", label + " p99.9", "backlog slope/s", "verdict"}
	var rows [][]string
	for i, st := range d.Steps {
		rows = append(rows, stepRow(i+1, st, kind))
	}
	if err := WriteBox(w, header, rows); err != nil {
		return err
	}
	for _, n := range stepNotes(d) {
		fmt.Fprintln(w, "note:", n)
	}
	fmt.Fprintln(w, Answer(d))
	return nil
}

// stepNotes are what the steps' verdicts could not check, each said once.
func stepNotes(d *capacity.Doc) []string {
	var out []string
	seen := map[string]bool{}
	for _, st := range d.Steps {
		for _, n := range st.Notes {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

func stepRow(n int, st capacity.Step, kind metrics.Kind) []string {
	target := "unpaced"
	if st.TargetRate > 0 {
		target = Rate(st.TargetRate)
	}
	row := []string{fmt.Sprint(n), st.Phase, target, "-", "-", "-", "-", "-", fmt.Sprintf("%.1f", st.BacklogSlope), verdict(st)}
	if r := st.Result; r != nil {
		row[3] = Rate(r.Rates.PublishedPerS)
		if r.Rates.RPCRequestsPerS != nil && r.Scenario.Producers.Count == 0 {
			row[3] = Rate(*r.Rates.RPCRequestsPerS) + " req"
		}
		row[4] = RatePtr(r.Rates.ConsumedPerS)
		if s := r.Latency[kind]; s != nil {
			row[5], row[6], row[7] = Micros(s.P50Us), Micros(s.P99Us), Micros(s.P999Us)
		}
	}
	return row
}

func verdict(st capacity.Step) string {
	if st.Pass {
		return "pass"
	}
	if len(st.Reasons) > 0 {
		return "FAIL " + strings.Join(st.Reasons, "; ")
	}
	return "FAIL " + strings.Join(st.Failed, ", ")
}

// Answer is the search's one-line answer: the capacity, the latency at
// it, how sure it is (passed twice, or once and why), and what failed
// first above it.
func Answer(d *capacity.Doc) string {
	a := d.Capacity
	if a.RatePerS == 0 && a.FirstFailingRate == nil && len(a.FailedObjectives) == 0 {
		return fmt.Sprintf("capacity: none found — the search stopped (%s) before any step passed", d.StopReason)
	}
	if a.RatePerS == 0 {
		first := "the first step"
		if a.FirstFailingRate != nil {
			first = Rate(*a.FirstFailingRate) + "/s"
		}
		return fmt.Sprintf("capacity: none found — %s already failed (%s)", first, strings.Join(a.FailedObjectives, ", "))
	}
	at := ""
	kind := d.LatencyKind()
	if r := d.Best(); r != nil && r.Latency[kind] != nil {
		at = fmt.Sprintf(" (%s p99 %s there)", kind.Info().Short, Micros(r.Latency[kind].P99Us))
	}
	above := "nothing failed up to the ceiling"
	if a.FirstFailingRate != nil {
		above = fmt.Sprintf("at %s/s %s failed first", Rate(*a.FirstFailingRate), strings.Join(a.FailedObjectives, ", "))
	}
	if a.LimitedBy == capacity.CheckClient {
		above = "mqbench itself was the bottleneck (client-bound): use more load generators before blaming the broker"
	}
	sure := "" // documents written before the answer said how sure it is
	if a.Basis != "" {
		sure = ", " + a.Basis
	}
	return fmt.Sprintf("capacity: %s/s%s%s; %s", Rate(a.RatePerS), at, sure, above)
}

// capacityCell is a sweep's capacity, marked when it passed only once.
func capacityCell(a capacity.Answer) string {
	if a.RatePerS > 0 && a.Basis != "" && !a.Confirmed {
		return Rate(a.RatePerS) + " (once)"
	}
	return Rate(a.RatePerS)
}

func objectives(slo []capacity.Objective) string {
	if len(slo) == 0 {
		return "none (the always-enforced checks only)"
	}
	parts := make([]string, len(slo))
	for i, o := range slo {
		parts[i] = fmt.Sprintf("%s<=%g", o.Path, o.Max)
	}
	return strings.Join(parts, ", ")
}

// capacityRows are the steps as raw numbers: target, achieved publish and
// consume rates, the latency's p50, p99 and p99.9 in µs, the backlog
// slope, pass, what failed.
func capacityRows(d *capacity.Doc) (header []string, rows [][]string) {
	k := d.LatencyKind()
	kind := k.String()
	header = []string{"step", "phase", "target_rate", "published_per_s", "consumed_per_s",
		kind + ".p50_us", kind + ".p99_us", kind + ".p999_us", "backlog_slope", "pass", "failed"}
	for i, st := range d.Steps {
		row := []string{fmt.Sprint(i + 1), st.Phase, num(st.TargetRate), "", "", "", "", "", num(st.BacklogSlope), fmt.Sprint(st.Pass), strings.Join(st.Failed, " ")}
		if r := st.Result; r != nil {
			row[3] = num(r.Rates.PublishedPerS)
			if r.Rates.ConsumedPerS != nil {
				row[4] = num(*r.Rates.ConsumedPerS)
			}
			if s := r.Latency[k]; s != nil {
				row[5], row[6], row[7] = fmt.Sprint(s.P50Us), fmt.Sprint(s.P99Us), fmt.Sprint(s.P999Us)
			}
		}
		rows = append(rows, row)
	}
	return header, rows
}

// WriteCapacityCSV prints the steps as CSV.
func WriteCapacityCSV(w io.Writer, d *capacity.Doc) error {
	header, rows := capacityRows(d)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// WriteCapacityMarkdown prints the steps as a markdown table and the
// answer.
func WriteCapacityMarkdown(w io.Writer, d *capacity.Doc) error {
	header, rows := capacityRows(d)
	Markdown(w, header, 2, rows)
	fmt.Fprintf(w, "\n%s\n", Answer(d))
	return nil
}
