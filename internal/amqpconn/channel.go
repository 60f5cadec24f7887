package amqpconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Channel is one worker's channel, kept open across reconnects. Setup runs
// on every channel the handle opens — confirm mode, prefetch, a
// subscription — so a reopened channel is in the state the worker needs.
// Only the worker's own goroutine calls Recover; Cancel may come from
// another.
type Channel struct {
	conn  *Conn
	who   string
	setup func(*amqp.Channel) error

	ch      atomic.Pointer[amqp.Channel]
	gen     int64                      // the connection generation ch was opened on
	reasons chan *amqp.Error           // ch's close reason, delivered by the library
	taken   atomic.Pointer[amqp.Error] // the close reason, once Refused took it from reasons

	mu        sync.Mutex // serializes opening against Cancel
	cancelled bool       // Cancel was called: open no more subscriptions
}

// Open opens a channel on cn for the worker named who and runs setup on it.
func (cn *Conn) Open(who string, setup func(*amqp.Channel) error) (*Channel, error) {
	h := &Channel{conn: cn, who: who, setup: setup}
	if err := h.open(); err != nil {
		return nil, err
	}
	return h, nil
}

// Ch is the current channel.
func (h *Channel) Ch() *amqp.Channel { return h.ch.Load() }

// Conn is the connection the channel is on.
func (h *Channel) Conn() *Conn { return h.conn }

func (h *Channel) open() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancelled {
		return fmt.Errorf("%s: %w: the run ended", h.who, ErrLost)
	}
	gen := h.conn.gen.Load()
	ch, err := h.conn.channel()
	if err != nil {
		return err
	}
	h.gen, h.reasons = gen, ch.NotifyClose(make(chan *amqp.Error, 1))
	h.taken.Store(nil)
	h.ch.Store(ch)
	if h.setup != nil {
		if err := h.setup(ch); err != nil {
			_ = ch.Close()
			return err
		}
	}
	return nil
}

// Recover is what a worker calls when an operation on its channel failed
// or its delivery stream ended. When the connection was lost and
// reconnection is on, it waits for the connection to be re-established
// and reopens the channel (running setup again): nil means carry on, with
// Ch. Otherwise it says why the channel ended for good — a channel
// exception, a subscription the broker cancelled, the connection lost
// with reconnection off — and ctx ending stops every wait at once.
func (h *Channel) Recover(ctx context.Context) error {
	if reason := h.taken.Load(); reason != nil && reason.Recover { // Refused took it: a channel exception
		return h.explain(reason)
	}
	if lost, reason := h.conn.lost(ctx, h.reasons); !lost {
		return h.explain(reason)
	}
	for attempt := 0; ; attempt++ {
		if err := h.conn.recover(ctx, h.gen, h.who); err != nil {
			return err
		}
		err := h.open()
		if err == nil {
			return nil
		}
		if lost, _ := h.conn.lost(ctx, nil); lost {
			continue // lost again while reopening: recover again
		}
		if attempt >= ReopenAttempts || errors.Is(err, ErrLost) {
			return err
		}
		if sleep(ctx, h.conn.d.ctx, ReopenPause) != nil {
			return fmt.Errorf("%s: %w: the run ended", h.who, ErrLost)
		}
	}
}

// explain says why the worker's channel or subscription ended.
func (h *Channel) explain(reason *amqp.Error) error {
	ch := h.Ch()
	if reason == nil && !ch.IsClosed() {
		return fmt.Errorf("%s: the broker cancelled the subscription (was the queue deleted?)", h.who)
	}
	if reason == nil { // the library hands the broker's reason over as it closes the channel
		select {
		case reason = <-h.reasons:
		case <-time.After(200 * time.Millisecond):
		}
	}
	if reason != nil {
		return fmt.Errorf("%s: the broker closed the channel: %w", h.who, reason)
	}
	return fmt.Errorf("%s: the channel closed (the connection was lost)", h.who)
}

// Refused says why the broker closed the channel when it did so with a
// channel exception — a soft error, the connection unharmed: it refused
// something the worker sent, such as a publish whose user_id is not the
// login user's —, and nil when it did not, or not yet. It does not wait,
// and leaves the reason for Recover.
func (h *Channel) Refused() error {
	select {
	case reason, ok := <-h.reasons:
		if ok && reason != nil {
			h.taken.Store(reason)
		}
	default:
	}
	if reason := h.taken.Load(); reason != nil && reason.Recover {
		return fmt.Errorf("%s: the broker closed the channel: %w", h.who, reason)
	}
	return nil
}

// CloseAnswered closes the channel and reports whether the broker
// answered the close (channel.close-ok, which it sends only after reading
// every frame sent before the close). The library's Close returns nil,
// answered or not, for a channel it had already marked closed — as it
// does every channel of a connection it gave up on (no frame from the
// broker for three heartbeats, say, while a saturated broker read nothing
// from the socket), whose socket may have held frames the broker never
// read. So a channel or connection closed before the call, or a
// connection closed when it returns, counts as not answered: the caller
// may not claim the broker took what was sent on it.
func (h *Channel) CloseAnswered() (bool, error) {
	ch, cn := h.Ch(), h.conn.cur.Load()
	if ch == nil {
		return false, nil
	}
	if ch.IsClosed() || cn == nil || cn.IsClosed() {
		_ = ch.Close()
		return false, nil
	}
	// The library marks the connection closed before it closes its
	// channels, so a loss racing the close shows here.
	err := ch.Close()
	return err == nil && !cn.IsClosed(), err
}

// Cancel cancels the worker's subscription with the given consumer tag
// (at the end of the run); no subscription is opened after it.
func (h *Channel) Cancel(consumerTag string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cancelled = true
	if ch := h.Ch(); ch != nil {
		_ = ch.Cancel(consumerTag, false)
	}
}
