package kind

import (
	"testing"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestMessagesOwed: how many servings a published message owes, from the
// scenario's routing and the queues the run declared — and why not, when
// the routing does not say.
func TestMessagesOwed(t *testing.T) {
	queues := func(qs ...result.Queue) []result.Queue { return qs }
	classic := func(n int) result.Queue { return result.Queue{Name: "q", Type: scenario.QueueClassic, Consumers: n} }
	stream := func(n int) result.Queue { return result.Queue{Name: "s", Type: scenario.QueueStream, Consumers: n} }
	fanout := scenario.Default()
	fanout.Exchange = scenario.Exchange{Name: "x", Type: scenario.ExchangeFanout}
	bound := scenario.Default()
	bound.Queues = []scenario.Queue{{Bindings: []scenario.Binding{{Key: "k"}}}}
	bound.Exchange = scenario.Exchange{Name: "x", Type: scenario.ExchangeDirect}
	refusing := scenario.Default()
	refusing.Consumers.Ack = scenario.AckNack
	cases := []struct {
		name   string
		sc     scenario.Scenario
		queues []result.Queue
		want   float64
		why    bool
	}{
		{"one queue, competing consumers", scenario.Default(), queues(classic(3)), 1, false},
		{"default routing over two queues, one unconsumed", scenario.Default(), queues(classic(2), classic(0)), 0.5, false},
		{"a stream owes every reader", scenario.Default(), queues(stream(3)), 3, false},
		{"fanout reaches every queue", fanout, queues(classic(1), classic(1)), 2, false},
		{"the scenario's own bindings", bound, queues(classic(1)), 0, true},
		{"refusing consumers", refusing, queues(classic(1)), 0, true},
		{"no queues", scenario.Default(), nil, 0, true},
	}
	for _, c := range cases {
		got, why := MessagesOwed(&result.Result{Scenario: c.sc, Queues: c.queues})
		if got != c.want || (why != "") != c.why {
			t.Errorf("%s: %v (%q), want %v (why: %v)", c.name, got, why, c.want, c.why)
		}
	}
}

// TestOffering: the first kind whose load the scenario offers.
func TestOffering(t *testing.T) {
	a := &Load{Offers: func(sc scenario.Scenario) bool { return sc.Producers.Count > 0 }}
	b := &Load{Offers: func(sc scenario.Scenario) bool { return sc.RPC.Clients > 0 }}
	kinds := []Kind{{Name: "consumer"}, {Name: "producer", Load: a}, {Name: "rpc_client", Load: b}}
	sc := scenario.Default()
	sc.Producers.Count, sc.RPC.Clients = 0, 2
	if got := Offering(kinds, sc); got != b {
		t.Error("an RPC-only scenario offers the RPC clients' load")
	}
	sc.Producers.Count = 1
	if got := Offering(kinds, sc); got != a {
		t.Error("producers come first")
	}
	sc.Producers.Count, sc.RPC.Clients = 0, 0
	if Offering(kinds, sc) != nil {
		t.Error("nothing offers load")
	}
}
