package engine

import (
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/report"
)

// fill writes totals, rates and latency summaries: window holds the events
// up to the end of the measured window, totals those up to the end of the
// run (drain included); both exclude the warm-up. Which measures apply is
// decided by the caller beforehand through res.Scenario: confirms, mandatory
// and consumers; a measure that does not apply stays null.
func fill(res *report.Result, col *metrics.Collector, window, totals metrics.Counts) error {
	sc := res.Scenario
	res.Totals.Published = totals[metrics.Published]
	secs := res.MeasuredS
	rate := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return round3(float64(n) / secs)
	}
	res.Rates.PublishedPerS = rate(window[metrics.Published])
	if sc.Producers.Confirm > 0 {
		res.Totals.Confirmed = ptr(totals[metrics.Confirmed])
		res.Totals.Nacked = ptr(totals[metrics.Nacked])
		res.Totals.Unconfirmed = ptr(max(0, totals[metrics.Published]-totals[metrics.Confirmed]-totals[metrics.Nacked]))
		res.Rates.ConfirmedPerS = ptr(rate(window[metrics.Confirmed]))
	}
	if sc.Producers.Mandatory {
		res.Totals.Returned = ptr(totals[metrics.Returned])
	}
	if sc.Consumers.Count > 0 {
		res.Totals.Consumed = ptr(totals[metrics.Consumed])
		res.Rates.ConsumedPerS = ptr(rate(window[metrics.Consumed]))
	}
	if sc.RPC.Clients > 0 {
		t := &res.Totals
		t.RPCRequests, t.RPCReplies = ptr(totals[metrics.RPCRequests]), ptr(totals[metrics.RPCReplies])
		t.RPCTimeouts, t.RPCUnmatched = ptr(totals[metrics.RPCTimeouts]), ptr(totals[metrics.RPCUnmatched])
		t.RPCLate, t.RPCDuplicates = ptr(totals[metrics.RPCLate]), ptr(totals[metrics.RPCDuplicates])
		res.Rates.RPCRequestsPerS = ptr(rate(window[metrics.RPCRequests]))
		res.Rates.RPCRepliesPerS = ptr(rate(window[metrics.RPCReplies]))
	}
	if sc.RPC.Servers > 0 {
		res.Totals.RPCServed = ptr(totals[metrics.RPCServed])
	}
	for _, l := range []struct {
		dst  **metrics.Summary
		kind metrics.Kind
	}{
		{&res.Latency.EndToEnd, metrics.EndToEnd}, {&res.Latency.EndToEndActual, metrics.EndToEndActual},
		{&res.Latency.SendLag, metrics.SendLag}, {&res.Latency.Confirm, metrics.Confirm},
		{&res.Latency.RPC, metrics.RPC}, {&res.Latency.RPCServer, metrics.RPCServer},
	} {
		s, err := metrics.Summarize(col.Total(l.kind))
		if err != nil {
			return err
		}
		*l.dst = s
	}
	return nil
}
