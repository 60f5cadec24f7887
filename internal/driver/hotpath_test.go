package driver

import (
	"encoding/binary"
	"fmt"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/message"
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
	body, st := p.shapeMessage(int64(i), now)
	stamp.WriteScheduled(st, uint32(i), now, now-1000)
	stamp.WriteRun(st, p.id, p.runID)
	p.msg.Body = body
	tag := p.conf.nextTag
	p.conf.publishing(now, uint32(i))
	p.m.Count(metrics.Published, now)
	p.conf.confirmed(amqp.Confirmation{DeliveryTag: tag, Ack: true})
}

// hotConsumer is a consumer and a delivery to hand it again and again;
// inHeader puts the stamp in the x-mqbench-stamp header, as with the
// user's bodies.
func hotConsumer(inHeader bool) (*consumer, *amqp.Delivery) {
	win := &metrics.Window{} // open since the epoch: everything is measured
	reg := metrics.NewRegistry(1, win)
	acct := audit.NewAccount("q", audit.NewPattern([]bool{true}), 1, audit.Options{Spill: audit.DefaultSpill, GapCap: audit.DefaultGapCap})
	c := &consumer{m: reg.NewWorker(), clock: stamp.NewClock(), win: win, ack: scenario.AckAuto, audit: acct.NewConsumer(), runID: 42}
	d := &amqp.Delivery{Body: make([]byte, stamp.AuditSize)}
	if inHeader {
		d.Headers = amqp.Table{"region": "eu", scenario.StampHeader: make([]byte, stamp.AuditSize)}
		d.Body = []byte("the user's body")
	}
	st := stampOf(d)
	now := c.clock.Now()
	stamp.WriteScheduled(st, 1, now, now-1000) // a paced message: two latencies recorded
	stamp.WriteRun(st, 0, 42)                  // and audited
	return c, d
}

func TestProducerHotPathDoesNotAllocate(t *testing.T) {
	for name, p := range map[string]*producer{"plain": hotProducer(1000), "shaped": shapedProducer(1000)} {
		i := 0
		if n := testing.AllocsPerRun(10000, func() { publishAndConfirm(p, i); i++ }); n != 0 {
			t.Fatalf("%s: %.2f allocations per message", name, n)
		}
		if p.conf.outstanding.Load() != 0 || p.m.Load(metrics.Confirmed) != p.m.Load(metrics.Published) {
			t.Fatalf("%s: bookkeeping off: %d outstanding", name, p.conf.outstanding.Load())
		}
	}
}

// shapedProducer is a hot producer whose messages carry every property
// that changes per message — a message id and a correlation id from
// templates, the timestamp, two headers drawn per message — and the
// user's bodies, the stamp in a header.
func shapedProducer(window int) *producer {
	p := hotProducer(window)
	sc := scenario.Producers{
		Properties: &scenario.Properties{MessageID: "{run}-{producer}-{seq}", CorrelationID: "c-{seq}", Timestamp: true, ContentType: "application/json"},
		Headers: map[string]any{"fixed": "f", "region": map[string]any{"values": []any{"eu", "us", "ap"}, "weights": []any{2, 1, 1}},
			"shard": map[string]any{"min": 1, "max": 8}},
		Body: &scenario.Body{Path: "files"},
	}
	fixed, draws := sc.HeaderDraws()
	ms := &messageShape{props: *sc.Properties, fixed: fixed, deck: message.NewDeck(draws, 3), run: p.runID,
		files: [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}}
	ms.apply(p)
	return p
}

