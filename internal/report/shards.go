package report

import (
	"fmt"
	"io"
	"time"

	"github.com/mqbench/mqbench/internal/result"
)

// writeShardLine says, under the header, when the run was one shard of a
// sharded run, or the merge of one, and when it was due to start.
func writeShardLine(w io.Writer, r *result.Result) {
	late := ""
	if r.Start != nil {
		late = fmt.Sprintf("  start-at %s (%.3fs late)", r.Start.At.Format(time.RFC3339), r.Start.LateS)
	}
	switch {
	case r.Shard != nil:
		fmt.Fprintf(w, "shard %d of %d (run %s): this shard's figures only; merge the shards with mqbench merge%s\n",
			r.Shard.Index, r.Shard.Count, r.Shard.RunID, late)
	case r.Merged != nil:
		m := r.Merged
		fmt.Fprintf(w, "merged from %d shards (run %s); rates over their common window %s – %s; start skew %.3fs%s\n",
			m.Shards, m.RunID, m.WindowStart.Format("15:04:05.000"), m.WindowEnd.Format("15:04:05.000"), m.StartSkewS, late)
	case r.Start != nil:
		fmt.Fprintf(w, "%s\n", late[2:])
	}
}

// writeShards prints each shard's own figures, so an uneven split or a
// slow load generator shows.
func writeShards(w io.Writer, m *result.Merged) error {
	fmt.Fprintln(w)
	t := newTable(w, []string{"shard", "started", "late", "measured", "published/s", "consumed/s", "rpc replies/s", "e2e p99", "rpc p99", "cores", "stop"})
	for _, s := range m.PerShard {
		row := []string{fmt.Sprint(s.Index), s.StartedAt.Format("15:04:05.000"), fmt.Sprintf("%.3fs", s.LateS), fmt.Sprintf("%.2fs", s.MeasuredS),
			Rate(s.PublishedPerS), RatePtr(s.ConsumedPerS), RatePtr(s.RPCRepliesPerS), MicrosPtr(s.E2EP99Us), MicrosPtr(s.RPCP99Us),
			fmt.Sprintf("%.2f", s.CPUCores), s.StopReason}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}
