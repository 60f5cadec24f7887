package driver

import (
	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/scenario"
)

// routes says, for each producer routing key (by index) and each queue,
// whether the exchange routes a message there — from the bindings mqbench
// made, so the audit knows exactly which queue owes which message.
func (t *topology) routes(keys []string, headers map[string]any) [][]bool {
	ex := t.sc.Exchange
	out := make([][]bool, len(keys))
	for k, key := range keys {
		out[k] = make([]bool, len(t.queues))
		for qi, q := range t.queues {
			if q.rpc {
				continue
			}
			if ex.Name == "" {
				out[k][qi] = q.name == key
				continue
			}
			for _, b := range q.bound {
				switch ex.Type {
				case "fanout":
					out[k][qi] = true
				case "direct":
					out[k][qi] = out[k][qi] || b.Key == key
				case "topic":
					out[k][qi] = out[k][qi] || audit.TopicMatch(b.Key, key)
				case "headers":
					out[k][qi] = out[k][qi] || audit.HeadersMatch(scenario.Table(b.Arguments), headers)
				}
			}
		}
	}
	return out
}

// reconcile audits every queue mqbench's consumers read: what each owed
// (the messages routed to it), what arrived, what was lost.
func (w *workload) reconcile() *report.Audit {
	if len(w.producers) == 0 || w.producers[0].audit == nil || len(w.consumers) == 0 {
		return nil
	}
	prods := make([]*audit.Producer, len(w.producers))
	for i, p := range w.producers {
		prods[i] = p.audit
	}
	keys := len(w.producers[0].keys)
	out := &report.Audit{Balanced: true}
	for qi, q := range w.topo.queues {
		if q.rpc || q.consumers == 0 {
			continue
		}
		var cons []*audit.Consumer
		for _, c := range w.consumers {
			select {
			case <-c.finished:
				if c.q == q {
					cons = append(cons, c.audit)
				}
			default: // still running: its bitsets are not safe to read
				out.Balanced = false
				out.Note = "a consumer did not stop in time; its deliveries are not in the audit"
			}
		}
		routed := func(id int, seq uint32) bool {
			return w.routes[(int(seq)+id)%keys][qi] // the producer's key for message seq
		}
		a := audit.Reconcile(q.name, prods, routed, cons)
		out.Queues = append(out.Queues, a)
		out.Total.Add(a)
		out.Balanced = out.Balanced && a.Balanced()
	}
	for _, p := range prods {
		out.MemoryBytes += p.Acked.Bytes()
	}
	for _, c := range w.consumers {
		out.MemoryBytes += c.audit.Bytes()
	}
	out.Total.Name = "total"
	return out
}
