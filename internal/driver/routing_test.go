package driver

import (
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// TestHeadersExchangeMatchesArguments: only the queue whose binding
// arguments match the message headers gets the messages.
func TestHeadersExchangeMatchesArguments(t *testing.T) {
	sc := scenario.Default()
	sc.Exchange = scenario.Exchange{Name: "mqbench-headers", Type: "headers"}
	sc.Producers = scenario.Producers{Count: 1, Messages: 500, Confirm: 50, Size: stamp.AuditSize,
		Headers: map[string]any{"region": "eu", "tier": 2}}
	sc.Consumers = scenario.Consumers{Count: 3, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{
		{Name: "mqbench-h-eu", Bindings: []scenario.Binding{{Arguments: map[string]any{"x-match": "all", "region": "eu", "tier": 2}}}},
		{Name: "mqbench-h-us", Bindings: []scenario.Binding{{Arguments: map[string]any{"x-match": "all", "region": "us"}}}},
		{Name: "mqbench-h-any", Bindings: []scenario.Binding{{Arguments: map[string]any{"x-match": "any", "region": "us", "tier": 2}}}},
	}
	own(t, &sc)
	res := runOK(t, sc)
	want := map[string]int64{sc.Queues[0].Name: 500, sc.Queues[1].Name: 0, sc.Queues[2].Name: 500}
	for _, q := range res.Queues {
		if q.Consumed != want[q.Name] {
			t.Errorf("queue %s consumed %d, want %d", q.Name, q.Consumed, want[q.Name])
		}
	}
	if res.Audit == nil || !res.Audit.Balanced {
		t.Fatalf("audit %+v", res.Audit)
	}
	for _, q := range res.Audit.Queues { // the audit's headers matching agrees with the broker's
		if q.Expected != want[q.Name] {
			t.Errorf("audit expected %d on %s, want %d", q.Expected, q.Name, want[q.Name])
		}
	}
	assertNothingLeft(t, sc, res)
}

// TestMandatoryReturnsAreCounted: half the routing keys have no binding, so
// half the messages come back.
func TestMandatoryReturnsAreCounted(t *testing.T) {
	sc := scenario.Default()
	sc.Exchange = scenario.Exchange{Name: "mqbench-mandatory", Type: "direct"}
	sc.Producers = scenario.Producers{Count: 1, Messages: 400, Confirm: 40, Size: 12, Mandatory: true,
		RoutingKeys: []string{"bound", "nowhere"}}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{{Name: "mqbench-mandatory", Bindings: []scenario.Binding{{Key: "bound"}}}}
	own(t, &sc)
	res := runOK(t, sc)
	if val(res.Totals.Returned) != 200 || val(res.Totals.Consumed) != 200 || val(res.Totals.Confirmed) != 400 {
		t.Fatalf("returned %d consumed %d confirmed %d; want 200, 200, 400",
			val(res.Totals.Returned), val(res.Totals.Consumed), val(res.Totals.Confirmed))
	}
	assertNothingLeft(t, sc, res)
}

// TestStreamQueue publishes to and consumes from a stream.
func TestStreamQueue(t *testing.T) {
	sc := scenario.Default()
	sc.Producers = scenario.Producers{Count: 1, Messages: 1000, Confirm: 100, Size: 32}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckMultiple, MultiAckEvery: 10, Prefetch: 100}
	sc.Queues = []scenario.Queue{{Name: "mqbench-stream", Type: scenario.QueueStream}}
	own(t, &sc)
	res := runOK(t, sc)
	if res.Totals.Published != 1000 || val(res.Totals.Consumed) != 1000 {
		t.Fatalf("published %d consumed %d; want 1000 each", res.Totals.Published, val(res.Totals.Consumed))
	}
	if res.Queues[0].Type != scenario.QueueStream {
		t.Errorf("queue type %q", res.Queues[0].Type)
	}
	assertNothingLeft(t, sc, res)
}

// TestExistingQueueIsLeftInPlace: a queue that existed before the run is
// used and not deleted; one with other arguments is a clear error.
func TestExistingQueueIsLeftInPlace(t *testing.T) {
	sc := scenario.Default()
	sc.Producers = scenario.Producers{Count: 1, Messages: 10, Confirm: 10, Size: 12}
	sc.Queues = []scenario.Queue{{Name: "mqbench-existing", Durable: true}}
	own(t, &sc)
	c := brokerConn(t, sc.URL)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(sc.Queues[0].Name, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	runOK(t, sc)
	if _, err := ch.QueueDeclarePassive(sc.Queues[0].Name, true, false, false, false, nil); err != nil {
		t.Fatalf("the pre-existing queue was deleted: %v", err)
	}

	bad := sc
	bad.Queues = []scenario.Queue{{Name: sc.Queues[0].Name, Durable: false, Count: 1, Type: scenario.QueueClassic}}
	_, err = Run(t.Context(), bad, Options{})
	if err == nil || !contains(err.Error(), "PRECONDITION_FAILED") || !contains(err.Error(), sc.Queues[0].Name) {
		t.Fatalf("err = %v, want PRECONDITION_FAILED naming the queue", err)
	}
}

// TestBrokerClosedChannelFailsTheRun: publishing to an exchange that does
// not exist makes the broker close the channel; the run ends with an error
// naming the broker's reason, and the result says so.
func TestBrokerClosedChannelFailsTheRun(t *testing.T) {
	sc := scenario.Default()
	sc.Exchange = scenario.Exchange{Name: "amq.mqbench-missing", Type: "direct"} // amq.*: never declared by mqbench
	sc.Producers = scenario.Producers{Count: 1, Size: 12}
	sc.Consumers.Count = 0
	sc.Queues = nil // nothing to bind: the first publish meets the missing exchange
	sc.Duration = scenario.Duration(5 * time.Second)
	own(t, &sc)
	res, err := Run(t.Context(), sc, Options{})
	if err == nil || !contains(err.Error(), "NOT_FOUND") || !contains(err.Error(), "producer 0") {
		t.Fatalf("err = %v, want the broker's NOT_FOUND naming the producer", err)
	}
	if res == nil || res.StopReason != "error" || !contains(res.Error, "NOT_FOUND") {
		t.Fatalf("result %+v", res)
	}
}
