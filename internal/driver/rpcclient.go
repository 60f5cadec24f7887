package driver

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/pace"
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
	h        *amqpconn.Channel
	ch       *amqp.Channel // h's current channel, refreshed by setup
	m        metrics.Worker
	clock    *stamp.Clock
	win      *metrics.Window
	queue    string
	replyTo  string
	replies  <-chan amqp.Delivery
	manual   bool           // ack replies one by one
	schedule *pace.Schedule // nil: closed loop
	jitter   time.Duration  // this client's start offset on its schedule
	timeout  int64
	limit    int64 // requests to send; negative = unlimited
	msg      amqp.Publishing
	fail     func(error)
	finished chan struct{}
	cfg      scenario.RPC

	slots  []rpcSlot
	free   []int
	issued uint64
	// recent remembers how recently finished requests ended (seq<<1 |
	// answered), so that a reply to a finished request can be told apart:
	// late (it had timed out) or duplicate (it was answered already).
	recent []uint64
	idBuf  []byte
}

// init sizes the client's bookkeeping for its concurrency.
func (c *rpcClient) init(r scenario.RPC) {
	c.cfg = r
	c.slots = make([]rpcSlot, r.Concurrency)
	c.free = make([]int, 0, r.Concurrency)
	for i := r.Concurrency - 1; i >= 0; i-- {
		c.free = append(c.free, i)
	}
	c.recent = make([]uint64, 4096)
	c.idBuf = make([]byte, 0, 20)
}

// setup opens the reply consumer on a new channel (again after a
// reconnect: requests still outstanding then time out, their replies gone
// with the old callback queue or channel): a server-named exclusive
// callback queue, or direct reply-to, which must be consumed, without
// acks, on the channel that publishes the requests.
func (c *rpcClient) setup(ch *amqp.Channel) error {
	r := c.cfg
	c.ch = ch
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
	replies, err := ch.Consume(c.replyTo, "", !c.manual, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("rpc client %d: consume replies from %s: %w", c.id, c.replyTo, err)
	}
	c.replies = replies
	c.msg.ReplyTo = c.replyTo
	return nil
}

// run sends and matches until stopped (then waits for what is outstanding)
// or until its request limit is met and answered; abandon ends it at once.
// It reports whether the client met its request limit.
func (c *rpcClient) run(ctx context.Context, start, stop, abandon <-chan struct{}) (metLimit bool) {
	defer close(c.finished)
	if !started(ctx, start) {
		return false
	}
	base := c.clock.Now() + int64(c.jitter)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := c.clock.Now()
		c.expire(now)
		var wake int64
		if wake, stop = c.sendDue(ctx, now, stop, base); wake < 0 {
			return false
		}
		sending := stop != nil && !c.limitMet()
		if !sending && c.outstanding() == 0 {
			return c.limitMet()
		}
		now = c.clock.Now()
		wake = min(wake, c.nextDeadline())
		timer.Reset(time.Duration(max(wake-now, 0)))
		select {
		case d, ok := <-c.replies:
			if !ok {
				if err := c.h.Recover(ctx); err != nil {
					c.fail(err)
					return false
				}
				continue
			}
			c.reply(&d)
		case <-timer.C:
		case <-stop:
			stop = nil // send nothing more; wait for what is outstanding
		case <-abandon:
			c.giveUp()
			return false
		case <-ctx.Done():
			c.giveUp()
			return false
		}
	}
}

func (c *rpcClient) limitMet() bool { return c.limit >= 0 && int64(c.issued) >= c.limit }

// sendDue sends every request that is due and has a free slot. It returns
// when the next one is due (MaxInt64: when a slot frees), stop set to nil
// when the schedule has nothing more to send within the run, and a
// negative wake when the run failed.
func (c *rpcClient) sendDue(ctx context.Context, now int64, stop <-chan struct{}, base int64) (int64, <-chan struct{}) {
	for stop != nil && len(c.free) > 0 && !c.limitMet() {
		if now >= c.win.End() {
			// The load's window has closed: no request after it, so every
			// request is the window's (as with producers).
			return math.MaxInt64, nil
		}
		due := now
		if c.schedule != nil {
			// Open loop: request k is due at base + Due(k). One sent late
			// (no free slot, or a slow publish) is timed from when it was
			// due, so waiting on the service counts as latency.
			off, ok := c.schedule.Due(int64(c.issued))
			if due = base + int64(off); !ok || due >= c.win.End() {
				return math.MaxInt64, nil // the run ends before this request is due
			}
			if due > now {
				return due, stop
			}
		}
		if !c.send(ctx, due, now) {
			return -1, stop
		}
		now = c.clock.Now()
	}
	return math.MaxInt64, stop
}

// send publishes the next request in a free slot; false when the run
// failed.
func (c *rpcClient) send(ctx context.Context, due, now int64) bool {
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
		if err := c.h.Recover(ctx); err != nil {
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
		// An ack fails only on a closed channel, whose reply stream then
		// ends and says why.
		_ = c.ch.Ack(d.DeliveryTag, false)
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
			c.m.Record(metrics.RPC, time.Duration(now-s.sent))
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
