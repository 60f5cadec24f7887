package driver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// consumer consumes one queue on its own channel.
type consumer struct {
	id         int
	h          *amqpconn.Channel
	q          *queue
	tag        string
	deliveries <-chan amqp.Delivery // the current subscription's, replaced by setup
	m          metrics.Worker
	clock      *stamp.Clock
	win        *metrics.Window
	ack        string
	every      int // ack multiple every this many deliveries
	prefetch   int
	behave     behaviour // start delay, rate cap, processing time, crashes (consumer_behaviour.go)
	args       amqp.Table
	runID      uint64        // 0: every delivery is this run's (no identity to check)
	quota      *atomic.Int64 // shared count-down for --cmessages; nil without a limit
	onQuota    func()
	fail       func(error)
	flush      chan struct{} // closed when the drain ends: ack what is held
	finished   chan struct{} // closed when run returns
	ctl        *consumerCtl  // how phases pause and slow it (phasecontrol.go); nil without phases

	// handled counts the deliveries the consumer processed on its current
	// subscription, which began on generation subGen of its connection:
	// with the connection's count of deliveries received, it says how
	// many the client holds unprocessed (the backlog's share in the client).
	handled atomic.Int64
	subGen  atomic.Int64
	// lastAt is when the consumer last consumed a message (Unix ns): the
	// drain's consumption ends with the last one.
	lastAt atomic.Int64

	// Owned by the consumer goroutine; read only after finished closes.
	maxUnacked int64
	audit      *audit.Consumer // nil when the audit is off
	// deadLetter books a message dead-lettered from an audited queue
	// (named by its x-death header) into that queue's account; false
	// when that queue is not audited.
	deadLetter func(from string, id int, seq uint32) bool

	// Refusing (ack nack or reject): the share refused, the requeue flag,
	// and the running sum that spreads refusals evenly over deliveries.
	refuse   float64
	requeue  bool
	refusals float64

	// Polling consumers fetch with basic.get every pollEvery when the
	// queue is empty; stop ends their loop (there is no subscription to
	// cancel).
	polling   bool
	pollEvery time.Duration
	stop      chan struct{}
	stopOnce  sync.Once
}

// setup sets the prefetch and subscribes, on the first channel and on
// every channel a reconnect opens. Deliveries wait in the client library
// until run reads them after the start signal.
func (c *consumer) setup(ch *amqp.Channel) error {
	var gen int64 // the first subscription is on generation 0, before c.h is set
	if c.h != nil {
		gen = c.h.Conn().Gen()
	}
	if c.h == nil || gen != c.subGen.Load() { // a crash reopens on the same connection, whose count goes on
		c.subGen.Store(gen)
		c.handled.Store(0)
	}
	if c.polling || c.behave.held.Load() {
		return nil // basic.get needs no subscription; a held consumer subscribes after its start delay
	}
	if c.prefetch > 0 {
		if err := ch.Qos(c.prefetch, 0, false); err != nil {
			return fmt.Errorf("consumer %d: basic.qos %d: %w", c.id, c.prefetch, err)
		}
	}
	return c.guard(func() error { return c.subscribe(ch) })
}

// subscribe opens the consumer's subscription on ch.
func (c *consumer) subscribe(ch *amqp.Channel) error {
	name := c.q.currentName()
	d, err := ch.Consume(name, c.tag, c.ack == scenario.AckAuto, false, false, false, c.args)
	if err != nil {
		return fmt.Errorf("consumer %d: consume from queue %s: %w", c.id, name, err)
	}
	c.deliveries = d
	return nil
}

