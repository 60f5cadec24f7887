package report

import (
	"fmt"
	"io"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/mqbench/mqbench/internal/metrics"
)

// WriteTable prints the human summary of a result: what ran, what happened
// (totals and rates), latencies, and per-queue figures.
func WriteTable(w io.Writer, r *Result) error {
	sc := r.Scenario
	fmt.Fprintf(w, "mqbench %s  scenario %q  broker %s %s at %s\n", r.Tool.Version, sc.Name, r.Broker.Product, r.Broker.Version, r.Broker.URL)
	fmt.Fprintf(w, "measured %.2fs (warm-up %v excluded)  stop: %s\n", r.MeasuredS, sc.Warmup, r.StopReason)
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", r.Error)
	}
	fmt.Fprintln(w)
	t := newTable(w, []string{"", "total", "per second"})
	var rows [][]string
	if sc.Producers.Count > 0 {
		rows = append(rows,
			[]string{"published", Count(r.Totals.Published), Rate(r.Rates.PublishedPerS)},
			[]string{"confirmed", CountPtr(r.Totals.Confirmed), RatePtr(r.Rates.ConfirmedPerS)},
			[]string{"nacked", CountPtr(r.Totals.Nacked), ""},
			[]string{"returned", CountPtr(r.Totals.Returned), ""})
	}
	if sc.Consumers.Count > 0 {
		rows = append(rows, []string{"consumed", CountPtr(r.Totals.Consumed), RatePtr(r.Rates.ConsumedPerS)})
	}
	if r.Totals.RPCRequests != nil {
		rows = append(rows,
			[]string{"rpc requests", CountPtr(r.Totals.RPCRequests), RatePtr(r.Rates.RPCRequestsPerS)},
			[]string{"rpc replies", CountPtr(r.Totals.RPCReplies), RatePtr(r.Rates.RPCRepliesPerS)},
			[]string{"rpc timeouts", CountPtr(r.Totals.RPCTimeouts), ""},
			[]string{"rpc late / dup / unmatched", fmt.Sprintf("%s / %s / %s", CountPtr(r.Totals.RPCLate),
				CountPtr(r.Totals.RPCDuplicates), CountPtr(r.Totals.RPCUnmatched)), ""},
		)
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	lt := newTable(w, []string{"latency", "count", "min", "mean", "p50", "p75", "p90", "p95", "p99", "p99.9", "p99.99", "max"})
	for _, l := range []struct {
		name string
		s    *metrics.Summary
	}{{"end-to-end", r.Latency.EndToEnd}, {"e2e from actual send", r.Latency.EndToEndActual},
		{"send lag", r.Latency.SendLag}, {"confirm", r.Latency.Confirm},
		{"rpc round trip", r.Latency.RPC}, {"rpc server", r.Latency.RPCServer}} {
		if l.s == nil {
			continue
		}
		s := l.s
		if err := lt.Append([]string{l.name, Count(s.Count), Micros(s.MinUs), Micros(int64(s.MeanUs + 0.5)),
			Micros(s.P50Us), Micros(s.P75Us), Micros(s.P90Us), Micros(s.P95Us), Micros(s.P99Us),
			Micros(s.P999Us), Micros(s.P9999Us), Micros(s.MaxUs)}); err != nil {
			return err
		}
	}
	if err := lt.Render(); err != nil {
		return err
	}
	if len(r.Queues) > 0 {
		fmt.Fprintln(w)
		qt := newTable(w, []string{"queue", "type", "consumers", "consumed", "left"})
		for _, q := range r.Queues {
			name, consumers := q.Name, fmt.Sprint(q.Consumers)
			if q.RPC {
				name, consumers = q.Name+" (rpc requests)", fmt.Sprintf("%d servers", q.Consumers)
			}
			if err := qt.Append([]string{name, q.Type, consumers, Count(q.Consumed), CountPtr(q.Depth)}); err != nil {
				return err
			}
		}
		if err := qt.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nclient: %.2f CPU s in the measured window (%.2f of %d cores), peak RSS %s MiB, merge %.0fµs per interval\n",
		r.Client.CPUS, r.Client.Cores, r.Client.CoresAvailable, Count(r.Client.MaxRSSBytes>>20), r.Client.CollectMeanUs)
	for _, b := range r.Faults.Blocked {
		end := "the end of the run"
		if b.End != nil {
			end = b.End.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(w, "blocked: %s by the broker (%s) from %s to %s\n", b.Connection, b.Reason, b.Start.Format(time.RFC3339Nano), end)
	}
	if a := r.Audit; a != nil {
		t := a.Total
		verdict := "balanced: every message routed to a queue was consumed, lost or unconfirmed"
		if !a.Balanced {
			verdict = "NOT balanced: " + a.Note
			for _, q := range a.Queues {
				if !q.Balanced() {
					verdict += fmt.Sprintf(" %s: expected %d = consumed %d + lost %d + unconfirmed %d? unexpected %d;",
						q.Name, q.Expected, q.Consumed, q.Lost, q.Unconfirmed, q.Unexpected)
				}
			}
		}
		fmt.Fprintf(w, "audit: %s expected, %s consumed, %s lost, %s unconfirmed, %s duplicates, %s redelivered, %s out of order — %s\n",
			Count(t.Expected), Count(t.Consumed), Count(t.Lost), Count(t.Unconfirmed), Count(t.Duplicates),
			Count(t.Redelivered), Count(t.OutOfOrder), verdict)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
	return nil
}

func newTable(w io.Writer, header []string) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignRight),
		tablewriter.WithHeaderAlignment(tw.AlignRight),
	)
	t.Header(header)
	return t
}
