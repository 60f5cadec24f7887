package report

import (
	"fmt"
	"io"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// phaseColumns is the header of the phases table.
var phaseColumns = []string{"phase", "s", "ended", "published/s", "consumed/s", "e2e p50", "e2e p99",
	"backlog start", "end", "peak", "drain s", "recovery s"}

// PhaseTable is a phased run's phases as a table, one row each: how long
// and how each ended, its rates and end-to-end latency, its backlog, and
// its drain and recovery times ("-" where a figure does not apply,
// "never" for a recovery that did not come). Nil rows without phases.
func PhaseTable(r *result.Result) (header []string, rows [][]string) {
	for _, ph := range r.Phases {
		p50, p99 := "-", "-"
		if s := ph.Latency[metrics.EndToEnd]; s != nil {
			p50, p99 = Micros(s.P50Us), Micros(s.P99Us)
		}
		recovery := seconds(ph.RecoveryS)
		if ph.RecoveryOf != "" && ph.RecoveryS == nil {
			recovery = "never"
		}
		rows = append(rows, []string{ph.Name, fmt.Sprintf("%.2f", ph.Seconds), ph.Ended, Rate(ph.Rates.PublishedPerS), Rate(ph.Rates.ConsumedPerS),
			p50, p99, CountPtr(ph.BacklogStart), CountPtr(ph.BacklogEnd), CountPtr(ph.BacklogPeak), seconds(ph.DrainS), recovery})
	}
	return append([]string(nil), phaseColumns...), rows
}

// RecoveryNotes say, for each phase timed for its recovery, what it had
// to come back to.
func RecoveryNotes(r *result.Result) []string {
	var out []string
	for _, ph := range r.Phases {
		if ph.RecoveryTargetUs != nil {
			out = append(out, fmt.Sprintf("%s: recovered once an interval's end-to-end p99 was at most %s (%s's p99 plus the margin)",
				ph.Name, Micros(*ph.RecoveryTargetUs), ph.RecoveryOf))
		}
	}
	return out
}

// writePhases prints a phased run's phase table and its recovery notes.
func writePhases(w io.Writer, r *result.Result) error {
	header, rows := PhaseTable(r)
	if len(rows) == 0 {
		return nil
	}
	if err := WriteBox(w, header, rows); err != nil {
		return err
	}
	for _, n := range RecoveryNotes(r) {
		fmt.Fprintln(w, n)
	}
	return nil
}

// seconds prints an optional time in seconds, "-" when null.
func seconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *s)
}