// run handles deliveries from the start signal until the subscription ends
// (cancelled at the end of the run, by the broker, or with its connection,
// which is mended) or ctx ends. Once cancelled at the end of the run
// (stop) it handles nothing more that it would have to acknowledge: it
// acknowledges what it already handled and leaves; Finish closes its
// channel, and the broker puts back what the client still held, where the
// end-of-run sweep finds it. With automatic acks those deliveries are
// already gone from the broker: it books them, without the processing
// delay, until the library has handed over the last.
func (c *consumer) run(ctx context.Context, start <-chan struct{}) {
	defer close(c.finished)
	if !started(ctx, start) || !c.awaitStart(ctx) {
		return
	}
	if c.polling {
		c.poll(ctx)
		return
	}
	var b batch
	flush, stop := c.flush, c.stop
	for {
		deliveries, due := c.next() // a capped consumer waits until its next delivery is due
		select {
		case d, ok := <-deliveries:
			if c.stopped() && (!ok || c.ack != scenario.AckAuto) {
				c.flushBatch(&b)
				return
			}
			if !ok {
				switch c.pausedOut(ctx, &b) { // a phase paused it: wait, subscribe again
				case resumed:
					continue
				case leave:
					return
				}
				if err := c.h.Recover(ctx); err != nil {
					c.fail(err) // a no-op once the run is finishing
					return
				}
				b = batch{} // the old channel's deliveries were requeued with it
				continue
			}
			c.taken()
			refused := c.handle(&d)
			c.handled.Add(1)
			if c.crashDue() {
				if err := c.crash(ctx, &b); err != nil {
					c.fail(err)
					return
				}
				continue
			}
			c.settle(&d, refused, &b)
		case <-due:
		case <-flush:
			// The drain is over: ack the tail of a multiple-ack batch so
			// nothing counted as consumed goes back to the queue.
			c.flushBatch(&b)
			flush = nil
		case <-stop:
			if c.ack != scenario.AckAuto {
				c.flushBatch(&b)
				return
			}
			stop = nil // automatic acks: book what the library still holds
		case <-ctx.Done():
			return
		}
	}
}

// stopped reports whether the consumer was cancelled at the end of the run.
func (c *consumer) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// batch is what a consumer holds unacknowledged.
type batch struct {
	unacked int64
	last    uint64
}

// settle acknowledges delivery d as the ack mode says, or refuses it.
func (c *consumer) settle(d *amqp.Delivery, refused bool, b *batch) {
	ch := c.h.Ch()
	switch {
	case c.ack == scenario.AckAuto:
		return
	case refused && c.ack == scenario.AckNack:
		_ = ch.Nack(d.DeliveryTag, false, c.requeue)
		return
	case refused:
		_ = ch.Reject(d.DeliveryTag, c.requeue)
		return
	}
	// An ack fails only on a closed channel, whose delivery stream then
	// ends and says why (a lost connection is mended, the unacked
	// deliveries going back to the queue; a channel exception fails the
	// run).
	b.unacked++
	c.maxUnacked = max(c.maxUnacked, b.unacked)
	b.last = d.DeliveryTag
	if c.ack != scenario.AckMultiple {
		_ = ch.Ack(d.DeliveryTag, false)
		b.unacked = 0
	} else if b.unacked >= int64(c.every) {
		c.flushBatch(b)
	}
}

func (c *consumer) flushBatch(b *batch) {
	if b.unacked > 0 {
		_ = c.h.Ch().Ack(b.last, true)
		b.unacked = 0
	}
}

// poll fetches with basic.get until stopped, pausing when the queue is
// empty.
func (c *consumer) poll(ctx context.Context) {
	pause := time.NewTimer(0)
	defer pause.Stop()
	var b batch
	defer c.flushBatch(&b) // the tail of a multiple-ack batch, whatever ends the loop
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.stop:
			return
		default:
		}
		if !c.holdWhilePaused(ctx) || !c.awaitDue(ctx) {
			return
		}
		d, ok, err := c.h.Ch().Get(c.q.currentName(), c.ack == scenario.AckAuto)
		switch {
		case err != nil:
			if err := c.h.Recover(ctx); err != nil {
				c.fail(err)
				return
			}
		case ok:
			c.taken()
			c.settle(&d, c.handle(&d), &b)
			c.handled.Add(1)
		default:
			pause.Reset(c.pollEvery)
			select {
			case <-pause.C:
			case <-c.stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}
}

// halt tells the consumer's loop to stop at the end of the run (its
// subscription or its polling): it handles nothing more that it would
// have to acknowledge. It does not wait for the broker.
func (c *consumer) halt() {
	if k := c.ctl; k != nil {
		// Under the phase control's lock, so that a resume subscribing at
		// this moment either sees the stop or is cancelled by it.
		k.mu.Lock()
		defer k.mu.Unlock()
	}
	c.stopOnce.Do(func() { close(c.stop) })
}

