package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// saved writes a synthetic result and returns its path.
func saved(t *testing.T, name string, edit func(r *result.Result)) string {
	t.Helper()
	nacked := int64(0)
	cons := 1000.0
	r := &result.Result{Schema: result.Schema, Scenario: scenario.Default(), StopReason: result.StopDuration,
		MeasuredS: 10, Rates: result.Rates{PublishedPerS: 1000, ConsumedPerS: &cons}, Totals: result.Totals{Nacked: &nacked}}
	r.Latency[metrics.EndToEnd] = &metrics.Summary{Count: 10, P50Us: 1000, P99Us: 2000, MaxUs: 3000}
	r.Latency[metrics.SendLag] = &metrics.Summary{Count: 10, P99Us: 500}
	if edit != nil {
		edit(r)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := result.SaveJSON(p, r); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompareGateExitCodes: gates on every kind of figure work; a gated
// figure one side lacks fails the gate with exit 4 and says why; a bad
// gate is a usage error listing the paths that can be gated.
func TestCompareGateExitCodes(t *testing.T) {
	base := saved(t, "base.json", nil)
	same := saved(t, "same.json", nil)
	nacks := saved(t, "nacks.json", func(r *result.Result) { n := int64(5); r.Totals.Nacked = &n })
	noLag := saved(t, "nolag.json", func(r *result.Result) { r.Latency[metrics.SendLag] = nil })
	cases := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"zero nacks both sides", []string{base, same, "--max-regression", "totals.nacked=0"}, exitOK, []string{"ok"}},
		{"nacks appear", []string{base, nacks, "--max-regression", "totals.nacked=0"}, exitRegression, []string{"REGRESSION totals.nacked"}},
		{"send lag gate", []string{base, same, "--max-regression", "latency.send_lag.p99_us=1"}, exitOK, []string{"ok         latency.send_lag.p99_us"}},
		{"missing from the candidate", []string{base, noLag, "--max-regression", "latency.send_lag.p99_us=10"}, exitGateMissed,
			[]string{"MISSING    latency.send_lag.p99_us: not in the candidate"}},
		{"missing from the baseline", []string{noLag, base, "--max-regression", "latency.send_lag.p99_us=10"}, exitGateMissed,
			[]string{"not in the baseline"}},
		{"missing from both", []string{noLag, noLag, "--max-regression", "latency.send_lag.p99_us=10"}, exitGateMissed,
			[]string{"MISSING    latency.send_lag.p99_us: not in either side"}},
		{"unknown path", []string{base, same, "--max-regression", "latency.e2e.p99_us=10"}, exitUsage,
			[]string{"unknown metric", "rates.consumed_per_s", "latency.<end_to_end|"}},
		{"not gateable", []string{base, same, "--max-regression", "totals.published=10"}, exitUsage, []string{"cannot be gated"}},
		{"negative", []string{base, same, "--max-regression", "rates.consumed_per_s=-5"}, exitUsage, []string{"not a percentage"}},
		{"infinite", []string{base, same, "--max-regression", "rates.consumed_per_s=Inf"}, exitUsage, []string{"not a percentage"}},
	}
	for _, c := range cases {
		code, stdout, stderr := run(append([]string{"compare"}, c.args...)...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", c.name, code, c.code, stdout, stderr)
			continue
		}
		for _, w := range c.wants {
			if !strings.Contains(stdout+stderr, w) {
				t.Errorf("%s: output does not say %q:\n%s\n%s", c.name, w, stdout, stderr)
			}
		}
	}
}
