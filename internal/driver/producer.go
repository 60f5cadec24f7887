package driver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/pace"
	"github.com/mqbench/mqbench/internal/routing"
	"github.com/mqbench/mqbench/internal/stamp"
)

// producer publishes stamped messages on its own channel. Everything it
// touches per message is its own: the body buffer, the confirm ring, its
// counters; its histogram shard is shared with a few other workers at most.
type producer struct {
	id       int
	h        *amqpconn.Channel
	cn       *amqpconn.Conn // the connection h is on
	ch       *amqp.Channel  // h's current channel, refreshed by setup
	m        metrics.Worker
	clock    *stamp.Clock
	win      *metrics.Window
	exchange string
	// readingEnds is the workload's: set once the end-of-run reads began
	// (nil in tests of the publish path alone).
	readingEnds *atomic.Bool
	keys        *keyRing // routing keys, renamed when a server-named queue is re-declared
	mandator    bool
	msg         amqp.Publishing // template; Body points into buf (or the user's files)
	buf         []byte          // the body buffer, of the largest size
	shape       shaping         // properties, headers and bodies set per message (shaping.go)
	sizes       *sizeDraw       // nil: every body is len(buf)
	rng         *rand.Rand
	limit       int64          // messages to publish; negative = unlimited
	schedule    *pace.Schedule // nil = as fast as possible
	jitter      time.Duration  // this producer's start offset on its schedule
	window      int            // confirm window; 0 = no confirms
	runID       uint64         // this run's identity, stamped into every audited body

	conf  *confirms       // the current channel's confirm tracker; nil without confirms
	audit *audit.Producer // nil when bodies are too small for the audit stamp
	fail  func(error)
	ph    *producerFollow // the phases' plans (phase.go); nil without phases
	// refused fails the run when the broker closed the channel on what
	// the producer published after it met its quota.
	refused func(error)
	sent    int64 // messages published
	// epoch is the first message published on the current channel: if
	// the broker answers that channel's close, it read every message from
	// epoch on.
	epoch uint32
	// done is set when the producer left its publish loop for good: only
	// then may its channel be closed and its audit read; closed once its
	// channel has been handed to closeChannel.
	done, closed atomic.Bool
}