// unsubscribe cancels the subscription (basic.cancel, which waits for the
// broker's answer: a saturated broker may take a second), once halted.
func (c *consumer) unsubscribe() {
	if k := c.ctl; k != nil {
		k.mu.Lock()
		defer k.mu.Unlock()
	}
	c.h.Cancel(c.tag)
}

// handle measures and counts one delivery, and reports whether the
// consumer refuses it (ack nack or reject). A delivery that is not this
// run's (an earlier run's message left in a reused queue, another tool's)
// is counted apart as foreign and measures nothing; it is acked. A
// refused delivery is counted as refused, not consumed, and its latency
// is not recorded: the message is not done.
func (c *consumer) handle(d *amqp.Delivery) (refused bool) {
	now := c.clock.Now()
	st := stampOf(d) // the body, or the stamp header when the body is the user's
	var id int
	var seq uint32
	if c.runID != 0 {
		var run uint64
		var ok bool
		if id, run, ok = stamp.Run(st); !ok || run != c.runID {
			c.m.Count(metrics.Foreign, now)
			return false
		}
		seq, _, _ = stamp.Read(st)
	}
	if c.refusing() {
		c.m.Count(metrics.Refused, now)
		if c.audit != nil {
			c.audit.Refuse(id, seq, c.requeue, d.Redelivered, now)
		}
		return true
	}
	if c.audit != nil {
		c.record(d, id, seq, now)
	}
	c.measure(st, now, c.runID != 0)
	c.m.Count(metrics.Consumed, now)
	c.lastAt.Store(now)
	if c.quota != nil && c.quota.Add(-1) == 0 {
		c.onQuota()
	}
	c.process()
	return false
}

// record books a delivery received at now in the audit: a message
// dead-lettered here from another audited queue (rare: only messages
// carrying headers are looked at) is that queue's, not this one's; one
// dead-lettered back into its own queue (a retry loop) is this one's.
func (c *consumer) record(d *amqp.Delivery, id int, seq uint32, now int64) {
	if d.Headers != nil && c.deadLetter != nil {
		if from := deadLetteredFrom(d.Headers); from != "" && from != c.q.currentName() && c.deadLetter(from, id, seq) {
			c.audit.Redelivery(d.Redelivered)
			return
		}
	}
	c.audit.Deliver(id, seq, d.Redelivered, now)
}

// refusing reports whether the next delivery is refused: refusals are
// spread evenly, reject_fraction of the deliveries exactly (give or take
// one).
func (c *consumer) refusing() bool {
	if c.refuse <= 0 {
		return false
	}
	c.refusals += c.refuse
	if c.refusals >= 1 {
		c.refusals--
		return true
	}
	return false
}

// measure records a delivery's end-to-end latency from its stamp st (in
// its body or its x-mqbench-stamp header). A paced producer's message is
// timed from when it was due on its schedule (coordinated omission), with
// the figure from the actual send kept apart.
// A stamp that is not this run's own must be a plausible time to be
// measured (other tools', or none at all); one written in milliseconds is
// measured at that resolution and counted.
func (c *consumer) measure(st []byte, now int64, trusted bool) {
	_, sent, millis, err := stamp.Sent(st)
	if err != nil || (!trusted && !plausible(sent, now)) {
		c.m.Count(metrics.Unstamped, now)
		return
	}
	if millis {
		c.m.Count(metrics.MillisStamped, now)
	}
	if due, ok := stamp.Scheduled(st, sent); ok {
		if c.win.Measured(due) {
			c.m.Record(metrics.EndToEnd, time.Duration(now-due))
			c.m.Record(metrics.EndToEndActual, time.Duration(now-sent))
		}
	} else if c.win.Measured(sent) {
		c.m.Record(metrics.EndToEnd, time.Duration(now-sent))
	}
}

// plausible reports whether a send time read from another tool's stamp is
// one: within the histogram's hour before now, and not from the future
// beyond a little clock skew between hosts. PerfTest's default stamp
// (System.nanoTime, whose origin is private to one JVM) is not.
func plausible(sent, now int64) bool {
	return sent > now-int64(time.Hour) && sent < now+int64(time.Minute)
}
