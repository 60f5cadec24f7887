// Package kind describes the kinds of worker a run has — producers,
// consumers, RPC clients and servers, and any kind added later — to the
// packages that deal with them without running them: the commands (their
// Prometheus labels), the capacity search (the load a kind offers), the
// driver's bookkeeping (how many workers, which latencies they record).
// The driver registers each kind once (driver.Kinds), next to the code
// that runs it.
package kind

import (
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Kind is one kind of worker.
type Kind struct {
	// Name is its role label (Prometheus role, messages): producer,
	// consumer, rpc_client, rpc_server.
	Name string
	// Section is the scenario section that shapes it (a YAML path).
	Section string
	// Workers is how many of its workers a scenario runs (in the whole
	// run, every shard together).
	Workers func(sc scenario.Scenario) int
	// Latencies are the latency kinds its workers record in a scenario.
	Latencies func(sc scenario.Scenario) []metrics.Kind
	// Load is the load it offers a capacity search; nil when it offers
	// none of its own (consumers and servers serve the load of others).
	Load *Load
}

// Load is how a capacity search drives a kind's load and judges a step:
// it sets the rate the kind offers, reads what it achieved and what went
// wrong, and what its counterpart served of it.
type Load struct {
	// Offers reports whether the scenario's load is this kind's.
	Offers func(sc scenario.Scenario) bool
	// Pace makes the scenario offer rate per second in all (0: as fast as
	// possible), with no count limit (a step runs for its time).
	Pace func(sc *scenario.Scenario, rate float64)
	// Achieved is the rate the load achieved in a run.
	Achieved func(r *result.Result) float64
	// Errors are the run's failed units of load (nacks and returns,
	// timeouts) and what they are out of.
	Errors func(r *result.Result) (errs, of float64)
	// Served is, for one interval, what was offered (sent) and what the
	// serving side processed (got); false when the interval says nothing.
	Served func(iv result.Interval) (sent, got float64, ok bool)
	// Owed is how many servings each unit of load owes in this run (a
	// message reaching two queues owes two), or why it cannot be told.
	Owed func(r *result.Result) (per float64, why string)
	// Shortfall words what was served of what was offered ("consumed %.0f
	// of %.0f published to the consumers").
	Shortfall string
	// InFlight, when not nil, is the most units of load that can be owed
	// at once whatever the rate: a closed loop's bound (RPC clients ×
	// their concurrency). Such a load cannot build a backlog larger than
	// it — when the servers fall behind, the achieved rate falls short
	// instead — so a backlog growing by less than it over a step is not
	// a backlog that grows without bound.
	InFlight func(sc scenario.Scenario) float64
}

// Offering is the first kind of kinds whose load the scenario offers, nil
// when none does.
func Offering(kinds []Kind, sc scenario.Scenario) *Load {
	for _, k := range kinds {
		if k.Load != nil && k.Load.Offers(sc) {
			return k.Load
		}
	}
	return nil
}
