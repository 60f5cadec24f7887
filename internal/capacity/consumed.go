package capacity

import (
	"fmt"
	"math"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// ConsumedShortfall is how far below what was published to them the
// consumers (or RPC servers) may fall over a step's measured window,
// beyond the error tolerance (nacked and returned messages reach no
// consumer).
//
// Why 2%: a step's warm-up brings the pipeline to its steady state, so
// consumers that keep up consume over the window what was published over
// it give or take the change in messages in flight between its two ends
// (a handful, one end-to-end latency's worth, which the BacklogFloor
// allowance per second covers at low rates); consumers that fall g msg/s
// behind leave g × window unconsumed, so 2% fails a step whose consumers
// keep up with less than 98% of what reaches them. It is as strict as the
// rate check is with the producers, and twice as loose as the backlog
// slope (1% of the rate per second): this check compares two end points
// and must not fail on their noise, the fitted slope is the finer one when
// the backlog is seen, this one still works when it is blind or unknown.
const ConsumedShortfall = 0.02

// consumedShort compares what the consumers consumed over the measured
// intervals with what was published to them (each message times the
// deliveries it owes, see owed), or for an RPC load the replies with the
// requests. It returns why the step failed ("" when it did not), or a
// note when the routing does not say what each message owes, and the
// check was not made.
func consumedShort(r *result.Result, rpc bool, tolerance float64) (short, note string) {
	per := 1.0
	if !rpc {
		var why string
		if per, why = owed(r); why != "" {
			return "", "consumed not checked against published: " + why
		}
	}
	var sent, got, secs float64
	for _, iv := range r.Intervals {
		if !measured(iv) {
			continue
		}
		secs += iv.Seconds
		switch {
		case !rpc:
			sent += float64(iv.Published)
			got += float64(iv.Consumed)
		case iv.RPCRequests != nil && iv.RPCReplies != nil:
			sent += float64(*iv.RPCRequests)
			got += float64(*iv.RPCReplies)
		}
	}
	want := sent * per
	allowed := math.Max((ConsumedShortfall+tolerance)*want, BacklogFloor*secs)
	if want-got <= allowed {
		return "", ""
	}
	if rpc {
		return fmt.Sprintf("replies to %.0f of %.0f requests (%.1f%%; at most %.0f short)", got, want, 100*got/want, allowed), ""
	}
	return fmt.Sprintf("consumed %.0f of %.0f published to the consumers (%.1f%%; at most %.0f short)", got, want, 100*got/want, allowed), ""
}

// owed is how many deliveries each published message owes the run's
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
// owed returns why.
func owed(r *result.Result) (float64, string) {
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
