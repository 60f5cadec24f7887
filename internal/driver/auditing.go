package driver

import (
	"fmt"
	"math"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/routing"
	"github.com/mqbench/mqbench/internal/scenario"
)

// routes says, for each producer routing key (by index) and each queue,
// whether the exchange routes a message there — from the bindings mqbench
// made, so the audit knows exactly which queue owes which message. Keys
// are indexes: a server-named queue renamed by a reconnect keeps its
// index, and its key follows the new name.
func (t *topology) routes(keys []string, headers map[string]any, rules routing.Rules) [][]bool {
	ex := t.sc.Exchange
	out := make([][]bool, len(keys))
	for k, key := range keys {
		out[k] = make([]bool, len(t.queues))
		for qi, q := range t.queues {
			if q.rpc {
				continue
			}
			if ex.Name == "" {
				out[k][qi] = q.currentName() == key
				continue
			}
			for _, b := range q.bound {
				out[k][qi] = out[k][qi] || rules.Routes(ex.Type, b.Key, scenario.Table(b.Arguments), key, headers)
			}
		}
	}
	return out
}

// audited reports whether q is in the audit: a queue of the scenario that
// has consumers in the whole run (consumer i reads queue i mod queues), in
// whichever shard they run.
func (w *workload) audited(q *queue) bool {
	return !q.rpc && q.index < w.sc.Consumers.Count
}

// auditState gathers what the audit needs from this process: its
// producers' sides, and per audited queue where messages were routed,
// its consumers' views and (where this process read it) what was left. It
// runs after every producer and consumer has stopped: their bitsets are
// read here. Nil when the run is not audited.
func (w *workload) auditState(ends map[*queue]audit.End) *audit.State {
	sc := w.sc
	if !sc.Producers.Audited() || sc.Producers.Count == 0 || sc.Consumers.Count == 0 || w.keys == nil {
		return nil
	}
	st := &audit.State{Producers: sc.Producers.Count, Keys: w.keys.n}
	for _, p := range w.producers {
		if p.audit != nil {
			st.Publishers = append(st.Publishers, audit.ProducerState{ID: p.id, Published: p.audit.Published, Confirms: p.audit.Confirms, Acked: p.audit.Acked})
		}
	}
	for qi, q := range w.topo.queues {
		if !w.audited(q) {
			continue
		}
		qs := audit.QueueState{Index: q.index, Name: q.currentName(), Routes: make([]bool, w.keys.n)}
		for k := range qs.Routes {
			qs.Routes[k] = w.routes[k][qi]
		}
		for _, g := range w.auditGroups(q, ends[q], st) {
			gs := audit.GroupState{Name: g.name}
			for _, c := range g.consumers {
				gs.Consumers = append(gs.Consumers, c.State())
			}
			if g.ended {
				gs.End = &audit.EndState{Depth: g.end.Depth, DropReason: g.end.DropReason}
				if g.end.Swept != nil {
					swept := g.end.Swept.State()
					gs.End.Swept = &swept
				}
			}
			qs.Groups = append(qs.Groups, gs)
		}
		st.Queues = append(st.Queues, qs)
	}
	return st
}

// reconcile audits every queue mqbench's consumers read: what each owed
// (the messages routed to it), what arrived, what was lost. A shard of a
// sharded run does not: it saves its state for mqbench merge, which
// reconciles the whole run's.
func (w *workload) reconcile(ends map[*queue]audit.End) (*result.Audit, error) {
	st := w.auditState(ends)
	if st == nil {
		return nil, nil
	}
	memory := w.auditMemory(ends)
	if w.sc.Shard.Sharded() {
		note := fmt.Sprintf("shard %s: this shard's part of the audit only; mqbench merge reconciles the whole run's", w.sc.Shard)
		return &result.Audit{MemoryBytes: memory, State: st, Note: note, Partial: true}, nil
	}
	out, err := result.ReconcileAudit(st, memory)
	if err == nil && w.sc.Shard != nil {
		out.State = st // --shard 0/1: the whole run, and mergeable
	}
	return out, err
}

// auditMemory is what the audit's bitsets took.
func (w *workload) auditMemory(ends map[*queue]audit.End) int64 {
	var n int64
	for _, p := range w.producers {
		if p.audit != nil {
			n += p.audit.Acked.Bytes()
		}
	}
	for _, c := range w.consumers {
		if c.audit != nil {
			n += c.audit.Bytes()
		}
	}
	for _, e := range ends {
		if e.Swept != nil {
			n += e.Swept.Bytes()
		}
	}
	return n
}

// auditGroup is what one account of the audit covers: a queue's
// competing consumers together, or one reader of a stream.
type auditGroup struct {
	name      string
	consumers []*audit.Consumer
	end       audit.End
	ended     bool // end is known here (not in a shard that leaves the queue to the owner)
}

// auditGroups splits a queue's consumers into accounts. Competing
// consumers of a queue share its messages and are audited together. Every
// consumer of a stream reads the whole stream and is audited alone; what
// it did not read is still in the stream (left). A stream consumer that
// started elsewhere than the first or next offset owes an unknown part of
// it and is not audited.
func (w *workload) auditGroups(q *queue, end audit.End, out *audit.State) []auditGroup {
	stream := q.spec.Type == scenario.QueueStream
	var shared []*audit.Consumer
	var groups []auditGroup
	for _, c := range w.consumers {
		if c.q != q {
			continue
		}
		select {
		case <-c.finished:
		default: // still running: its bitsets are not safe to read
			out.Incomplete = true
			out.Note = "a consumer did not stop in time; its deliveries are not in the audit"
			continue
		}
		if !stream {
			shared = append(shared, c.audit)
			continue
		}
		if off := w.sc.Consumers.StreamOffset; off != "" && off != scenario.OffsetFirst && off != scenario.OffsetNext {
			out.Note = "stream consumers starting at offset " + off + " owe an unknown part of the stream and are not audited"
			continue
		}
		groups = append(groups, auditGroup{name: fmt.Sprintf("%s (consumer %d)", q.currentName(), c.id),
			consumers: []*audit.Consumer{c.audit}, end: audit.End{Depth: math.MaxInt64}, ended: true})
	}
	if !stream {
		groups = append(groups, auditGroup{name: q.currentName(), consumers: shared, end: end, ended: w.sc.Shard.Owner()})
	}
	return groups
}

// warnings says what the workload saw that the figures alone do not:
// queues that held other messages before the run.
func (w *workload) warnings() []string {
	var out []string
	for _, q := range w.topo.queues {
		if q.before > 0 && !q.rpc {
			out = append(out, fmt.Sprintf("queue %s held %d messages before the run began: they are not this run's "+
				"(counted as foreign when consumed, left out of latency, rates and the audit)", q.currentName(), q.before))
		}
	}
	return out
}
