package driver

import (
	"context"

	"github.com/mqbench/mqbench/internal/kind"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// A role is one kind of worker as a run drives it. Everything a run does
// with a kind's workers goes through it, in this order: prepare (before
// the start signal: connect, declare what the kind needs, make its
// workers, waiting for the signal), start (at the signal), limited (once
// started: how many of its workers stop by themselves at a count), and at
// the end cancel, then done (what the end waits for). A new kind of worker
// is a type implementing role, with its kind.Kind, in files of its own,
// and one line in roles.
type role interface {
	prepare(ctx context.Context, w *workload, e env) error
	start(w *workload)
	limited() int64
	cancel()
	done() []<-chan struct{}
}

// A figurer is a role whose kind reports figures of its own (counts,
// rates, timed operations) beyond the run's standard ones: they go to the
// result's Kinds under the kind's name (none when it returns nil). It is
// asked once every worker stopped.
type figurer interface {
	figures() *result.KindFigures
}

// kindFigures gathers the figures of the roles that report their own.
func (w *workload) kindFigures() map[string]*result.KindFigures {
	var out map[string]*result.KindFigures
	for _, r := range w.roles {
		f, ok := r.role.(figurer)
		if !ok {
			continue
		}
		kf := f.figures()
		if kf == nil {
			continue
		}
		if out == nil {
			out = map[string]*result.KindFigures{}
		}
		out[r.kind.Name] = kf
	}
	return out
}

// running is a kind of worker in a run.
type running struct {
	kind kind.Kind
	role
}

// registered is one kind of worker: what it is, and its role in a run.
type registered struct {
	kind kind.Kind
	new  func() role
}

// roles are the kinds of worker, in the order a run prepares them:
// consumers first (they declare the queues), the RPC servers (the request
// queue) and clients, then the producers (their routing keys follow the
// queues' names), then the churn (which needs none of theirs). The
// registration: one line per kind.
func roles() []registered {
	return []registered{
		{consumerKind(), func() role { return &consumerRole{} }},
		{rpcServerKind(), func() role { return &rpcServerRole{} }},
		{rpcClientKind(), func() role { return &rpcClientRole{} }},
		{producerKind(), func() role { return &producerRole{} }},
		{churnKind(), func() role { return &churnRole{} }},
	}
}

// Kinds describes every kind of worker a run can have, in the order it
// prepares them.
func Kinds() []kind.Kind {
	var out []kind.Kind
	for _, r := range roles() {
		out = append(out, r.kind)
	}
	return out
}

// recordedKinds are the latencies the scenario's workers can record: the
// union of every kind's that the scenario runs.
func recordedKinds(sc scenario.Scenario) metrics.KindSet {
	var k metrics.KindSet
	for _, kd := range Kinds() {
		if kd.Workers(sc) > 0 {
			for _, l := range kd.Latencies(sc) {
				k[l] = true
			}
		}
	}
	return k
}

// workers is how many workers the scenario runs, every kind together.
func workers(sc scenario.Scenario) int {
	n := 0
	for _, kd := range Kinds() {
		n += kd.Workers(sc)
	}
	return n
}
