package htmlreport

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// writeQueues writes the per-queue table.
func writeQueues(m *chart.Markup, r *result.Result) {
	if len(r.Queues) == 0 {
		return
	}
	m.El("h3", "Queues")
	t := table{header: []string{"queue", "type", "consumers", "consumed", "left after the drain"}, lead: 2}
	for _, q := range r.Queues {
		name, consumers := q.Name, strconv.Itoa(q.Consumers)
		if q.RPC {
			name, consumers = q.Name+" (rpc requests)", strconv.Itoa(q.Consumers)+" servers"
		}
		if name == "" {
			name = "(server-named)"
		}
		t.rows = append(t.rows, []string{name, q.Type, consumers, report.Count(q.Consumed), report.CountPtr(q.Depth)})
	}
	t.write(m)
}

// auditColumn is one count of audit.Queue.
type auditColumn struct {
	key   string // the JSON key, which is also the column's name
	field int
}

// auditColumns are audit.Queue's counts in the struct's order, named by
// their JSON keys. They are read by reflection so that a count the audit
// package adds later appears in this table without a change here.
func auditColumns() []auditColumn {
	var out []auditColumn
	t := reflect.TypeFor[audit.Queue]()
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() != reflect.Int64 || key == "" || key == "-" {
			continue
		}
		out = append(out, auditColumn{key: key, field: i})
	}
	return out
}

// auditRow is one queue's counts, in auditColumns order.
func auditRow(q audit.Queue, cols []auditColumn) []string {
	v := reflect.ValueOf(q)
	row := []string{q.Name}
	for _, c := range cols {
		row = append(row, report.Count(v.Field(c.field).Int()))
	}
	if q.Balanced() {
		return append(row, "balanced")
	}
	return append(row, "NOT balanced")
}

// writeAudit writes the delivery audit: one row per queue and the total,
// and whether every message is accounted for.
func writeAudit(m *chart.Markup, a *result.Audit) {
	if a == nil {
		return
	}
	m.El("h3", "Delivery audit")
	cols := auditColumns()
	t := table{header: []string{"queue"}, lead: 1}
	for _, c := range cols {
		t.header = append(t.header, strings.ReplaceAll(c.key, "_", " "))
	}
	t.header = append(t.header, "")
	for _, q := range a.Queues {
		t.rows = append(t.rows, auditRow(q, cols))
	}
	total := a.Total
	total.Name = "total"
	t.rows = append(t.rows, auditRow(total, cols))
	last := len(t.rows) - 1
	t.rowClass = func(r int) string {
		if r == last {
			return "total"
		}
		return ""
	}
	t.cellClass = func(r, c int) string {
		if c == len(cols)+1 && t.rows[r][c] != "balanced" {
			return "fail"
		}
		return ""
	}
	t.write(m)
	verdict := "Balanced: every message routed to a queue was consumed, left, dropped, lost, unconfirmed or unknown."
	if !a.Balanced {
		verdict = "NOT balanced: " + a.Note
	}
	m.El("p", verdict+" The audit covers the whole run, warm-up included; its state took "+
		bytesText(a.MemoryBytes)+".", "class", "meta")
}

// bytesText formats a size in the unit that suits it: 512 B, 6.0 KiB,
// 31.0 MiB.
func bytesText(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// since formats t as an offset from the run's start, with the time itself.
func since(start, t time.Time) string {
	return "+" + strconv.FormatFloat(t.Sub(start).Seconds(), 'f', 1, 64) + " s (" + t.UTC().Format("15:04:05.000") + ")"
}

// until formats an optional end; nil means the run ended first.
func until(start time.Time, t *time.Time) string {
	if t == nil {
		return "not before the end of the run"
	}
	return since(start, *t)
}

// writeFaults writes reconnects, lost connections and broker blocks.
func writeFaults(m *chart.Markup, r *result.Result) {
	m.El("h3", "Faults")
	f := r.Faults
	if f.Reconnects == 0 && len(f.Outages) == 0 && len(f.Blocked) == 0 {
		m.El("p", "No connection was lost or blocked.", "class", "meta")
		return
	}
	m.El("p", "Reconnects: "+strconv.Itoa(f.Reconnects)+".", "class", "meta")
	if len(f.Outages) > 0 {
		t := table{header: []string{"lost connection", "from", "back"}, lead: 1}
		for _, o := range f.Outages {
			t.rows = append(t.rows, []string{o.What, since(r.StartedAt, o.Start), until(r.StartedAt, o.End)})
		}
		t.write(m)
	}
	if len(f.Blocked) > 0 {
		t := table{header: []string{"blocked connection", "reason", "from", "to"}, lead: 2}
		for _, b := range f.Blocked {
			t.rows = append(t.rows, []string{b.Connection, b.Reason, since(r.StartedAt, b.Start), until(r.StartedAt, b.End)})
		}
		t.write(m)
	}
}

// writeClient writes what running mqbench cost.
func writeClient(m *chart.Markup, r *result.Result) {
	m.El("h3", "Client cost")
	c := r.Client
	cores := strconv.FormatFloat(c.Cores, 'f', 2, 64) + " of " + strconv.Itoa(c.CoresAvailable) + " cores"
	if result.ClientBound(c.Cores, c.CoresAvailable) {
		cores += " — the client may have been the bottleneck"
	}
	pairs(m, [][2]string{
		{"CPU in the measured window", strconv.FormatFloat(c.CPUS, 'f', 2, 64) + " s (" + cores + ")"},
		{"CPU over the process's life", strconv.FormatFloat(c.CPUTotalS, 'f', 2, 64) + " s"},
		{"peak resident memory", bytesText(c.MaxRSSBytes)},
		{"histogram merge per interval", "mean " + report.Micros(int64(c.CollectMeanUs)) + ", max " + report.Micros(int64(c.CollectMaxUs))},
	})
}
