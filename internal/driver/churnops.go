package driver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/stamp"
)

// churnExchange is where churned queues are bound: it exists on every
// broker and is never declared or deleted by mqbench.
const churnExchange = "amq.direct"

// churnOps are the churn's operations. Each leaves nothing behind when it
// returns, whether it succeeded or not: the connection it opened is
// closed, the queue it declared deleted — and every queue it declares is
// exclusive, so the broker deletes it with its connection even if mqbench
// dies before it could.
type churnOps struct {
	run      string
	dialer   *amqpconn.Dialer
	host     *amqpconn.Conn // channels and queues churn on it; nil without either
	stats    *churnStats
	clock    *stamp.Clock
	messages int // published and fetched back on each churned object

	mu   sync.Mutex
	free []*amqpconn.Channel // the queue churn's idle channels on host
}

// connection opens one connection — the TCP connect, TLS handshake and
// AMQP handshake timed apart —, carries the messages, and closes it.
func (o *churnOps) connection(ctx context.Context, k, due int64) error {
	c, t, err := o.dialer.DialOnce(ctx, fmt.Sprintf("mqbench-%s-churn-%d", o.run, k))
	if err != nil {
		return err
	}
	o.stats.count("connections_opened", o.clock.Now(), 1)
	o.stats.record("tcp_connect", due, t.TCP)
	if t.TLS > 0 {
		o.stats.record("tls_handshake", due, t.TLS)
	}
	o.stats.record("amqp_handshake", due, t.AMQP)
	var merr error
	if o.messages > 0 {
		merr = o.onChannelOf(c, due)
	}
	start := time.Now()
	cerr := c.Close()
	if cerr == nil {
		o.stats.count("connections_closed", o.clock.Now(), 1)
		o.stats.record("connection_close", due, time.Since(start))
		o.stats.record("connection_cycle", due, time.Duration(o.clock.Now()-due))
	}
	return errors.Join(merr, cerr)
}

// onChannelOf carries the messages of a churned connection on a channel
// of its own.
func (o *churnOps) onChannelOf(c *amqp.Connection, due int64) error {
	ch, err := c.Channel()
	if err != nil {
		return err
	}
	return o.roundTrip(ch, due) // the channel closes with the connection
}

// channel opens one channel on the host connection, carries the
// messages, and closes it.
func (o *churnOps) channel(_ context.Context, _, due int64) error {
	start := time.Now()
	h, err := o.host.Open("churn channel", nil)
	if err != nil {
		return err
	}
	o.stats.count("channels_opened", o.clock.Now(), 1)
	o.stats.record("channel_open", due, time.Since(start))
	ch := h.Ch()
	var merr error
	if o.messages > 0 {
		merr = o.roundTrip(ch, due)
	}
	start = time.Now()
	cerr := ch.Close()
	if cerr == nil {
		o.stats.count("channels_closed", o.clock.Now(), 1)
		o.stats.record("channel_close", due, time.Since(start))
		o.stats.record("channel_cycle", due, time.Duration(o.clock.Now()-due))
	}
	return errors.Join(merr, cerr)
}

// roundTrip publishes the messages to a server-named exclusive queue of
// the channel's and fetches them back, then deletes the queue (a churned
// channel's connection lives on).
func (o *churnOps) roundTrip(ch *amqp.Channel, due int64) error {
	start := time.Now()
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return fmt.Errorf("declare the queue for the churn's messages: %w", err)
	}
	err = o.carry(ch, "", q.Name)
	if _, derr := ch.QueueDelete(q.Name, false, false, false); derr != nil && err == nil {
		err = fmt.Errorf("delete the queue for the churn's messages: %w", derr)
	}
	if err == nil {
		o.stats.record("messages", due, time.Since(start))
	}
	return err
}

// carry publishes the messages through exchange with routing key queue,
// and fetches every one of them back from queue. A channel handles its
// commands in order, so each publish has reached the queue by the time a
// later basic.get is handled; the retries only guard against a broker
// that routes late.
func (o *churnOps) carry(ch *amqp.Channel, exchange, queue string) error {
	body := []byte("mqbench churn")
	for range o.messages {
		if err := ch.Publish(exchange, queue, false, false, amqp.Publishing{Body: body}); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		o.stats.count("messages_published", o.clock.Now(), 1)
	}
	got := 0
	for tries := 0; got < o.messages; {
		_, ok, err := ch.Get(queue, true)
		switch {
		case err != nil:
			return fmt.Errorf("basic.get: %w", err)
		case ok:
			got++
			o.stats.count("messages_consumed", o.clock.Now(), 1)
		case tries >= 100:
			return fmt.Errorf("fetched %d of the %d messages published to %s", got, o.messages, queue)
		default:
			tries++
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// queue declares one exclusive queue on the host connection, binds it to
// amq.direct, carries the messages through the binding, and deletes it.
func (o *churnOps) queue(ctx context.Context, k, due int64) (err error) {
	h, err := o.channelForQueues()
	if err != nil {
		return err
	}
	ch := h.Ch()
	defer func() { o.release(h) }()
	name := fmt.Sprintf("mqbench-%s-churn-q-%d", o.run, k)
	start := time.Now()
	if _, err := ch.QueueDeclare(name, false, false, true, false, nil); err != nil {
		return fmt.Errorf("declare queue %s: %w", name, err)
	}
	o.stats.count("queues_declared", o.clock.Now(), 1)
	o.stats.record("queue_declare", due, time.Since(start))
	defer func() {
		if err != nil {
			o.deleteAfterFailure(name)
		}
	}()
	start = time.Now()
	if err := ch.QueueBind(name, name, churnExchange, false, nil); err != nil {
		return fmt.Errorf("bind queue %s to %s: %w", name, churnExchange, err)
	}
	o.stats.count("queues_bound", o.clock.Now(), 1)
	o.stats.record("queue_bind", due, time.Since(start))
	if o.messages > 0 {
		start = time.Now()
		if err := o.carry(ch, churnExchange, name); err != nil {
			return err
		}
		o.stats.record("messages", due, time.Since(start))
	}
	start = time.Now()
	if _, err := ch.QueueDelete(name, false, false, false); err != nil {
		return fmt.Errorf("delete queue %s: %w", name, err)
	}
	o.stats.count("queues_deleted", o.clock.Now(), 1)
	o.stats.record("queue_delete", due, time.Since(start))
	o.stats.record("queue_cycle", due, time.Duration(o.clock.Now()-due))
	return nil
}

// deleteAfterFailure deletes a queue whose cycle failed half-way, on a
// channel of its own (the failure may have closed the worker's). Should
// that fail too, the queue is exclusive: it goes when the host connection
// closes at the end of the run.
func (o *churnOps) deleteAfterFailure(name string) {
	h, err := o.channelForQueues()
	if err != nil {
		return
	}
	defer o.release(h)
	if _, err := h.Ch().QueueDelete(name, false, false, false); err == nil {
		o.stats.count("queues_deleted", o.clock.Now(), 1)
	}
}

// channelForQueues is an idle channel on the host connection, opened when
// there is none: there are never more than the queue churn's workers.
func (o *churnOps) channelForQueues() (*amqpconn.Channel, error) {
	o.mu.Lock()
	if n := len(o.free); n > 0 {
		h := o.free[n-1]
		o.free = o.free[:n-1]
		o.mu.Unlock()
		return h, nil
	}
	o.mu.Unlock()
	return o.host.Open("churn queues", nil)
}

// release gives a channel back, unless a failure closed it.
func (o *churnOps) release(h *amqpconn.Channel) {
	if h.Ch().IsClosed() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.free = append(o.free, h)
}
