package driver

import (
	"fmt"
	"math"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// directReplyTo is RabbitMQ's direct reply-to pseudo-queue.
const directReplyTo = "amq.rabbitmq.reply-to"

// rpcSlot is one outstanding request.
type rpcSlot struct {
	seq      uint64
	sent     int64 // intended send time (Unix ns): on the schedule under a rate
	deadline int64
	active   bool
}

// rpcClient sends requests with reply_to and a fresh correlation id, keeps
// at most len(slots) outstanding, and matches replies by correlation id. It
// runs in one goroutine, so none of its bookkeeping needs a lock.
type rpcClient struct {
	id       int
	conn     *conn
	ch       *amqp.Channel
	m        metrics.Worker
	clock    *stamp.Clock
	win      *metrics.Window
	queue    string
	replyTo  string
	replies  <-chan amqp.Delivery
	manual   bool // ack replies one by one
	interval time.Duration
	timeout  int64
	limit    int64 // requests to send; negative = unlimited
	msg      amqp.Publishing
	fail     func(error)
	closed   closeWatch
	finished chan struct{}
	cfg      scenario.RPC
	gen      int64

	slots  []rpcSlot
	free   []int
	issued uint64
	// recent remembers how recently finished requests ended (seq<<1 |
	// answered), so that a reply to a finished request can be told apart:
	// late (it had timed out) or duplicate (it was answered already).
	recent []uint64
	idBuf  []byte
}

// open opens the client's channel and its reply consumer: a server-named
// exclusive callback queue, or direct reply-to (which must be consumed,
// without acks, on the channel that publishes the requests).
func (c *rpcClient) open(r scenario.RPC) error {
	c.cfg = r
	if err := c.openChannel(); err != nil {
		return err
	}
	c.slots = make([]rpcSlot, r.Concurrency)
	c.free = make([]int, 0, r.Concurrency)
	for i := r.Concurrency - 1; i >= 0; i-- {
		c.free = append(c.free, i)
	}
	c.recent = make([]uint64, 4096)
	c.idBuf = make([]byte, 0, 20)
	return nil
}

// openChannel opens the channel and the reply consumer (again after a
// reconnect: requests still outstanding then time out, their replies gone
// with the old callback queue or channel).
func (c *rpcClient) openChannel() error {
	r := c.cfg
	c.gen = c.conn.gen.Load()
	ch, err := c.conn.channel()
	if err != nil {
		return err
	}
	c.ch = ch
	c.closed = watch(ch)
	c.replyTo = directReplyTo
	if r.ReplyMode == scenario.ReplyExclusive {
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			return fmt.Errorf("rpc client %d: declare callback queue: %w", c.id, err)
		}
		c.replyTo = q.Name
		if c.manual && r.ReplyPrefetch > 0 {
			if err := ch.Qos(r.ReplyPrefetch, 0, false); err != nil {
				return fmt.Errorf("rpc client %d: basic.qos: %w", c.id, err)
			}
		}
	}
	c.replies, err = ch.Consume(c.replyTo, "", !c.manual, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("rpc client %d: consume replies from %s: %w", c.id, c.replyTo, err)
	}
	c.msg.ReplyTo = c.replyTo
	return nil
}

// reconnect waits for the lost connection and reopens the channel.
func (c *rpcClient) reconnect() error {
	return c.conn.reopen(fmt.Sprintf("rpc client %d", c.id), func() int64 { return c.gen }, c.openChannel, 0)
}

// run sends and matches until stopped (then waits for what is outstanding)
// or until its request limit is met and answered; abandon ends it at once.
func (c *rpcClient) run(start, stop, abandon <-chan struct{}) {
	defer close(c.finished)
	<-start
	base := c.clock.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := c.clock.Now()
		c.expire(now)
		sending := stop != nil && (c.limit < 0 || int64(c.issued) < c.limit)
		wake := int64(math.MaxInt64)
		for sending && len(c.free) > 0 && (c.limit < 0 || int64(c.issued) < c.limit) {
			due := now
			if c.interval > 0 {
				// Open loop: request k is due at base + k·interval. One sent
				// late (no free slot, or a slow publish) is timed from when it
				// was due, so waiting on the service counts as latency.
				if due = base + int64(c.issued)*int64(c.interval); due >= c.win.End() {
					stop = nil // the run ends before this request is due
					break
				} else if due > now {
					wake = due
					break
				}
			}
			if !c.send(due, now) {
				return
			}
			now = c.clock.Now()
		}
		if !sending && c.outstanding() == 0 {
			return
		}
		wake = min(wake, c.nextDeadline())
		timer.Reset(time.Duration(max(wake-now, 0)))
		select {
		case d, ok := <-c.replies:
			if !ok {
				if !c.conn.lost() {
					c.fail(c.closed.err(fmt.Sprintf("rpc client %d", c.id)))
					return
				}
				if err := c.reconnect(); err != nil {
					c.fail(err)
					return
				}
				continue
			}
			c.reply(&d)
		case <-timer.C:
		case <-stop:
			stop = nil // send nothing more; wait for what is outstanding
		case <-abandon:
			c.giveUp()
			return
		}
	}
}

