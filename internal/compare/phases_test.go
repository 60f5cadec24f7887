package compare

import (
	"testing"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// phasedResult is a result with a drain phase and a kind of worker's own
// figures.
func phasedResult(drainS, recoveryS, churnPerS float64) *result.Result {
	r := &result.Result{Schema: result.Schema}
	r.Phases = []result.Phase{{Name: "drain", DrainS: &drainS, RecoveryS: &recoveryS,
		Rates: result.PhaseRates{ConsumedPerS: 100}}}
	r.Phases[0].Latency[metrics.EndToEnd] = &metrics.Summary{Count: 10, P99Us: 5000}
	r.Kinds = map[string]*result.KindFigures{"churn": {Rates: map[string]float64{"connections": churnPerS}}}
	return r
}

// TestGatesOnPhasesAndKinds: a phase's figures and a kind's own figures
// are gated by compare like any other: read from both results, a slower
// drain is a regression, an unchanged rate is not.
func TestGatesOnPhasesAndKinds(t *testing.T) {
	base := FromResult("base.json", phasedResult(5, 2, 50))
	cand := FromResult("cand.json", phasedResult(7, 2, 50))
	var gates []Gate
	for _, g := range []string{"phases.drain.drain_s=10", "phases.drain.recovery_s=10", "phases.drain.latency.end_to_end.p99_us=10",
		"phases.drain.rates.consumed_per_s=5", "kinds.churn.rates.connections=5"} {
		parsed, err := ParseGate(g)
		if err != nil {
			t.Fatal(err)
		}
		gates = append(gates, parsed)
	}
	vs := Apply(Match(base, cand), gates)
	if len(vs) != len(gates) {
		t.Fatalf("%d verdicts", len(vs))
	}
	for i, v := range vs {
		if v.Missing != "" {
			t.Errorf("%s: missing on the %s", v.Gate.Figure.Path, v.Missing)
		}
		if want := i == 0; v.Regression() != want {
			t.Errorf("%s: regression %v (worse by %.1f%%), want %v", v.Gate.Figure.Path, v.Regression(), v.WorsePct, want)
		}
	}
	if _, err := ParseGate("phases.drain.s=5"); err == nil {
		t.Error("a phase's length is no gate")
	}
	if _, err := ParseGate("phases.drain.nonsense=5"); err == nil {
		t.Error("an unknown phase figure was accepted")
	}
}
