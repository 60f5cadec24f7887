package amqpconn

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Conn is one named AMQP connection that recovery can replace underneath
// the workers using it. Each replacement is a new generation.
type Conn struct {
	name string
	d    *Dialer

	cur       atomic.Pointer[amqp.Connection] // the current generation's connection
	node      atomic.Int32                    // the node (index into the dialer's) it is on
	firstNode int                             // the node it was first opened on
	down      atomic.Pointer[chan struct{}]   // closed when the current generation is lost or closed
	gen       atomic.Int64                    // bumped by every successful recovery
	received  atomic.Pointer[deliveries]      // the current generation's delivery count

	mu      sync.Mutex    // guards control
	control *amqp.Channel // for declares, deletes and depth checks; reopened when the broker closes it
	stuck   atomic.Bool   // a ControlWithin call timed out and the broker has not answered it yet

	rmu       sync.Mutex                               // one recovery at a time
	redeclare func(ctx context.Context, c *Conn) error // re-declares what this connection owns, after a recovery
	watched   atomic.Bool                              // recover as soon as lost, without waiting for a worker
	closed    atomic.Bool                              // closed by us: a loss now is not an outage
	monitors  sync.WaitGroup                           // the monitor goroutines of every generation
	onLost    func()                                   // test hook: called when a generation is lost
}

// install makes c the connection's current connection, of generation gen,
// and starts following it: blocked notifications, and its loss.
func (cn *Conn) install(c *amqp.Connection, gen int64, received *atomic.Int64) {
	cn.received.Store(&deliveries{gen: gen, n: received})
	down := make(chan struct{})
	cn.cur.Store(c)
	cn.down.Store(&down)
	blocks := c.NotifyBlocked(make(chan amqp.Blocking, 4))
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	cn.monitors.Add(1)
	go cn.monitor(gen, down, blocks, closes)
}

// monitor follows one generation until it closes: it records blocked and
// unblocked notifications, ends a block still open when the connection
// dies (nobody is blocked on a dead connection), and, for a watched
// connection, starts recovery at once.
func (cn *Conn) monitor(gen int64, down chan struct{}, blocks <-chan amqp.Blocking, closes <-chan *amqp.Error) {
	defer cn.monitors.Done()
	f := cn.d.faults
	var lost *amqp.Error
	for closes != nil {
		select {
		case b, ok := <-blocks:
			if !ok {
				blocks = nil
				continue
			}
			f.recordBlock(cn.name, b, time.Now().UTC())
		case e, ok := <-closes:
			if ok {
				lost = e
			}
			closes = nil
		}
	}
	close(down)
	f.endBlock(cn.name, time.Now().UTC())
	if cn.onLost != nil {
		cn.onLost()
	}
	if lost != nil && cn.watched.Load() && !cn.closed.Load() && cn.d.opts.Reconnect {
		_ = cn.recover(cn.d.ctx, gen, cn.name)
	}
}

// Up reports whether the current connection is open.
func (cn *Conn) Up() bool { c := cn.cur.Load(); return c != nil && !c.IsClosed() }

// Name is the connection's name.
func (cn *Conn) Name() string { return cn.name }

// Gen is the connection's generation: 0 when first dialed, +1 per
// recovery.
func (cn *Conn) Gen() int64 { return cn.gen.Load() }

// Properties are the server properties the broker announced (product,
// version, capabilities).
func (cn *Conn) Properties() amqp.Table { return cn.cur.Load().Properties }

// OnRecover sets what re-declares the connection's topology after a
// recovery, before any worker reopens its channel on it. Set it before
// the workers start.
func (cn *Conn) OnRecover(fn func(ctx context.Context, c *Conn) error) { cn.redeclare = fn }

// Watch makes the connection recover as soon as the broker drops it,
// without waiting for a worker to notice: the admin connection has no
// worker, yet the shared queues must be re-declared before consumers can
// subscribe again.
func (cn *Conn) Watch() { cn.watched.Store(true) }

// channel opens a new channel on the current generation.
func (cn *Conn) channel() (*amqp.Channel, error) {
	ch, err := cn.cur.Load().Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel on %s: %w", cn.name, err)
	}
	return ch, nil
}

