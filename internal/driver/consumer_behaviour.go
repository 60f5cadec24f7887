package driver

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// behaviour is how a consumer consumes beyond its acknowledgements: its
// start delay, a cap on its rate, each message's processing time, and
// crashes (internal/scenario/consumer_behaviour.go says what each means).
type behaviour struct {
	// What a run may change while it goes (a phase), read per delivery:
	// interval is the rate cap as nanoseconds between deliveries (0: no
	// cap), delay the processing time (nil: none), crashEvery the
	// deliveries between crashes (0: never). Set them with setRate,
	// setDelay and setCrashEvery.
	interval   atomic.Int64
	delay      atomic.Pointer[scenario.Delay]
	crashEvery atomic.Int64
	// held is true while the start delay holds the subscription back:
	// setup then subscribes to nothing.
	held       atomic.Bool
	startDelay time.Duration

	// Owned by the consumer's goroutine.
	rng   *rand.Rand  // processing time draws
	due   int64       // when the next delivery may be taken under the cap (Unix ns)
	timer *time.Timer // wakes a capped consumer when it is due
	since int64       // deliveries processed since the last crash

	// The run's crashes (warm-up included, as the audit whose duplicates
	// and redeliveries they explain), and the deliveries each left
	// unacknowledged: processed (they come back as duplicates) or held
	// unprocessed in the client library (they come back redelivered).
	crashes, crashUnacked, crashUnprocessed atomic.Int64
	proc                                    *procHists // measured processing times; nil: not measured
}

// setRate caps the consumer at r deliveries per second from its next one
// on; 0 lifts the cap.
func (b *behaviour) setRate(r float64) {
	var iv int64
	if r > 0 {
		iv = max(1, int64(float64(time.Second)/r))
	}
	b.interval.Store(iv)
}

// setDelay makes d each message's processing time from the next one on;
// a delay that is always zero removes it.
func (b *behaviour) setDelay(d scenario.Delay) {
	if !d.Varies() {
		b.delay.Store(nil)
		return
	}
	b.delay.Store(&d)
}

// setCrashEvery makes the consumer crash after every n deliveries (0:
// never), counting from its next one.
func (b *behaviour) setCrashEvery(n int64) { b.crashEvery.Store(n) }

// init shapes consumer id's behaviour as the scenario says; proc collects
// the measured processing times (the run's consumers share it).
func (b *behaviour) init(id int, k scenario.Consumers, proc *procHists) {
	b.setRate(k.Rate)
	b.setDelay(k.ProcessingDelay())
	b.setCrashEvery(k.CrashEvery)
	b.startDelay = k.StartDelay.D()
	b.held.Store(b.startDelay > 0)
	b.rng = rand.New(rand.NewPCG(uint64(id), rngSeed^0xc0))
	b.proc = proc
}

// capSlack is how far behind the clock a capped consumer's schedule may
// fall. A delivery taken late by less than this (a timer that woke late:
// on a loaded machine 1% of them wake over 15 ms late; a pause for the
// garbage collector) is made up for, so the rate holds to the cap instead
// of drifting below it; after a longer wait (nothing to consume) the
// schedule restarts from now, so the consumer never catches up on what it
// missed in a burst above its cap: in any stretch of time t it takes at
// most (t + capSlack) × rate + 1 deliveries.
const capSlack = 100 * time.Millisecond

// next is where the consumer takes its next delivery from: its
// subscription when one is due (or it has no cap), else nil and a timer
// that fires when one is. Once stopped, nothing is held back (what is
// booked after the end is booked at once).
func (c *consumer) next() (<-chan amqp.Delivery, <-chan time.Time) {
	b := &c.behave
	if b.interval.Load() == 0 || c.stopped() {
		return c.deliveries, nil
	}
	wait := time.Duration(b.due - c.clock.Now())
	if wait <= 0 {
		return c.deliveries, nil
	}
	if b.timer == nil {
		b.timer = time.NewTimer(wait)
	} else {
		b.timer.Reset(wait)
	}
	return nil, b.timer.C
}

// taken books a delivery taken now against the cap: the next is due one
// interval after this one was, or after now less capSlack if that is
// later.
func (c *consumer) taken() {
	b := &c.behave
	if iv := b.interval.Load(); iv > 0 {
		b.due = max(b.due, c.clock.Now()-int64(capSlack)) + iv
	}
}