// TestShapedMessages: what the shaped producer sets per message is what
// the scenario says: ids from their templates, the timestamp, the drawn
// headers as the deck deals them, the bodies in turn, the stamp in its
// header and not in the body.
func TestShapedMessages(t *testing.T) {
	p := shapedProducer(10)
	for i := int64(0); i < 5; i++ {
		now := p.clock.Now()
		body, st := p.shapeMessage(i, now)
		stamp.Write(st, uint32(i), now)
		h := p.msg.Headers
		if want := fmt.Sprintf("%016x-0-%d", p.runID, i); p.msg.MessageId != want || p.msg.CorrelationId != fmt.Sprint("c-", i) {
			t.Fatalf("message %d: ids %q %q, want %q", i, p.msg.MessageId, p.msg.CorrelationId, want)
		}
		if p.msg.Timestamp.Unix() != now/1e9 || p.msg.ContentType != "application/json" {
			t.Fatalf("message %d: timestamp %v content type %q", i, p.msg.Timestamp, p.msg.ContentType)
		}
		want := p.shape.deck.Values(p.shape.deck.Combination(p.shape.deck.SlotAt(p.shape.deck.Position(0, i))))
		if h["region"] != want["region"] || h["shard"] != want["shard"] || h["fixed"] != "f" {
			t.Fatalf("message %d: headers %v, the deck says %v", i, h, want)
		}
		if seq, _, _ := stamp.Read(h[scenario.StampHeader].([]byte)); seq != uint32(i) || &st[0] != &h[scenario.StampHeader].([]byte)[0] {
			t.Fatalf("message %d: the stamp is not in its header (seq %d)", i, seq)
		}
		if string(body) != []string{`{"a":1}`, `{"b":2}`}[i%2] {
			t.Fatalf("message %d: body %q", i, body)
		}
	}
}

func TestConsumerHotPathDoesNotAllocate(t *testing.T) {
	for _, inHeader := range []bool{false, true} {
		consumeWithoutAllocating(t, inHeader)
	}
}

func consumeWithoutAllocating(t *testing.T, inHeader bool) {
	c, d := hotConsumer(inHeader)
	st := stampOf(d)
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
		binary.BigEndian.PutUint32(st[0:4], s)
		c.handle(d)
		seq++
	}
	if n := testing.AllocsPerRun(10000, deliver); n != 0 {
		t.Fatalf("stamp in a header %v: %.2f allocations per delivery", inHeader, n)
	}
	if c.m.Load(metrics.Consumed) == 0 || c.m.Load(metrics.Foreign) != 0 || c.m.Load(metrics.Unstamped) != 0 {
		t.Fatalf("stamp in a header %v: consumed %d foreign %d unstamped %d", inHeader,
			c.m.Load(metrics.Consumed), c.m.Load(metrics.Foreign), c.m.Load(metrics.Unstamped))
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
	for name, mk := range map[string]func(int) *producer{"plain": hotProducer, "shaped": shapedProducer} {
		b.Run(name, func(b *testing.B) {
			p := mk(1000)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				publishAndConfirm(p, i)
			}
		})
	}
}

func BenchmarkConsumerHotPath(b *testing.B) {
	for _, inHeader := range []bool{false, true} {
		b.Run(map[bool]string{false: "body-stamp", true: "header-stamp"}[inHeader], func(b *testing.B) {
			c, d := hotConsumer(inHeader)
			st := stampOf(d)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				binary.BigEndian.PutUint32(st[0:4], uint32(i)) // in order: what the audit mostly sees
				c.handle(d)
			}
		})
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

// TestRandomBodiesPerProducer: with a compression ratio, every producer's
// body buffer holds the same random bytes, made once, compressing as
// asked (compress/flate), each its own copy (the stamp is written into
// it); without one, zeros.
func TestRandomBodiesPerProducer(t *testing.T) {
	p := scenario.Producers{Count: 2, Size: 64 << 10, Body: &scenario.Body{CompressionRatio: 4}}
	ms, err := newMessageShape(p, 1, 42)
	if err != nil {
		t.Fatal(err)
	}
	a, b := hotProducer(0), hotProducer(0)
	for _, pr := range []*producer{a, b} {
		pr.buf = make([]byte, p.MaxSize())
		ms.apply(pr)
	}
	if r := message.Ratio(a.buf); r < 3.9 || r > 4.1 || string(a.buf) != string(b.buf) || &a.buf[0] == &b.buf[0] {
		t.Fatalf("ratio %.2f, same bytes %v, shared %v", r, string(a.buf) == string(b.buf), &a.buf[0] == &b.buf[0])
	}
	zeros, _ := newMessageShape(scenario.Producers{Count: 1, Size: 4096}, 1, 42)
	if zeros.random != nil {
		t.Fatal("random bytes without a compression ratio")
	}
}
