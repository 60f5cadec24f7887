package driver

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// consumer consumes one queue on its own channel.
type consumer struct {
	id       int
	conn     *conn
	q        *queue
	ch       *amqp.Channel
	tag      string
	m        metrics.Worker
	clock    *stamp.Clock
	win      *metrics.Window
	ack      string
	every    int // ack multiple every this many deliveries
	delay    time.Duration
	quota    *atomic.Int64 // shared count-down for --cmessages; nil without a limit
	onQuota  func()
	fail     func(error)
	closed   closeWatch
	gen      int64      // connection generation of the subscription
	chMu     sync.Mutex // guards ch and tag against Finish while a resubscription replaces them
	prefetch int
	sc       *scenario.Scenario
	flush    chan struct{} // closed when the drain ends: ack what is held
	finished chan struct{} // closed when run returns

	// Owned by the consumer goroutine; read only after finished closes.
	maxUnacked int64
	audit      *audit.Consumer // nil when the audit is off
}

// subscribe opens the channel, sets the prefetch and starts consuming.
// Deliveries wait in the client library until run reads them after the
// start signal.
func (c *consumer) subscribe(prefetch int, sc *scenario.Scenario) (<-chan amqp.Delivery, error) {
	c.prefetch, c.sc = prefetch, sc
	c.gen = c.conn.gen.Load()
	ch, err := c.conn.channel()
	if err != nil {
		return nil, err
	}
	c.chMu.Lock()
	c.ch = ch
	c.chMu.Unlock()
	c.closed = watch(ch)
	if prefetch > 0 {
		if err := ch.Qos(prefetch, 0, false); err != nil {
			return nil, fmt.Errorf("consumer %d: basic.qos %d: %w", c.id, prefetch, err)
		}
	}
	var args amqp.Table
	if c.q.spec.Type == scenario.QueueStream {
		args = amqp.Table{"x-stream-offset": "next"}
	}
	c.tag = fmt.Sprintf("mqbench-consumer-%d", c.id)
	d, err := ch.Consume(c.q.currentName(), c.tag, sc.Consumers.Ack == scenario.AckAuto, false, false, false, args)
	if err != nil {
		return nil, fmt.Errorf("consumer %d: consume from queue %s: %w", c.id, c.q.currentName(), err)
	}
	return d, nil
}

// run handles deliveries from the start signal until the subscription ends.
func (c *consumer) run(start <-chan struct{}, deliveries <-chan amqp.Delivery) {
	defer close(c.finished)
	<-start
	var unacked int64
	var last uint64
	flush := c.flush
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				// Ended by our own cancel at the end (fail is then a no-op),
				// by the broker, or with a lost connection, which is mended.
				if !c.conn.lost() {
					c.fail(c.closed.err(fmt.Sprintf("consumer %d", c.id)))
					return
				}
				var err error
				if deliveries, err = c.resubscribe(); err != nil {
					c.fail(err)
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
		}
	}
}

// resubscribe waits for the lost connection to come back and subscribes
// again (retrying while the queue is being re-declared).
func (c *consumer) resubscribe() (d <-chan amqp.Delivery, err error) {
	err = c.conn.reopen(fmt.Sprintf("consumer %d", c.id), func() int64 { return c.gen }, func() error {
		d, err = c.subscribe(c.prefetch, c.sc)
		return err
	}, 50)
	return d, err
}

// cancel stops the subscription (at the end of the run).
func (c *consumer) cancel() {
	c.chMu.Lock()
	defer c.chMu.Unlock()
	if c.ch != nil {
		_ = c.ch.Cancel(c.tag, false)
	}
}

// handle measures and counts one delivery.
func (c *consumer) handle(d *amqp.Delivery) {
	now := c.clock.Now()
	seq, sent, err := stamp.Read(d.Body)
	if c.audit != nil {
		id, ok := stamp.Producer(d.Body)
		c.audit.Deliver(id, seq, ok && err == nil, d.Redelivered)
	}
	if err == nil {
		// A paced producer's message is timed from when it was due on its
		// schedule (coordinated omission); the figure from the actual send
		// is kept apart.
		if due, ok := stamp.Scheduled(d.Body, sent); ok {
			if c.win.Measured(due) {
				c.m.Record(metrics.EndToEnd, (now-due)/1000)
				c.m.Record(metrics.EndToEndActual, (now-sent)/1000)
			}
		} else if c.win.Measured(sent) {
			c.m.Record(metrics.EndToEnd, (now-sent)/1000)
		}
	}
	c.m.Count(metrics.Consumed, now)
	if c.quota != nil && c.quota.Add(-1) == 0 {
		c.onQuota()
	}
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
}

func (c *consumer) ackOrFail(tag uint64, multiple bool) {
	// On a lost connection the delivery stream ends next and the consumer
	// resubscribes; the unacked deliveries go back to the queue.
	if err := c.ch.Ack(tag, multiple); err != nil && !c.conn.lost() {
		c.fail(fmt.Errorf("consumer %d: ack: %w", c.id, err))
	}
}
