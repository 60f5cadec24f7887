package result

import "github.com/mqbench/mqbench/internal/metrics"

// KindFigures are the figures of a kind of worker beyond the run's
// standard ones (Totals, Rates, Latency): a kind added to mqbench reports
// its own here, under its name in Result.Kinds, and they are figures of
// the catalogue like any other (paths kinds.<kind>.counts.<name>,
// kinds.<kind>.rates.<name>, kinds.<kind>.latency.<name>.<stat>).
type KindFigures struct {
	// Counts are events after the warm-up, the drain included.
	Counts map[string]int64 `json:"counts,omitempty"`
	// Rates are per second over the load's window.
	Rates map[string]float64 `json:"rates,omitempty"`
	// Latency holds one summary per timed operation.
	Latency map[string]*metrics.Summary `json:"latency,omitempty"`
}
