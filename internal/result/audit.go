package result

import (
	"github.com/mqbench/mqbench/internal/audit"
)

// ReconcileAudit accounts for every queue of an audit state — one
// process's, or the merge of a sharded run's shards — and totals them.
// memory is what the audit's state took.
func ReconcileAudit(st *audit.State, memory int64) (*Audit, error) {
	queues, note, err := st.Reconcile()
	if err != nil {
		return nil, err
	}
	out := &Audit{Balanced: !st.Incomplete, Note: joinNotes(st.Note, note), MemoryBytes: memory, Queues: queues}
	for _, a := range queues {
		out.Total.Add(a)
		out.Balanced = out.Balanced && a.Balanced()
	}
	out.Total.Name = "total"
	return out, nil
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
