package driver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/pace"
	"github.com/mqbench/mqbench/internal/stamp"
)

// producer publishes stamped messages on its own channel. Everything it
// touches per message is its own: the body buffer, the confirm ring, its
// counters; its histogram shard is shared with a few other workers at most.
type producer struct {
	id       int
	conn     *conn
	ch       *amqp.Channel
	m        metrics.Worker
	clock    *stamp.Clock
	win      *metrics.Window
	exchange string
	keys     []string
	mandator bool
	msg      amqp.Publishing // template; Body points into buf
	buf      []byte          // the body buffer, of the largest size
	sizes    *sizeDraw       // nil: every body is len(buf)
	rng      *rand.Rand
	limit    int64          // messages to publish; negative = unlimited
	schedule *pace.Schedule // nil = as fast as possible
	jitter   time.Duration  // this producer's start offset on its schedule

	// Publisher confirms. The broker numbers a channel's publishes 1, 2, …
	// (delivery tags). At most len(sent) are unconfirmed at once, so the send
	// time of tag t can live in sent[t % len(sent)] without being
	// overwritten before its confirm arrives. A replaced channel restarts the
	// numbering, which is why nextTag lives with the channel, not the worker.
	confirms    chan amqp.Confirmation
	sent        []int64
	seqs        []uint32 // the message number of each slot, for the audit
	nextTag     uint64
	outstanding int

	audit *audit.Producer // nil when bodies are too small for the audit stamp

	fail   func(error)
	closed closeWatch
	gen    int64 // the connection generation the channel was opened on
	window int
}

// open opens the producer's channel and puts it in confirm mode when needed.
// Calling it again (after a reconnect) starts a fresh confirm sequence.
func (p *producer) open(window int, mandatory bool) error {
	p.window = window
	p.gen = p.conn.gen.Load()
	ch, err := p.conn.channel()
	if err != nil {
		return err
	}
	p.ch, p.nextTag, p.outstanding = ch, 1, 0
	p.closed = watch(ch)
	if window > 0 {
		if err := ch.Confirm(false); err != nil {
			return fmt.Errorf("producer %d: enable publisher confirms: %w", p.id, err)
		}
		// Buffer a full window: the connection's reader goroutine then never
		// blocks on us, whatever the producer is doing.
		p.confirms = ch.NotifyPublish(make(chan amqp.Confirmation, window))
		p.sent = make([]int64, window)
		p.seqs = make([]uint32, window)
	}
	if mandatory {
		returns := ch.NotifyReturn(make(chan amqp.Return, 64))
		go func() {
			for range returns {
				p.m.Count(metrics.Returned, p.clock.Now())
			}
		}()
	}
	return nil
}

// run publishes from the start signal until stopped, its quota is met, the
// schedule ends, or the channel fails.
func (p *producer) run(start <-chan struct{}, stopping *atomic.Bool, stop <-chan struct{}) {
	<-start
	var timer *time.Timer
	base := p.clock.Now() + int64(p.jitter)
	ctx := context.Background()
	for i := int64(0); p.limit < 0 || i < p.limit; i++ {
		if stopping.Load() {
			return
		}
		due := int64(0)
		if p.schedule != nil {
			// Message i is due at base + Due(i): never earlier, and one that
			// is late (a stall, a full confirm window) is still timed from
			// when it was due.
			off, ok := p.schedule.Due(i)
			if !ok {
				return
			}
			if due = base + int64(off); due >= p.win.End() {
				return // due after the run: not part of it
			}
			if wait := time.Duration(due - p.clock.Now()); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-stop:
					return
				}
			}
		}
		if p.sent != nil && !p.awaitWindow(stop) {
			return
		}
		body := p.body(i)
		now := p.clock.Now()
		if due != 0 {
			stamp.WriteScheduled(body, uint32(i), now, due)
		} else {
			stamp.Write(body, uint32(i), now)
		}
		if p.audit != nil {
			stamp.WriteProducer(body, p.id)
		}
		p.msg.Body = body
		// Producers start at different keys, so that every queue gets
		// traffic even when each producer sends only a few messages.
		key := p.keys[int((i+int64(p.id))%int64(len(p.keys)))]
		if err := p.ch.PublishWithContext(ctx, p.exchange, key, p.mandator, false, p.msg); err != nil {
			if !p.conn.lost() {
				p.fail(p.closed.err(fmt.Sprintf("producer %d: publish", p.id)))
				return
			}
			if err := p.reconnect(); err != nil {
				p.fail(err)
				return
			}
			i-- // message i was not sent: send it on the new channel
			continue
		}
		p.published(now, uint32(i))
		if due != 0 && p.win.Measured(due) {
			p.m.Record(metrics.SendLag, (now-due)/1000)
		}
	}
}