// Control runs fn on the connection's control channel, reopening it first
// if a previous failure (a 404 on a passive declare, say) closed it.
// Calls are serialized. It waits as long as the broker takes: the
// declarations a run's setup makes must not be abandoned half-known (a
// declare that seemed to fail may still have happened). Reads and
// deletions at the end use ControlWithin.
func (cn *Conn) Control(fn func(ch *amqp.Channel) error) error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.control == nil || cn.control.IsClosed() {
		ch, err := cn.channel()
		if err != nil {
			return err
		}
		cn.control = ch
	}
	return fn(cn.control)
}

// ControlWithin is Control bounded by d, for calls whose answer may be
// given up on: a queue's depth, a deletion at the end. A saturated broker
// was seen to leave a queue.declare unanswered for over eight minutes,
// and every later call, and the run's end, waited behind it. On timeout
// the channel is abandoned (closed once the broker answers, if ever) and
// the connection's bounded calls fail at once until it has answered. fn
// runs on another goroutine: it must write nothing its caller reads
// unless ControlWithin returned nil.
func (cn *Conn) ControlWithin(d time.Duration, fn func(ch *amqp.Channel) error) error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.stuck.Load() {
		return fmt.Errorf("%s: the broker has not answered an earlier call yet", cn.name)
	}
	type outcome struct {
		ch  *amqp.Channel
		err error
	}
	done := make(chan outcome, 1)
	ch := cn.control
	go func() {
		var err error
		if ch == nil || ch.IsClosed() {
			ch, err = cn.channel()
		}
		if err == nil {
			err = fn(ch)
		}
		done <- outcome{ch, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case o := <-done:
		cn.control = o.ch
		return o.err
	case <-t.C:
		cn.control = nil
		cn.stuck.Store(true)
		go func() {
			if o := <-done; o.ch != nil {
				_ = o.ch.Close()
			}
			cn.stuck.Store(false)
		}()
		return fmt.Errorf("%s: the broker did not answer within %v", cn.name, d)
	}
}

// Locked runs fn under the lock that Control takes: state that a
// re-declaration changes (a server-named queue's name) is read under it.
func (cn *Conn) Locked(fn func()) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	fn()
}

// Close closes the connection and waits for its monitors to end. Errors
// are of no interest at that point.
func (cn *Conn) Close() {
	if cn == nil {
		return
	}
	cn.mu.Lock() // no recovery installs a connection after this
	cn.closed.Store(true)
	cn.mu.Unlock()
	if c := cn.cur.Load(); c != nil && !c.IsClosed() {
		_ = c.CloseDeadline(time.Now().Add(5 * time.Second))
	}
	// A recovery in progress ends at its next step (the dialer's context is
	// cancelled before connections are closed); a monitor running one is
	// among those waited for.
	done := make(chan struct{})
	go func() { cn.monitors.Wait(); close(done) }()
	select { // a broker that never answers the close must not hang the run's end
	case <-done:
	case <-time.After(closeWait):
	}
}

// closeWait bounds how long Close waits for the library to report the
// connection closed.
const closeWait = 10 * time.Second

// lost reports whether the connection (not just a channel of it) is gone,
// which is what recovery can mend, and the channel's close reason if the
// library handed one over. A channel closed by the broker with a
// channel-level ("soft") error is a configuration error, known as soon as
// its reason arrives. Otherwise it waits up to LossGrace for the
// connection to be marked lost: a failed write closes the connection
// asynchronously, a moment after the write reports the failure.
func (cn *Conn) lost(ctx context.Context, reasons <-chan *amqp.Error) (bool, *amqp.Error) {
	down := *cn.down.Load()
	t := time.NewTimer(LossGrace)
	defer t.Stop()
	var reason *amqp.Error
	for {
		select {
		case <-down:
			return true, reason
		case e, ok := <-reasons:
			if !ok || e == nil {
				reasons = nil // closed without a reason: keep waiting for the connection
				continue
			}
			reason, reasons = e, nil
			if e.Recover {
				return false, reason
			}
		case <-t.C:
			return false, reason
		case <-ctx.Done():
			return cn.cur.Load().IsClosed(), reason
		}
	}
}

// deliveries is one generation's count of messages the broker delivered.
type deliveries struct {
	gen int64
	n   *atomic.Int64
}

// Deliveries returns how many messages (basic.deliver and basic.get-ok)
// the broker delivered on the connection's current generation, and that
// generation: the count restarts with each new connection, as the broker
// requeues what an old one held.
func (cn *Conn) Deliveries() (gen, n int64) {
	d := cn.received.Load()
	return d.gen, d.n.Load()
}
