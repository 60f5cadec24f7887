package engine

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// build assembles the run's result — the only place one is written — from
// the header, the timeline and the workload's Final. Which measures apply
// is decided by the scenario: confirms, mandatory, consumers, RPC; a
// measure that does not apply stays null.
func build(cfg Config, t timeline) (*result.Result, error) {
	res := &result.Result{
		Schema: result.Schema, Tool: cfg.Header.Tool, Scenario: cfg.Header.Scenario, Broker: cfg.Header.Broker,
		StartedAt: time.Unix(0, t.start).UTC(), EndedAt: time.Unix(0, t.end).UTC(),
		MeasuredS: time.Duration(t.windowEnd - t.measureStart).Seconds(), StopReason: t.reason,
		Queues: t.final.Queues, Connections: t.final.Connections, Intervals: t.intervals, Faults: t.final.Faults, Audit: t.final.Audit,
		Kinds: t.final.Kinds,
		Start: cfg.Header.Start, Shard: cfg.Header.Shard,
	}
	if t.runErr != nil {
		res.Error = t.runErr.Error()
	}
	res.Client = client(cfg, t, res.MeasuredS)
	res.Drain = drain(t)
	fillCounts(res, t.window, t.totals, consumedOver(t))
	res.Totals.MaxUnacked = t.final.MaxUnacked
	var err error
	for _, k := range metrics.Kinds() {
		if res.Latency[k], err = metrics.Summarize(t.col.Total(k)); err != nil {
			break
		}
	}
	if err == nil {
		res.Phases, err = t.phases.figures(t.start, t.intervals)
	}
	res.Broker.Management = brokerPeaks(t.intervals)
	res.Warnings = append(append(Warnings(res), cfg.Warnings...), t.final.Warnings...)
	if t.aborted {
		res.StopDetail = result.StopDetailSecondSignal
		res.Warnings = append(res.Warnings, abortedWarning)
	}
	return res, err
}

// brokerPeaks are the highest management API figures over the intervals,
// or nil when none was sampled.
func brokerPeaks(ivs []result.Interval) *result.BrokerPeaks {
	var p result.BrokerPeaks
	seen := map[string]bool{}
	for _, iv := range ivs {
		b := iv.Broker
		if b == nil {
			continue
		}
		p.Samples++
		p.MemoryPeakBytes = max(p.MemoryPeakBytes, b.MemoryBytes)
		p.ConnectionsPeak = max(p.ConnectionsPeak, b.Connections)
		p.MessagesReadyPeak = max(p.MessagesReadyPeak, b.MessagesReady)
		var procs, fds int64
		for _, n := range b.Nodes {
			procs, fds = procs+n.ErlangProcesses, fds+n.FileDescriptors
			for _, a := range n.Alarms {
				if key := n.Name + ": " + a; !seen[key] {
					seen[key] = true
					p.Alarms = append(p.Alarms, key)
				}
			}
		}
		p.ErlangProcessesPeak = max(p.ErlangProcessesPeak, procs)
		p.FileDescriptorsPeak = max(p.FileDescriptorsPeak, fds)
	}
	if p.Samples == 0 {
		return nil
	}
	if p.Alarms == nil {
		p.Alarms = []string{}
	}
	return &p
}

// client is what the run cost the client.
func client(cfg Config, t timeline, measured float64) result.Client {
	c := result.Client{CPUS: t.cpuWindow.Seconds(), CoresAvailable: cfg.Cores, Host: cfg.Host}
	if measured > 0 {
		c.Cores = result.Round3(c.CPUS / measured)
	}
	if t.collects > 0 {
		c.CollectMeanUs = result.Round3(float64(t.collectSum.Microseconds()) / float64(t.collects))
		c.CollectMaxUs = float64(t.collectMax.Microseconds())
	}
	if cfg.Cost != nil {
		cpu, rss := cfg.Cost()
		c.CPUTotalS, c.MaxRSSBytes = cpu.Seconds(), rss
	}
	return c
}

// drain is what the drain after the load came to.
func drain(t timeline) *result.Drain {
	d := &result.Drain{Seconds: result.Round3(time.Duration(t.drainEnd - t.windowEnd).Seconds()), Ended: t.drain.Ended,
		Consumed: t.totals[metrics.Consumed] - t.window[metrics.Consumed]}
	if d.Consumed > 0 && t.drain.LastConsumed > t.windowEnd {
		d.ConsumingS = result.Round3(time.Duration(t.drain.LastConsumed - t.windowEnd).Seconds())
	}
	if b := t.backlogAtStop; b != nil {
		d.BacklogStart = ptr(b.Total())
	}
	if b := t.backlogAtEnd; b != nil {
		d.BacklogEnd = ptr(b.Total())
	}
	return d
}

