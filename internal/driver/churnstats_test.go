package driver

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/mgmt"
	"github.com/mqbench/mqbench/internal/pace"
	"github.com/mqbench/mqbench/internal/stamp"
)

const sec = int64(time.Second)

// TestChurnStatsWindow: events count from the window's start, in the
// rates only inside the window; latencies only for operations due in it.
func TestChurnStatsWindow(t *testing.T) {
	win := metrics.NewWindow()
	win.Set(10 * sec)
	win.SetEnd(20 * sec)
	s := newChurnStats(win)
	s.ensure("channels_opened")
	s.count("connections_opened", 9*sec, 1)          // warm-up: nothing
	s.count("connections_opened", 10*sec, 1)         // the window's first instant
	s.count("connections_opened", 20*sec-1, 2)       // its last
	s.count("connections_opened", 20*sec, 1)         // the drain: totals only
	s.count("connection_errors", 15*sec, 3)          // errors add up
	s.count("queue_errors", 25*sec, 1)               // in the drain too
	s.record("tcp_connect", 9*sec, time.Millisecond) // due in the warm-up
	s.record("tcp_connect", 10*sec, 2*time.Millisecond)
	s.record("tcp_connect", 19*sec, -time.Second) // clamped, never a panic
	f, err := s.figures(10)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Counts["connections_opened"]; got != 4 {
		t.Errorf("connections_opened %d, want 4 (after the warm-up, the drain included)", got)
	}
	if got := f.Rates["connections_opened"]; got != 0.3 {
		t.Errorf("connections_opened rate %v, want 3 in the window / 10 s", got)
	}
	if got, ok := f.Counts["channels_opened"]; !ok || got != 0 {
		t.Errorf("channels_opened %d (%v): an ensured count is reported even at 0", got, ok)
	}
	if f.Counts["errors"] != 4 {
		t.Errorf("errors %d, want every *_errors count: 4", f.Counts["errors"])
	}
	if l := f.Latency["tcp_connect"]; l == nil || l.Count != 2 || l.MaxUs < 1900 || l.MinUs != 0 {
		t.Errorf("tcp_connect %+v: want the two operations due in the window", l)
	}
	if f, _ := s.figures(0); len(f.Rates) != 0 {
		t.Errorf("rates %v over an empty window", f.Rates)
	}
}

// TestBrokerSpanRates: the broker's counters change in steps; its rates
// are their growth between the first and the last step seen in the window,
// over the time between those readings. Readings that show no step, steps
// before the window, or a span under a second give none.
func TestBrokerSpanRates(t *testing.T) {
	var b brokerSpan
	at := func(s float64) int64 { return int64(s * float64(time.Second)) }
	start := at(10)
	b.add(mgmt.Churn{ConnectionsCreated: 1}, at(8), start)
	b.add(mgmt.Churn{ConnectionsCreated: 2}, at(9), start) // a step before the window
	b.add(mgmt.Churn{ConnectionsCreated: 2}, at(10), start)
	if b.rates() != nil {
		t.Error("rates without a step in the window")
	}
	b.add(mgmt.Churn{ConnectionsCreated: 100, QueuesDeleted: 7}, at(12), start) // first step
	b.add(mgmt.Churn{ConnectionsCreated: 120}, at(12.5), start)
	if b.rates() != nil {
		t.Error("rates from a span under a second")
	}
	b.add(mgmt.Churn{ConnectionsCreated: 1100, QueuesDeleted: 27}, at(32), start) // last step
	b.add(mgmt.Churn{ConnectionsCreated: 1100, QueuesDeleted: 27}, at(33), start) // no step: not the end
	r := b.rates()
	if r["broker_connections_created"] != 50 || r["broker_queues_deleted"] != 1 {
		t.Errorf("rates %v: want 1000 created and 20 deleted over the 20 s between the steps", r)
	}
}

// TestChurnerTakesTheScheduleInOrder: however many workers take
// operations, each number is handed out once, each due on the schedule,
// and none due at or after the window's end.
func TestChurnerTakesTheScheduleInOrder(t *testing.T) {
	win := metrics.NewWindow()
	win.Set(0)
	win.SetEnd(int64(2 * time.Second))
	c := &churner{schedule: pace.Constant(50), win: win, clock: stamp.NewClock()}
	var mu sync.Mutex
	seen := map[int64]int64{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, due, ok := c.take()
				if !ok {
					return
				}
				mu.Lock()
				seen[k] = due
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 100 {
		t.Fatalf("%d operations before the end, want 50/s × 2 s = 100", len(seen))
	}
	for k, due := range seen {
		if want := k * int64(20*time.Millisecond); math.Abs(float64(due-want)) > 1000 {
			t.Errorf("operation %d due at %v, want %v", k, time.Duration(due), time.Duration(want))
		}
	}
}
