package report

import (
	"fmt"
	"io"

	"github.com/mqbench/mqbench/internal/result"
)

// Live prints one progress line per interval, meant for stderr.
type Live struct {
	W     io.Writer
	Cores int // the client's cores, to flag intervals where it was the bottleneck
}

// Interval prints the interval's line: elapsed time, rates, returned and
// nacked counts, latencies and backlog.
func (l *Live) Interval(iv result.Interval) {
	if iv.Seconds < 0.05 {
		return // the sliver between the last tick and the stop: rates would mislead
	}
	per := func(n int64) string { return Rate(float64(n) / iv.Seconds) }
	tag := ""
	switch {
	case iv.Warmup:
		tag = " (warm-up)"
	case iv.Drain:
		tag = " (drain)"
	case iv.Phase != "":
		tag = " (" + iv.Phase + ")"
	}
	backlog := "-"
	if iv.Backlog != nil {
		backlog = Count(*iv.Backlog)
	}
	rpc := ""
	if iv.RPCReplies != nil {
		rpc = fmt.Sprintf("  rpc %s/s p50 %s p99 %s timeouts %s", per(*iv.RPCReplies),
			MicrosPtr(iv.RPCP50Us), MicrosPtr(iv.RPCP99Us), CountPtr(iv.RPCTimeouts))
	}
	if b := iv.Broker; b != nil {
		tag += fmt.Sprintf("  broker mem %s MiB", Count(b.MemoryBytes>>20))
	}
	if iv.Disconnected > 0 {
		tag += fmt.Sprintf("  DISCONNECTED (%d workers reconnecting)", iv.Disconnected)
	}
	if iv.Blocked > 0 {
		tag += fmt.Sprintf("  BLOCKED by the broker (%d connections)", iv.Blocked)
	}
	if result.ClientBound(iv.CPUCores, l.Cores) {
		tag += fmt.Sprintf("  CLIENT-BOUND (%.1f of %d cores)", iv.CPUCores, l.Cores)
	}
	fmt.Fprintf(l.W, "%7.1fs  pub %s/s  conf %s/s  cons %s/s  ret %s  nack %s  e2e p50 %s p99 %s  conf p99 %s  backlog %s%s%s\n",
		iv.TS, per(iv.Published), per(iv.Confirmed), per(iv.Consumed), Count(iv.Returned), Count(iv.Nacked),
		MicrosPtr(iv.E2EP50Us), MicrosPtr(iv.E2EP99Us), MicrosPtr(iv.ConfirmP99Us), backlog, rpc, tag)
}

// Done prints nothing: the summary table is printed by the caller.
func (l *Live) Done(*result.Result) {}
