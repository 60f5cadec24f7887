package driver

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// capped is a consumer with automatic acks (it settles nothing, so it
// needs no channel) capped at rate, reading from its own delivery stream,
// running until the test ends.
func capped(t *testing.T, rate float64) (*consumer, chan amqp.Delivery) {
	win := &metrics.Window{}
	reg := metrics.NewRegistry(1, win)
	deliveries := make(chan amqp.Delivery, 10_000)
	c := &consumer{h: &amqpconn.Channel{}, m: reg.NewWorker(), clock: stamp.NewClock(), win: win, ack: scenario.AckAuto,
		deliveries: deliveries, stop: make(chan struct{}), flush: make(chan struct{}), finished: make(chan struct{})}
	c.behave.setRate(rate)
	start := make(chan struct{})
	close(start)
	ctx, cancel := context.WithCancel(context.Background())
	go c.run(ctx, start)
	t.Cleanup(func() {
		cancel()
		<-c.finished
	})
	return c, deliveries
}

func consumed(c *consumer) int64 { return c.m.Load(metrics.Consumed) }

// TestRateCapHoldsWithABacklog: a consumer capped at 400/s with deliveries
// waiting takes 400 a second, ±2%, not as many as it can.
func TestRateCapHoldsWithABacklog(t *testing.T) {
	brokertest.MeasuresTheClient(t) // mqbench's own timing: once, in the first pass
	c, in := capped(t, 400)
	for range 2000 {
		in <- amqp.Delivery{}
	}
	time.Sleep(100 * time.Millisecond) // past the first delivery's start
	from := consumed(c)
	time.Sleep(1500 * time.Millisecond)
	got := consumed(c) - from
	if got < 588 || got > 612 {
		t.Fatalf("took %d deliveries in 1.5 s at a cap of 400/s, want 600 ±2%%", got)
	}
}

// TestRateCapDoesNotBurstAfterIdling: a capped consumer that waited for
// deliveries does not catch up on the schedule it missed: after a second
// with nothing, a burst of 100 deliveries is taken at the cap (200/s),
// at most capSlack ahead of it, not at once.
func TestRateCapDoesNotBurstAfterIdling(t *testing.T) {
	brokertest.MeasuresTheClient(t) // mqbench's own timing: once, in the first pass
	c, in := capped(t, 200)
	in <- amqp.Delivery{}
	time.Sleep(time.Second)
	from := consumed(c)
	start := time.Now()
	for range 100 {
		in <- amqp.Delivery{}
	}
	time.Sleep(60 * time.Millisecond)
	got, took := consumed(c)-from, time.Since(start)
	// Missing a second's schedule, the consumer could take all 100; the
	// cap allows (took + capSlack) × 200/s + 1.
	if most := int64((took+capSlack).Seconds()*200) + 1; got > most || got < 10 {
		t.Fatalf("took %d deliveries %v after a burst, at a cap of 200/s: want 10 to %d", got, took, most)
	}
}

// TestCrashDueCountsDeliveries: a consumer set to crash every 3
// deliveries crashes on the 3rd, 6th, 9th; a run's change of setting
// counts from the next delivery on.
func TestCrashDueCountsDeliveries(t *testing.T) {
	c := &consumer{}
	c.behave.setCrashEvery(3)
	var at []int
	for i := 1; i <= 9; i++ {
		if c.crashDue() {
			at = append(at, i)
		}
	}
	if len(at) != 3 || at[0] != 3 || at[1] != 6 || at[2] != 9 {
		t.Fatalf("crashed at deliveries %v, want 3, 6, 9", at)
	}
	c.behave.setCrashEvery(0)
	for range 10 {
		if c.crashDue() {
			t.Fatal("crashed with crashes off")
		}
	}
}

// TestSetRateAndDelay: the settings a run may change (a phase) take
// effect as set; a delay that is always zero is no delay at all.
func TestSetRateAndDelay(t *testing.T) {
	var b behaviour
	b.setRate(250)
	if b.interval.Load() != int64(4*time.Millisecond) {
		t.Fatalf("interval %v at 250/s", time.Duration(b.interval.Load()))
	}
	b.setRate(0)
	if b.interval.Load() != 0 {
		t.Fatal("a zero rate still caps")
	}
	b.setDelay(scenario.Delay{Distribution: scenario.DelayExponential, Mean: scenario.Duration(time.Millisecond)})
	if d := b.delay.Load(); d == nil || d.Distribution != scenario.DelayExponential {
		t.Fatalf("delay %+v", d)
	}
	b.setDelay(scenario.Delay{Distribution: scenario.DelayUniform})
	if b.delay.Load() != nil {
		t.Fatal("a uniform delay between 0 and 0 is processed")
	}
}

// TestBehaviourDoesNotAllocate: what a capped, crash-counting consumer
// with a drawn processing time adds per delivery — the cap's wait, the
// draw, the sleep, the measured time — allocates nothing once its timer
// and histogram exist (made on first use).
func TestBehaviourDoesNotAllocate(t *testing.T) {
	c, d := hotConsumer(false)
	c.behave.init(0, scenario.Consumers{
		Rate: scenario.MaxRate, CrashEvery: 1 << 40,
		Delay: scenario.Duration(time.Microsecond), DelayDistribution: scenario.DelayLogNormal, DelaySigma: 0.5,
	}, newProcHists())
	seq := uint32(0)
	deliver := func() {
		stamp.Write(d.Body, seq, c.clock.Now())
		seq++
		c.next()
		c.taken()
		c.handle(d)
		c.crashDue()
	}
	if n := testing.AllocsPerRun(1000, deliver); n != 0 {
		t.Fatalf("%.2f allocations per delivery", n)
	}
	if s, err := c.behave.proc.summary(); err != nil || s == nil || s.Count < 1000 {
		t.Fatalf("processing times %+v, %v: want every delivery's", s, err)
	}
}
