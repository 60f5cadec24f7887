package driver

import (
	"context"
	"fmt"
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
	delay      time.Duration
	args       amqp.Table
	runID      uint64        // 0: every delivery is this run's (no identity to check)
	quota      *atomic.Int64 // shared count-down for --cmessages; nil without a limit
	onQuota    func()
	fail       func(error)
	flush      chan struct{} // closed when the drain ends: ack what is held
	finished   chan struct{} // closed when run returns

	// Owned by the consumer goroutine; read only after finished closes.
	maxUnacked int64
	audit      *audit.Consumer // nil when the audit is off
}

// setup sets the prefetch and subscribes, on the first channel and on
// every channel a reconnect opens. Deliveries wait in the client library
// until run reads them after the start signal.
func (c *consumer) setup(ch *amqp.Channel) error {
	if c.prefetch > 0 {
		if err := ch.Qos(c.prefetch, 0, false); err != nil {
			return fmt.Errorf("consumer %d: basic.qos %d: %w", c.id, c.prefetch, err)
		}
	}
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
// which is mended) or ctx ends.
func (c *consumer) run(ctx context.Context, start <-chan struct{}) {
	defer close(c.finished)
	if !started(ctx, start) {
		return
	}
	var unacked int64
	var last uint64
	flush := c.flush
	for {
		select {
		case d, ok := <-c.deliveries:
			if !ok {
				if err := c.h.Recover(ctx); err != nil {
					c.fail(err) // a no-op once the run is finishing
					return
				}
				unacked = 0 // the old channel's deliveries were requeued with it
				continue
			}
			c.handle(&d)
			if c.ack == scenario.AckAuto {
				continue
			}
			unacked++
			if unacked > c.maxUnacked {
				c.maxUnacked = unacked
			}
			last = d.DeliveryTag
			if c.ack == scenario.AckManual {
				c.ackOrFail(d.DeliveryTag, false)
				unacked = 0
			} else if unacked >= int64(c.every) {
				c.ackOrFail(d.DeliveryTag, true)
				unacked = 0
			}
		case <-flush:
			// The drain is over: ack the tail of a multiple-ack batch so
			// nothing counted as consumed goes back to the queue.
			if unacked > 0 {
				c.ackOrFail(last, true)
				unacked = 0
			}
			flush = nil
		case <-ctx.Done():
			return
		}
	}
}

// cancel stops the subscription (at the end of the run).
func (c *consumer) cancel() { c.h.Cancel(c.tag) }

// handle measures and counts one delivery. A delivery that is not this
// run's (an earlier run's message left in a reused queue, another tool's)
// is counted apart as foreign and measures nothing.
func (c *consumer) handle(d *amqp.Delivery) {
	now := c.clock.Now()
	if c.runID != 0 {
		id, run, ok := stamp.Run(d.Body)
		if !ok || run != c.runID {
			c.m.Count(metrics.Foreign, now)
			return
		}
		seq, _, _ := stamp.Read(d.Body)
		c.audit.Deliver(id, seq, true, d.Redelivered)
	}
	c.measure(d.Body, now, c.runID != 0)
	c.m.Count(metrics.Consumed, now)
	if c.quota != nil && c.quota.Add(-1) == 0 {
		c.onQuota()
	}
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
}

// measure records a delivery's end-to-end latency from its stamp. A
// paced producer's message is timed from when it was due on its schedule
// (coordinated omission), with the figure from the actual send kept apart.
// A stamp that is not this run's own must be a plausible time to be
// measured (other tools', or none at all); one written in milliseconds is
// measured at that resolution and counted.
func (c *consumer) measure(body []byte, now int64, trusted bool) {
	_, sent, millis, err := stamp.Sent(body)
	if err != nil || (!trusted && !plausible(sent, now)) {
		c.m.Count(metrics.Unstamped, now)
		return
	}
	if millis {
		c.m.Count(metrics.MillisStamped, now)
	}
	if due, ok := stamp.Scheduled(body, sent); ok {
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

// ackOrFail acks; an ack fails only on a closed channel, whose delivery
// stream then ends and says why (a lost connection is mended, the
// unacked deliveries going back to the queue; a channel exception fails
// the run).
func (c *consumer) ackOrFail(tag uint64, multiple bool) {
	_ = c.h.Ch().Ack(tag, multiple)
}
