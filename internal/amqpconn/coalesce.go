package amqpconn

// Coalesced socket writes.
//
// amqp091-go flushes its bufio.Writer at the end of every publish, so every
// message costs one write(2) — about a quarter of the client's CPU at high
// rates. A CoalescingConn sits between the library (and TLS, which the
// library layers on top of whatever Config.Dial returns) and the socket:
//
//   - Write copies p into the fill buffer under a mutex and returns at once;
//     it never keeps p. The mutex makes each call's bytes contiguous and puts
//     calls in the order they took it.
//   - One flusher goroutine per connection swaps the fill buffer for a spare
//     one (double buffering) and hands everything buffered to the socket in
//     ONE Write, without the lock, while callers fill the other buffer.
//     Buffers are reused, so the write path does not allocate once they have
//     grown to the working size.
//   - No timer. When the flusher is idle the first Write wakes it at once, so
//     a lone message (a heartbeat, an RPC, the handshake) goes out as fast as
//     it would without the wrapper. Under load, the Writes that arrive while
//     the flusher is inside a syscall pile up and go out together in the
//     next one: the batch size follows the load by itself (natural
//     batching), where a timer (Nagle-like) would add latency to every idle
//     message and gain nothing under load.
//   - Bounded memory: a Write waits (back-pressure, like a full socket
//     buffer) while its bytes do not fit in what is left of MaxBuffered. A
//     Write larger than MaxBuffered is taken whole into an empty buffer, so
//     each call stays contiguous; that buffer is dropped after its flush.
//     So the fill buffer never holds more than MaxBuffered bytes (or one
//     oversize Write), and the two buffers' capacity stays at most
//     2 × MaxBuffered. Blocked Writes are served first come, first served
//     (a ticket queue), so a large Write is not starved by small ones.
//     Connections may share a Budget, which bounds what they buffer
//     together (coalesce_budget.go): a Write may then wait for it as well.
//   - Errors: the first failed write to the socket is kept; its unwritten
//     bytes and all buffered after them are lost, the flusher stops, and
//     every later Write — and every blocked one — returns it, wrapped so
//     that errors.Is/As still find the original (net.OpError, io.EOF,
//     syscall errors) and net.Error's Timeout still answers. A caller learns
//     of a failure one Write late, as it would from a kernel socket buffer.
//   - Deadlines: see SetWriteDeadline. In short, a write deadline bounds the
//     flusher's socket writes; one that expires pauses the flusher with the
//     unwritten bytes kept (nothing is lost, a TCP connection can go on
//     after a timeout) and makes Writes fail with the timeout until the
//     deadline is moved. A deadline never revokes bytes a Write accepted.
//   - Close flushes what is buffered, for at most closeFlushWait (or until
//     an earlier write deadline) so that a dead peer cannot hang it, stops
//     the flusher, and closes the socket (which, per the net.Conn contract,
//     releases a write still blocked in it). A Write during or after Close
//     returns net.ErrClosed in a net.OpError, as a closed TCP connection's.
//
// What amqp091 (v1.16) does with the conn, and why it works: it writes
// through a 4 KiB bufio.Writer under its own send mutex and flushes it
// once per frame or per publish, so Write sees one call per message (a
// larger body frame goes straight through as one call). amqp.DefaultDial
// sets a handshake deadline on the socket before it is wrapped; once open,
// the library clears it with SetDeadline(time.Time{}) on the wrapper,
// which passes it on. CloseDeadline sets a deadline to bound the close
// handshake, which bounds the flusher's writes too. Heartbeats are plain
// Writes: an idle connection writes them at once. A write failure comes
// back on the next Write (a heartbeat within half the heartbeat interval
// at most), where the library shuts the connection down; when the peer
// resets, the library's reader usually notices first anyway. With amqps
// the library layers crypto/tls on top, whose Close queues close_notify
// and then sets the write deadline to now: the reason Close's final flush
// has a deadline of its own.

import (
	"net"
	"sync"
	"time"
)

const (
	// DefaultMaxBuffered is MaxBuffered when CoalesceOptions leaves it 0.
	// Above RabbitMQ's default frame_max (128 KiB), so a body frame fits,
	// and hundreds of publishes share a system call well before it fills;
	// it bounds what a stalled socket (a broker blocking publishers) holds
	// on each connection — up to twice this, with the spare buffer — so
	// thousands of connections cannot pile up gigabytes.
	DefaultMaxBuffered = 256 << 10
	// closeFlushWait bounds how long Close waits for buffered bytes to
	// reach a socket that does not take them.
	closeFlushWait = 5 * time.Second
)

