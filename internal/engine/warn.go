package engine

import (
	"fmt"

	"github.com/mqbench/mqbench/internal/result"
)

// Warnings says when the figures of a result may not describe the broker:
// the client used most of its cores, the backlog grew through the run, the
// audit found losses, or the broker blocked publishers.
func Warnings(res *result.Result) []string {
	out := []string{}
	c := res.Client
	if result.ClientBound(c.Cores, c.CoresAvailable) {
		out = append(out, fmt.Sprintf("client-bound: mqbench used %.2f of its %d cores (≥ %.0f%%); the figures may describe the load generator, not the broker — use fewer workers per process or more machines",
			c.Cores, c.CoresAvailable, result.ClientBoundShare*100))
	}
	if w := backlogGrowth(res); w != "" && len(res.Phases) == 0 { // a phased run grows its backlog on purpose
		out = append(out, w)
	}
	if w := drainWarning(res.Drain); w != "" {
		out = append(out, w)
	}
	if a := res.Audit; a != nil && a.Total.Lost > 0 {
		out = append(out, fmt.Sprintf("the broker lost %d messages it had taken (confirmed them, or read them on a channel whose close it answered): "+
			"not consumed, not left in the queue, and nothing the broker was seen to do explains them (see audit.queues)", a.Total.Lost))
	}
	if a := res.Audit; a != nil && a.Total.Unknown > 0 {
		out = append(out, fmt.Sprintf("%d messages published without confirms on channels that failed, or whose close the broker had not answered when the queues were read, were never seen again: "+
			"whether the broker ever read them cannot be known (audit unknown; use --confirm to know)", a.Total.Unknown))
	}
	out = append(out, stampWarnings(res.Totals)...)
	if n := len(res.Faults.Blocked); n > 0 {
		out = append(out, fmt.Sprintf("the broker blocked publishing connections %d time(s) (%s): a resource alarm; throughput and latency include the time blocked",
			n, res.Faults.Blocked[0].Reason))
	}
	return out
}

// backlogGrowth warns when the backlog grew through the load's
// intervals: the consumers did not keep up, so latencies measure queueing.
// It needs the backlog to rise in at least two thirds of the intervals and
// to end above both 1,000 messages and one second of consumption.
func backlogGrowth(res *result.Result) string {
	var samples []int64
	for _, iv := range res.Intervals {
		if !iv.Warmup && !iv.Drain && iv.Backlog != nil && iv.Seconds >= 0.05 {
			samples = append(samples, *iv.Backlog)
		}
	}
	if len(samples) < 3 {
		return ""
	}
	rises := 0
	for i := 1; i < len(samples); i++ {
		if samples[i] > samples[i-1] {
			rises++
		}
	}
	first, last := samples[0], samples[len(samples)-1]
	perSecond := 0.0
	if res.Rates.ConsumedPerS != nil {
		perSecond = *res.Rates.ConsumedPerS
	}
	if 3*rises < 2*(len(samples)-1) || last-first < 1000 || float64(last) < perSecond {
		return ""
	}
	return fmt.Sprintf("backlog grew from %d to %d messages (ready, and delivered but not yet processed): the consumers did not keep up, so latencies measure queueing", first, last)
}

// drainWarning says when the drain ran out of time with messages still
// waiting: the consumers had not caught up with the load.
func drainWarning(d *result.Drain) string {
	if d == nil || d.Ended != result.DrainTimeout || d.BacklogEnd == nil || *d.BacklogEnd == 0 {
		return ""
	}
	return fmt.Sprintf("the drain timed out after %.1f s with %d messages still waiting (%d consumed after the load stopped): "+
		"the consumers did not keep up with the load; what was left is in the audit's left, and consumed_per_s is the consumers' rate over the time they consumed",
		d.Seconds, *d.BacklogEnd, d.Consumed)
}

// stampWarnings says when deliveries' send times were read at a coarser
// resolution than usual, or not at all.
func stampWarnings(t result.Totals) []string {
	var out []string
	if t.MillisecondStamps != nil && *t.MillisecondStamps > 0 {
		out = append(out, fmt.Sprintf("%d deliveries carried send times in milliseconds since the epoch (omq without consumers, PerfTest --use-millis): their latency is measured to the millisecond only", *t.MillisecondStamps))
	}
	if t.Unstamped != nil && *t.Unstamped > 0 {
		out = append(out, fmt.Sprintf("%d deliveries carried no readable send time (a body under 12 bytes, or not a plausible time: e.g. PerfTest's default System.nanoTime stamps): they are not in the latency", *t.Unstamped))
	}
	return out
}
