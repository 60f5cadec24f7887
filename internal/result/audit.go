package result

import (
	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/routing"
)

// ReconcileAudit accounts for every queue of an audit state — one
// process's, or the merge of a sharded run's shards — and totals them.
// memory is what the bitsets took.
func ReconcileAudit(st *audit.State, memory int64) (*Audit, error) {
	queues, err := st.Reconcile(func(id int, seq uint32) int { return routing.KeyIndex(id, int64(seq), st.Keys) })
	if err != nil {
		return nil, err
	}
	out := &Audit{Balanced: !st.Incomplete, Note: st.Note, MemoryBytes: memory, Queues: queues}
	for _, a := range queues {
		out.Total.Add(a)
		out.Balanced = out.Balanced && a.Balanced()
	}
	out.Total.Name = "total"
	return out, nil
}
