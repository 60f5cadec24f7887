package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/mqbench/mqbench/internal/result"
)

// intervalColumns is the header of --csv: one row per interval (folded:
// see result.Fold), the fields of the result's intervals (counts within
// the interval, latencies in µs, empty where a figure does not apply),
// after the run's variant; columns are added at the end, never reordered.
var intervalColumns = []string{"variant", "t_s", "seconds", "warmup", "published", "confirmed", "consumed", "returned", "nacked",
	"e2e_p50_us", "e2e_p99_us", "confirm_p99_us", "backlog", "rpc_replies", "rpc_timeouts", "rpc_p50_us", "rpc_p99_us",
	"cpu_cores", "blocked_connections", "disconnected_workers", "drain", "phase"}

// IntervalColumns returns the --csv header.
func IntervalColumns() []string { return append([]string(nil), intervalColumns...) }

// CSV writes every interval of one or more runs as a CSV row as it
// comes; the header is written once, before the first row.
type CSV struct {
	mu     sync.Mutex
	w      *csv.Writer
	header bool
	err    error
}

// NewCSV writes to w.
func NewCSV(w io.Writer) *CSV { return &CSV{w: csv.NewWriter(w)} }

// Err is the first write error, if any.
func (c *CSV) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Sink returns the sink of one run, labelled variant ("" for a single
// run), whose interval is every: intervals are folded as charts and merge
// fold them (result.Folder), so each row is written once the next interval
// shows it complete, and the last at the end of the run.
func (c *CSV) Sink(variant string, every time.Duration) *CSVSink {
	return &CSVSink{c: c, variant: variant, fold: result.NewFolder(every)}
}

// CSVSink writes one run's intervals.
type CSVSink struct {
	c       *CSV
	variant string
	fold    *result.Folder // used by the engine's one goroutine only
}

// Interval takes the run's next interval and writes the row before it
// once that is complete.
func (s *CSVSink) Interval(iv result.Interval) {
	if done, ok := s.fold.Add(iv); ok {
		s.write(done.Interval)
	}
}

// Done writes the run's last row.
func (s *CSVSink) Done(*result.Result) {
	if done, ok := s.fold.Flush(); ok {
		s.write(done.Interval)
	}
}

// write writes one row, the header before the first, and flushes it.
func (s *CSVSink) write(iv result.Interval) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if !c.header {
		c.err = c.w.Write(intervalColumns)
		c.header = true
	}
	if c.err == nil {
		c.err = c.w.Write(intervalRow(s.variant, iv))
	}
	c.w.Flush()
	if c.err == nil {
		c.err = c.w.Error()
	}
}

func intervalRow(variant string, iv result.Interval) []string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	p := func(n *int64) string {
		if n == nil {
			return ""
		}
		return i(*n)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	return []string{variant, f(iv.TS), f(iv.Seconds), strconv.FormatBool(iv.Warmup), i(iv.Published), i(iv.Confirmed),
		i(iv.Consumed), i(iv.Returned), i(iv.Nacked), p(iv.E2EP50Us), p(iv.E2EP99Us), p(iv.ConfirmP99Us), p(iv.Backlog),
		p(iv.RPCReplies), p(iv.RPCTimeouts), p(iv.RPCP50Us), p(iv.RPCP99Us), f(iv.CPUCores), strconv.Itoa(iv.Blocked),
		strconv.Itoa(iv.Disconnected), strconv.FormatBool(iv.Drain), iv.Phase}
}
