package amqpconn

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// held is what c holds: accepted, not yet written.
func held(c *CoalescingConn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heldLocked()
}

// stalledGroup is n connections sharing b whose sockets do not take
// anything, each with writers writing records until they are stopped by
// an error; the test unblocks or closes them.
type stalledGroup struct {
	fakes []*fakeConn
	conns []*CoalescingConn
	wg    sync.WaitGroup
	mu    sync.Mutex
	// accepted are the records each writer had accepted, by connection.
	accepted []map[byte][]uint32
}

// stall starts n stalled connections sharing b, writers each writing
// records records of size bytes.
func stall(b *Budget, n, writers, records, size int) *stalledGroup {
	g := &stalledGroup{accepted: make([]map[byte][]uint32, n)}
	for i := range n {
		f := newFake()
		f.block()
		c := newCoalescingConn(f, CoalesceOptions{Budget: b}, 200*time.Millisecond)
		g.fakes, g.conns = append(g.fakes, f), append(g.conns, c)
		g.accepted[i] = map[byte][]uint32{}
		for w := range byte(writers) {
			g.wg.Go(func() {
				for seq := range uint32(records) {
					if _, err := c.Write(appendRecord(nil, w, seq, size)); err != nil {
						return
					}
					g.mu.Lock()
					g.accepted[i][w] = append(g.accepted[i][w], seq)
					g.mu.Unlock()
				}
			})
		}
	}
	return g
}

// held is what the group's connections hold, together.
func (g *stalledGroup) held() int {
	total := 0
	for _, c := range g.conns {
		total += held(c)
	}
	return total
}

// most is the connection holding most of the budget.
func (g *stalledGroup) most() int {
	most, charged := 0, -1
	for i, c := range g.conns {
		c.mu.Lock()
		if c.charged > charged {
			most, charged = i, c.charged
		}
		c.mu.Unlock()
	}
	return most
}

// capacity is the group's buffers' allocated capacity, together.
func (g *stalledGroup) capacity() int {
	total := 0
	for _, c := range g.conns {
		total += c.Capacity()
	}
	return total
}

// release unblocks every socket and waits for the writers and the
// streams: each connection's socket then holds exactly what its writers
// had accepted, in order.
func (g *stalledGroup) release(t *testing.T) {
	t.Helper()
	for _, f := range g.fakes {
		f.unblock()
	}
	if !waitGroup(&g.wg, 30*time.Second) {
		t.Fatal("writers hang after the sockets were unblocked")
	}
	for i, c := range g.conns {
		if err := c.Close(); err != nil {
			t.Fatalf("connection %d: close: %v", i, err)
		}
		_, stream := g.fakes[i].record()
		got, err := parseRecords(stream)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		checkAccepted(t, got, g.accepted[i])
	}
}

// TestBudgetBoundsStalledConnections: 40 connections whose sockets stall
// (a broker blocking every publisher), two writers each, would hold 40 ×
// 2 × 256 KiB without a budget; sharing one of 64 KiB with a reserve of
// 2 KiB they hold at most 64 KiB + 40 × 2 KiB together, and their buffers'
// capacity at most twice that plus two minimal buffers each. Once the
// sockets take again every accepted record arrives, in order, and the
// budget is all given back.
func TestBudgetBoundsStalledConnections(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const conns, size, reserve = 40, 64 << 10, 2 << 10
	b := NewBudget(size, reserve)
	g := stall(b, conns, 2, 1000, 1000) // 2 MB a connection, were it let in
	bound := size + conns*reserve
	// The writers fill the budget (to within a record each) and stop there.
	eventuallyOr(t, 10*time.Second, "the stalled connections never filled the budget", func() bool { return g.held() > bound-conns*1007 })
	time.Sleep(200 * time.Millisecond) // more time to overshoot, were they able to
	held, used, capacity := g.held(), b.Used(), g.capacity()
	t.Logf("%d stalled connections hold %d bytes (bound %d), %d of the budget; capacity %d", conns, held, bound, used, capacity)
	if used > size || held > bound {
		t.Fatalf("stalled connections hold %d bytes, %d of the budget: bound %d, budget %d", held, used, bound, size)
	}
	if most := 2*bound + conns*2*minBuffer; capacity > most {
		t.Fatalf("stalled connections' buffers take %d bytes, want at most %d", capacity, most)
	}
	g.release(t)
	if used := b.Used(); used != 0 {
		t.Fatalf("%d bytes of the budget still held after every connection wrote everything and closed", used)
	}
}

