package amqpconn

import (
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// recordSize is a deterministic spread of record payload sizes, 0..300.
func recordSize(w byte, seq uint32) int { return int((uint32(w)*131 + seq*17) % 301) }

// writeRecords has writer w write its records 0..n-1, one Write each, and
// reports the first error. After every Write it scribbles over the slice
// it wrote: a Write that kept p instead of copying it would send garbage.
func writeRecords(c *CoalescingConn, w byte, n int) error {
	var buf []byte
	for seq := range uint32(n) {
		buf = appendRecord(buf[:0], w, seq, recordSize(w, seq))
		if _, err := c.Write(buf); err != nil {
			return err
		}
		for i := range buf {
			buf[i] = 0xff
		}
	}
	return nil
}

// TestCoalesceKeepsOrder: N writers write numbered records concurrently;
// the stream that reaches the socket is a concatenation of whole records
// (each Write's bytes contiguous) holding every writer's records in its
// order, none lost or repeated — with a fast socket, a slow one (big
// batches), and a bound tight enough that writers block.
func TestCoalesceKeepsOrder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const writers, records = 8, 1500
	for _, tc := range []struct {
		name  string
		delay time.Duration
		max   int
	}{
		{"fast socket", 0, 0},
		{"slow socket", 50 * time.Microsecond, 0},
		{"tight bound", 0, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.setDelay(tc.delay)
			c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: tc.max}, time.Second)
			var wg sync.WaitGroup
			want := map[byte]int{}
			for w := range byte(writers) {
				want[w] = records
				wg.Go(func() {
					if err := writeRecords(c, w, records); err != nil {
						t.Errorf("writer %d: %v", w, err)
					}
				})
			}
			if !waitGroup(&wg, 30*time.Second) {
				t.Fatal("writers hang")
			}
			if err := c.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			calls, stream := f.record()
			got, err := parseRecords(stream)
			if err != nil {
				t.Fatalf("the stream is not a sequence of whole records: %v", err)
			}
			checkSequences(t, got, want)
			writes, syscalls := c.Stats()
			if writes != writers*records || syscalls != int64(len(calls)) {
				t.Errorf("stats %d writes, %d syscalls; want %d, %d", writes, syscalls, writers*records, len(calls))
			}
			t.Logf("%d writes in %d underlying writes (%.1f per write)", writes, syscalls, float64(writes)/float64(syscalls))
		})
	}
}

// TestCoalesceBatchesWhileTheSocketIsBusy: Writes made while the socket's
// write is stalled go out together in the next single write.
func TestCoalesceBatchesWhileTheSocketIsBusy(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{}, time.Second)
	defer c.Close()
	f.block()
	var want []byte
	write := func(seq uint32) {
		rec := appendRecord(nil, 1, seq, 20)
		want = append(want, rec...)
		if _, err := c.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	eventuallyOr(t, 2*time.Second, "the first write never reached the socket", func() bool { return f.writing() == 1 })
	for seq := uint32(1); seq <= 1000; seq++ {
		write(seq)
	}
	f.unblock()
	eventuallyOr(t, 2*time.Second, "not everything was written", func() bool { _, s := f.record(); return len(s) == len(want) })
	calls, stream := f.record()
	if len(calls) != 2 || len(calls[1]) != len(want)-len(calls[0]) || string(stream) != string(want) {
		t.Fatalf("%d underlying writes (sizes %v), want 2: the first record, then the 1000 others at once", len(calls), lens(calls))
	}
	eventuallyOr(t, 2*time.Second, "stats: want 1001 writes in 2 syscalls", func() bool {
		writes, syscalls := c.Stats() // counted just after the fake's Write returns
		return writes == 1001 && syscalls == 2
	})
}

func lens(calls [][]byte) []int {
	n := make([]int, len(calls))
	for i, c := range calls {
		n[i] = len(c)
	}
	return n
}

// TestCoalesceIdleWriteGoesOutAtOnce: with the flusher idle, a single
// Write reaches the socket at once (no timer): typically well under a
// millisecond; the median is held under 50 ms for a loaded machine.
func TestCoalesceIdleWriteGoesOutAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{}, time.Second)
	defer c.Close()
	const n = 21
	lat := make([]time.Duration, n)
	for i := range n {
		time.Sleep(2 * time.Millisecond) // the flusher goes idle
		start := time.Now()
		if _, err := c.Write([]byte("heartbeat")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-f.wrote:
			lat[i] = time.Since(start)
		case <-time.After(5 * time.Second):
			t.Fatalf("write %d never reached the socket", i)
		}
	}
	slices.Sort(lat)
	t.Logf("idle write to the socket: min %v, median %v, max %v", lat[0], lat[n/2], lat[n-1])
	if lat[n/2] > 50*time.Millisecond {
		t.Fatalf("median latency of an idle write %v: a timer, or a missed wake-up?", lat[n/2])
	}
	// The fake reports a write before returning from it, so the flusher
	// may not have counted the last one yet.
	eventuallyOr(t, 2*time.Second, "idle writes did not each go out on their own", func() bool {
		writes, syscalls := c.Stats()
		return writes == n && syscalls == n
	})
}

