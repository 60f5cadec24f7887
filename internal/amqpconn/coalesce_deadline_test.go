package amqpconn

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestCoalesceWriteDeadlinePausesAndResumes: a write deadline bounds the
// socket writes, not Write: Writes are buffered past it; a Write blocked
// for room returns the timeout; the bytes the timed-out write left (the
// fake, like TCP, wrote half) are kept and Writes fail with the timeout
// until the deadline is moved, which resumes the flusher — and then the
// stream is whole: nothing lost, nothing written twice.
func TestCoalesceWriteDeadlinePausesAndResumes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: 100}, time.Second)
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(150 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	f.block()
	rec := func(seq uint32) []byte { return appendRecord(nil, 1, seq, 100-recordHeader) }
	mustWrite(t, c, rec(0))
	eventuallyOr(t, 2*time.Second, "the first write never reached the socket", func() bool { return f.writing() == 1 })
	mustWrite(t, c, rec(1))
	start := time.Now()
	_, err := c.Write(rec(2)) // no room: waits for the stalled write, which times out
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("blocked write past the deadline: %v, want a timeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the blocked write took %v to time out", took)
	}
	if _, err := c.Write(rec(2)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a write while the deadline is expired: %v, want the timeout", err)
	}
	f.unblock()
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, c, rec(2))
	eventuallyOr(t, 2*time.Second, "the kept bytes were not written after the deadline moved", func() bool { _, s := f.record(); return len(s) == 300 })
	_, stream := f.record()
	got, err := parseRecords(stream)
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, got, map[byte]int{1: 3})
}

// TestCoalesceExpiredDeadlineDoesNotRevokeAcceptedBytes: bytes Write
// accepted before a deadline already past was set (tls.Conn.Close's
// pattern: queue close_notify, set the deadline to now, close) are kept
// when the flusher's write times out on it — half written, by the fake —
// and reach a live socket at Close, whose final flush has a deadline of
// its own.
func TestCoalesceExpiredDeadlineDoesNotRevokeAcceptedBytes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, stalled := range []bool{false, true} {
		f := newFake()
		c := newCoalescingConn(f, CoalesceOptions{}, 5*time.Second)
		if stalled { // records pile up behind a stalled write
			f.block()
		}
		var want []byte
		write := func(seq uint32) {
			rec := appendRecord(nil, 2, seq, 30)
			want = append(want, rec...)
			mustWrite(t, c, rec)
		}
		for seq := range uint32(20) {
			write(seq)
		}
		if err := c.SetWriteDeadline(time.Now()); err != nil {
			t.Fatal(err)
		}
		if !stalled {
			// Accepted if the flusher has not met the deadline yet; if it
			// has (a busy machine ran it first), refused with the timeout.
			// Either way, what Write accepted must reach the socket.
			rec := appendRecord(nil, 2, 20, 30)
			switch _, err := c.Write(rec); {
			case err == nil:
				want = append(want, rec...)
			case !errors.Is(err, os.ErrDeadlineExceeded):
				t.Fatalf("a write after an expired deadline: %v, want nil or the timeout", err)
			}
		}
		f.unblock()
		eventuallyOr(t, 2*time.Second, "the flusher never met the expired deadline", func() bool { return metDeadline(c) })
		if err := c.Close(); err != nil {
			t.Fatalf("stalled %v: close: %v", stalled, err)
		}
		if _, stream := f.record(); string(stream) != string(want) {
			t.Fatalf("stalled %v: %d of %d accepted bytes reached the socket", stalled, len(stream), len(want))
		}
	}
}

// paused reports whether a write deadline paused c's flusher.
func paused(c *CoalescingConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout != nil
}

// metDeadline reports whether c's flusher stopped on a write deadline
// (paused, as it should, or failed).
func metDeadline(c *CoalescingConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout != nil || c.err != nil
}

// TestCoalesceTimeoutReleasesTheQueue: Writes queued for room are all
// turned away by a timeout even when the deadline is moved again at once
// (some of them then see the way open), and none is left waiting for a
// turn that never comes; what was accepted arrives in order.
func TestCoalesceTimeoutReleasesTheQueue(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for round := range 60 {
		f := newFake()
		c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: 64}, time.Second)
		f.block()
		_ = c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
		var mu sync.Mutex
		accepted := map[byte][]uint32{}
		var wg sync.WaitGroup
		for w := range byte(6) {
			wg.Go(func() {
				for seq := range uint32(30) {
					if _, err := c.Write(appendRecord(nil, w, seq, 40)); err == nil {
						mu.Lock()
						accepted[w] = append(accepted[w], seq)
						mu.Unlock()
					} else if !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Errorf("writer %d: %v", w, err)
					}
				}
			})
		}
		eventuallyOr(t, 2*time.Second, "the deadline never paused the flusher", func() bool { return paused(c) })
		_ = c.SetWriteDeadline(time.Time{})
		f.unblock()
		if !waitGroup(&wg, 5*time.Second) {
			t.Fatalf("round %d: writers left waiting after the timeout", round)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		_, stream := f.record()
		got, err := parseRecords(stream)
		if err != nil {
			t.Fatal(err)
		}
		checkAccepted(t, got, accepted)
	}
}
