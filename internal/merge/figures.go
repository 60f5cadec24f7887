package merge

import (
	"fmt"
	"sort"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// sumTotals adds up every count; a count null in every shard stays null.
// The most unacknowledged deliveries one consumer held is the highest.
func sumTotals(out *result.Result, shards []Input) {
	t := &out.Totals
	for _, s := range shards {
		o := s.Result.Totals
		t.Published += o.Published
		for _, f := range []struct{ dst, src **int64 }{
			{&t.Confirmed, &o.Confirmed}, {&t.Nacked, &o.Nacked}, {&t.Unconfirmed, &o.Unconfirmed},
			{&t.Returned, &o.Returned}, {&t.Consumed, &o.Consumed}, {&t.Foreign, &o.Foreign},
			{&t.Unstamped, &o.Unstamped}, {&t.MillisecondStamps, &o.MillisecondStamps}, {&t.Refused, &o.Refused},
			{&t.RPCRequests, &o.RPCRequests}, {&t.RPCReplies, &o.RPCReplies}, {&t.RPCTimeouts, &o.RPCTimeouts},
			{&t.RPCUnmatched, &o.RPCUnmatched}, {&t.RPCLate, &o.RPCLate}, {&t.RPCDuplicates, &o.RPCDuplicates},
			{&t.RPCServed, &o.RPCServed},
		} {
			addPtr(f.dst, *f.src)
		}
		if o.MaxUnacked != nil && (t.MaxUnacked == nil || *o.MaxUnacked > *t.MaxUnacked) {
			v := *o.MaxUnacked
			t.MaxUnacked = &v
		}
	}
}

func addPtr(dst **int64, v *int64) {
	if v == nil {
		return
	}
	if *dst == nil {
		*dst = new(int64)
	}
	**dst += *v
}

// latencies merges every kind's histograms exactly: the merged
// percentiles are those of all the shards' samples together.
func latencies(out *result.Result, shards []Input) error {
	for _, k := range metrics.Kinds() {
		var all *hdr.Histogram
		for _, s := range shards {
			sum := s.Result.Latency[k]
			if sum == nil {
				continue
			}
			h, err := metrics.DecodeHDR(sum.HDR)
			if err != nil {
				return fmt.Errorf("%s: latency.%s: %w", s.File, k, err)
			}
			if all == nil {
				all = h
				continue
			}
			if dropped := all.Merge(h); dropped > 0 {
				return fmt.Errorf("%s: latency.%s: %d samples out of the histogram's range", s.File, k, dropped)
			}
		}
		var err error
		if out.Latency[k], err = metrics.Summarize(all); err != nil {
			return err
		}
	}
	return nil
}

// cumulative is a shard's running count of one event over wall-clock
// time, from its intervals: what it had counted at each tick.
type cumulative struct {
	at    []time.Time
	count []int64
}

func cumulate(r *result.Result, of func(result.Interval) int64) cumulative {
	c := cumulative{at: []time.Time{r.StartedAt}, count: []int64{0}}
	var n int64
	for _, iv := range r.Intervals {
		n += of(iv)
		c.at = append(c.at, r.StartedAt.Add(time.Duration(iv.TS*float64(time.Second))))
		c.count = append(c.count, n)
	}
	return c
}

// atTime is the count at t, interpolated between ticks (events are taken
// as even within an interval).
func (c cumulative) atTime(t time.Time) float64 {
	i := sort.Search(len(c.at), func(i int) bool { return !c.at[i].Before(t) })
	switch {
	case i == 0:
		return float64(c.count[0])
	case i == len(c.at):
		return float64(c.count[len(c.count)-1])
	}
	span := c.at[i].Sub(c.at[i-1]).Seconds()
	if span <= 0 {
		return float64(c.count[i])
	}
	f := t.Sub(c.at[i-1]).Seconds() / span
	return float64(c.count[i-1]) + f*float64(c.count[i]-c.count[i-1])
}

// rates are the shards' counts within the common window over its length.
// Confirms and RPC replies are counted as a single run counts them — the
// answers to the window's publishes and requests, whenever they arrived —
// so each shard's publishes (requests) in the window are scaled by the
// share of all its publishes (requests) that were answered.
func rates(out *result.Result, m *result.Merged, shards []Input) {
	secs := m.WindowEnd.Sub(m.WindowStart).Seconds()
	within := func(of func(result.Interval) int64) []float64 {
		n := make([]float64, len(shards))
		for i, s := range shards {
			c := cumulate(s.Result, of)
			n[i] = c.atTime(m.WindowEnd) - c.atTime(m.WindowStart)
		}
		return n
	}
	perSecond := func(counts []float64, share func(result.Totals) float64) float64 {
		if secs <= 0 {
			return 0
		}
		var n float64
		for i, c := range counts {
			n += c * share(shards[i].Result.Totals)
		}
		return result.Round3(n / secs)
	}
	all := func(result.Totals) float64 { return 1 }
	first := shards[0].Result.Rates
	r := &out.Rates
	published := within(func(iv result.Interval) int64 { return iv.Published })
	r.PublishedPerS = perSecond(published, all)
	if first.ConfirmedPerS != nil {
		r.ConfirmedPerS = ptrF(perSecond(published, func(t result.Totals) float64 { return answered(t.Confirmed, t.Published) }))
	}
	if first.ConsumedPerS != nil {
		r.ConsumedPerS, r.ConsumedOverS = consumedRate(m, shards)
		if r.ConsumedPerS == nil { // results from before consumption was rated over the drain
			r.ConsumedPerS = ptrF(perSecond(within(func(iv result.Interval) int64 { return iv.Consumed }), all))
		}
	}
	if first.RPCRequestsPerS != nil {
		requests := within(func(iv result.Interval) int64 { return deref(iv.RPCRequests) })
		r.RPCRequestsPerS = ptrF(perSecond(requests, all))
		r.RPCRepliesPerS = ptrF(perSecond(requests, func(t result.Totals) float64 { return answered(t.RPCReplies, deref(t.RPCRequests)) }))
	}
}

// consumedRate is the whole run's consumption rate as each shard rates
// its own: everything consumed after the warm-up, over the time from the
// common window's start until the last shard's consumers were done (its
// window and the part of its drain it still consumed in). Nil when a shard
// does not say (an earlier mqbench's result).
func consumedRate(m *result.Merged, shards []Input) (perS, overS *float64) {
	var consumed float64
	end := m.WindowStart
	for _, s := range shards {
		r := s.Result
		if r.Totals.Consumed == nil || r.Rates.ConsumedOverS == nil {
			return nil, nil
		}
		consumed += float64(*r.Totals.Consumed)
		ws, _ := measuredWindow(r)
		if e := ws.Add(time.Duration(*r.Rates.ConsumedOverS * float64(time.Second))); e.After(end) {
			end = e
		}
	}
	over := end.Sub(m.WindowStart).Seconds()
	if over <= 0 {
		return ptrF(0), ptrF(0)
	}
	return ptrF(result.Round3(consumed / over)), ptrF(result.Round3(over))
}

// answered is the share of asked that was answered (0 when nothing was
// asked).
func answered(answers *int64, asked int64) float64 {
	if answers == nil || asked <= 0 {
		return 0
	}
	return float64(*answers) / float64(asked)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func ptrF(f float64) *float64 { return &f }

// client is what the run cost: the shards' CPU and cores add up; the cores
// available count once per host (shards on one machine share its cores,
// and the client-bound warning must see that); the largest process is the
// peak memory.
func client(shards []Input) result.Client {
	var c result.Client
	var collect float64
	hosts := map[string]int{}
	for i, s := range shards {
		o := s.Result.Client
		c.CPUS += o.CPUS
		c.CPUTotalS += o.CPUTotalS
		c.Cores += o.Cores
		host := o.Host
		if host == "" { // a result that does not say: a host of its own
			host = fmt.Sprintf("(shard %d)", i)
		}
		hosts[host] = max(hosts[host], o.CoresAvailable)
		c.MaxRSSBytes = max(c.MaxRSSBytes, o.MaxRSSBytes)
		c.CollectMaxUs = max(c.CollectMaxUs, o.CollectMaxUs)
		collect += o.CollectMeanUs
	}
	for _, n := range hosts {
		c.CoresAvailable += n
	}
	if len(hosts) == 1 {
		for h := range hosts {
			c.Host = h
		}
	}
	c.CPUS, c.CPUTotalS, c.Cores = result.Round3(c.CPUS), result.Round3(c.CPUTotalS), result.Round3(c.Cores)
	c.CollectMeanUs = result.Round3(collect / float64(len(shards)))
	return c
}

// queues adds up each queue's consumers and deliveries; its final depth
// is the owner's, read after every other shard had finished.
func queues(shards []Input) []result.Queue {
	var out []result.Queue
	at := map[string]int{}
	for k, s := range shards {
		for _, q := range s.Result.Queues {
			i, ok := at[q.Name]
			if !ok {
				i = len(out)
				at[q.Name] = i
				out = append(out, result.Queue{Name: q.Name, Type: q.Type, RPC: q.RPC})
			}
			out[i].Consumers += q.Consumers
			out[i].Consumed += q.Consumed
			if k == 0 { // the owner: its depth is the final one, its placement as good as any
				out[i].Depth, out[i].LeaderLocator, out[i].Leader, out[i].Members = q.Depth, q.LeaderLocator, q.Leader, q.Members
			}
		}
	}
	return out
}

// faults are every shard's, in time order.
func faults(shards []Input) result.Faults {
	f := result.Faults{Outages: []result.Outage{}, Blocked: []result.Blocked{}}
	for _, s := range shards {
		o := s.Result.Faults
		f.Reconnects += o.Reconnects
		f.Outages = append(f.Outages, o.Outages...)
		f.Blocked = append(f.Blocked, o.Blocked...)
	}
	sort.SliceStable(f.Outages, func(i, j int) bool { return f.Outages[i].Start.Before(f.Outages[j].Start) })
	sort.SliceStable(f.Blocked, func(i, j int) bool { return f.Blocked[i].Start.Before(f.Blocked[j].Start) })
	return f
}

// brokerPeaks are the highest management API figures any shard saw (they
// all sample the same broker).
func brokerPeaks(shards []Input) *result.BrokerPeaks {
	var out *result.BrokerPeaks
	seen := map[string]bool{}
	for _, s := range shards {
		p := s.Result.Broker.Management
		if p == nil {
			continue
		}
		if out == nil {
			out = &result.BrokerPeaks{Alarms: []string{}}
		}
		out.Samples = max(out.Samples, p.Samples) // the same samples, taken by each
		out.MemoryPeakBytes = max(out.MemoryPeakBytes, p.MemoryPeakBytes)
		out.ErlangProcessesPeak = max(out.ErlangProcessesPeak, p.ErlangProcessesPeak)
		out.FileDescriptorsPeak = max(out.FileDescriptorsPeak, p.FileDescriptorsPeak)
		out.ConnectionsPeak = max(out.ConnectionsPeak, p.ConnectionsPeak)
		out.MessagesReadyPeak = max(out.MessagesReadyPeak, p.MessagesReadyPeak)
		for _, a := range p.Alarms {
			if !seen[a] {
				seen[a] = true
				out.Alarms = append(out.Alarms, a)
			}
		}
	}
	return out
}

// stopReason is the shards' common reason; when they differ, a failure
// or an interruption wins over a normal end, and warnings lists each.
func stopReason(out *result.Result, shards []Input) {
	out.StopReason = shards[0].Result.StopReason
	for _, s := range shards {
		r := s.Result
		if r.Error != "" {
			if out.Error != "" {
				out.Error += "; "
			}
			out.Error += fmt.Sprintf("shard %d: %s", r.Shard.Index, r.Error)
		}
		switch {
		case r.StopReason == result.StopError:
			out.StopReason = result.StopError
		case r.StopReason == result.StopInterrupted && out.StopReason != result.StopError:
			out.StopReason = result.StopInterrupted
		}
	}
}

// perShard records each shard's own figures and their spread.
func perShard(m *result.Merged, shards []Input) {
	type figure struct {
		name string
		of   func(result.ShardFigures) (float64, bool)
	}
	for _, s := range shards {
		r := s.Result
		f := result.ShardFigures{
			Index: r.Shard.Index, File: s.File, StartedAt: r.StartedAt, MeasuredS: r.MeasuredS, StopReason: r.StopReason, Error: r.Error,
			Published: r.Totals.Published, Consumed: r.Totals.Consumed, PublishedPerS: r.Rates.PublishedPerS,
			ConsumedPerS: r.Rates.ConsumedPerS, RPCRepliesPerS: r.Rates.RPCRepliesPerS, CPUCores: r.Client.Cores,
		}
		if r.Start != nil {
			f.LateS = r.Start.LateS
		}
		if l := r.Latency[metrics.EndToEnd]; l != nil {
			f.E2EP99Us = &l.P99Us
		}
		if l := r.Latency[metrics.RPC]; l != nil {
			f.RPCP99Us = &l.P99Us
		}
		m.PerShard = append(m.PerShard, f)
	}
	figures := []figure{
		{"rates.published_per_s", func(f result.ShardFigures) (float64, bool) { return f.PublishedPerS, true }},
		{"rates.consumed_per_s", func(f result.ShardFigures) (float64, bool) { return derefF(f.ConsumedPerS) }},
		{"rates.rpc_replies_per_s", func(f result.ShardFigures) (float64, bool) { return derefF(f.RPCRepliesPerS) }},
		{"latency.end_to_end.p99_us", func(f result.ShardFigures) (float64, bool) { return derefI(f.E2EP99Us) }},
		{"latency.rpc.p99_us", func(f result.ShardFigures) (float64, bool) { return derefI(f.RPCP99Us) }},
		{"client.cores", func(f result.ShardFigures) (float64, bool) { return f.CPUCores, true }},
	}
	m.Spread = []result.Spread{}
	for _, fig := range figures {
		var sp *result.Spread
		for _, f := range m.PerShard {
			v, ok := fig.of(f)
			if !ok {
				continue
			}
			if sp == nil {
				sp = &result.Spread{Figure: fig.name, Min: v, Max: v, MinShard: f.Index, MaxShard: f.Index}
				continue
			}
			if v < sp.Min {
				sp.Min, sp.MinShard = v, f.Index
			}
			if v > sp.Max {
				sp.Max, sp.MaxShard = v, f.Index
			}
		}
		if sp != nil {
			m.Spread = append(m.Spread, *sp)
		}
	}
}

func derefF(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

func derefI(p *int64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return float64(*p), true
}

// warnings are the merged run's own (recomputed from the merged figures:
// the audit's losses exist only here) and each shard's, prefixed with it.
func warnings(out *result.Result, m *result.Merged, shards []Input) []string {
	w := engine.Warnings(out)
	m.CrossShardLatency = crossShard(shards)
	if m.CrossShardLatency {
		w = append(w, "end-to-end latency spans shards: messages were consumed in another shard than the one that published them, "+
			"so on separate hosts every such figure includes the offset between their clocks (keep them NTP-synchronised; "+
			"compare with a one-shard run to see the offset's share)")
	}
	if out.MeasuredS <= 0 {
		w = append(w, "the shards' measured windows do not overlap: the rates are zero; the shards did not run together")
	}
	reasons := map[string]bool{}
	for _, s := range shards {
		reasons[s.Result.StopReason] = true
	}
	if len(reasons) > 1 {
		w = append(w, "the shards stopped for different reasons (see merged.per_shard)")
	}
	return append(w, shardWarnings(shards)...)
}

// shardWarnings are the shards' own warnings: once for all shards when
// every shard gave it, else prefixed with the shard.
func shardWarnings(shards []Input) []string {
	count := map[string]int{}
	for _, s := range shards {
		for _, sw := range s.Result.Warnings {
			count[sw]++
		}
	}
	var out []string
	done := map[string]bool{}
	for _, s := range shards {
		for _, sw := range s.Result.Warnings {
			switch {
			case strings.HasPrefix(sw, "end-to-end latency spans shards"), done[sw]:
				continue // said once above, for the whole run
			case count[sw] == len(shards) && len(shards) > 1:
				out, done[sw] = append(out, "every shard: "+sw), true
			default:
				out = append(out, fmt.Sprintf("shard %d: %s", s.Result.Shard.Index, sw))
			}
		}
	}
	return out
}
