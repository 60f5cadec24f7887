package amqpconn

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// waitFlusher waits for c's flusher to stop.
func waitFlusher(t *testing.T, c *CoalescingConn) {
	t.Helper()
	select {
	case <-c.flusherDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the flusher did not stop")
	}
}

// TestCoalesceWriteErrorIsReturned: a failed socket write stops the
// flusher, and every later Write — and Close — returns that error, wrapped
// so that errors.Is/As find the original and net.Error still answers.
func TestCoalesceWriteErrorIsReturned(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, tc := range []struct {
		name    string
		err     error
		is      error
		timeout bool
	}{
		{"broken pipe", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}, syscall.EPIPE, false},
		{"EOF", io.EOF, io.EOF, false},
		{"closed", net.ErrClosed, net.ErrClosed, false},
		// TCP gave up on the peer: a timeout, but not a deadline, so final.
		{"TCP timeout", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ETIMEDOUT)}, syscall.ETIMEDOUT, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.failNext(tc.err)
			c := newCoalescingConn(f, CoalesceOptions{}, time.Second)
			mustWrite(t, c, []byte("lost")) // buffered: the failure comes later
			waitFlusher(t, c)
			for range 2 {
				_, err := c.Write([]byte("after"))
				if !errors.Is(err, tc.is) || !errors.Is(err, tc.err) {
					t.Fatalf("write after the failure: %v, want %v", err, tc.err)
				}
				var op *net.OpError
				if _, isOp := tc.err.(*net.OpError); isOp && !errors.As(err, &op) {
					t.Fatalf("%v does not unwrap to the *net.OpError", err)
				}
				var ne net.Error
				if !errors.As(err, &ne) || ne.Timeout() != tc.timeout {
					t.Fatalf("%v: want a net.Error with Timeout() %v", err, tc.timeout)
				}
			}
			if err := c.Close(); !errors.Is(err, tc.is) {
				t.Fatalf("close after a failed write: %v, want %v", err, tc.err)
			}
			if calls, _ := f.record(); len(calls) != 0 || !f.wasClosed() {
				t.Fatalf("%d writes reached the socket after the failure; socket closed %v", len(calls), f.wasClosed())
			}
		})
	}
}

// TestCoalesceWriteErrorReleasesBlockedWriters: Writes blocked on a full
// buffer are released with the socket's error.
func TestCoalesceWriteErrorReleasesBlockedWriters(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: 100}, time.Second)
	defer c.Close()
	f.block()
	mustWrite(t, c, make([]byte, 100))
	eventuallyOr(t, 2*time.Second, "the first write never reached the socket", func() bool { return f.writing() == 1 })
	mustWrite(t, c, make([]byte, 100)) // the buffer is full
	errs := make(chan error, 3)
	for range 3 {
		go func() { _, err := c.Write(make([]byte, 50)); errs <- err }()
	}
	select {
	case err := <-errs:
		t.Fatalf("a Write returned (%v) with the buffer full and the socket stalled", err)
	case <-time.After(100 * time.Millisecond):
	}
	f.failNext(syscall.ECONNRESET)
	f.unblock()
	for range 3 {
		select {
		case err := <-errs:
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("blocked writer released with %v, want the socket's ECONNRESET", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a blocked writer was not released by the failure")
		}
	}
}

// TestCoalesceCloseWhileWriting: writers race Close, Close is called from
// several goroutines at once: no panic, no deadlock; every Write ends
// either accepted or with net.ErrClosed; everything accepted reached the
// socket, in order; exactly one Close reports the flush, the others
// net.ErrClosed; Writes after Close fail with net.ErrClosed.
func TestCoalesceCloseWhileWriting(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: 2048}, time.Second)
	accepted := make([]int, 8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			var buf []byte
			for seq := uint32(0); ; seq++ {
				buf = appendRecord(buf[:0], byte(w), seq, recordSize(byte(w), seq))
				if _, err := c.Write(buf); err != nil {
					if !errors.Is(err, net.ErrClosed) {
						t.Errorf("writer %d: %v, want net.ErrClosed", w, err)
					}
					return
				}
				accepted[w]++
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if clean := closeConcurrently(t, c, 3); clean != 1 {
		t.Errorf("%d of 3 concurrent Closes reported the flush, want 1", clean)
	}
	if !waitGroup(&wg, 5*time.Second) {
		t.Fatal("writers hang after close")
	}
	if _, err := c.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	_, stream := f.record()
	got, err := parseRecords(stream)
	if err != nil {
		t.Fatal(err)
	}
	want := map[byte]int{}
	for w, n := range accepted {
		want[byte(w)] = n
	}
	checkSequences(t, got, want)
	if !f.wasClosed() {
		t.Fatal("the socket was not closed")
	}
}

// closeConcurrently calls c.Close from n goroutines at once and returns
// how many reported a clean flush; the others must say net.ErrClosed.
func closeConcurrently(t *testing.T, c *CoalescingConn, n int) (clean int) {
	t.Helper()
	closes := make(chan error, n)
	for range n {
		go func() { closes <- c.Close() }()
	}
	for range n {
		select {
		case err := <-closes:
			switch {
			case err == nil:
				clean++
			case !errors.Is(err, net.ErrClosed):
				t.Errorf("close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("close hangs")
		}
	}
	return clean
}

func waitGroup(wg *sync.WaitGroup, within time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(within):
		return false
	}
}

// TestCoalesceCloseFlushes: Close waits for the buffered bytes to reach a
// slow but live socket before closing it.
func TestCoalesceCloseFlushes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{}, 5*time.Second)
	f.block()
	var want []byte
	for seq := range uint32(50) {
		rec := appendRecord(nil, 3, seq, 40)
		want = append(want, rec...)
		mustWrite(t, c, rec)
	}
	time.AfterFunc(100*time.Millisecond, f.unblock)
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, stream := f.record(); string(stream) != string(want) || !f.wasClosed() {
		t.Fatalf("%d of %d bytes flushed by Close; socket closed %v", len(stream), len(want), f.wasClosed())
	}
}

