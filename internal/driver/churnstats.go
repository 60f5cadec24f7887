package driver

import (
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/mgmt"
	"github.com/mqbench/mqbench/internal/result"
)

// churnStats is what the churn workers measured: events counted by when
// they happened, and each operation's latency. Churn operations come at
// most thousands a second, each costing a broker round trip or more, so
// one lock of the role's own serves every churn worker (no per-message
// hot path is near it).
type churnStats struct {
	win *metrics.Window

	mu     sync.Mutex
	counts map[string]*tally
	hists  map[string]*hdr.Histogram
	broker brokerSpan
}

// tally counts one event: every one after the warm-up (the drain
// included), and those inside the load's window, which the rates are of.
type tally struct{ all, window int64 }

func newChurnStats(win *metrics.Window) *churnStats {
	return &churnStats{win: win, counts: map[string]*tally{}, hists: map[string]*hdr.Histogram{}}
}

// ensure makes a count appear in the figures even when it stays 0: a
// churn that opened nothing says so rather than leaving the figure out.
func (s *churnStats) ensure(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if s.counts[n] == nil {
			s.counts[n] = &tally{}
		}
	}
}

// count adds n events that happened at at (Unix ns). Events before the
// window's start (the warm-up) are not counted; those at or after its end
// count in the totals only. The end is moved to when the run decided to
// stop once it has (Window.End): an event recorded in the instant between
// the stop and that move is taken as the window's, as the engine's own
// counters do.
func (s *churnStats) count(name string, at, n int64) {
	if !s.win.Measured(at) {
		return
	}
	inWindow := at < s.win.End()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.counts[name]
	if t == nil {
		t = &tally{}
		s.counts[name] = t
	}
	t.all += n
	if inWindow {
		t.window += n
	}
}

// record adds one latency of op, of an operation that was due at due: only
// operations due inside the measured window are recorded, as messages are
// by their send time.
func (s *churnStats) record(op string, due int64, d time.Duration) {
	if !s.win.Measured(due) {
		return
	}
	micros := min(max(int64(d/time.Microsecond), 0), metrics.HighestMicros)
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hists[op]
	if h == nil {
		h = metrics.NewHistogram()
		s.hists[op] = h
	}
	_ = h.RecordValue(micros) // cannot fail: clamped to the range
}

// sampled keeps a reading of the broker's churn counters taken at at.
func (s *churnStats) sampled(c mgmt.Churn, at int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broker.add(c, at, s.win.Start())
}

// figures are the churn's figures: counts, rates over the load's window
// (windowS seconds long; none when it is not positive), the latency of
// each operation, and the broker's own churn rates beside mqbench's when
// they were sampled.
func (s *churnStats) figures(windowS float64) (*result.KindFigures, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &result.KindFigures{Counts: map[string]int64{}, Rates: map[string]float64{}, Latency: map[string]*metrics.Summary{}}
	var errs int64
	for name, t := range s.counts {
		f.Counts[name] = t.all
		if windowS > 0 {
			f.Rates[name] = result.Round3(float64(t.window) / windowS)
		}
		if strings.HasSuffix(name, "_errors") {
			errs += t.all
		}
	}
	f.Counts["errors"] = errs
	for op, h := range s.hists {
		sum, err := metrics.Summarize(h)
		if err != nil {
			return nil, err
		}
		f.Latency[op] = sum
	}
	for name, r := range s.broker.rates() {
		f.Rates[name] = r
	}
	return f, nil
}

// brokerSpan follows the broker's churn counters through the load's
// window. The broker gathers them into samples every few seconds (5 s in
// the management plugin's default retention), so a reading changes in
// steps, each some time after the events it counts. The rates are taken
// between the first and the last reading that showed a new step, over the
// time between those two readings: the delay from event to step is about
// the same at both ends, so it cancels, and what is left is how often
// they are polled (brokerPoll) against the span.
type brokerSpan struct {
	prev            mgmt.Churn
	read            bool // prev holds a reading
	first, last     mgmt.Churn
	firstAt, lastAt int64
	steps           int
}

// brokerPoll is how often the churn's sampler reads the broker's churn
// counters.
const brokerPoll = 500 * time.Millisecond

// add takes a reading made at at; start is the window's start: steps
// before it are not the window's.
func (b *brokerSpan) add(c mgmt.Churn, at, start int64) {
	stepped := b.read && c != b.prev
	b.prev, b.read = c, true
	if !stepped || at < start {
		return
	}
	if b.steps == 0 {
		b.first, b.firstAt = c, at
	}
	b.last, b.lastAt = c, at
	b.steps++
}

// rates are the broker's churn rates per second between its first and its
// last step in the window, named broker_…; none without two steps a
// second apart at least.
func (b *brokerSpan) rates() map[string]float64 {
	span := time.Duration(b.lastAt - b.firstAt).Seconds()
	if b.steps < 2 || span < 1 {
		return nil
	}
	per := func(a, z int64) float64 { return result.Round3(float64(z-a) / span) }
	f, l := b.first, b.last
	return map[string]float64{
		"broker_connections_created": per(f.ConnectionsCreated, l.ConnectionsCreated),
		"broker_connections_closed":  per(f.ConnectionsClosed, l.ConnectionsClosed),
		"broker_channels_created":    per(f.ChannelsCreated, l.ChannelsCreated),
		"broker_channels_closed":     per(f.ChannelsClosed, l.ChannelsClosed),
		"broker_queues_declared":     per(f.QueuesDeclared, l.QueuesDeclared),
		"broker_queues_created":      per(f.QueuesCreated, l.QueuesCreated),
		"broker_queues_deleted":      per(f.QueuesDeleted, l.QueuesDeleted),
	}
}