// TestBudgetHealthyConnectionFlows: while stalled connections hold the
// whole budget, a healthy connection sharing it keeps writing: every
// Write within its reserve goes in at once and reaches the socket. A
// Write beyond the reserve waits for the budget, and goes in when a
// stalled connection's socket takes again; one larger than the whole
// budget goes in once nothing holds any of it.
func TestBudgetHealthyConnectionFlows(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const size, reserve = 32 << 10, 4 << 10
	b := NewBudget(size, reserve)
	g := stall(b, 8, 2, 1000, 1024-recordHeader) // records of 1 KiB: they fill it exactly
	eventuallyOr(t, 10*time.Second, "the stalled connections never filled the budget", func() bool { return b.Used() == size })

	f := newFake()
	f.setDelay(20 * time.Microsecond)
	h := newCoalescingConn(f, CoalesceOptions{Budget: b}, time.Second)
	defer h.Close()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- writeRecords(h, 1, 2000) }() // records of 7 to 307 bytes: within the reserve
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a healthy connection's small Writes wait for the budget the stalled ones hold")
	}
	eventuallyOr(t, 5*time.Second, "the healthy connection's records never all reached its socket", func() bool { return held(h) == 0 })
	t.Logf("2,000 small Writes through the healthy connection in %v, with %d bytes of the budget held by stalled ones", time.Since(start).Round(time.Millisecond), b.Used())

	big := appendRecord(nil, 2, 0, 5<<10) // beyond the reserve by 1 KiB
	go func() { _, err := h.Write(big); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("a Write beyond the reserve returned (%v) while stalled connections hold the whole budget", err)
	case <-time.After(200 * time.Millisecond):
	}
	g.fakes[g.most()].unblock() // a stalled socket takes again: budget comes back
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the Write beyond the reserve was not let in when budget came back")
	}

	huge := appendRecord(nil, 3, 0, 48<<10) // more than the whole budget
	go func() { _, err := h.Write(huge); done <- err }()
	g.release(t)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a Write larger than the budget was never let in")
	}
	eventuallyOr(t, 5*time.Second, "the large Writes never reached the socket", func() bool { return held(h) == 0 })
	_, stream := f.record()
	got, err := parseRecords(stream)
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, got, map[byte]int{1: 2000, 2: 1, 3: 1})
}

// TestBudgetOwnFlushLetsInWithoutWaiting: a connection whose Write waits
// in the budget's queue behind a stalled connection's is let in as soon as
// its own flush brings it within its reserve, without waiting for the
// stalled one's turn.
func TestBudgetOwnFlushLetsInWithoutWaiting(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const size, reserve = 16 << 10, 4 << 10
	b := NewBudget(size, reserve)
	g := stall(b, 1, 1, 100, 1024-recordHeader) // fills the budget exactly, then waits in the queue
	eventuallyOr(t, 10*time.Second, "the stalled connection never filled the budget", func() bool { return b.Used() == size })
	eventuallyOr(t, 2*time.Second, "the stalled connection's Write never queued", func() bool { return queueLen(b) == 1 })

	f := newFake()
	h := newCoalescingConn(f, CoalesceOptions{Budget: b}, time.Second)
	defer h.Close()
	f.block()
	mustWrite(t, h, appendRecord(nil, 1, 0, reserve-recordHeader)) // the reserve, full
	eventuallyOr(t, 2*time.Second, "the first write never reached the socket", func() bool { return f.writing() == 1 })
	done := make(chan error, 1)
	go func() { _, err := h.Write(appendRecord(nil, 1, 1, 100)); done <- err }()
	eventuallyOr(t, 2*time.Second, "the Write beyond the reserve did not queue for budget", func() bool { return queueLen(b) == 2 })
	f.unblock() // its own flush: it holds nothing, and 107 bytes fit in its reserve
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a Write its own flush brought within the reserve still waits behind the stalled connection")
	}
	if n := queueLen(b); n != 1 {
		t.Fatalf("%d connections in the budget's queue, want the stalled one only", n)
	}
	g.release(t)
}

