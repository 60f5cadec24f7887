package capacity

import (
	"fmt"
	"math"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// ConsumedShortfall is how fast, as a share of what is owed to them per
// second, the consumers (or RPC servers) may fall behind over a step,
// beyond the error tolerance (nacked and returned messages reach no
// consumer), and at least BacklogFloor msg/s.
//
// Why this measure and 2%: consumers that keep up consume what reaches
// them, so the running difference between what was owed to them and what
// they consumed (the backlog as the client counts it, in flight included)
// stays level, while consumers g msg/s short make it climb at g msg/s. A
// line is fitted through it, as through the backlog samples, so a hiccup
// at one end of the window (the pipeline 50 ms slower at its end than at
// its start, common on a shared machine) does not fail a step as a
// comparison of the two totals would. 2% is as strict as the rate check
// is with the producers and twice as loose as the backlog slope (1%):
// this check counts by the client's clock, and is there for when the
// backlog figure is blind or unknown; the backlog is the finer one.
const ConsumedShortfall = 0.02

// consumedShort compares what the consumers consumed over the measured
// intervals with what was published to them (each message times the
// deliveries it owes, see owed), or for an RPC load the replies with the
// requests (replies are counted as they arrive). It returns why the step
// failed ("" when it did not), or a note when the routing does not say
// what each message owes, and the check was not made.
func consumedShort(r *result.Result, rpc bool, tolerance float64) (short, note string) {
	per := 1.0
	if !rpc {
		var why string
		if per, why = owed(r); why != "" {
			return "", "consumed not checked against published: " + why
		}
	}
	var sent, got, secs float64
	var xs, ys []float64
	for _, iv := range r.Intervals {
		if !measured(iv) {
			continue
		}
		secs += iv.Seconds
		switch {
		case !rpc:
			sent += float64(iv.Published) * per
			got += float64(iv.Consumed)
		case iv.RPCRequests != nil && iv.RPCReplies != nil:
			sent += float64(*iv.RPCRequests)
			got += float64(*iv.RPCReplies)
		}
		xs, ys = append(xs, iv.TS), append(ys, sent-got)
	}
	if secs == 0 {
		return "", ""
	}
	behind := fitSlope(xs, ys)
	limit := math.Max((ConsumedShortfall+tolerance)*sent/secs, BacklogFloor)
	if behind <= limit {
		return "", ""
	}
	what := "consumed %.0f of %.0f published to the consumers"
	if rpc {
		what = "replies to %.0f of %.0f requests"
	}
	return fmt.Sprintf("fell behind %.1f/s, limit %.1f/s ("+what+")", behind, limit, got, sent), ""
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
