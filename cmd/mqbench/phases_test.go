package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPhasedScenarioUsageErrors: a phase's mistakes exit 2 naming the
// file, line and field; --duration shorter than fixed phases is refused;
// capacity refuses phases (it sets the rate itself at every step).
func TestPhasedScenarioUsageErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	bad := "name: bad\nphases:\n  - name: steady\n    duration: 5s\n  - name: recovery\n    duration: 5s\n    recovery_of: outage\n"
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	expectUsageErrors(t, []usageCase{
		{[]string{"run", file}, []string{"bad.yaml:7: phases[1].recovery_of", "must name an earlier phase"}},
		{[]string{"run", "../../bench/scenarios/consumer-outage.yaml", "--duration", "10s"}, []string{"--duration = 10s", "the phases last 1m30s"}},
		{[]string{"run", "../../bench/scenarios/load-spike.yaml", "--warmup", "5s"}, []string{"--warmup = 5s", "phase of its own"}},
		{[]string{"capacity", "../../bench/scenarios/load-spike.yaml", "--slo", "latency.end_to_end.p99_us<=1000"}, []string{"phases"}},
	})
}
