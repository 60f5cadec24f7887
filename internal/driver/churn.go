package driver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqbench/mqbench/internal/kind"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/pace"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// churnKind is the churn: workers that open and close connections and
// channels, and declare, bind and delete queues, at a rate (churnops.go
// holds what each operation does, churnstats.go what is counted).
func churnKind() kind.Kind {
	return kind.Kind{
		Name: "churn", Section: "churn",
		Workers: func(sc scenario.Scenario) int { return sc.Churn.Kinds() * sc.Churn.Concurrency },
		// Its latencies are its own figures (churnStats), not the run's
		// per-message kinds.
		Latencies: func(scenario.Scenario) []metrics.Kind { return nil },
	}
}

// churnRole runs one churner per kind of churn the scenario asks for.
type churnRole struct {
	w        *workload
	stats    *churnStats
	churners []*churner
	quit     chan struct{} // closed by cancel: start no further operation
	finished chan struct{} // closed once every churn worker returned
}

func (r *churnRole) prepare(ctx context.Context, w *workload, e env) error {
	r.w, r.quit, r.finished = w, make(chan struct{}), make(chan struct{})
	k := w.sc.Churn
	if !k.Enabled() {
		close(r.finished)
		return nil
	}
	r.stats = newChurnStats(e.win)
	ops := &churnOps{run: e.run, dialer: w.dialer, stats: r.stats, clock: e.clock, messages: k.Messages}
	if k.ChannelRate > 0 || k.QueueRate > 0 {
		// Channels and queues churn on a connection of their own, which
		// the end closes with the others (exclusive queues go with it).
		host, err := w.dialer.Dial(connName(e.run, "churn-host", 0))
		if err != nil {
			return fmt.Errorf("churn: %w", err)
		}
		host.Watch()
		w.conns = append(w.conns, host)
		ops.host = host
	}
	rate, conc := churnShare(w.sc)
	for _, c := range []struct {
		rate            float64
		op              churnOp
		events          []string // its counts, reported even at 0
		errors, skipped string
	}{
		{k.ConnectionRate, ops.connection, []string{"connections_opened", "connections_closed"}, "connection_errors", "connections_skipped"},
		{k.ChannelRate, ops.channel, []string{"channels_opened", "channels_closed"}, "channel_errors", "channels_skipped"},
		{k.QueueRate, ops.queue, []string{"queues_declared", "queues_bound", "queues_deleted"}, "queue_errors", "queues_skipped"},
	} {
		if c.rate <= 0 {
			continue
		}
		r.stats.ensure(append(c.events, c.errors, c.skipped)...)
		if k.Messages > 0 {
			r.stats.ensure("messages_published", "messages_consumed")
		}
		r.churners = append(r.churners, &churner{
			schedule: pace.Constant(c.rate * rate), workers: conc, op: c.op, errors: c.errors, skipped: c.skipped,
			stats: r.stats, clock: e.clock, win: e.win, fail: w.fail,
		})
	}
	return nil
}

// churnShare is this process's share of each churn rate (a sharded run
// splits it evenly) and how many workers each churner has.
func churnShare(sc *scenario.Scenario) (rateFactor float64, workers int) {
	k := sc.Churn
	if !sc.Shard.Sharded() {
		return 1, k.Concurrency
	}
	return 1 / float64(sc.Shard.Count), max(sc.Shard.Share(k.Concurrency), 1)
}

func (r *churnRole) start(w *workload) {
	if len(r.churners) == 0 {
		return
	}
	base := r.churners[0].clock.Now()
	var wg sync.WaitGroup
	for _, c := range r.churners {
		c.base = base
		for range c.workers {
			wg.Add(1)
			w.goAndTrack(func() {
				defer wg.Done()
				c.work(w.ctx, w.start, w.stop, r.quit)
			})
		}
	}
	if w.mgmt != nil {
		wg.Add(1)
		w.goAndTrack(func() {
			defer wg.Done()
			r.sampleBroker(w)
		})
	}
	w.goAndTrack(func() {
		wg.Wait()
		close(r.finished)
	})
}

func (r *churnRole) limited() int64 { return 0 }

func (r *churnRole) cancel() {
	select {
	case <-r.quit:
	default:
		close(r.quit)
	}
}