// CoalesceOptions configure a CoalescingConn.
type CoalesceOptions struct {
	// MaxBuffered is how many bytes a connection holds before Write blocks
	// (back-pressure); 0 or less means DefaultMaxBuffered (256 KiB).
	MaxBuffered int
	// Budget, when not nil, bounds what all the connections sharing it
	// buffer together (see Budget); nil bounds each by MaxBuffered only.
	Budget *Budget
}

// CoalescingDial wraps dial (amqp.DefaultDial, say) so that every
// connection it opens coalesces its writes; the result is meant for
// amqp.Config.Dial. The wrapper is below TLS: amqp091 wraps the returned
// conn in TLS itself when the URL is amqps.
func CoalescingDial(dial func(network, addr string) (net.Conn, error), o CoalesceOptions) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		c, err := dial(network, addr)
		if err != nil {
			return nil, err
		}
		return NewCoalescingConn(c, o), nil
	}
}

// NewCoalescingConn returns c wrapped so that its writes are gathered and
// handed to c in batches (see CoalescingConn). It starts the connection's
// flusher goroutine, which Close ends. The result is a *CoalescingConn.
func NewCoalescingConn(c net.Conn, o CoalesceOptions) net.Conn {
	return newCoalescingConn(c, o, closeFlushWait)
}

// CoalescingConn is a net.Conn whose Writes are buffered and written to the
// underlying connection by one flusher goroutine, many at a time. Read,
// LocalAddr, RemoteAddr and SetReadDeadline pass through. All methods are
// safe for concurrent use.
type CoalescingConn struct {
	conn      net.Conn
	max       int
	closeWait time.Duration
	errClosed error // what Write returns after Close

	mu   sync.Mutex
	work sync.Cond // the flusher waits on it for bytes, a new deadline or the close
	room sync.Cond // blocked Writes wait on it for their turn and room
	fill []byte    // what Writes append to
	// spare is the other buffer, empty; nil while the flusher has it.
	spare []byte
	out   []byte // the buffer the flusher has taken, kept until written
	// pending is what of out is still to be written: all of it, or the
	// rest after a write deadline interrupted a write.
	pending []byte
	idle    bool // the flusher waits on work: the next Write must signal it
	// head and tail are the ticket queue of blocked Writes: tail is the
	// next ticket, head the one whose turn it is; head == tail when no
	// Write waits.
	head, tail uint64
	epoch      uint64    // bumped by kickLocked, which empties the queue
	kicked     error     // why kickLocked turned the waiters away
	err        error     // a failed underlying write: final
	timeout    error     // a write deadline expired: the flusher waits for a new one
	deadline   time.Time // the write deadline last set through this conn
	// deadlineGen counts the moves of the write deadline, so that a
	// timeout under a deadline since moved is not taken for one under the
	// deadline in force.
	deadlineGen uint64
	closed      bool      // Close was called: no Write is accepted
	draining    bool      // Close moved the deadline: flush what is left, then end
	writes      int64     // Writes accepted
	syscalls    int64     // writes to the underlying connection
	usedAt      time.Time // see recycleLocked

	// budget is shared with other connections (nil: none); charged is
	// what this connection holds of it, always its bytes held beyond the
	// reserve once settled; queued says its first Write waits in the
	// budget's queue, and wake is where it sleeps (see coalesce_budget.go).
	budget  *Budget
	charged int
	queued  bool
	wake    chan struct{}

	flusherDone chan struct{} // closed when the flusher returns
	closeDone   chan struct{} // closed when the first Close returns
}

func newCoalescingConn(c net.Conn, o CoalesceOptions, closeWait time.Duration) *CoalescingConn {
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = DefaultMaxBuffered
	}
	cc := &CoalescingConn{
		conn:        c,
		max:         o.MaxBuffered,
		closeWait:   closeWait,
		errClosed:   closedError(c),
		budget:      o.Budget,
		wake:        make(chan struct{}, 1),
		flusherDone: make(chan struct{}),
		closeDone:   make(chan struct{}),
	}
	cc.work.L = &cc.mu
	cc.room.L = &cc.mu
	go cc.flush()
	return cc
}

// closedError is what a closed TCP connection's Write returns.
func closedError(c net.Conn) error {
	e := &net.OpError{Op: "write", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: net.ErrClosed}
	if e.Addr != nil {
		e.Net = e.Addr.Network()
	}
	return e
}

// Write buffers p for the flusher and returns len(p), nil at once, unless
// p does not fit in what is left of MaxBuffered: then it waits until the
// flusher has taken the buffer; or unless it needs more of a shared Budget
// than others leave: then it waits for its turn (see Budget). It fails
// with the error of an earlier failed underlying write, with the timeout
// while a write deadline has paused the flusher, and with net.ErrClosed
// during and after Close.
func (c *CoalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.admitLocked(len(p)); err != nil {
		return 0, err
	}
	c.appendLocked(p)
	c.writes++
	if c.idle {
		c.idle = false
		c.work.Signal()
	}
	return len(p), nil
}

