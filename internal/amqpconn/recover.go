package amqpconn

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The retry policy. Every worker kind follows it; none of these numbers
// appears anywhere else.
const (
	// FirstBackoff and MaxBackoff bound the redial backoff, which doubles
	// from the first to the second: quick enough to catch a broker that
	// restarts in a few seconds, slow enough not to hammer one that is down.
	FirstBackoff = 100 * time.Millisecond
	MaxBackoff   = 5 * time.Second
	// LossGrace is how long a failed operation waits for the client
	// library to mark the connection lost before concluding that the
	// failure was its channel's alone: a failed write closes the connection
	// asynchronously, a moment after the write reports it.
	LossGrace = time.Second
	// ReopenAttempts and ReopenPause: after a reconnect, reopening a
	// worker's channel can fail while what it uses is still being
	// re-declared by another connection's recovery (the shared queues are
	// the admin connection's). It is retried this many times, this far
	// apart — 5 s in all, as long as the longest backoff step — before the
	// failure is taken as final.
	ReopenAttempts = 50
	ReopenPause    = 100 * time.Millisecond
)

// ErrLost ends a run whose connection is lost when reconnection is off,
// has given up, or the run is over.
var ErrLost = errors.New("connection lost")

// recover replaces a lost connection: one caller redials (with bounded
// exponential backoff) and re-declares what the connection owns; callers
// that were waiting find the new generation. seen is the generation the
// caller was on when it noticed the loss. ctx ending stops at once.
func (cn *Conn) recover(ctx context.Context, seen int64, who string) error {
	f := cn.d.faults
	if !cn.d.opts.Reconnect {
		return fmt.Errorf("%s: %w (reconnection is off)", who, ErrLost)
	}
	f.disconnected.Add(1)
	defer f.disconnected.Add(-1)
	cn.rmu.Lock()
	defer cn.rmu.Unlock()
	if cn.gen.Load() != seen {
		return nil // recovered while we waited
	}
	start := time.Now().UTC()
	backoff := FirstBackoff
	var last error
	for time.Since(start) < cn.d.opts.ReconnectTimeout {
		if cn.closed.Load() || ctx.Err() != nil || cn.d.ctx.Err() != nil {
			return fmt.Errorf("%s: %w: the run ended", who, ErrLost)
		}
		// A cluster: try the next node first (the lost one may be down),
		// and go round them all.
		n := (int(cn.node.Load()) + 1) % len(cn.d.nodes)
		if last = cn.redial(ctx, seen+1, n); last == nil {
			f.recordOutage(cn.name, start, time.Now().UTC())
			return nil
		}
		if sleep(ctx, cn.d.ctx, backoff) != nil {
			return fmt.Errorf("%s: %w: the run ended", who, ErrLost)
		}
		backoff = min(2*backoff, MaxBackoff)
	}
	return fmt.Errorf("%s: %w: gave up reconnecting after %v: %v", who, ErrLost, cn.d.opts.ReconnectTimeout, last)
}

// redial opens a new connection and, once what it owns is re-declared,
// makes it generation gen.
func (cn *Conn) redial(ctx context.Context, gen int64, node int) error {
	nc, received, err := cn.d.dialRaw(cn.name, node)
	if err != nil {
		cn.node.Store(int32(node)) // the next attempt tries the one after
		return err
	}
	cn.node.Store(int32(node))
	cn.mu.Lock()
	if cn.closed.Load() { // closed while we dialed: this connection is not wanted
		cn.mu.Unlock()
		_ = nc.Close()
		return fmt.Errorf("%s: %w: closed", cn.name, ErrLost)
	}
	cn.control = nil
	cn.install(nc, gen, received)
	cn.mu.Unlock()
	if cn.redeclare != nil {
		if err := cn.redeclare(ctx, cn); err != nil {
			_ = nc.Close()
			return err
		}
	}
	cn.gen.Store(gen)
	return nil
}

// sleep waits d unless either context ends first.
func sleep(a, b context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-a.Done():
		return a.Err()
	case <-b.Done():
		return b.Err()
	}
}
