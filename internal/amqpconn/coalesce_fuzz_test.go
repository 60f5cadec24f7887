package amqpconn

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const fuzzWriters = 4

// fuzzScript is an interleaving decoded from the fuzzer's bytes: the first
// byte sets MaxBuffered (16..2056, so that writers block often), then each
// pair of bytes is one step, op and arg:
//
//	op%9 0..3: writer (op>>4)%4 writes its next record, arg*2 payload bytes
//	op%9 4:    the write deadline is set to now (the next socket write
//	           times out, half written, and the flusher pauses)
//	op%9 5:    the write deadline is cleared (the flusher resumes)
//	op%9 6:    the socket stalls (its writes block)
//	op%9 7:    the socket resumes
//	op%9 8:    the socket resumes, then Close (once)
type fuzzScript struct {
	maxBuffered int
	steps       []fuzzStep
}

type fuzzStep struct {
	op     byte // 'w' write, 'd' expire the deadline, 'r' clear it, 'b' block, 'u' unblock, 'c' close
	writer int
	size   int
}

func decodeFuzz(data []byte) fuzzScript {
	s := fuzzScript{maxBuffered: 16}
	if len(data) == 0 {
		return s
	}
	s.maxBuffered += int(data[0]) * 8
	for i := 1; i+1 < len(data); i += 2 {
		op, arg := data[i], data[i+1]
		if k := op % 9; k >= 4 {
			s.steps = append(s.steps, fuzzStep{op: "drbuc"[k-4]})
			continue
		}
		s.steps = append(s.steps, fuzzStep{op: 'w', writer: int(op>>4) % fuzzWriters, size: int(arg) * 2})
	}
	return s
}

// FuzzCoalesce runs an interleaving of writers, socket stalls, expiring
// write deadlines and a close, and checks that Writes fail only with a
// timeout after a deadline was set to expire, or with net.ErrClosed once
// Close began (and then every later one), that everything accepted reached
// the socket whole, once, and in each writer's order — nothing lost to a
// timeout or to Close with the peer alive — and that nothing hangs.
func FuzzCoalesce(f *testing.F) {
	f.Add([]byte{0, 0, 10, 16, 20, 6, 0, 32, 200, 48, 255, 7, 0, 0, 1})
	f.Add([]byte{1, 6, 0, 0, 255, 16, 255, 32, 255, 48, 255, 0, 3, 8, 0, 16, 9})
	f.Add([]byte{255, 0, 0, 6, 0, 16, 100, 16, 100, 7, 0, 6, 0, 48, 7, 8, 0})
	f.Add([]byte{0, 8, 0, 0, 1, 16, 2})
	f.Add([]byte{2, 0, 50, 4, 0, 16, 60, 32, 70, 5, 0, 48, 80, 0, 90, 4, 0, 8, 0})
	f.Add([]byte{0, 6, 0, 0, 200, 16, 200, 4, 0, 32, 200, 48, 200, 7, 0, 5, 0, 0, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() { defer close(done); runFuzzScript(t, decodeFuzz(data)) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("deadlock: the script did not finish")
		}
	})
}

func runFuzzScript(t *testing.T, s fuzzScript) {
	fc := newFake()
	c := newCoalescingConn(fc, CoalesceOptions{MaxBuffered: s.maxBuffered}, 5*time.Second)
	var closing, expired atomic.Bool
	queues := make([]chan int, fuzzWriters)
	accepted := make([][]uint32, fuzzWriters)
	var wg sync.WaitGroup
	for w := range fuzzWriters {
		queues[w] = make(chan int, len(s.steps))
		wg.Go(func() { accepted[w] = fuzzWriter(t, c, byte(w), queues[w], &closing, &expired) })
	}
	closed, lastDeadline := false, byte('r')
	closeOnce := func() {
		if !closed {
			closed = true
			fc.unblock()
			closing.Store(true)
			if err := c.Close(); err != nil {
				t.Errorf("close with a live socket: %v", err)
			}
		}
	}
	for _, st := range s.steps {
		switch st.op {
		case 'w':
			queues[st.writer] <- st.size
		case 'd':
			expired.Store(true)
			_ = c.SetWriteDeadline(time.Now())
			lastDeadline = 'd'
		case 'r':
			_ = c.SetWriteDeadline(time.Time{})
			lastDeadline = 'r'
		case 'c':
			closeOnce()
		case 'b':
			fc.block()
		case 'u':
			fc.unblock()
		}
	}
	fc.unblock()
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	if !closed && lastDeadline == 'r' && !eventually(2*time.Second, func() bool { return drained(c) }) {
		t.Error("the write deadline was cleared, yet the flusher stays paused (or never drains)")
	}
	closeOnce()
	<-c.flusherDone
	checkFuzzStream(t, fc, accepted)
}

// drained reports whether c has everything written and is not paused.
func drained(c *CoalescingConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout == nil && len(c.pending) == 0 && len(c.fill) == 0
}

// fuzzWriter writes one record per size received and returns the numbers
// of those accepted.
func fuzzWriter(t *testing.T, c *CoalescingConn, w byte, sizes <-chan int, closing, expired *atomic.Bool) []uint32 {
	var accepted []uint32
	var closedErr error
	var buf []byte
	seq := uint32(0)
	for size := range sizes {
		buf = appendRecord(buf[:0], w, seq, size)
		_, err := c.Write(buf)
		switch {
		case err == nil && closedErr != nil:
			t.Errorf("writer %d: a Write accepted after %v", w, closedErr)
		case err == nil:
			accepted = append(accepted, seq)
		case errors.Is(err, net.ErrClosed) && closing.Load():
			closedErr = err
		case errors.Is(err, os.ErrDeadlineExceeded) && expired.Load():
		default:
			t.Errorf("writer %d: unexpected %v", w, err)
		}
		seq++
	}
	return accepted
}

func checkFuzzStream(t *testing.T, fc *fakeConn, accepted [][]uint32) {
	_, stream := fc.record()
	got, err := parseRecords(stream)
	if err != nil {
		t.Fatalf("the stream is not a sequence of whole records: %v", err)
	}
	want := map[byte][]uint32{}
	for w, seqs := range accepted {
		if len(seqs) > 0 {
			want[byte(w)] = seqs
		}
	}
	checkAccepted(t, got, want)
}
