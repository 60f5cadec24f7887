package report

import (
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/capacity"
)

// TestCapacityAnswerWhenNothingPassed: a search stopped before any step
// says why, instead of blaming a first step that never ran; one whose
// first step failed names the rate and what failed.
func TestCapacityAnswerWhenNothingPassed(t *testing.T) {
	if got := Answer(&capacity.Doc{StopReason: capacity.StopBudget}); !strings.Contains(got, "stopped (budget) before any step passed") {
		t.Errorf("no step: %q", got)
	}
	rate := 200.0
	doc := &capacity.Doc{StopReason: capacity.StopCompleted,
		Capacity: capacity.Answer{FirstFailingRate: &rate, FailedObjectives: []string{"latency.end_to_end.p99_us"}}}
	if got := Answer(doc); !strings.Contains(got, "200/s already failed (latency.end_to_end.p99_us)") {
		t.Errorf("first step failed: %q", got)
	}
}