// TestBudgetGoesToWhoHoldsLeast: budget given back goes to the waiting
// connection that holds least of it, not to the one that asked first: a
// stalled connection that holds most of the budget and keeps asking for
// more does not take what a connection gives back before a healthy one
// (holding none) whose Write needs exactly that.
func TestBudgetGoesToWhoHoldsLeast(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const size, reserve, rec = 16 << 10, 1 << 10, 1 << 10
	b := NewBudget(size, reserve)
	giver := stall(b, 1, 1, 3, rec-recordHeader) // its reserve and 2 KiB of the budget, no more
	eventuallyOr(t, 5*time.Second, "the first connection never took 2 KiB", func() bool { return b.Used() == 2*rec })
	hog := stall(b, 1, 2, 100, rec-recordHeader) // the other 14 KiB, then asks for more
	eventuallyOr(t, 5*time.Second, "the stalled connection never filled the budget", func() bool { return b.Used() == size && queueLen(b) == 1 })

	f := newFake()
	h := newCoalescingConn(f, CoalesceOptions{Budget: b}, time.Second)
	defer h.Close()
	done := make(chan error, 1)
	go func() { _, err := h.Write(appendRecord(nil, 1, 0, reserve+2*rec-recordHeader)); done <- err }() // needs 2 KiB
	eventuallyOr(t, 2*time.Second, "the healthy connection's Write did not queue for budget", func() bool { return queueLen(b) == 2 })
	giver.release(t) // gives back its 2 KiB
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the 2 KiB given back did not go to the connection holding none (%d bytes of the budget in use)", b.Used())
	}
	hog.release(t)
}

func queueLen(b *Budget) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// TestBudgetCloseAndFailureGiveBack: a Write waiting for budget is turned
// away at once by Close, and by a failed socket write; a connection that
// closed with bytes it could not write, or failed, gives back all it held
// of the budget.
func TestBudgetCloseAndFailureGiveBack(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const size, reserve = 16 << 10, 1 << 10
	for _, end := range []string{"close", "failure"} {
		t.Run(end, func(t *testing.T) {
			b := NewBudget(size, reserve)
			f := newFake()
			f.block()
			c := newCoalescingConn(f, CoalesceOptions{Budget: b}, 100*time.Millisecond)
			errs := make(chan error, 1)
			go func() { errs <- writeRecords(c, 1, 1000) }()
			eventuallyOr(t, 5*time.Second, "the Writes never waited for budget", func() bool { return queueLen(b) == 1 })
			var want error = net.ErrClosed
			if end == "close" {
				go func() { _ = c.Close() }()
			} else {
				want = syscall.ECONNRESET
				f.failNext(syscall.ECONNRESET)
				f.unblock()
			}
			select {
			case err := <-errs:
				if !errors.Is(err, want) {
					t.Fatalf("the waiting Write returned %v, want %v", err, want)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("a Write waiting for budget was not turned away by the %s", end)
			}
			_ = c.Close()
			if used, n := b.Used(), queueLen(b); used != 0 || n != 0 {
				t.Fatalf("after the %s the connection still holds %d bytes of the budget, %d in its queue", end, used, n)
			}
		})
	}
}

// TestBudgetKeepsOrderUnderContention: connections sharing a tight budget,
// several writers each, slow sockets: every record arrives whole and in
// order, and the budget is all given back.
func TestBudgetKeepsOrderUnderContention(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := NewBudget(6<<10, 512)
	const conns, writers, records = 4, 4, 400
	var wg sync.WaitGroup
	fakes := make([]*fakeConn, conns)
	cs := make([]*CoalescingConn, conns)
	for i := range conns {
		fakes[i] = newFake()
		fakes[i].setDelay(time.Duration(i*30) * time.Microsecond)
		cs[i] = newCoalescingConn(fakes[i], CoalesceOptions{Budget: b}, time.Second)
		for w := range byte(writers) {
			wg.Go(func() {
				if err := writeRecords(cs[i], w, records); err != nil {
					t.Errorf("connection %d writer %d: %v", i, w, err)
				}
			})
		}
	}
	if !waitGroup(&wg, 30*time.Second) {
		t.Fatal("writers hang")
	}
	want := map[byte]int{}
	for w := range byte(writers) {
		want[w] = records
	}
	for i, c := range cs {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		_, stream := fakes[i].record()
		got, err := parseRecords(stream)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		checkSequences(t, got, want)
	}
	if used := b.Used(); used != 0 {
		t.Fatalf("%d bytes of the budget held after every connection closed", used)
	}
}
