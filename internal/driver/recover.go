package driver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/report"
)

// recoveryLog records reconnections and outages, and how many workers are
// waiting for their connection right now.
type recoveryLog struct {
	mu           sync.Mutex
	outages      []report.Outage
	reconnects   int
	disconnected atomic.Int64

	enabled bool          // false: a lost connection ends the run
	giveUp  time.Duration // how long to keep trying
	closing *atomic.Bool  // the run is over: stop trying
}

// errNoRecovery ends a run whose connection is lost when reconnection is
// off or has given up.
var errNoRecovery = errors.New("connection lost")

// lost reports whether the worker's connection (not just its channel) is
// gone, which is what reconnection can mend. A channel fails a moment
// before the client library marks its connection closed, so this waits up
// to a second for that before deciding it was the channel alone (a channel
// exception: a configuration error, not an outage).
func (c *conn) lost() bool {
	for deadline := time.Now().Add(time.Second); ; {
		if c.cur.Load().IsClosed() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recover replaces a lost connection: one worker redials (with bounded
// exponential backoff) and re-declares what the connection owns; the
// others wait and find the new generation. seen is the generation the
// worker was on when its channel failed.
func (c *conn) recover(ctx context.Context, seen int64, who string) error {
	r := c.recoveries
	if !r.enabled {
		return fmt.Errorf("%s: %w (reconnection is off)", who, errNoRecovery)
	}
	r.disconnected.Add(1)
	defer r.disconnected.Add(-1)
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.gen.Load() != seen {
		return nil // recovered while we waited
	}
	start := time.Now().UTC()
	backoff := 100 * time.Millisecond
	var last error
	for time.Since(start) < r.giveUp {
		if r.closing.Load() || ctx.Err() != nil {
			return fmt.Errorf("%s: %w: the run ended", who, errNoRecovery)
		}
		nc, err := c.d.dialRaw(c.name)
		if err == nil {
			c.cur.Store(nc)
			c.mu.Lock()
			c.control = nil
			c.mu.Unlock()
			c.d.blocks.watch(c)
			if c.redeclare != nil {
				err = c.redeclare(c)
			}
			if err == nil {
				c.gen.Add(1)
				r.record(c.name, start, time.Now().UTC())
				return nil
			}
			_ = nc.Close()
		}
		last = err
		time.Sleep(backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
	return fmt.Errorf("%s: %w: gave up reconnecting after %v: %v", who, errNoRecovery, r.giveUp, last)
}

// reopen waits for c to come back and runs open on it — again whenever
// the connection drops once more. When the connection is up but open fails
// (a queue not re-declared yet), it retries up to tries times, 100 ms
// apart, then gives up with open's error. gen returns the generation the
// caller's channel is on (open updates it).
func (c *conn) reopen(who string, gen func() int64, open func() error, tries int) error {
	for attempt := 0; ; attempt++ {
		if err := c.recover(context.Background(), gen(), who); err != nil {
			return err
		}
		err := open()
		if err == nil {
			return nil
		}
		if !c.lost() {
			if attempt >= tries {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// watch recovers c as soon as the broker drops it, without waiting for a
// worker to notice: the admin connection has no worker, yet the shared
// queues must be re-declared before consumers can subscribe again.
func (c *conn) watch(ctx context.Context) {
	go func() {
		for {
			gen := c.gen.Load()
			lost := c.cur.Load().NotifyClose(make(chan *amqp.Error, 1))
			err, ok := <-lost
			if !ok || err == nil || c.recoveries.closing.Load() || !c.recoveries.enabled {
				return // closed by us, or not ours to mend
			}
			if c.recover(ctx, gen, c.name) != nil {
				return
			}
		}
	}()
}

func (r *recoveryLog) record(name string, start, end time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reconnects++
	r.outages = append(r.outages, report.Outage{Start: start, End: &end, What: "connection " + name + " lost and re-established"})
}

func (r *recoveryLog) fill(f *report.Faults) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f.Reconnects = r.reconnects
	f.Outages = append([]report.Outage{}, r.outages...)
}