// done is when every churn worker returned: each finishes the operation
// it is in — closing what it opened, deleting what it declared — first.
func (r *churnRole) done() []<-chan struct{} { return []<-chan struct{}{r.finished} }

// figures are the churn's counts, rates and latencies (nil without churn).
func (r *churnRole) figures() *result.KindFigures {
	if r.stats == nil {
		return nil
	}
	win := r.stats.win
	f, err := r.stats.figures(time.Duration(win.End() - win.Start()).Seconds())
	if err != nil {
		r.w.fail(fmt.Errorf("churn: %w", err))
		return nil
	}
	return f
}

// sampleBroker reads the broker's churn counters every brokerPoll while
// the load runs.
func (r *churnRole) sampleBroker(w *workload) {
	t := time.NewTicker(brokerPoll)
	defer t.Stop()
	clock := r.churners[0].clock
	read := func() {
		// A slow answer is timed at its middle: the reading is of some
		// instant between asking and hearing.
		ctx, cancel := context.WithTimeout(w.ctx, 2*time.Second)
		defer cancel()
		asked := clock.Now()
		if c, err := w.mgmt.Churn(ctx); err == nil {
			r.stats.sampled(c, asked+(clock.Now()-asked)/2)
		}
	}
	if !started(w.ctx, w.start) {
		return
	}
	for {
		read()
		select {
		case <-t.C:
		case <-w.stop:
			return
		case <-r.quit:
			return
		case <-w.ctx.Done():
			return
		}
	}
}

// churnOp is one operation of a churner: open and close one connection,
// one channel, or declare, bind and delete one queue. k numbers it within
// its churner, due is when it was due (Unix ns): the latency of the whole
// cycle is timed from then. It returns an error when it failed.
type churnOp func(ctx context.Context, k int64, due int64) error

// churner runs one kind of churn: its workers take the operations in
// order off one schedule, so that at most workers operations are under
// way at once whatever the rate. An operation no worker was free for when
// it was due starts late, and its cycle is timed from when it was due
// (coordinated omission); one still not started when the load's window
// closes is skipped and counted as such.
type churner struct {
	schedule *pace.Schedule
	workers  int
	op       churnOp
	errors   string // the count of failed operations
	skipped  string // the count of skipped operations
	stats    *churnStats
	clock    *stamp.Clock
	win      *metrics.Window
	fail     func(error)

	base      int64        // when operation 0 was due (Unix ns), set at the start
	next      atomic.Int64 // the next operation's number
	succeeded atomic.Bool  // some operation succeeded: a later failure is counted, not fatal
}

// work is one churn worker: it runs operations until none is due before
// the window's end, the load stops, or the role is cancelled.
func (c *churner) work(ctx context.Context, start, stop, quit <-chan struct{}) {
	if !started(ctx, start) {
		return
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		k, due, ok := c.take()
		if !ok {
			return
		}
		if wait := due - c.clock.Now(); wait > 0 {
			timer.Reset(time.Duration(wait))
			select {
			case <-timer.C:
			case <-stop:
			case <-quit:
				return
			case <-ctx.Done():
				return
			}
		}
		if due >= c.win.End() {
			return // the load stopped before it was due
		}
		if c.clock.Now() >= c.win.End() {
			c.stats.count(c.skipped, due, 1)
			continue
		}
		c.run(ctx, k, due)
	}
}

// take hands out the next operation: its number and when it is due; false
// when the schedule has none due before the window's end.
func (c *churner) take() (k, due int64, ok bool) {
	k = c.next.Add(1) - 1
	off, ok := c.schedule.Due(k)
	due = c.base + int64(off)
	return k, due, ok && due < c.win.End()
}

// run runs operation k. The first failure of a churner that never
// succeeded ends the run: every operation would fail the same way (a
// refused login, a vhost, a TLS setting), and a run of nothing but errors
// measures nothing.
func (c *churner) run(ctx context.Context, k, due int64) {
	err := c.op(ctx, k, due)
	if err == nil {
		c.succeeded.Store(true)
		return
	}
	c.stats.count(c.errors, c.clock.Now(), 1)
	if !c.succeeded.Load() {
		c.fail(fmt.Errorf("churn: %w", err))
	}
}
