package driver

import (
	"encoding/binary"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// The per-message work mqbench adds around the client library — stamping,
// confirm bookkeeping, receive-side measuring and recording — must not
// allocate. These tests fail if it does; the benchmarks show the cost.

func hotProducer(window int) *producer {
	win := &metrics.Window{} // open since the epoch: everything is measured
	reg := metrics.NewRegistry(1, win)
	p := &producer{m: reg.NewWorker(), clock: stamp.NewClock(), win: win, window: window, runID: 42}
	p.buf = make([]byte, stamp.AuditSize)
	p.msg.Body = p.buf
	if window > 0 {
		p.audit = audit.NewProducer(true)
		p.conf = newConfirms(window, p.m, p.clock, win, p.audit)
	}
	return p
}

// publishAndConfirm is what the producer and its confirm tracker do per
// message besides the library's Publish call, with the confirm arriving
// at once.
func publishAndConfirm(p *producer, i int) {
	now := p.clock.Now()
	body := p.body(int64(i))
	stamp.WriteScheduled(body, uint32(i), now, now-1000)
	stamp.WriteRun(body, p.id, p.runID)
	tag := p.conf.nextTag
	p.conf.publishing(now, uint32(i))
	p.m.Count(metrics.Published, now)
	p.conf.confirmed(amqp.Confirmation{DeliveryTag: tag, Ack: true})
}

func hotConsumer() (*consumer, *amqp.Delivery) {
	win := &metrics.Window{} // open since the epoch: everything is measured
	reg := metrics.NewRegistry(1, win)
	acct := audit.NewAccount("q", audit.NewPattern([]bool{true}), 1, audit.Options{Spill: audit.DefaultSpill, GapCap: audit.DefaultGapCap})
	c := &consumer{m: reg.NewWorker(), clock: stamp.NewClock(), win: win, ack: scenario.AckAuto, audit: acct.NewConsumer(), runID: 42}
	d := &amqp.Delivery{Body: make([]byte, stamp.AuditSize)}
	now := c.clock.Now()
	stamp.WriteScheduled(d.Body, 1, now, now-1000) // a paced message: two latencies recorded
	stamp.WriteRun(d.Body, 0, 42)                  // and audited
	return c, d
}

func TestProducerHotPathDoesNotAllocate(t *testing.T) {
	p := hotProducer(1000)
	i := 0
	if n := testing.AllocsPerRun(10000, func() { publishAndConfirm(p, i); i++ }); n != 0 {
		t.Fatalf("%.2f allocations per message", n)
	}
	if p.conf.outstanding.Load() != 0 || p.m.Load(metrics.Confirmed) != p.m.Load(metrics.Published) {
		t.Fatalf("bookkeeping off: %d outstanding", p.conf.outstanding.Load())
	}
}

func TestConsumerHotPathDoesNotAllocate(t *testing.T) {
	c, d := hotConsumer()
	seq := uint32(0)
	deliver := func() {
		// In order, with every 100th pair swapped: the audit's window path
		// as well as its in-order one.
		s := seq
		if seq%100 == 10 {
			s++
		} else if seq%100 == 11 {
			s--
		}
		binary.BigEndian.PutUint32(d.Body[0:4], s)
		c.handle(d)
		seq++
	}
	if n := testing.AllocsPerRun(10000, deliver); n != 0 {
		t.Fatalf("%.2f allocations per delivery", n)
	}
	if c.m.Load(metrics.Consumed) == 0 || c.m.Load(metrics.Foreign) != 0 {
		t.Fatal("nothing was counted")
	}
}

// TestConfirmRingAcrossWindow: send times stay matched to their tags when
// the window is full and confirms arrive out of step with publishes.
// TestSizeDrawDoesNotAllocate covers the size distributions' draw.
func TestSizeDrawDoesNotAllocate(t *testing.T) {
	p := hotProducer(0)
	p.buf = make([]byte, 4096)
	p.rng = newTestRand()
	p.sizes = newSizeDraw(&scenario.SizeDistribution{Type: scenario.SizeWeighted,
		Sizes: []scenario.WeightSize{{Size: 100, Weight: 3}, {Size: 4096, Weight: 1}}})
	counts := map[int]int{}
	if n := testing.AllocsPerRun(4000, func() { counts[len(p.body(0))]++ }); n != 0 {
		t.Fatalf("%.2f allocations per draw", n)
	}
	if len(counts) != 2 || counts[100] < 2*counts[4096] {
		t.Fatalf("weighted draw 3:1 gave %v", counts)
	}
	p.sizes = newSizeDraw(&scenario.SizeDistribution{Type: scenario.SizeUniform, Min: 20, Max: 30})
	for i := 0; i < 1000; i++ {
		if n := len(p.body(0)); n < 20 || n > 30 {
			t.Fatalf("uniform 20–30 drew %d", n)
		}
	}
}

func TestConfirmRingAcrossWindow(t *testing.T) {
	p := hotProducer(3)
	c := p.conf
	for tag := uint64(1); tag <= 3; tag++ {
		c.publishing(int64(tag)*1000_000, uint32(tag)) // sent at tag ms
	}
	c.clock = stamp.NewClock()
	for tag := uint64(1); tag <= 2; tag++ {
		if got := c.sent[tag%3].Load(); got != int64(tag)*1000_000 {
			t.Fatalf("slot for tag %d holds %d", tag, got)
		}
		c.confirmed(amqp.Confirmation{DeliveryTag: tag, Ack: tag != 2})
	}
	c.publishing(4_000_000, 4)                                          // tag 4 reuses tag 1's slot
	if c.sent[1].Load() != 4_000_000 || c.sent[0].Load() != 3_000_000 { // slots 4%3 and 3%3
		t.Fatal("tag 4 overwrote an unconfirmed slot")
	}
	if c.outstanding.Load() != 2 || p.m.Load(metrics.Confirmed) != 1 || p.m.Load(metrics.Nacked) != 1 {
		t.Fatalf("outstanding %d confirmed %d nacked %d", c.outstanding.Load(), p.m.Load(metrics.Confirmed), p.m.Load(metrics.Nacked))
	}
}

func BenchmarkProducerHotPath(b *testing.B) {
	p := hotProducer(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		publishAndConfirm(p, i)
	}
}

func BenchmarkConsumerHotPath(b *testing.B) {
	c, d := hotConsumer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint32(d.Body[0:4], uint32(i)) // in order: what the audit mostly sees
		c.handle(d)
	}
}

func TestSplit(t *testing.T) {
	cases := []struct {
		total int64
		n     int
		want  []int64
	}{
		{10, 3, []int64{4, 3, 3}},
		{2, 4, []int64{1, 1, 0, 0}},
		{0, 2, []int64{-1, -1}},
	}
	for _, c := range cases {
		var sum int64
		for i, w := range c.want {
			if got := split(c.total, c.n, i); got != w {
				t.Errorf("split(%d, %d, %d) = %d, want %d", c.total, c.n, i, got, w)
			}
			sum += max(w, 0)
		}
		if c.total > 0 && sum != c.total {
			t.Errorf("shares of %d add up to %d", c.total, sum)
		}
	}
}
