package driver

import (
	"testing"
	"time"

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
	p := &producer{m: reg.NewWorker(), clock: stamp.NewClock(), win: win, nextTag: 1}
	p.buf = make([]byte, 24)
	p.msg.Body = p.buf
	if window > 0 {
		p.sent = make([]int64, window)
		p.seqs = make([]uint32, window)
		p.audit = &audit.Producer{Confirms: true}
	}
	return p
}

// publishAndConfirm is what the producer does per message besides the
// library's Publish call, with the confirm arriving at once.
func publishAndConfirm(p *producer, i int) {
	now := p.clock.Now()
	stamp.WriteScheduled(p.body(int64(i)), uint32(i), now, now-1000)
	tag := p.nextTag
	p.published(now, uint32(i))
	p.confirmed(amqp.Confirmation{DeliveryTag: tag, Ack: true})
}

func hotConsumer() (*consumer, *amqp.Delivery) {
	win := &metrics.Window{} // open since the epoch: everything is measured
	reg := metrics.NewRegistry(1, win)
	c := &consumer{m: reg.NewWorker(), clock: stamp.NewClock(), win: win, ack: scenario.AckAuto, audit: audit.NewConsumer(1)}
	d := &amqp.Delivery{Body: make([]byte, 24)}
	now := c.clock.Now()
	stamp.WriteScheduled(d.Body, 1, now, now-1000) // a paced message: two latencies recorded
	stamp.WriteProducer(d.Body, 0)                 // and audited
	return c, d
}

func TestProducerHotPathDoesNotAllocate(t *testing.T) {
	p := hotProducer(1000)
	i := 0
	if n := testing.AllocsPerRun(10000, func() { publishAndConfirm(p, i); i++ }); n != 0 {
		t.Fatalf("%.2f allocations per message", n)
	}
	if p.outstanding != 0 || p.m.Load(metrics.Confirmed) != p.m.Load(metrics.Published) {
		t.Fatalf("bookkeeping off: %d outstanding", p.outstanding)
	}
}

func TestConsumerHotPathDoesNotAllocate(t *testing.T) {
	c, d := hotConsumer()
	if n := testing.AllocsPerRun(10000, func() { c.handle(d) }); n != 0 {
		t.Fatalf("%.2f allocations per delivery", n)
	}
	if c.m.Load(metrics.Consumed) == 0 {
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
	for tag := uint64(1); tag <= 3; tag++ {
		p.published(int64(tag)*1000_000, uint32(tag)) // sent at tag ms
	}
	p.clock = stamp.NewClock()
	for tag := uint64(1); tag <= 2; tag++ {
		if got := p.sent[tag%3]; got != int64(tag)*1000_000 {
			t.Fatalf("slot for tag %d holds %d", tag, got)
		}
		p.confirmed(amqp.Confirmation{DeliveryTag: tag, Ack: tag != 2})
	}
	p.published(4_000_000, 4) // tag 4 reuses tag 1's slot
	if p.sent[4%3] != 4_000_000 || p.sent[3%3] != 3_000_000 {
		t.Fatal("tag 4 overwrote an unconfirmed slot")
	}
	if p.outstanding != 2 || p.m.Load(metrics.Confirmed) != 1 || p.m.Load(metrics.Nacked) != 1 {
		t.Fatalf("outstanding %d confirmed %d nacked %d", p.outstanding, p.m.Load(metrics.Confirmed), p.m.Load(metrics.Nacked))
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

func TestBlockLog(t *testing.T) {
	b := newBlockLog()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.record("c1", amqp.Blocking{Active: true, Reason: "low on memory"}, t0)
	b.record("c2", amqp.Blocking{Active: true, Reason: "low on memory"}, t0)
	b.record("c1", amqp.Blocking{Active: true, Reason: "again"}, t0) // already blocked: no new entry
	if b.now.Load() != 2 {
		t.Fatalf("%d blocked now, want 2", b.now.Load())
	}
	b.record("c1", amqp.Blocking{Active: false}, t0.Add(time.Second))
	b.record("c3", amqp.Blocking{Active: false}, t0) // unblocked without a block: ignored
	got := b.snapshot()
	if len(got) != 2 || got[0].End == nil || !got[0].End.Equal(t0.Add(time.Second)) || got[1].End != nil || b.now.Load() != 1 {
		t.Fatalf("entries %+v, %d blocked now", got, b.now.Load())
	}
}
