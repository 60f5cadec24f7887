package driver

import (
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/stamp"
)

// confirms follows one channel's publisher confirms in a goroutine of its
// own, so that each confirm is timed when it arrives, whatever the
// producer is doing — sleeping until its next message is due, waiting for
// window space, or stuck in a write the broker does not read.
//
// The broker numbers a channel's publishes 1, 2, … (delivery tags). At most
// window are unconfirmed at once, so the send time of tag t can live in
// slot t % window without being overwritten before its confirm arrives.
// A replaced channel restarts the numbering, which is why a tracker lives
// and dies with one channel.
type confirms struct {
	window int64
	sent   []atomic.Int64  // send time (Unix ns) by slot; written before the publish, read at its confirm
	seqs   []atomic.Uint32 // the message number of each slot, for the audit
	// outstanding counts unconfirmed publishes: the producer adds one
	// before each publish, the goroutine takes one off per confirm.
	outstanding atomic.Int64
	space       chan struct{} // signalled when outstanding drops below window
	idle        chan struct{} // signalled when outstanding drops to zero
	done        chan struct{} // closed when the confirm stream ended (the channel closed)
	nextTag     uint64        // the producer's next delivery tag; its goroutine only

	m     metrics.Worker
	clock *stamp.Clock
	win   *metrics.Window
	audit *audit.Producer // nil without the audit; the goroutine sets Acked
}

func newConfirms(window int, m metrics.Worker, clock *stamp.Clock, win *metrics.Window, a *audit.Producer) *confirms {
	return &confirms{
		window: int64(window), sent: make([]atomic.Int64, window), seqs: make([]atomic.Uint32, window),
		space: make(chan struct{}, 1), idle: make(chan struct{}, 1), done: make(chan struct{}), nextTag: 1,
		m: m, clock: clock, win: win, audit: a,
	}
}

// follow handles the confirm stream until the channel closes. The client
// library splits multiple=true confirms into one per tag, in order.
func (t *confirms) follow(stream <-chan amqp.Confirmation) {
	defer close(t.done)
	for c := range stream {
		t.confirmed(c)
	}
}

// confirmed books one confirm. It is counted at its publish's time, so
// that the measured totals balance: every publish in the window is
// confirmed, nacked or unconfirmed, whenever the answer came.
func (t *confirms) confirmed(c amqp.Confirmation) {
	now := t.clock.Now()
	slot := c.DeliveryTag % uint64(t.window)
	sentAt := t.sent[slot].Load()
	if c.Ack {
		if t.audit != nil {
			t.audit.Acked.Add(uint64(t.seqs[slot].Load()))
		}
		t.m.Count(metrics.Confirmed, sentAt)
	} else {
		t.m.Count(metrics.Nacked, sentAt)
	}
	if t.win.Measured(sentAt) {
		t.m.Record(metrics.Confirm, time.Duration(now-sentAt))
	}
	// Only the step from a full window and the step to zero can have a
	// producer waiting; a full signal channel means a wake-up is pending.
	switch t.outstanding.Add(-1) {
	case t.window - 1:
		signal(t.space)
	case 0:
		signal(t.idle)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// acquire waits for room in the window. It returns false when stop closes
// first, or the channel ended (the producer then recovers it).
func (t *confirms) acquire(stop <-chan struct{}) (ok, ended bool) {
	for t.outstanding.Load() >= t.window {
		select {
		case <-t.space:
		case <-stop:
			return false, false
		case <-t.done:
			return false, true
		}
	}
	return true, false
}

// publishing books the publish about to be sent: message seq at time now.
// It must come before the publish: the confirm may arrive before the
// publish call returns.
func (t *confirms) publishing(now int64, seq uint32) {
	slot := t.nextTag % uint64(t.window)
	t.sent[slot].Store(now)
	t.seqs[slot].Store(seq)
	t.nextTag++
	t.outstanding.Add(1)
}

// drain waits until every publish is confirmed, the channel ends, or
// abandon closes.
func (t *confirms) drain(abandon <-chan struct{}) {
	for t.outstanding.Load() > 0 {
		select {
		case <-t.idle:
		case <-t.done:
			return
		case <-abandon:
			return
		}
	}
}
