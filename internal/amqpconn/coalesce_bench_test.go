package amqpconn

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/proc"
)

// nullConn is a socket that takes every write at once and keeps nothing.
type nullConn struct{ fakeConn }

func (*nullConn) Write(p []byte) (int, error) { return len(p), nil }

func (*nullConn) Close() error { return nil }

func (*nullConn) SetDeadline(time.Time) error { return nil }

func (*nullConn) SetWriteDeadline(time.Time) error { return nil }

// benchPayload is about one small publish as amqp091 flushes it: method,
// header and body frames.
var benchPayload = make([]byte, 128)

// reportBatching adds the average batch to a benchmark's results.
func reportBatching(b *testing.B, c *CoalescingConn) {
	writes, syscalls := c.Stats()
	if syscalls > 0 {
		b.ReportMetric(float64(writes)/float64(syscalls), "writes/syscall")
	}
}

// BenchmarkCoalescingWrite: the write path (copy under the mutex, wake
// the flusher if idle) into a socket that costs nothing; run with
// -benchmem: 0 allocs/op.
func BenchmarkCoalescingWrite(b *testing.B) {
	c := newCoalescingConn(&nullConn{}, CoalesceOptions{}, time.Second)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := c.Write(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportBatching(b, c)
	_ = c.Close()
}

// BenchmarkCoalescingWriteBudget: the write path when every Write is
// charged to a shared Budget (a reserve of 1 byte: the budget's lock on
// every Write, and on every flush to give back); 0 allocs/op.
func BenchmarkCoalescingWriteBudget(b *testing.B) {
	c := newCoalescingConn(&nullConn{}, CoalesceOptions{Budget: NewBudget(DefaultBudget, 1)}, time.Second)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := c.Write(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportBatching(b, c)
	_ = c.Close()
}

// BenchmarkCoalescingWriteParallel: several writers on one connection.
func BenchmarkCoalescingWriteParallel(b *testing.B) {
	c := newCoalescingConn(&nullConn{}, CoalesceOptions{}, time.Second)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Write(benchPayload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportBatching(b, c)
	_ = c.Close()
}

// BenchmarkDirectWrite is the baseline: straight to the costless socket.
func BenchmarkDirectWrite(b *testing.B) {
	var c net.Conn = &nullConn{}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := c.Write(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// loopback returns the client end of a TCP connection over loopback whose
// server end discards everything, and a func that closes both.
func loopback(b *testing.B) (net.Conn, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, s)
		s.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return c, func() { ln.Close(); <-drained }
}

// BenchmarkTCPWrite: 128-byte writes to a real loopback socket, one
// write(2) each (direct) or coalesced; Close's final flush is timed too.
// ns/op is the writer's time; cpu-ns/op is the whole process's CPU per
// write (the flusher and the discarding reader included).
func BenchmarkTCPWrite(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		c, done := loopback(b)
		defer done()
		b.ReportAllocs()
		b.SetBytes(int64(len(benchPayload)))
		cpu := proc.CPUTime()
		for b.Loop() {
			if _, err := c.Write(benchPayload); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
		b.ReportMetric(float64(proc.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("coalesced", func(b *testing.B) {
		raw, done := loopback(b)
		defer done()
		c := newCoalescingConn(raw, CoalesceOptions{}, 5*time.Second)
		b.ReportAllocs()
		b.SetBytes(int64(len(benchPayload)))
		cpu := proc.CPUTime()
		for b.Loop() {
			if _, err := c.Write(benchPayload); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(proc.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		reportBatching(b, c)
	})
}

// TestCoalesceWriteDoesNotAllocate: once the buffers have grown, neither
// Write nor the flusher allocates — alone, within a shared budget's
// reserve, or charged to the budget on every Write (a reserve of 1 byte).
func TestCoalesceWriteDoesNotAllocate(t *testing.T) {
	for name, o := range map[string]CoalesceOptions{
		"alone":         {},
		"within budget": {Budget: NewBudget(0, 0)},
		"charged":       {Budget: NewBudget(0, 1)},
	} {
		c := newCoalescingConn(&nullConn{}, o, time.Second)
		for range 10000 { // grow both buffers to their working size
			_, _ = c.Write(benchPayload)
		}
		if n := testing.AllocsPerRun(10000, func() { _, _ = c.Write(benchPayload) }); n != 0 {
			t.Errorf("%s: %v allocations per Write", name, n)
		}
		_ = c.Close()
	}
}
