package driver

import (
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/scenario"
)

// TestAuditCountsWhatTheBrokerDropped: a queue capped at 50 messages
// (x-max-length, drop-head) behind a slow consumer drops confirmed
// messages; the audit reports exactly those as dropped, with the queue
// argument that explains them — not as lost — and balances.
func TestAuditCountsWhatTheBrokerDropped(t *testing.T) {
	sc := scenario.Default()
	sc.Producers = scenario.Producers{Count: 2, Messages: 2000, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 10, Delay: scenario.Duration(time.Millisecond)}
	sc.Queues = []scenario.Queue{{Name: "mqbench-audit-capped", Arguments: map[string]any{"x-max-length": 50}}}
	sc.DrainTimeout = scenario.Duration(20 * time.Second)
	own(t, &sc)
	res := runOK(t, sc)
	a := res.Audit
	if a == nil || len(a.Queues) != 1 {
		t.Fatalf("audit %+v", a)
	}
	q := a.Queues[0]
	t.Logf("audit %+v", q)
	if q.Expected != 2000 || val(res.Totals.Confirmed) != 2000 {
		t.Fatalf("expected %d, confirmed %d: want 2000", q.Expected, val(res.Totals.Confirmed))
	}
	if q.Dropped == 0 || q.Dropped != 2000-q.Consumed-q.Left || q.Lost != 0 || q.Consumed != val(res.Totals.Consumed) || !a.Balanced ||
		!contains(q.DropReason, "x-max-length 50") {
		t.Errorf("dropped %d (%q) left %d lost %d consumed %d (consumer counted %d), balanced %v: every confirmed message not consumed nor left was dropped by the length limit",
			q.Dropped, q.DropReason, q.Left, q.Lost, q.Consumed, val(res.Totals.Consumed), a.Balanced)
	}
	if q.Duplicates+q.Unexpected+q.Unconfirmed != 0 {
		t.Errorf("audit %+v", q)
	}
	for _, w := range res.Warnings {
		if contains(w, "lost") {
			t.Errorf("a loss warning for what the queue's limit dropped: %q", w)
		}
	}
}