// TestCoalesceCloseStalledPeer: a socket that never takes the buffer does
// not hang Close beyond its flush bound — enforced by the socket's write
// deadline, and by a timer for a conn that ignores deadlines; Close says
// bytes were lost, with a timeout.
func TestCoalesceCloseStalledPeer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, deaf := range []bool{false, true} {
		f := newFake()
		f.deaf = deaf
		c := newCoalescingConn(f, CoalesceOptions{}, 100*time.Millisecond)
		f.block()
		mustWrite(t, c, []byte("never"))
		mustWrite(t, c, []byte("delivered"))
		start := time.Now()
		closed := make(chan error, 1)
		go func() { closed <- c.Close() }()
		var err error
		select {
		case err = <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("deaf %v: a stalled socket hangs Close", deaf)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("deaf %v: close of a stalled connection: %v, want a timeout", deaf, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("deaf %v: close took %v", deaf, took)
		}
		if !f.wasClosed() {
			t.Fatalf("deaf %v: the socket was not closed", deaf)
		}
		t.Logf("deaf %v: close: %v", deaf, err)
	}
}

// TestCoalesceNoGoroutineLeak: many connections, closed in every state
// (never written, idle after a flush, failed, stalled with blocked
// writers), leave no goroutine behind.
func TestCoalesceNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for i := range 40 {
		f := newFake()
		c := NewCoalescingConn(f, CoalesceOptions{MaxBuffered: 64})
		switch i % 4 {
		case 1: // idle: the flusher waits for work when Close comes
			_, _ = c.Write([]byte("x"))
			select {
			case <-f.wrote:
			case <-time.After(2 * time.Second):
				t.Fatal("a write never reached the socket")
			}
		case 2:
			f.failNext(io.EOF)
			_, _ = c.Write([]byte("x"))
		case 3:
			f.block()
			go func() { _, _ = c.Write(make([]byte, 64)) }()
			go func() { _, _ = c.Write(make([]byte, 64)) }()
			time.AfterFunc(time.Millisecond, f.unblock)
		}
		_ = c.Close()
		_ = c.Close()
	}
}

// TestCoalescingDialRealSocket: the dial wrapper passes dial errors
// through, and over a real TCP socket the bytes arrive and Read and the
// addresses pass through.
func TestCoalescingDialRealSocket(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	refused := errors.New("refused")
	if _, err := CoalescingDial(func(string, string) (net.Conn, error) { return nil, refused }, CoalesceOptions{})("tcp", "x"); err != refused {
		t.Fatalf("dial error %v, want it passed through", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	echo := make(chan error, 1)
	go func() {
		s, err := ln.Accept()
		if err == nil {
			_, err = io.Copy(s, io.LimitReader(s, 5))
			s.Close()
		}
		echo <- err
	}()
	nc, err := CoalescingDial(net.Dial, CoalesceOptions{})("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, ok := nc.(*CoalescingConn); !ok || nc.RemoteAddr().String() != ln.Addr().String() {
		t.Fatalf("dialed %T to %v", nc, nc.RemoteAddr())
	}
	if _, err := nc.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(nc)
	if string(got) != "hello" || err != nil {
		t.Fatalf("echoed %q, %v", got, err)
	}
	if err := <-echo; err != nil {
		t.Fatal(err)
	}
}
