package driver

import (
	"context"
	amqp "github.com/rabbitmq/amqp091-go"
	"sync"
	"sync/atomic"
)

// consumerCtl is how phases pause, resume and slow one consumer. A pause
// cancels the consumer's subscription (basic.cancel): the broker stops
// delivering and keeps the queue's messages, the client library hands
// over what it already received — the consumer processes it, as a real
// one finishes its work in hand — and then closes the delivery stream. The
// consumer's goroutine, seeing its stream end because of a pause
// (byPause), waits for the resume and subscribes again on the same
// channel instead of treating the end as a lost channel. mu orders the
// pause against the subscriptions the consumer opens (on resume, and when
// a reconnect reopens its channel), so none is opened while paused.
type consumerCtl struct {
	mu         sync.Mutex
	paused     bool
	subscribed bool          // its subscription is open
	wake       chan struct{} // closed when resumed
	// byPause says that the delivery stream ended (or was never opened)
	// because of a pause.
	byPause atomic.Bool
}

func (k *consumerCtl) isPaused() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.paused
}

// pause cancels the consumer's subscription until resume.
func (c *consumer) pause() {
	k := c.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.paused {
		return
	}
	k.paused, k.wake = true, make(chan struct{})
	if k.subscribed {
		k.subscribed = false
		k.byPause.Store(true)
		// Failing, the channel is gone: its stream ends all the same, and
		// the resume mends it.
		_ = c.h.Ch().Cancel(c.tag, false)
	}
}

// resume lets a paused consumer subscribe again (it does, on its own
// goroutine).
func (c *consumer) resume() {
	k := c.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.paused {
		return
	}
	k.paused = false
	close(k.wake)
}

// guard opens the consumer's subscription with subscribe unless it is
// paused (then the consumer waits for its resume when it sees its
// stream end). Without phases it just subscribes.
func (c *consumer) guard(subscribe func() error) error {
	k := c.ctl
	if k == nil {
		return subscribe()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.paused {
		// Not subscribed: the run loop must see its stream end at once and
		// wait for the resume (pausedOut), not block on no stream at all —
		// a consumer whose start delay ends while a phase pauses the
		// consumers comes here.
		k.subscribed = false
		k.byPause.Store(true)
		ended := make(chan amqp.Delivery)
		close(ended)
		c.deliveries = ended
		return nil
	}
	err := subscribe()
	k.subscribed = err == nil
	return err
}

// pauseOutcome is what a consumer whose delivery stream ended does.
type pauseOutcome int

const (
	notPaused pauseOutcome = iota // the stream ended for another reason: recover
	resumed                       // subscribed again: carry on
	leave                         // the run ended while it was paused
)

// pausedOut handles a delivery stream that ended: if a pause ended it,
// the consumer acks what it holds, waits to be resumed and subscribes
// again (notPaused if that fails: the channel is mended as after any
// loss).
func (c *consumer) pausedOut(ctx context.Context, b *batch) pauseOutcome {
	k := c.ctl
	if k == nil || !k.byPause.Swap(false) {
		return notPaused
	}
	c.flushBatch(b)
	for {
		k.mu.Lock()
		if c.stopped() { // the end came first: its cancel must not miss a new subscription
			k.mu.Unlock()
			return leave
		}
		if !k.paused {
			err := c.subscribe(c.h.Ch())
			k.subscribed = err == nil
			k.mu.Unlock()
			if err != nil {
				return notPaused
			}
			return resumed
		}
		wake := k.wake
		k.mu.Unlock()
		select {
		case <-wake:
		case <-c.stop:
			return leave
		case <-ctx.Done():
			return leave
		}
	}
}

// holdWhilePaused keeps a polling consumer from fetching while a phase
// pauses it; false when the run ended meanwhile.
func (c *consumer) holdWhilePaused(ctx context.Context) bool {
	k := c.ctl
	if k == nil {
		return true
	}
	for {
		k.mu.Lock()
		paused, wake := k.paused, k.wake
		k.mu.Unlock()
		if !paused {
			return true
		}
		select {
		case <-wake:
		case <-c.stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