// admitLocked returns once n bytes may be appended to fill, or with the
// reason they may not.
func (c *CoalescingConn) admitLocked(n int) error {
	if err := c.stateLocked(); err != nil {
		return err
	}
	// A Write may skip the queue only when nobody waits: else a small Write
	// could overtake (and starve) a large one waiting for an empty buffer.
	if c.head == c.tail && c.fitsLocked(n) && c.chargeLocked(n) {
		return nil
	}
	return c.waitTurnLocked(n)
}

// stateLocked is why no Write can be accepted now, or nil.
func (c *CoalescingConn) stateLocked() error {
	switch {
	case c.closed:
		return c.errClosed
	case c.err != nil:
		return c.err
	}
	return c.timeout
}

// fitsLocked reports whether n more bytes keep fill within MaxBuffered; an
// empty buffer takes any Write whole, so that each call stays contiguous.
func (c *CoalescingConn) fitsLocked(n int) bool {
	return len(c.fill) == 0 || len(c.fill)+n <= c.max
}

// waitTurnLocked takes a ticket and waits until it is served, n bytes fit
// and the budget has them, or until every waiting Write is turned away
// (kickLocked). Only the Write whose turn it is waits for budget: the
// others wait behind it, so one connection is in the budget's queue once.
func (c *CoalescingConn) waitTurnLocked(n int) error {
	ticket, epoch := c.tail, c.epoch
	c.tail++
	for {
		if c.epoch != epoch {
			return c.kicked // the queue was emptied: head and tail are not ours any more
		}
		if ticket == c.head && c.fitsLocked(n) {
			if c.chargeLocked(n) {
				break
			}
			// Nobody else appends while this Write has its turn, so n
			// keeps fitting: only the budget is awaited.
			c.waitBudgetLocked()
			continue
		}
		c.room.Wait()
	}
	c.head++
	if c.head != c.tail {
		c.room.Broadcast() // the next in line may fit as well
	}
	return nil
}

// kickLocked turns away every waiting Write with err, at once. Waiters
// cannot each leave the ticket queue on their own: a timeout is not final
// (moving the deadline clears it), so some could leave and others, woken
// later, find the way open again, waiting for tickets that left and will
// never be served. Emptying the queue (head = tail) under a new epoch
// instead lets the waiters of the old one leave in any order.
func (c *CoalescingConn) kickLocked(err error) {
	c.epoch++
	c.head = c.tail
	c.kicked = err
	c.room.Broadcast()
	c.leaveBudgetLocked()
}

// Close flushes what is buffered — until the write deadline if one is set
// and still ahead, for at most closeFlushWait — stops the flusher and
// closes the underlying connection. A write deadline that expired before
// Close does not apply to this final flush: tls.Conn.Close, for one, sets
// the deadline to now right after queueing its close_notify alert. Close
// returns nil when everything Write accepted was written and the
// connection closed cleanly; otherwise why not. Later calls wait for the
// first to finish and return net.ErrClosed, as a closed TCP connection's.
func (c *CoalescingConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.closeDone
		return c.errClosed
	}
	c.closed = true // no Write is accepted from now on
	c.kickLocked(c.errClosed)
	until := time.Now().Add(c.closeWait)
	if c.deadline.After(time.Now()) && c.deadline.Before(until) {
		until = c.deadline
	}
	c.mu.Unlock()
	defer close(c.closeDone)
	// The deadline is moved before a paused flusher resumes, or it would
	// retry under the expired one and time out again at once.
	_ = c.conn.SetWriteDeadline(until)
	c.mu.Lock()
	c.draining, c.timeout = true, nil
	c.deadlineGen++ // after the socket's, as in movedDeadline
	c.work.Broadcast()
	c.mu.Unlock()
	return c.finish(time.Until(until))
}

// Stats returns how many Writes the connection accepted and how many
// writes it made to the underlying connection (the syscalls): their ratio
// is the average batch.
func (c *CoalescingConn) Stats() (writes, syscalls int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.syscalls
}

// Capacity returns the bytes the connection's buffers hold allocated:
// never more than 2 × MaxBuffered, plus one Write larger than that.
func (c *CoalescingConn) Capacity() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cap(c.fill) + cap(c.spare) + cap(c.out)
}

// Read reads from the underlying connection.
func (c *CoalescingConn) Read(p []byte) (int, error) { return c.conn.Read(p) }

// LocalAddr is the underlying connection's local address.
func (c *CoalescingConn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr is the underlying connection's remote address.
func (c *CoalescingConn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetReadDeadline sets the underlying connection's read deadline.
func (c *CoalescingConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }
