package amqpconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// fakeConn is an in-memory net.Conn that records every Write made to it.
// Its writes can be blocked (a stalled socket: they wait until unblocked,
// the write deadline passes or the conn is closed), slowed, or made to fail.
type fakeConn struct {
	mu       sync.Mutex
	calls    [][]byte      // every Write's bytes, in order
	stream   []byte        // all of them, concatenated
	gate     chan struct{} // non-nil while blocked: writes wait for it to close
	inWrite  int           // writes in progress
	fail     error         // the next write fails with this
	delay    time.Duration // every write takes this long
	deadline time.Time     // the write deadline
	deaf     bool          // deadlines are ignored (a conn that does not support them)
	moved    chan struct{} // closed (and replaced) when the deadline moves
	closed   chan struct{}
	isClosed bool
	wrote    chan struct{} // gets a token after every recorded write
}

func newFake() *fakeConn {
	return &fakeConn{closed: make(chan struct{}), wrote: make(chan struct{}, 1), moved: make(chan struct{})}
}

func (f *fakeConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.isClosed {
		f.mu.Unlock()
		return 0, &net.OpError{Op: "write", Net: "fake", Err: net.ErrClosed}
	}
	gate, delay := f.gate, f.delay
	f.inWrite++
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inWrite--; f.mu.Unlock() }()
	err := f.wait(gate, delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// As TCP: what went out before the deadline is reported, and the
		// connection can go on from there. Half, here.
		n := len(p) / 2
		f.recordLocked(p[:n])
		return n, err
	}
	if err == nil && f.fail != nil {
		err, f.fail = f.fail, nil
	}
	if err != nil {
		return 0, err
	}
	f.recordLocked(p)
	return len(p), nil
}

func (f *fakeConn) recordLocked(p []byte) {
	if len(p) == 0 {
		return
	}
	f.calls = append(f.calls, append([]byte(nil), p...))
	f.stream = append(f.stream, p...)
	select {
	case f.wrote <- struct{}{}:
	default:
	}
}

// wait is a write's stall: the gate, the delay, bounded by the write
// deadline — one already past fails at once, and a deadline moved while
// the write waits applies to it, as a socket's does — and by the close.
func (f *fakeConn) wait(gate chan struct{}, delay time.Duration) error {
	var slow <-chan time.Time
	if delay > 0 {
		slow = time.After(delay)
	}
	for {
		f.mu.Lock()
		deadline, moved := f.deadline, f.moved
		f.mu.Unlock()
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return &net.OpError{Op: "write", Net: "fake", Err: os.ErrDeadlineExceeded}
		}
		if gate == nil && slow == nil {
			return nil
		}
		var expire <-chan time.Time
		var t *time.Timer
		if !deadline.IsZero() {
			t = time.NewTimer(time.Until(deadline))
			expire = t.C
		}
		select {
		case <-gate:
			gate = nil
		case <-slow:
			slow = nil
		case <-expire:
		case <-moved:
		case <-f.closed:
			return &net.OpError{Op: "write", Net: "fake", Err: net.ErrClosed}
		}
		if t != nil {
			t.Stop()
		}
	}
}

// block makes writes stall until unblock.
func (f *fakeConn) block() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate == nil {
		f.gate = make(chan struct{})
	}
}

// unblock releases the stalled writes.
func (f *fakeConn) unblock() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate != nil {
		close(f.gate)
		f.gate = nil
	}
}

func (f *fakeConn) failNext(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

func (f *fakeConn) setDelay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// writing reports how many writes are in progress (stalled, typically).
func (f *fakeConn) writing() int { f.mu.Lock(); defer f.mu.Unlock(); return f.inWrite }

// record returns copies of every write's bytes and of the whole stream.
func (f *fakeConn) record() (calls [][]byte, stream []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.calls...), append([]byte(nil), f.stream...)
}

func (f *fakeConn) Read(p []byte) (int, error) {
	<-f.closed
	return 0, net.ErrClosed
}

func (f *fakeConn) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.isClosed {
		return net.ErrClosed
	}
	f.isClosed = true
	close(f.closed)
	return nil
}

func (f *fakeConn) wasClosed() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.isClosed }

func (f *fakeConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (f *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }

func (f *fakeConn) SetDeadline(t time.Time) error { return f.SetWriteDeadline(t) }

func (f *fakeConn) SetReadDeadline(time.Time) error { return nil }

func (f *fakeConn) SetWriteDeadline(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.deaf {
		f.deadline = t
		close(f.moved)
		f.moved = make(chan struct{})
	}
	return nil
}

// A record is what the tests' writers write: a 7-byte header — writer id,
// sequence number (uint32), payload length (uint16) — then the payload,
// every byte of which is derived from the header, so that a record torn
// apart, shifted or mixed with another cannot parse as a valid one.
const recordHeader = 7

// appendRecord appends writer w's record number seq with n payload bytes.
func appendRecord(b []byte, w byte, seq uint32, n int) []byte {
	b = append(b, w)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for i := range n {
		b = append(b, payloadByte(w, seq, i))
	}
	return b
}

func payloadByte(w byte, seq uint32, i int) byte { return w*31 + byte(seq)*7 + byte(i) }

// parseRecords splits stream into whole records and returns, per writer,
// the sequence numbers in stream order; it fails on anything that is not a
// concatenation of whole, intact records.
func parseRecords(stream []byte) (map[byte][]uint32, error) {
	got := map[byte][]uint32{}
	for off := 0; off < len(stream); {
		if len(stream)-off < recordHeader {
			return got, fmt.Errorf("torn header at offset %d", off)
		}
		w := stream[off]
		seq := binary.BigEndian.Uint32(stream[off+1:])
		n := int(binary.BigEndian.Uint16(stream[off+5:]))
		body := stream[off+recordHeader:]
		if len(body) < n {
			return got, fmt.Errorf("writer %d record %d torn at offset %d", w, seq, off)
		}
		for i := range n {
			if body[i] != payloadByte(w, seq, i) {
				return got, fmt.Errorf("writer %d record %d corrupt at byte %d (offset %d)", w, seq, i, off)
			}
		}
		got[w] = append(got[w], seq)
		off += recordHeader + n
	}
	return got, nil
}

// checkSequences checks that writer w's records are exactly 0..want-1, in
// order, each once.
func checkSequences(t *testing.T, got map[byte][]uint32, want map[byte]int) {
	t.Helper()
	lists := map[byte][]uint32{}
	for w, n := range want {
		for seq := range uint32(n) {
			lists[w] = append(lists[w], seq)
		}
	}
	checkAccepted(t, got, lists)
}

// checkAccepted checks that the stream holds exactly each writer's
// accepted records, in the order it wrote them, each once.
func checkAccepted(t *testing.T, got, want map[byte][]uint32) {
	t.Helper()
	for w, seqs := range want {
		if len(got[w]) != len(seqs) {
			t.Errorf("writer %d: %d records in the stream, want %d", w, len(got[w]), len(seqs))
		}
		for i, s := range got[w] {
			if i >= len(seqs) || s != seqs[i] {
				t.Errorf("writer %d: record %d is number %d: out of order, lost or repeated", w, i, s)
				break
			}
		}
	}
	for w, seqs := range got {
		if _, ok := want[w]; !ok && len(seqs) > 0 {
			t.Errorf("records of unknown writer %d", w)
		}
	}
}

// eventuallyOr waits up to within for ok, failing the test with what
// otherwise.
func eventuallyOr(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	if !eventually(within, ok) {
		t.Fatal(what)
	}
}
