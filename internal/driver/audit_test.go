package driver

import (
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/scenario"
)

// TestAuditCountsWhatTheBrokerDropped: a queue capped at 50 messages
// (x-max-length, drop-head) behind a slow consumer drops confirmed
// messages; the audit reports exactly those as lost, and balances.
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
	if q.Lost == 0 || q.Lost != 2000-q.Consumed || q.Consumed != val(res.Totals.Consumed) || !a.Balanced {
		t.Errorf("lost %d consumed %d (consumer counted %d), balanced %v: every confirmed message not consumed is lost",
			q.Lost, q.Consumed, val(res.Totals.Consumed), a.Balanced)
	}
	if q.Duplicates+q.Unexpected+q.Unconfirmed != 0 {
		t.Errorf("audit %+v", q)
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || contains(w, "lost")
	}
	if !warned {
		t.Errorf("no warning about lost messages: %q", res.Warnings)
	}
}
