package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// writeDrainLine says what the drain after the load came to: the backlog
// when the load stopped and at the end, how long the consumers went on,
// and the time consumption is rated over.
func writeDrainLine(w io.Writer, r *result.Result) {
	d := r.Drain
	if d == nil || d.Ended == result.DrainNone {
		return
	}
	over := ""
	if o := r.Rates.ConsumedOverS; o != nil && *o > r.MeasuredS+0.0005 {
		over = fmt.Sprintf("; consumed/s over %.2fs", *o)
	}
	fmt.Fprintf(w, "drain %.2fs (%s): %s consumed, backlog %s when the load stopped, %s at the end%s\n",
		d.Seconds, d.Ended, Count(d.Consumed), CountPtr(d.BacklogStart), CountPtr(d.BacklogEnd), over)
}

// WriteTable prints the human summary of a result: what ran, what happened
// (totals and rates), latencies, and per-queue figures.
func WriteTable(w io.Writer, r *result.Result) error {
	sc := r.Scenario
	fmt.Fprintf(w, "mqbench %s  scenario %q  broker %s %s at %s\n", r.Tool.Version, sc.Name, r.Broker.Product, r.Broker.Version, r.Broker.URL)
	fmt.Fprintf(w, "measured %.2fs (warm-up %v excluded)  stop: %s\n", r.MeasuredS, sc.Warmup, r.StopReason)
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", r.Error)
	}
	writeShardLine(w, r)
	writeDrainLine(w, r)
	fmt.Fprintln(w)
	if err := WriteBox(w, []string{"", "total", "per second"}, countRows(r)); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := writeLatencies(w, r); err != nil {
		return err
	}
	if len(r.Phases) > 0 {
		fmt.Fprintln(w)
		if err := writePhases(w, r); err != nil {
			return err
		}
	}
	if err := writeKinds(w, r); err != nil {
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
	if m := r.Broker.Management; m != nil {
		alarms := "none"
		if len(m.Alarms) > 0 {
			alarms = strings.Join(m.Alarms, ", ")
		}
		fmt.Fprintf(w, "broker (management API, %d samples): memory peak %s MiB, Erlang processes peak %s, file descriptors peak %s, connections peak %s, ready messages peak %s, alarms: %s\n",
			m.Samples, Count(m.MemoryPeakBytes>>20), Count(m.ErlangProcessesPeak), Count(m.FileDescriptorsPeak), Count(m.ConnectionsPeak),
			Count(m.MessagesReadyPeak), alarms)
	}
	for _, b := range r.Faults.Blocked {
		end := "the end of the run"
		if b.End != nil {
			end = b.End.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(w, "blocked: %s by the broker (%s) from %s to %s\n", b.Connection, b.Reason, b.Start.Format(time.RFC3339Nano), end)
	}
	if a := r.Audit; a != nil {
		writeAudit(w, a)
	}
	if m := r.Merged; m != nil {
		if err := writeShards(w, m); err != nil {
			return err
		}
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

// writeLatencies prints one row per latency kind that applies, with every
// statistic of the catalogue.
func writeLatencies(w io.Writer, r *result.Result) error {
	lt := newTable(w, append([]string{"latency"}, catalog.LatencyStatLabels()...))
	for _, k := range metrics.Kinds() {
		s := r.Latency[k]
		if s == nil {
			continue
		}
		row := []string{k.Info().Label}
		for i, v := range catalog.LatencyRow(s) {
			row = append(row, Value(catalog.LatencyUnit(i), v))
		}
		if err := lt.Append(row); err != nil {
			return err
		}
	}
	return lt.Render()
}

// WriteBox prints rows under header as a box table, names left of the
// numbers right-aligned (the layout of every mqbench table).
func WriteBox(w io.Writer, header []string, rows [][]string) error {
	t := newTable(w, header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// countRow is a row of the counts table: a catalogue total and, when it
// has one, its rate.
type countRow struct{ total, rate string }

var (
	producerRows = []countRow{{"totals.published", "rates.published_per_s"}, {"totals.confirmed", "rates.confirmed_per_s"},
		{"totals.nacked", ""}, {"totals.returned", ""}}
	consumerRows = []countRow{{"totals.consumed", "rates.consumed_per_s"}}
	rpcRows      = []countRow{{"totals.rpc_requests", "rates.rpc_requests_per_s"}, {"totals.rpc_replies", "rates.rpc_replies_per_s"},
		{"totals.rpc_timeouts", ""}}
)

// countRows are the totals and rates that apply to the run, labelled by
// the catalogue; "-" marks a measure that does not apply (no confirms, no
// mandatory flag).
func countRows(r *result.Result) [][]string {
	sc := r.Scenario
	var groups []countRow
	if sc.Producers.Count > 0 {
		groups = append(groups, producerRows...)
	}
	if sc.Consumers.Count > 0 {
		groups = append(groups, consumerRows...)
		if r.Totals.Foreign != nil { // the run could tell its messages from others'
			groups = append(groups, countRow{"totals.foreign", ""})
		}
		if r.Totals.Refused != nil {
			groups = append(groups, countRow{"totals.refused", ""})
		}
	}
	if r.Totals.RPCRequests != nil {
		groups = append(groups, rpcRows...)
	}
	var rows [][]string
	for _, g := range groups {
		f, _ := catalog.Lookup(g.total)
		row := []string{f.Label, "-", ""}
		if v, ok := f.Value(r); ok {
			row[1] = Count(int64(v))
		}
		if g.rate != "" {
			rf, _ := catalog.Lookup(g.rate)
			row[2] = "-"
			if v, ok := rf.Value(r); ok {
				row[2] = Rate(v)
			}
		}
		rows = append(rows, row)
	}
	if r.Totals.RPCRequests != nil {
		rows = append(rows, []string{"rpc late / dup / unmatched", fmt.Sprintf("%s / %s / %s", CountPtr(r.Totals.RPCLate),
			CountPtr(r.Totals.RPCDuplicates), CountPtr(r.Totals.RPCUnmatched)), ""})
	}
	return rows
}

// writeAudit prints the audit's one-line account and, when it does not
// balance, which queue does not.
func writeAudit(w io.Writer, a *result.Audit) {
	if a.Partial { // a shard's: reconciled only over all shards
		fmt.Fprintf(w, "audit: %s\n", a.Note)
		return
	}
	t := a.Total
	verdict := "balanced: every message routed to a queue was consumed, left, dropped, lost, unconfirmed or unknown"
	if !a.Balanced {
		verdict = "NOT balanced: " + a.Note
		for _, q := range a.Queues {
			if !q.Balanced() {
				verdict += fmt.Sprintf(" %s: expected %d = consumed %d + left %d + dropped %d + lost %d + unconfirmed %d + unknown %d? unexpected %d;",
					q.Name, q.Expected, q.Consumed, q.Left, q.Dropped, q.Lost, q.Unconfirmed, q.Unknown, q.Unexpected)
			}
		}
	}
	dropped := Count(t.Dropped) + " dropped"
	if t.DropReason != "" {
		dropped += " (" + t.DropReason + ")"
	}
	unknown := ""
	if t.Unknown > 0 { // only without confirms, after a channel failed
		unknown = ", " + Count(t.Unknown) + " unknown (published on a channel that failed or whose close the broker had not answered by the end, never confirmed: the broker may not have read them then)"
	}
	fmt.Fprintf(w, "audit: %s expected, %s consumed, %s left in the queue, %s, %s lost, %s unconfirmed%s, %s duplicates, %s redelivered, %s out of order — %s\n",
		Count(t.Expected), Count(t.Consumed), Count(t.Left), dropped, Count(t.Lost), Count(t.Unconfirmed), unknown, Count(t.Duplicates),
		Count(t.Redelivered), Count(t.OutOfOrder), verdict)
}
