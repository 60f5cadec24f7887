package amqpconn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

const (
	// minBuffer is the first capacity a buffer gets: amqp091's own
	// bufio.Writer is 4 KiB, so most Writes are at most that.
	minBuffer = 4 << 10
	// shrinkAbove and shrinkAfter: a buffer larger than shrinkAbove is let
	// go after a flush once no batch has used a quarter of it for
	// shrinkAfter, so that a burst or a stall does not leave 2 ×
	// MaxBuffered on every connection for the rest of its life, nor the
	// burst of declarations and subscriptions at setup leave 16 KiB on
	// each of thousands of quiet connections. It is a
	// time and not a count of flushes because on a busy machine the
	// flusher is descheduled every few milliseconds, and each time the
	// batch that piles up meanwhile needs the large buffer again: a count
	// would drop and regrow it every time (allocation churn on the write
	// path). Buffers of minBuffer are always reused.
	shrinkAbove = minBuffer
	shrinkAfter = time.Second
)

// appendLocked appends p to fill, growing it geometrically (amortized
// allocation) but never past MaxBuffered, unless p alone is larger.
func (c *CoalescingConn) appendLocked(p []byte) {
	need := len(c.fill) + len(p)
	if need > cap(c.fill) {
		size := min(max(2*cap(c.fill), need, minBuffer), max(need, c.max))
		grown := make([]byte, len(c.fill), size)
		copy(grown, c.fill)
		c.fill = grown
	}
	c.fill = append(c.fill, p...)
}

// flush is the flusher goroutine: whenever there is something to write it
// takes it and writes it in one underlying Write. It returns after a
// failed write, or once Close has had everything written (or given up).
func (c *CoalescingConn) flush() {
	defer close(c.flusherDone)
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.releaseBudgetLocked() // first of the defers: under the lock
	for c.waitWorkLocked() {
		out, gen := c.takeLocked(), c.deadlineGen
		c.mu.Unlock()
		n, err := c.conn.Write(out)
		c.mu.Lock()
		c.syscalls++
		c.wroteLocked(n, err, gen)
	}
}

// waitWorkLocked waits until there is something to write and the flusher
// may write it (true), or it should end (false).
func (c *CoalescingConn) waitWorkLocked() bool {
	for {
		work := len(c.pending) > 0 || len(c.fill) > 0
		switch {
		case c.err != nil:
			return false
		case c.draining && (!work || c.timeout != nil):
			return false // all written, or Close's own deadline expired too
		case work && c.timeout == nil:
			return true
		}
		c.idle = true
		c.work.Wait()
		c.idle = false
	}
}

// takeLocked returns what to write next: the rest of a write a deadline
// interrupted, else the fill buffer, swapped for the spare one.
func (c *CoalescingConn) takeLocked() []byte {
	if len(c.pending) == 0 {
		c.out, c.pending = c.fill, c.fill
		c.fill, c.spare = c.spare[:0], nil
		if c.head != c.tail {
			c.room.Broadcast() // fill is empty: the first in line fits
		}
	}
	return c.pending
}