// send publishes request seq in a free slot.
func (c *rpcClient) send(due, now int64) bool {
	slot := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	seq := c.issued
	c.issued++
	c.slots[slot] = rpcSlot{seq: seq, sent: due, deadline: now + c.timeout, active: true}
	// The correlation id carries the sequence number and, in its low 16
	// bits, the slot (concurrency is at most 65535), so a reply finds its
	// request without a map.
	c.idBuf = strconv.AppendUint(c.idBuf[:0], seq<<16|uint64(slot), 10)
	c.msg.CorrelationId = string(c.idBuf)
	if err := c.ch.Publish("", c.queue, false, false, c.msg); err != nil {
		// Not sent: give the slot and the number back.
		c.slots[slot].active = false
		c.free = append(c.free, slot)
		c.issued--
		if !c.conn.lost() {
			c.fail(c.closed.err(fmt.Sprintf("rpc client %d: publish request", c.id)))
			return false
		}
		if err := c.reconnect(); err != nil {
			c.fail(err)
			return false
		}
		return true
	}
	c.m.Count(metrics.RPCRequests, due)
	return true
}

// reply matches one reply to its request and classifies what does not match.
func (c *rpcClient) reply(d *amqp.Delivery) {
	now := c.clock.Now()
	if c.manual {
		if err := c.ch.Ack(d.DeliveryTag, false); err != nil {
			c.fail(fmt.Errorf("rpc client %d: ack reply: %w", c.id, err))
		}
	}
	v, err := strconv.ParseUint(d.CorrelationId, 10, 64)
	seq, slot := v>>16, int(v&0xFFFF)
	if err != nil || slot >= len(c.slots) || seq >= c.issued {
		c.m.Count(metrics.RPCUnmatched, now)
		return
	}
	s := &c.slots[slot]
	if s.active && s.seq == seq {
		c.m.Count(metrics.RPCReplies, s.sent) // at the request's time: requests = replies + timeouts
		if c.win.Measured(s.sent) {
			c.m.Record(metrics.RPC, (now-s.sent)/1000)
		}
		c.finish(slot, true)
		return
	}
	switch c.recent[seq%uint64(len(c.recent))] {
	case seq<<1 | 1:
		c.m.Count(metrics.RPCDuplicates, now)
	default: // timed out, or too long ago to remember: it can only be late
		c.m.Count(metrics.RPCLate, now)
	}
}

func (c *rpcClient) finish(slot int, answered bool) {
	s := &c.slots[slot]
	mark := s.seq << 1
	if answered {
		mark |= 1
	}
	c.recent[s.seq%uint64(len(c.recent))] = mark
	s.active = false
	c.free = append(c.free, slot)
}

// expire times out every request whose deadline has passed.
func (c *rpcClient) expire(now int64) {
	for i := range c.slots {
		if s := &c.slots[i]; s.active && s.deadline <= now {
			c.m.Count(metrics.RPCTimeouts, s.sent)
			c.finish(i, false)
		}
	}
}

func (c *rpcClient) nextDeadline() int64 {
	next := int64(math.MaxInt64)
	for i := range c.slots {
		if s := &c.slots[i]; s.active && s.deadline < next {
			next = s.deadline
		}
	}
	return next
}

func (c *rpcClient) outstanding() int { return len(c.slots) - len(c.free) }

// giveUp counts what is still outstanding as timed out: the drain ended
// before its replies came.
func (c *rpcClient) giveUp() {
	for i := range c.slots {
		if c.slots[i].active {
			c.m.Count(metrics.RPCTimeouts, c.slots[i].sent)
			c.finish(i, false)
		}
	}
}