// TestCoalesceBackPressure: with the socket stalled, Writes are accepted up
// to MaxBuffered; the next one blocks until the socket takes the buffer,
// and the buffers never hold more than 2 × MaxBuffered.
func TestCoalesceBackPressure(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const bound = 1000
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: bound}, time.Second)
	defer c.Close()
	f.block()
	rec := func(seq uint32) []byte { return appendRecord(nil, 1, seq, 100-recordHeader) }
	mustWrite(t, c, rec(0))
	eventuallyOr(t, 2*time.Second, "the first write never reached the socket", func() bool { return f.writing() == 1 })
	for seq := uint32(1); seq <= 10; seq++ { // 1000 bytes: exactly MaxBuffered
		mustWrite(t, c, rec(seq))
	}
	done := make(chan error, 1)
	go func() { _, err := c.Write(rec(11)); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("a Write beyond MaxBuffered returned (%v) while the socket is stalled", err)
	case <-time.After(200 * time.Millisecond):
	}
	if got := c.Capacity(); got > 2*bound {
		t.Fatalf("buffers hold %d bytes, bound %d", got, 2*bound)
	}
	f.unblock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the blocked Write was not released when the socket took the buffer")
	}
	eventuallyOr(t, 2*time.Second, "not everything was written", func() bool { _, s := f.record(); return len(s) == 1200 })
	_, stream := f.record()
	got, err := parseRecords(stream)
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, got, map[byte]int{1: 12})
}

// mustWrite writes p, failing the test if the Write fails or blocks.
func mustWrite(t *testing.T, c *CoalescingConn, p []byte) {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := c.Write(p); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a Write blocked with room in the buffer")
	}
}

// TestCoalesceMemoryBound: concurrent writers of assorted sizes against a
// slow socket never make the buffers exceed 2 × MaxBuffered; a Write larger
// than MaxBuffered is taken whole and its buffer let go after its flush;
// buffers grown by a burst shrink again once the load is light.
func TestCoalesceMemoryBound(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const bound = 4096
	f := newFake()
	f.setDelay(100 * time.Microsecond)
	c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: bound}, time.Second)
	defer c.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := 0
	for w := range byte(4) {
		wg.Go(func() {
			var buf []byte
			for seq := range uint32(400) {
				buf = appendRecord(buf[:0], w, seq, recordSize(w, seq)*3)
				if _, err := c.Write(buf); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				peak = max(peak, c.Capacity())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("peak buffer capacity %d bytes (bound %d)", peak, 2*bound)
	if peak > 2*bound {
		t.Fatalf("buffers reached %d bytes, bound 2 × %d", peak, bound)
	}
	f.setDelay(0)
	big := appendRecord(nil, 9, 0, 3*bound)
	mustWrite(t, c, big)
	eventuallyOr(t, 2*time.Second, "the oversize write's buffer was kept", func() bool { return c.Capacity() <= 2*bound })
	_, stream := f.record()
	if string(stream[len(stream)-len(big):]) != string(big) {
		t.Fatal("the oversize write did not reach the socket whole")
	}
}

// TestCoalesceShrinksAfterABurst: a burst grows the buffers towards
// MaxBuffered; light traffic keeps them for shrinkAfter (however many
// flushes that is: a busy machine's batches vary, and dropping a buffer
// that the next batch regrows is allocation churn), then lets them go.
func TestCoalesceShrinksAfterABurst(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFake()
	c := newCoalescingConn(f, CoalesceOptions{MaxBuffered: 1 << 20}, time.Second) // room for the burst
	defer c.Close()
	f.block()
	mustWrite(t, c, []byte("x"))
	eventuallyOr(t, 2*time.Second, "the first write never reached the socket", func() bool { return f.writing() == 1 })
	for range 600 {
		mustWrite(t, c, make([]byte, 1000))
	}
	burst := c.Capacity()
	f.unblock()
	eventuallyOr(t, 2*time.Second, "the burst was not written", func() bool { _, s := f.record(); return len(s) == 600001 })
	flushed := time.Now() // the burst's flush was before this
	small := func() {     // one small Write, flushed on its own
		drain(f.wrote)
		mustWrite(t, c, []byte("small"))
		select {
		case <-f.wrote:
		case <-time.After(2 * time.Second):
			t.Fatal("a small write never reached the socket")
		}
	}
	for range 300 {
		small()
	}
	if kept := c.Capacity(); time.Since(flushed) < shrinkAfter && kept < burst/2 {
		t.Fatalf("buffers let go %v after the burst (capacity %d → %d): a busy connection would churn", time.Since(flushed), burst, kept)
	}
	eventuallyOr(t, 3*shrinkAfter, "buffers grown by a burst stay grown", func() bool { small(); return c.Capacity() <= 2*shrinkAbove })
	t.Logf("capacity after the burst %d, after %v of light traffic %d", burst, time.Since(flushed).Round(time.Millisecond), c.Capacity())
}

func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}
