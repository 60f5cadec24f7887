package driver

import (
	"math/rand/v2"
	"strconv"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// TestRPCCorrelation classifies replies without a broker: matched, late
// (after a timeout), duplicate, and unmatched ones.
func TestRPCCorrelation(t *testing.T) {
	win := &metrics.Window{} // open since the epoch: everything is measured
	reg := metrics.NewRegistry(1, win)
	c := &rpcClient{m: reg.NewWorker(), clock: stamp.NewClock(), win: win, timeout: 1e9}
	c.slots = make([]rpcSlot, 2)
	c.free = []int{1, 0}
	c.recent = make([]uint64, 16)
	// Two requests go out (the channel is not used: send is bypassed).
	issue := func() string {
		slot := c.free[len(c.free)-1]
		c.free = c.free[:len(c.free)-1]
		seq := c.issued
		c.issued++
		now := c.clock.Now()
		c.slots[slot] = rpcSlot{seq: seq, sent: now, deadline: now + c.timeout, active: true}
		return strconv.FormatUint(seq<<16|uint64(slot), 10)
	}
	id0, id1 := issue(), issue()
	reply := func(id string) { c.reply(&amqp.Delivery{CorrelationId: id}) }

	reply(id0)                     // matched
	reply(id0)                     // duplicate
	c.expire(c.clock.Now() + 2e9)  // request 1 times out
	reply(id1)                     // late
	reply("not-a-number")          // unmatched
	reply(strconv.Itoa(99 << 16))  // a sequence never issued: unmatched
	reply(strconv.Itoa(0<<16 | 7)) // a slot that does not exist: unmatched
	want := map[metrics.Counter]int64{
		metrics.RPCReplies: 1, metrics.RPCDuplicates: 1, metrics.RPCTimeouts: 1, metrics.RPCLate: 1, metrics.RPCUnmatched: 3,
	}
	for k, n := range want {
		if got := c.m.Load(k); got != n {
			t.Errorf("counter %d = %d, want %d", k, got, n)
		}
	}
	if c.outstanding() != 0 {
		t.Errorf("%d requests still outstanding", c.outstanding())
	}
	col := metrics.NewCollector(reg)
	col.Collect()
	if n := col.Total(metrics.RPC).TotalCount(); n != 1 {
		t.Errorf("%d round trips recorded, want only the matched one", n)
	}
}

func TestServerDelayDistributions(t *testing.T) {
	s := &rpcServer{}
	rng := newTestRand()
	cases := []struct {
		d        scenario.Delay
		lo, hi   float64 // bounds on the sample mean, ms
		min, max float64 // bounds on every sample, ms
	}{
		{scenario.Delay{Distribution: scenario.DelayFixed, Mean: 5e6}, 5, 5, 5, 5},
		{scenario.Delay{Distribution: scenario.DelayUniform, Min: 2e6, Max: 4e6}, 2.9, 3.1, 2, 4},
		{scenario.Delay{Distribution: scenario.DelayExponential, Mean: 3e6}, 2.8, 3.2, 0, 1e9},
	}
	for _, c := range cases {
		s.cfg.ServerDelay = c.d
		sum := 0.0
		const n = 20000
		for i := 0; i < n; i++ {
			ms := float64(s.delay(rng)) / 1e6
			if ms < c.min || ms > c.max {
				t.Fatalf("%s: sample %vms outside [%v, %v]", c.d.Distribution, ms, c.min, c.max)
			}
			sum += ms
		}
		if mean := sum / n; mean < c.lo || mean > c.hi {
			t.Errorf("%s: mean %.3fms, want %v–%v", c.d.Distribution, mean, c.lo, c.hi)
		}
	}
}

func TestFib(t *testing.T) {
	for n, want := range map[int]uint64{0: 0, 1: 1, 2: 1, 10: 55, 30: 832040, 90: 2880067194370816120} {
		if got := fib(n); got != want {
			t.Errorf("fib(%d) = %d, want %d", n, got, want)
		}
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