// consumedOver is the time consumption is counted over: the load's
// window, and the drain up to the last message consumed in it.
func consumedOver(t timeline) float64 {
	end := t.windowEnd
	if t.totals[metrics.Consumed] > t.window[metrics.Consumed] && t.drain.LastConsumed > end {
		end = t.drain.LastConsumed
	}
	return time.Duration(end - t.measureStart).Seconds()
}

// fillCounts writes totals and rates: window holds the events up to the
// end of the load's window, totals those up to the end of the run (drain
// included); both exclude the warm-up. Publishing is counted over the
// load's window; consumption over consumedOver seconds, the window and
// the part of the drain in which consumers still consumed — all of it,
// so that consumers that fell behind are rated by what they consumed in
// the time they took. Confirms and RPC replies are attributed to the time
// of the publish or request they answer, so their rates are computed from
// the totals, once every answer to the window's publishes has arrived (at
// the window's end some are still in flight).
func fillCounts(res *result.Result, window, totals metrics.Counts, consumedOver float64) {
	sc := res.Scenario
	secs := res.MeasuredS
	rate := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return result.Round3(float64(n) / secs)
	}
	res.Totals.Published = totals[metrics.Published]
	res.Rates.PublishedPerS = rate(totals[metrics.Published]) // nothing is published after the window (Window.End)
	if sc.Producers.Confirm > 0 {
		res.Totals.Confirmed = ptr(totals[metrics.Confirmed])
		res.Totals.Nacked = ptr(totals[metrics.Nacked])
		res.Totals.Unconfirmed = ptr(max(0, totals[metrics.Published]-totals[metrics.Confirmed]-totals[metrics.Nacked]))
		res.Rates.ConfirmedPerS = ptr(rate(totals[metrics.Confirmed]))
	}
	if sc.Producers.Mandatory {
		res.Totals.Returned = ptr(totals[metrics.Returned])
	}
	if sc.Consumers.Count > 0 {
		res.Totals.Consumed = ptr(totals[metrics.Consumed])
		res.Rates.ConsumedPerS = ptr(0.0)
		if consumedOver > 0 {
			res.Rates.ConsumedPerS = ptr(result.Round3(float64(totals[metrics.Consumed]) / consumedOver))
		}
		res.Rates.ConsumedOverS = ptr(result.Round3(consumedOver))
		res.Totals.Unstamped = ptr(totals[metrics.Unstamped])
		res.Totals.MillisecondStamps = ptr(totals[metrics.MillisStamped])
		if sc.Producers.Audited() {
			res.Totals.Foreign = ptr(totals[metrics.Foreign])
		}
		if sc.Consumers.Refuses() {
			res.Totals.Refused = ptr(totals[metrics.Refused])
		}
	}
	if sc.RPC.Clients > 0 {
		t := &res.Totals
		t.RPCRequests, t.RPCReplies = ptr(totals[metrics.RPCRequests]), ptr(totals[metrics.RPCReplies])
		t.RPCTimeouts, t.RPCUnmatched = ptr(totals[metrics.RPCTimeouts]), ptr(totals[metrics.RPCUnmatched])
		t.RPCLate, t.RPCDuplicates = ptr(totals[metrics.RPCLate]), ptr(totals[metrics.RPCDuplicates])
		res.Rates.RPCRequestsPerS = ptr(rate(window[metrics.RPCRequests]))
		res.Rates.RPCRepliesPerS = ptr(rate(totals[metrics.RPCReplies]))
	}
	if sc.RPC.Servers > 0 {
		res.Totals.RPCServed = ptr(totals[metrics.RPCServed])
	}
}

// intervalHDR encodes an interval's histograms of the latencies intervals
// report percentiles of, by kind name; nil when none holds a sample.
func intervalHDR(lat [metrics.NumKinds]*hdr.Histogram) map[string]string {
	var out map[string]string
	for _, k := range [...]metrics.Kind{metrics.EndToEnd, metrics.Confirm, metrics.RPC} {
		h := lat[k]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		enc, err := metrics.EncodeHDR(h)
		if err != nil {
			continue // the percentiles beside it still stand
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k.String()] = enc
	}
	return out
}
