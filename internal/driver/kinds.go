package driver

import (
	"context"
	"time"

	"github.com/mqbench/mqbench/internal/kind"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// The four kinds every mqbench run has had: their descriptions and roles.
// Their workers live in producer.go, consumer.go, rpcclient.go and
// rpcserver.go; their preparation in prepare.go and rpcsetup.go.

func producerKind() kind.Kind {
	return kind.Kind{
		Name: "producer", Section: "producers",
		Workers: func(sc scenario.Scenario) int { return sc.Producers.Count },
		Latencies: func(sc scenario.Scenario) []metrics.Kind {
			var out []metrics.Kind
			if sc.Producers.Paced() || sc.PhasesPace() {
				out = append(out, metrics.SendLag)
			}
			if sc.Producers.Confirm > 0 {
				out = append(out, metrics.Confirm)
			}
			return out
		},
		Load: &kind.Load{
			Offers: func(sc scenario.Scenario) bool { return sc.Producers.Count > 0 },
			Pace: func(sc *scenario.Scenario, rate float64) {
				sc.Producers.Rate, sc.Producers.Schedule, sc.Producers.TotalRate = 0, nil, rate
				sc.Producers.Messages = 0
			},
			Achieved: func(r *result.Result) float64 { return r.Rates.PublishedPerS },
			Errors: func(r *result.Result) (float64, float64) {
				return float64(deref(r.Totals.Nacked) + deref(r.Totals.Returned)), float64(r.Totals.Published)
			},
			Served: func(iv result.Interval) (float64, float64, bool) {
				return float64(iv.Published), float64(iv.Consumed), true
			},
			Owed:      kind.MessagesOwed,
			Shortfall: "consumed %.0f of %.0f published to the consumers",
		},
	}
}

func consumerKind() kind.Kind {
	return kind.Kind{
		Name: "consumer", Section: "consumers",
		Workers: func(sc scenario.Scenario) int { return sc.Consumers.Count },
		Latencies: func(scenario.Scenario) []metrics.Kind {
			// End-to-end from the actual send too, whenever a body carries
			// a schedule, whoever published it.
			return []metrics.Kind{metrics.EndToEnd, metrics.EndToEndActual}
		},
	}
}

func rpcClientKind() kind.Kind {
	return kind.Kind{
		Name: "rpc_client", Section: "rpc",
		Workers:   func(sc scenario.Scenario) int { return sc.RPC.Clients },
		Latencies: func(scenario.Scenario) []metrics.Kind { return []metrics.Kind{metrics.RPC} },
		Load: &kind.Load{
			// Only an RPC-only scenario's load is the clients' requests: beside
			// producers, the producers' messages are the load searched, the
			// RPC clients a fixed part of the scenario.
			Offers: func(sc scenario.Scenario) bool { return sc.RPC.Clients > 0 && sc.Producers.Count == 0 },
			Pace: func(sc *scenario.Scenario, rate float64) {
				sc.RPC.Rate, sc.RPC.Schedule, sc.RPC.TotalRate = 0, nil, rate
				sc.RPC.Requests = 0
			},
			Achieved: func(r *result.Result) float64 {
				if r.Rates.RPCRequestsPerS == nil {
					return 0
				}
				return *r.Rates.RPCRequestsPerS
			},
			Errors: func(r *result.Result) (float64, float64) {
				return float64(deref(r.Totals.RPCTimeouts)), float64(deref(r.Totals.RPCRequests))
			},
			Served: func(iv result.Interval) (float64, float64, bool) {
				if iv.RPCRequests == nil || iv.RPCReplies == nil {
					return 0, 0, false
				}
				return float64(*iv.RPCRequests), float64(*iv.RPCReplies), true
			},
			Owed:      func(*result.Result) (float64, string) { return 1, "" },
			Shortfall: "replies to %.0f of %.0f requests",
			InFlight: func(sc scenario.Scenario) float64 {
				return float64(sc.RPC.Clients * max(sc.RPC.Concurrency, 1))
			},
		},
	}
}

func rpcServerKind() kind.Kind {
	return kind.Kind{
		Name: "rpc_server", Section: "rpc",
		Workers:   func(sc scenario.Scenario) int { return sc.RPC.Servers },
		Latencies: func(scenario.Scenario) []metrics.Kind { return []metrics.Kind{metrics.RPCServer} },
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// producerRole runs the producers: alone, or the slow paced ones of a
// connection grouped on a goroutine (pacedgroup.go).
type producerRole struct{ w *workload }

func (r *producerRole) prepare(ctx context.Context, w *workload, e env) error {
	r.w = w
	return w.prepareProducers(ctx, e)
}

func (r *producerRole) start(w *workload) {
	alone, groups := pacedGroups(w.producers)
	for _, p := range alone {
		w.publishing.Add(1)
		w.confirming.Add(1)
		w.goAndTrack(func() {
			w.producerDone(p, p.run(w.ctx, w.start, &w.stopping, w.stop))
			p.awaitConfirms(w.abandon)
			w.confirming.Done()
		})
	}
	for _, g := range groups {
		w.publishing.Add(len(g))
		w.confirming.Add(len(g))
		w.goAndTrack(func() {
			runPacedGroup(w.ctx, g, w.start, &w.stopping, w.stop, w.producerDone)
			for _, p := range g {
				p.awaitConfirms(w.abandon)
				w.confirming.Done()
			}
		})
	}
}

func (r *producerRole) limited() int64 {
	var n int64
	for _, p := range r.w.producers {
		if p.limit >= 0 {
			n++
		}
	}
	return n
}

// cancel does nothing: producers stop at the workload's stop signal.
func (r *producerRole) cancel() {}

// done is nothing to wait for: the end closes producers' channels and
// waits for their confirm trackers itself.
func (r *producerRole) done() []<-chan struct{} { return nil }

// consumerRole runs the consumers: their goroutines start in prepare and
// wait for the start signal.
type consumerRole struct{ w *workload }

func (r *consumerRole) prepare(ctx context.Context, w *workload, e env) error {
	r.w = w
	return w.prepareConsumers(ctx, e)
}

func (r *consumerRole) start(*workload) {}

func (r *consumerRole) limited() int64 { return 0 }

func (r *consumerRole) cancel() {
	// Every consumer stops handling at once, then the subscriptions are
	// cancelled in parallel: one basic.cancel after another, against a
	// saturated broker, kept the last consumers consuming for tens of
	// seconds after the drain ended (100 consumers: 26 s).
	for _, c := range r.w.consumers {
		c.halt()
	}
	ctx, cancel := context.WithTimeout(context.Background(), unsubscribeWait)
	defer cancel()
	inParallel(ctx, r.w.consumers, (*consumer).unsubscribe)
}

// unsubscribeWait bounds the end's wait for the broker to answer the
// consumers' basic.cancel: the consumers have stopped handling already,
// and their channels close later whatever the broker does.
const unsubscribeWait = 10 * time.Second

func (r *consumerRole) done() []<-chan struct{} {
	var out []<-chan struct{}
	for _, c := range r.w.consumers {
		out = append(out, c.finished)
	}
	return out
}

// rpcServerRole runs mqbench's RPC servers, and declares (or checks) the
// request queue.
type rpcServerRole struct{ w *workload }

func (r *rpcServerRole) prepare(ctx context.Context, w *workload, e env) error {
	r.w = w
	return w.prepareRPC(ctx, e)
}

func (r *rpcServerRole) start(*workload) {}

func (r *rpcServerRole) limited() int64 { return 0 }

func (r *rpcServerRole) cancel() {
	for _, s := range r.w.rpcServers {
		s.cancel()
	}
}

func (r *rpcServerRole) done() []<-chan struct{} {
	var out []<-chan struct{}
	for _, s := range r.w.rpcServers {
		out = append(out, s.finished)
	}
	return out
}

// rpcClientRole runs the RPC clients.
type rpcClientRole struct{ w *workload }

func (r *rpcClientRole) prepare(ctx context.Context, w *workload, e env) error {
	r.w = w
	if !w.sc.RPC.Enabled() {
		return nil
	}
	return w.prepareRPCClients(ctx, e)
}

func (r *rpcClientRole) start(w *workload) {
	for _, c := range w.rpcClients {
		w.confirming.Add(1)
		w.goAndTrack(func() {
			met := c.run(w.ctx, w.start, w.stop, w.abandon)
			w.confirming.Done()
			if met {
				w.limitMet()
			}
		})
	}
}

func (r *rpcClientRole) limited() int64 {
	var n int64
	for _, c := range r.w.rpcClients {
		if c.limit >= 0 {
			n++
		}
	}
	return n
}

func (r *rpcClientRole) cancel() {}

func (r *rpcClientRole) done() []<-chan struct{} {
	var out []<-chan struct{}
	for _, c := range r.w.rpcClients {
		out = append(out, c.finished)
	}
	return out
}