// awaitDue waits until a capped polling consumer's next fetch is due;
// false when the consumer was stopped or ctx ended first.
func (c *consumer) awaitDue(ctx context.Context) bool {
	_, wake := c.next()
	if wake == nil {
		return true
	}
	select {
	case <-wake:
		return true
	case <-c.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// awaitStart holds the consumer from the start signal until its start
// delay has passed, then subscribes it (what setup skipped while it was
// held); false when the run ended first. The subscription, not the
// processing, is held back: until then what is published waits ready in
// the queue, where the backlog, the broker and other consumers see it.
func (c *consumer) awaitStart(ctx context.Context) bool {
	if c.behave.startDelay <= 0 {
		return true
	}
	t := time.NewTimer(c.behave.startDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.stop:
		return false
	case <-ctx.Done():
		return false
	}
	c.behave.held.Store(false)
	if err := c.h.Resetup(); err != nil {
		if c.stopped() {
			return false
		}
		if err := c.h.Recover(ctx); err != nil { // the connection went while it waited
			c.fail(err)
			return false
		}
	}
	return true
}

// process simulates a message's processing: it waits a time drawn from
// the delay distribution, and records how long that took (the sleep's
// overshoot included). What is booked after the end is not processed.
func (c *consumer) process() {
	d := c.behave.delay.Load()
	if d == nil || c.stopped() {
		return
	}
	start := c.clock.Now()
	if wait := d.Draw(c.behave.rng); wait > 0 {
		time.Sleep(wait)
	}
	if c.behave.proc != nil && c.win.Measured(start) {
		c.behave.proc.record(c.id, c.clock.Now()-start)
	}
}

// crashDue counts a delivery processed and reports whether the consumer
// crashes now instead of acknowledging it.
func (c *consumer) crashDue() bool {
	b := &c.behave
	n := b.crashEvery.Load()
	if n <= 0 || c.stopped() {
		return false
	}
	if b.since++; b.since < n {
		return false
	}
	b.since = 0
	return true
}

// crash closes the consumer's channel with everything it holds
// unacknowledged — the delivery it just processed, the batch not yet
// acknowledged, and what the broker pushed ahead into the client library
// — and subscribes again on a new channel: the broker puts it all back
// and redelivers it. It is not a fault: the connection stays up, and
// nothing is recorded in the result's faults.
//
// It cancels the subscription first, so as to count what the library
// held: the broker sends nothing after its cancel-ok, and the library
// then hands over everything it had. Those deliveries are dropped
// unprocessed (their redelivery will be their first processing, not a
// duplicate) and stop counting as held in the client; the audit books
// each as put back (audit.Consumer.PutBack): a redelivered flag is
// counted, as the broker counted it when it sent the delivery, and on a
// queue with a delivery limit one that never comes back is dropped by the
// limit, not lost. An error means the consumer cannot go on.
func (c *consumer) crash(ctx context.Context, b *batch) error {
	unacked := b.unacked + 1
	*b = batch{}
	if err := c.h.Ch().Cancel(c.tag, false); err != nil {
		return c.h.Recover(ctx) // the channel is failing anyway: mend it, or say why not
	}
	var unprocessed int64
	for d := range c.deliveries {
		unprocessed++
		if c.audit != nil {
			if id, run, ok := stamp.Run(d.Body); ok && run == c.runID {
				seq, _, _ := stamp.Read(d.Body)
				c.audit.PutBack(id, seq, d.Redelivered)
			}
		}
	}
	c.handled.Add(unprocessed)
	c.behave.crashes.Add(1)
	c.behave.crashUnacked.Add(unacked)
	c.behave.crashUnprocessed.Add(unprocessed)
	if err := c.h.Reopen(); err != nil {
		if c.stopped() {
			return nil // the run ended: the loop leaves
		}
		return c.h.Recover(ctx)
	}
	return nil
}

// procHists are the measured processing times, in a few histograms the
// consumers share: a histogram is ~190 KB, one per consumer would cost
// that per consumer, and a lock per delivery is nothing beside the wait
// it measures. Each allocates its histogram on first use.
type procHists struct{ shards []procShard }

type procShard struct {
	mu sync.Mutex
	h  *hdr.Histogram
}

// procShards is how many histograms the consumers' processing times
// are spread over.
const procShards = 4

func newProcHists() *procHists { return &procHists{shards: make([]procShard, procShards)} }

// record adds one processing time (ns) by consumer id.
func (p *procHists) record(id int, ns int64) {
	s := &p.shards[id%len(p.shards)]
	s.mu.Lock()
	if s.h == nil {
		s.h = metrics.NewHistogram()
	}
	_ = s.h.RecordValue(min(max(ns/1000, 0), metrics.HighestMicros)) // in range: never fails
	s.mu.Unlock()
}

// summary merges the shards (after every consumer stopped); nil when
// nothing was recorded.
func (p *procHists) summary() (*metrics.Summary, error) {
	if p == nil {
		return nil, nil
	}
	all := metrics.NewHistogram()
	for i := range p.shards {
		if h := p.shards[i].h; h != nil {
			all.Merge(h)
		}
	}
	return metrics.Summarize(all)
}

// figures are the consumers' own figures, when they crash or simulate a
// processing time: counts crashes, crash_unacked (deliveries processed and
// not acknowledged at a crash: each comes back as a duplicate) and
// crash_unprocessed (held in the client unprocessed: each comes back
// redelivered, not a duplicate); the processing times measured. Nil when
// there are none.
func (r *consumerRole) figures() *result.KindFigures {
	var f result.KindFigures
	if r.w.sc.Consumers.CrashEvery > 0 {
		var crashes, unacked, unprocessed int64
		for _, c := range r.w.consumers {
			crashes += c.behave.crashes.Load()
			unacked += c.behave.crashUnacked.Load()
			unprocessed += c.behave.crashUnprocessed.Load()
		}
		f.Counts = map[string]int64{"crashes": crashes, "crash_unacked": unacked, "crash_unprocessed": unprocessed}
	}
	if len(r.w.consumers) > 0 {
		if s, err := r.w.consumers[0].behave.proc.summary(); err == nil && s != nil {
			f.Latency = map[string]*metrics.Summary{"processing": s}
		}
	}
	if f.Counts == nil && f.Latency == nil {
		return nil
	}
	return &f
}

// crashedUnacked is how many deliveries the consumers processed and left
// unacknowledged at a crash: each is counted as consumed twice, once
// before the crash and once when redelivered (or is ready again).
func (w *workload) crashedUnacked() int64 {
	var n int64
	for _, c := range w.consumers {
		n += c.behave.crashUnacked.Load()
	}
	return n
}
