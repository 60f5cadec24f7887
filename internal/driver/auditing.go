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

// reconcile audits every queue mqbench's consumers read: what each owed
// (the messages routed to it), what arrived, what was lost. It runs after
// every producer and consumer has stopped: their bitsets are read here.
func (w *workload) reconcile(ends map[*queue]audit.End) *result.Audit {
	if len(w.producers) == 0 || w.producers[0].audit == nil || len(w.consumers) == 0 {
		return nil
	}
	prods := make([]*audit.Producer, len(w.producers))
	for i, p := range w.producers {
		prods[i] = p.audit
	}
	keys := w.producers[0].keys.n
	out := &result.Audit{Balanced: true}
	for qi, q := range w.topo.queues {
		if q.rpc || q.consumers == 0 {
			continue
		}
		routed := func(id int, seq uint32) bool {
			return w.routes[routing.KeyIndex(id, int64(seq), keys)][qi] // the producer's key for message seq
		}
		for _, g := range w.auditGroups(q, ends[q], out) {
			a := audit.Reconcile(g.name, prods, routed, g.consumers, g.end)
			out.Queues = append(out.Queues, a)
			out.Total.Add(a)
			out.Balanced = out.Balanced && a.Balanced()
		}
	}
	for _, p := range prods {
		out.MemoryBytes += p.Acked.Bytes()
	}
	for _, c := range w.consumers {
		out.MemoryBytes += c.audit.Bytes()
	}
	for _, e := range ends {
		if e.Swept != nil {
			out.MemoryBytes += e.Swept.Bytes()
		}
	}
	out.Total.Name = "total"
	return out
}

// auditGroup is what one account of the audit covers: a queue's
// competing consumers together, or one reader of a stream.
type auditGroup struct {
	name      string
	consumers []*audit.Consumer
	end       audit.End
}

// auditGroups splits a queue's consumers into accounts. Competing
// consumers of a queue share its messages and are audited together. Every
// consumer of a stream reads the whole stream and is audited alone; what
// it did not read is still in the stream (left). A stream consumer that
// started elsewhere than the first or next offset owes an unknown part of
// it and is not audited.
func (w *workload) auditGroups(q *queue, end audit.End, out *result.Audit) []auditGroup {
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
			out.Balanced = false
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
			consumers: []*audit.Consumer{c.audit}, end: audit.End{Depth: math.MaxInt64}})
	}
	if !stream {
		groups = append(groups, auditGroup{name: q.currentName(), consumers: shared, end: end})
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
