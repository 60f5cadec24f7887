package kind

import (
	"fmt"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// MessagesOwed is how many deliveries each published message owes the run's
// consumers, from the scenario the step ran and the queues it declared: a
// classic or quorum queue with consumers owes one (they compete), a
// stream one per consumer (each reads all of it), a queue without
// consumers none. How many queues a message reaches follows mqbench's own
// default routing: on the default exchange, or a direct or topic one
// without bindings or routing keys of the scenario's own, producers cycle
// through the queue names, one queue per message; a fanout exchange (or a
// headers one with the default bindings) reaches every queue. Anything
// else — bindings or routing keys of the scenario's own, consumers that
// refuse messages, a stream's single active consumer — does not say, and
// MessagesOwed returns why.
func MessagesOwed(r *result.Result) (float64, string) {
	sc := r.Scenario
	if sc.Consumers.Ack == scenario.AckNack || sc.Consumers.Ack == scenario.AckReject {
		return 0, "the consumers refuse messages (ack " + sc.Consumers.Ack + ")"
	}
	bound := false
	for _, q := range sc.Queues {
		if q.Type == scenario.QueueStream && q.SingleActiveConsumer {
			return 0, "a stream has a single active consumer"
		}
		bound = bound || len(q.Bindings) > 0
	}
	var sum float64
	n := 0
	for _, q := range r.Queues {
		if q.RPC {
			continue
		}
		n++
		if q.Type == scenario.QueueStream {
			sum += float64(q.Consumers)
		} else {
			sum += float64(min(q.Consumers, 1))
		}
	}
	if n == 0 {
		return 0, "the result lists no queues"
	}
	ex := sc.Exchange
	switch {
	case ex.Name != "" && (ex.Type == scenario.ExchangeFanout || ex.Type == scenario.ExchangeHeaders && !bound):
		return sum, ""
	case !bound && len(sc.Producers.RoutingKeys) == 0 &&
		(ex.Name == "" || ex.Type == scenario.ExchangeDirect || ex.Type == scenario.ExchangeTopic):
		return sum / float64(n), ""
	}
	return 0, fmt.Sprintf("the routing (%s exchange, with the scenario's own bindings or routing keys) does not say how many queues a message reaches", ex.Type)
}