// setup puts a new channel in the state the producer needs: confirm mode
// with a fresh tracker (delivery tags restart with every channel), and the
// returns listener. It runs again on every channel a reconnect opens; the
// previous tracker's goroutine has ended by then (its channel closed), so
// the audit's bitsets only ever have one writer.
func (p *producer) setup(ch *amqp.Channel) error {
	if p.conf != nil {
		<-p.conf.done
	}
	p.ch = ch
	p.epoch = uint32(p.sent)
	if p.window > 0 {
		if err := ch.Confirm(false); err != nil {
			return fmt.Errorf("producer %d: enable publisher confirms: %w", p.id, err)
		}
		p.conf = newConfirms(p.window, p.m, p.clock, p.win, p.audit)
		// Buffer a full window: the connection's reader then never waits
		// for the tracker.
		go p.conf.follow(ch.NotifyPublish(make(chan amqp.Confirmation, p.window)))
	}
	if p.mandator {
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
// schedule or the window ends, or the channel fails. It reports whether
// the producer met its message limit.
func (p *producer) run(ctx context.Context, start <-chan struct{}, stopping *atomic.Bool, stop <-chan struct{}) (metLimit bool) {
	if !started(ctx, start) {
		return false
	}
	var sleep sleeper
	base := p.clock.Now() + int64(p.jitter)
	for i := int64(0); p.limit < 0 || i < p.limit; {
		if stopping.Load() {
			return false
		}
		if p.ph != nil && !p.follow(i, &base, &sleep, stop) { // phase.go
			return false
		}
		due, ok := p.due(i-p.ph.fromIndex(), base)
		if !ok {
			return false
		}
		if due != 0 && !sleep.until(p.clock, due, stop) {
			return false
		}
		if !p.ph.proceed(i) {
			continue // the phase changed while it waited, or its count is spent (phase.go)
		}
		switch p.step(ctx, i, due, stop) {
		case stepSent:
			i++
		case stepEnded:
			return false
		}
	}
	return true
}

// due returns when message i of the schedule is due (Unix ns; 0 when
// unpaced) for a producer whose schedule started at base; false when it
// never is, or only after the measured window: the producer is done.
func (p *producer) due(i, base int64) (int64, bool) {
	if p.schedule == nil {
		return 0, true
	}
	// Message i is due at base + Due(i): never earlier, and one that is
	// late (a stall, a full confirm window) is still timed from when it
	// was due.
	off, ok := p.schedule.Due(i)
	if !ok {
		return 0, false
	}
	due := base + int64(off)
	if due >= p.win.End() {
		return 0, false // due after the run: not part of it
	}
	return due, true
}

// stepOutcome is what one attempt to send a message came to.
type stepOutcome int

const (
	stepSent  stepOutcome = iota // sent: go on with the next message
	stepRetry                    // the channel was mended: send the same message again
	stepEnded                    // stopped, or the channel cannot be mended: the producer is done
)

// step takes a slot in the confirm window and publishes message i (due at
// due, 0 when unpaced). A message that could not be sent because the
// channel failed is sent again, on the mended channel, by the next step.
func (p *producer) step(ctx context.Context, i, due int64, stop <-chan struct{}) stepOutcome {
	if p.conf != nil {
		ok, ended := p.conf.acquire(stop)
		if ended && p.recover(ctx) {
			return stepRetry
		}
		if !ok {
			return stepEnded
		}
	}
	switch p.publish(i, due) {
	case published:
		return stepSent
	case pastTheWindow:
		return stepEnded
	}
	if !p.recover(ctx) {
		return stepEnded
	}
	return stepRetry // message i was not sent: send it on the new channel
}

// publishOutcome is what one publish came to.
type publishOutcome int

const (
	published     publishOutcome = iota
	pastTheWindow                // the load's window has closed: not sent, the producer is done
	channelFailed                // not sent: the channel failed
)

// publish stamps and sends message i (due at due, 0 when unpaced) and
// books it. Nothing is sent once the load's window has closed (the run
// decided to stop): every message published belongs to the window, so the
// publish rate is exactly what was published over it.
func (p *producer) publish(i, due int64) publishOutcome {
	now := p.clock.Now()
	if now >= p.win.End() {
		return pastTheWindow
	}
	body, st := p.shapeMessage(i, now)
	if due != 0 {
		stamp.WriteScheduled(st, uint32(i), now, due)
	} else {
		stamp.Write(st, uint32(i), now)
	}
	if p.audit != nil || p.shape.stampHdr != nil { // a header's stamp always has room for the run
		stamp.WriteRun(st, p.id, p.runID)
	}
	p.msg.Body = body
	if p.conf != nil {
		p.conf.publishing(now, uint32(i))
	}
	key := p.keys.key(routing.KeyIndex(p.id, i, p.keys.n))
	if err := p.ch.Publish(p.exchange, key, p.mandator, false, p.msg); err != nil {
		return channelFailed
	}
	if p.audit != nil {
		p.audit.Published = uint32(i) + 1
	}
	p.sent++
	p.m.Count(metrics.Published, now)
	if due != 0 && p.win.Measured(due) {
		p.m.Record(metrics.SendLag, time.Duration(now-due))
	}
	return published
}

// recover mends the producer's channel after a failure; false (and the
// run failed) when it cannot be mended. Publishes still unconfirmed on the
// old channel stay unconfirmed: delivery tags restart with the new
// channel, so its confirms cannot answer them.
func (p *producer) recover(ctx context.Context) bool {
	if err := p.h.Recover(ctx); err != nil {
		p.fail(err)
		return false
	}
	return true
}

// body returns the buffer for message i, sized by the size distribution.
// Every size is a prefix of one buffer of the largest size: no allocation.
func (p *producer) body(i int64) []byte {
	if p.sizes == nil {
		return p.buf
	}
	return p.buf[:p.sizes.draw(p.rng)]
}

// awaitConfirms waits until every publish is confirmed, the channel ends,
// or abandon closes. A channel the broker closed with an exception while
// publishes awaited their confirms fails the run: the producer met its
// quota, so no later publish would have seen it (a user_id that is not the
// login user's closes the channel at the first message).
func (p *producer) awaitConfirms(abandon <-chan struct{}) {
	if p.conf == nil {
		return
	}
	p.conf.drain(abandon)
	select {
	case <-p.conf.done:
		if err := p.h.Refused(); err != nil && p.conf.outstanding.Load() > 0 {
			p.refused(err)
		}
	default:
	}
}

// closeChannel closes the producer's channel once it stopped publishing
// (false when it had not). The broker answers channel.close only after
// every frame sent before it, so an answered close means it read every
// message published on this channel: they are in the audit's Received.
func (p *producer) closeChannel() bool {
	if !p.done.Load() {
		return false
	}
	answered, _ := p.h.CloseAnswered()
	// The broker may have closed the channel on what was published (a
	// channel exception): then the close answered says nothing of what
	// it took, and without confirms nothing else reports the refusal.
	refused := p.h.Refused()
	late := p.readingEnds != nil && p.readingEnds.Load()
	if answered && refused == nil && p.audit != nil && !late {
		p.audit.Received.AddRange(uint64(p.epoch), uint64(p.audit.Published))
	}
	if refused != nil {
		p.refused(refused)
	}
	return true
}

// stopped waits until the producer's confirm goroutine has ended (its
// channel closed): the audit's bitsets may only be read after that.
func (p *producer) stopped(ctx context.Context) bool {
	if p.conf == nil {
		return true
	}
	select {
	case <-p.conf.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// keyRing holds the routing keys producers cycle through. A key that is a
// server-named queue's name changes when the queue is re-declared after a
// reconnect; keys are read per message, so the ring is swapped whole.
type keyRing struct {
	n    int
	keys atomic.Pointer[[]string]
}

func newKeyRing(keys []string) *keyRing {
	r := &keyRing{n: len(keys)}
	r.keys.Store(&keys)
	return r
}

func (r *keyRing) key(i int) string { return (*r.keys.Load())[i] }

func (r *keyRing) all() []string { return *r.keys.Load() }

func (r *keyRing) set(keys []string) { r.keys.Store(&keys) }