// wroteLocked takes in the result of writing pending, a write started
// under deadline generation gen: done, interrupted by the write deadline
// (the rest stays pending, nothing is lost), or failed for good.
func (c *CoalescingConn) wroteLocked(n int, err error, gen uint64) {
	if err == nil && n < len(c.pending) {
		err = io.ErrShortWrite // net.Conn never does this; an io.Writer might
	}
	switch {
	case err == nil:
		c.recycleLocked(c.out)
		c.out, c.pending = nil, nil
	case errors.Is(err, os.ErrDeadlineExceeded) && gen != c.deadlineGen:
		// The deadline was moved while this write was failing under the
		// old one: retry under the new one rather than pause for a
		// deadline nobody will move again.
		c.pending = c.pending[n:]
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Only a deadline: the connection is intact (TCP resumes where it
		// stopped) but for what it wrote. Not ETIMEDOUT, which is a
		// connection TCP gave up on, and fails below.
		c.pending = c.pending[n:]
		c.timeout = &writeError{err: err, bytes: len(c.pending) + len(c.fill), kept: true}
		c.kickLocked(c.timeout)
	default:
		c.err = &writeError{err: err, bytes: len(c.pending) - n + len(c.fill)}
		c.kickLocked(c.err)
	}
	c.settleLocked()
}

// recycleLocked makes out, just written, the spare buffer, unless it held
// one Write larger than MaxBuffered, or it is large and no batch has
// needed that much for shrinkAfter: then it is let go.
func (c *CoalescingConn) recycleLocked(out []byte) {
	switch {
	case cap(out) > c.max:
		out = nil
	case cap(out) > shrinkAbove: // only large buffers pay for the clock
		now := time.Now()
		if len(out) >= cap(out)/4 {
			c.usedAt = now
		} else if now.Sub(c.usedAt) > shrinkAfter {
			out = nil
		}
	}
	c.spare = out[:0]
}

// finish waits up to wait for the flusher to have everything written,
// closes the underlying connection and waits for the flusher to end.
func (c *CoalescingConn) finish(wait time.Duration) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	var stalled error
	select {
	case <-c.flusherDone:
	case <-t.C:
		c.mu.Lock()
		stalled = &writeError{err: fmt.Errorf("close: not flushed within %v: %w", wait.Round(time.Millisecond), os.ErrDeadlineExceeded), bytes: len(c.pending) + len(c.fill)}
		c.mu.Unlock()
	}
	// Closing the socket releases a write blocked in it (the net.Conn
	// contract), so the flusher ends now even if the peer is gone.
	err := c.conn.Close()
	<-c.flusherDone
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case stalled != nil:
		return stalled
	case c.err != nil:
		return c.err
	case c.timeout != nil: // the final flush ran out of time
		return &writeError{err: c.timeout.(*writeError).err, bytes: len(c.pending) + len(c.fill)}
	}
	return err
}

// SetDeadline sets the underlying connection's read and write deadlines;
// for the write deadline, see SetWriteDeadline.
func (c *CoalescingConn) SetDeadline(t time.Time) error {
	err := c.conn.SetDeadline(t)
	c.movedDeadline(t)
	return err
}

// SetWriteDeadline sets the write deadline, which bounds the flusher's
// writes to the underlying connection, not Write: a Write that is buffered
// returns nil whatever the deadline, and what a Write accepted is never
// revoked by a deadline set after it. When a socket write times out, the
// bytes it did not write are kept and the flusher pauses; meanwhile Write
// (blocked for room or not) fails with the timeout (a net.Error whose
// Timeout is true, wrapping os.ErrDeadlineExceeded), until the deadline is
// set again, which resumes the flusher — as a TCP connection can go on
// after a timeout. Close's final flush has a deadline of its own (see
// Close).
func (c *CoalescingConn) SetWriteDeadline(t time.Time) error {
	err := c.conn.SetWriteDeadline(t)
	c.movedDeadline(t)
	return err
}

// movedDeadline records the write deadline just set on the socket and
// resumes a flusher that a deadline paused. It must come after the
// socket's deadline is moved: a write that fails while the generation is
// still the old one is retried at worst once more than needed, whereas a
// write started under the new generation but the old socket deadline
// would pause the flusher for good.
func (c *CoalescingConn) movedDeadline(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	c.deadlineGen++
	if c.timeout != nil && !c.draining {
		c.timeout = nil
		c.work.Signal()
	}
}

// writeError is a write to the underlying connection that failed or timed
// out, and the bytes it left unwritten: lost, or kept for a retry. It
// unwraps to the original error and answers net.Error's questions as the
// original would.
type writeError struct {
	err   error
	bytes int
	kept  bool // a deadline: the bytes are kept for when it is moved
}

func (e *writeError) Error() string {
	if e.kept {
		return fmt.Sprintf("coalesced write: write deadline exceeded, %d bytes kept buffered: %v", e.bytes, e.err)
	}
	return fmt.Sprintf("coalesced write failed, %d buffered bytes lost: %v", e.bytes, e.err)
}

func (e *writeError) Unwrap() error { return e.err }

// Timeout reports whether the original error was a timeout (a write
// deadline, Close giving up on a stalled peer, TCP's ETIMEDOUT).
func (e *writeError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.err, os.ErrDeadlineExceeded) || (errors.As(e.err, &ne) && ne.Timeout())
}

// Temporary is false: net.Error's Temporary is deprecated and says
// nothing useful about a write.
func (e *writeError) Temporary() bool { return false }
