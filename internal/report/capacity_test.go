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

// TestCapacityAnswerSaysHowSure: the answer says whether it passed twice
// or once (and why); a document written before answers said so reads as
// it always did; a sweep marks a capacity that passed once.
func TestCapacityAnswerSaysHowSure(t *testing.T) {
	fail := 1000.0
	once := capacity.Answer{RatePerS: 800, LimitedBy: "backlog", FirstFailingRate: &fail, FailedObjectives: []string{"backlog"},
		Basis: "passed once, not confirmed: 3 confirmations failed (at 1000, 950, 902.5/s)"}
	twice := capacity.Answer{RatePerS: 950, LimitedBy: "backlog", FirstFailingRate: &fail, FailedObjectives: []string{"backlog"},
		Confirmed: true, Basis: "passed twice (confirmed)"}
	old := twice
	old.Confirmed, old.Basis = false, ""
	for _, c := range []struct {
		a    capacity.Answer
		want string
	}{
		{once, "capacity: 800/s, passed once, not confirmed: 3 confirmations failed (at 1000, 950, 902.5/s); at 1,000/s backlog failed first"},
		{twice, "capacity: 950/s, passed twice (confirmed); at 1,000/s backlog failed first"},
		{old, "capacity: 950/s; at 1,000/s backlog failed first"},
	} {
		if got := Answer(&capacity.Doc{StopReason: capacity.StopCompleted, Capacity: c.a}); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	var b strings.Builder
	sweep := &capacity.SweepDoc{ParamNames: []string{"prefetch"}, Variants: []capacity.SweepVariant{
		{Params: map[string]string{"prefetch": "1"}, Search: &capacity.Doc{Capacity: once}},
		{Params: map[string]string{"prefetch": "10"}, Search: &capacity.Doc{Capacity: twice}}}}
	if err := WriteCapacitySweep(&b, sweep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "800 (once)") || strings.Contains(b.String(), "950 (once)") {
		t.Errorf("sweep table does not mark the capacity that passed once:\n%s", b.String())
	}
}

// TestCapacityNotesOnce: what the verdicts could not check is printed
// under the steps, once however many steps say it.
func TestCapacityNotesOnce(t *testing.T) {
	note := "consumed not checked against published: the routing does not say"
	d := &capacity.Doc{StopReason: capacity.StopCompleted, Steps: []capacity.Step{
		{Phase: "bracket", TargetRate: 100, Pass: true, Notes: []string{note}},
		{Phase: "bracket", TargetRate: 200, Pass: true, Notes: []string{note}}}}
	var b strings.Builder
	if err := WriteCapacity(&b, d); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "note: "+note); n != 1 {
		t.Errorf("the note is printed %d times, want once:\n%s", n, b.String())
	}
}