// body returns the buffer for message i, sized by the size distribution.
// Every size is a prefix of one buffer of the largest size: no allocation.
func (p *producer) body(i int64) []byte {
	if p.sizes == nil {
		return p.buf
	}
	return p.buf[:p.sizes.draw(p.rng)]
}

// channelEnded handles the confirm stream ending: the channel closed. A
// lost connection is recovered (reporting true: carry on); anything else
// fails the run.
func (p *producer) channelEnded() bool {
	if !p.conn.lost() {
		p.fail(p.closed.err(fmt.Sprintf("producer %d", p.id)))
		return false
	}
	if err := p.reconnect(); err != nil {
		p.fail(err)
		return false
	}
	return true
}

// reconnect waits for the connection to be re-established and opens a new
// channel on it. The publishes still unconfirmed on the old channel stay
// unconfirmed (the audit reports them so unless they arrive): delivery tags
// restart with the new channel, so its confirms cannot answer them.
func (p *producer) reconnect() error {
	return p.conn.reopen(fmt.Sprintf("producer %d", p.id), func() int64 { return p.gen },
		func() error { return p.open(p.window, p.mandator) }, 0)
}

// published books publish number seq, sent at now: its confirm slot, the
// count and the audit.
func (p *producer) published(now int64, seq uint32) {
	if p.sent != nil {
		slot := p.nextTag % uint64(len(p.sent))
		p.sent[slot], p.seqs[slot] = now, seq
		p.nextTag++
		p.outstanding++
	}
	if p.audit != nil {
		p.audit.Published = seq + 1
	}
	p.m.Count(metrics.Published, now)
}

// awaitWindow handles confirms that have arrived and, while the window is
// full, waits for more. It returns false when stop closes first.
func (p *producer) awaitWindow(stop <-chan struct{}) bool {
	for {
		select {
		case c, ok := <-p.confirms:
			if !ok {
				return p.channelEnded()
			}
			p.confirmed(c)
			continue
		default:
		}
		if p.outstanding < len(p.sent) {
			return true
		}
		select {
		case c, ok := <-p.confirms:
			if !ok {
				return p.channelEnded()
			}
			p.confirmed(c)
		case <-stop:
			return false
		}
	}
}

// confirmed records one confirm (the client library splits multiple=true
// confirms into one per delivery tag, in order). It is counted at its
// publish's time, so that the measured totals balance: every publish in the
// window is confirmed, nacked or unconfirmed, whenever the answer came.
func (p *producer) confirmed(c amqp.Confirmation) {
	now := p.clock.Now()
	slot := c.DeliveryTag % uint64(len(p.sent))
	sentAt := p.sent[slot]
	p.outstanding--
	if c.Ack {
		if p.audit != nil {
			p.audit.Acked.Set(p.seqs[slot])
		}
		p.m.Count(metrics.Confirmed, sentAt)
	} else {
		p.m.Count(metrics.Nacked, sentAt)
	}
	if p.win.Measured(sentAt) {
		p.m.Record(metrics.Confirm, (now-sentAt)/1000)
	}
}

// awaitConfirms waits until every publish is confirmed or abandon closes.
func (p *producer) awaitConfirms(abandon <-chan struct{}) {
	for p.sent != nil && p.outstanding > 0 {
		select {
		case c, ok := <-p.confirms:
			if !ok {
				return
			}
			p.confirmed(c)
		case <-abandon:
			return
		}
	}
}

// closeWatch tells a worker why its channel closed. The client library
// leaves the reason in a buffered channel, so no goroutine per channel is
// needed: a worker asks when an operation fails or a delivery stream ends.
type closeWatch struct {
	ch      *amqp.Channel
	reasons chan *amqp.Error
}

func watch(ch *amqp.Channel) closeWatch {
	return closeWatch{ch: ch, reasons: ch.NotifyClose(make(chan *amqp.Error, 1))}
}

// err says why the worker's channel or subscription ended.
func (w closeWatch) err(who string) error {
	if !w.ch.IsClosed() {
		return fmt.Errorf("%s: the broker cancelled the subscription (was the queue deleted?)", who)
	}
	select { // the library hands the broker's reason over as it closes the channel
	case e, ok := <-w.reasons:
		if ok && e != nil {
			return fmt.Errorf("%s: the broker closed the channel: %w", who, e)
		}
	case <-time.After(200 * time.Millisecond):
	}
	return fmt.Errorf("%s: the channel closed (the connection was lost)", who)
}
