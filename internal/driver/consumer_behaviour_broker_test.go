package driver

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestConsumerRateCap: two consumers capped at 100 deliveries a second
// each, behind a producer publishing 400 a second, consume 200 a second
// over a 10-second run, ±2%; nothing is lost.
func TestConsumerRateCap(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(10 * time.Second)
	sc.DrainTimeout = scenario.Duration(time.Second) // a backlog is left: the drain would go on at the cap
	sc.Producers = scenario.Producers{Count: 1, Rate: 400, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 20, Rate: 100}
	sc.Queues = []scenario.Queue{{Name: "mqbench-consumer-rate"}}
	own(t, &sc)
	res := runOK(t, sc)
	rate := *res.Rates.ConsumedPerS
	t.Logf("consumed %d at %.1f/s over %.2f s; audit %+v", val(res.Totals.Consumed), rate, *res.Rates.ConsumedOverS, res.Audit.Total)
	if math.Abs(rate-200) > 4 {
		t.Errorf("consumed %.1f/s with two consumers capped at 100/s: want 200 ±2%%", rate)
	}
	if a := res.Audit.Total; a.Lost != 0 || a.Left == 0 || !res.Audit.Balanced {
		t.Errorf("audit %+v: a backlog left behind capped consumers, nothing lost", a)
	}
}

// queueSample is what the broker said of a queue at one moment.
type queueSample struct {
	at                  time.Duration // since the watch began
	messages, consumers int
}

// watchQueue samples the queue's ready messages and consumers as the
// broker counts them (a passive declare on a connection of its own) every
// 50 ms until ctx ends, and returns the samples then.
func watchQueue(ctx context.Context, t *testing.T, url, name string) func() []queueSample {
	conn := brokerConn(t, url)
	var out []queueSample
	done := make(chan struct{})
	go func() {
		defer close(done)
		begin := time.Now()
		var ch *amqp.Channel
		for ctx.Err() == nil {
			if ch == nil || ch.IsClosed() {
				ch, _ = conn.Channel()
			}
			if ch != nil {
				// Before the run declares the queue the declare fails and
				// closes the channel: a new one is opened next time.
				if q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil); err == nil {
					out = append(out, queueSample{time.Since(begin), q.Messages, q.Consumers})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() []queueSample { <-done; return out }
}

// TestConsumerStartDelay: a consumer with a 3-second start delay is not
// subscribed for 3 seconds — the broker sees no consumer, and what the
// producer publishes meanwhile waits ready in the queue — then it
// subscribes and consumes everything.
func TestConsumerStartDelay(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(5 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Rate: 100, Confirm: 50}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 50, StartDelay: scenario.Duration(3 * time.Second)}
	sc.Queues = []scenario.Queue{{Name: "mqbench-start-delay"}}
	own(t, &sc)
	ctx, cancel := context.WithCancel(context.Background())
	samples := watchQueue(ctx, t, sc.URL, sc.Queues[0].Name)
	res := runOK(t, sc)
	cancel()
	var firstReady, subscribed time.Duration = -1, -1
	readyBefore := 0
	for _, s := range samples() {
		if firstReady < 0 && s.messages > 0 {
			firstReady = s.at
		}
		if s.consumers > 0 {
			subscribed = s.at
			break
		}
		readyBefore = s.messages
	}
	t.Logf("first ready message at %v, consumer subscribed at %v with %d ready; consumed %d", firstReady, subscribed, readyBefore, val(res.Totals.Consumed))
	if firstReady < 0 || subscribed < 0 {
		t.Fatal("the broker never saw a ready message, or never the consumer")
	}
	// The producer publishes from the start signal on, the consumer
	// subscribes 3 s after it; the samples are 50 ms apart.
	if d := subscribed - firstReady; d < 2900*time.Millisecond || d > 3500*time.Millisecond {
		t.Errorf("the consumer subscribed %v after the first message was ready: want 3 s", d)
	}
	if readyBefore < 250 {
		t.Errorf("%d messages ready just before the consumer subscribed: want the ~300 published in 3 s, waiting in the queue", readyBefore)
	}
	for _, iv := range res.Intervals {
		if iv.TS <= 2.5 && iv.Consumed != 0 {
			t.Errorf("interval at %.1f s consumed %d before the start delay ended", iv.TS, iv.Consumed)
		}
	}
	if a := res.Audit.Total; a.Lost != 0 || a.Left != 0 || a.Consumed != res.Totals.Published || !res.Audit.Balanced {
		t.Errorf("audit %+v: everything published is consumed once the consumer starts", a)
	}
}

// TestConsumerProcessingTimes: the processing times consumers measure,
// for each distribution, against the distribution's mean and quantiles,
// 10,000 messages over 100 consumers at a mean of 50 ms each.
//
// A measured time is the draw plus how late the sleep ended: never
// earlier, so each figure is at least the distribution's, less three
// standard errors of its estimate at this sample size (from the
// distribution's spread, and its density at the quantile) and the
// histogram's 0.1%. How much later is the machine's, measured alongside:
// by the consumers themselves in the first run, whose delay is fixed (its
// p90 and p99 less the delay), and during each run by goroutines of the
// test sleeping 50 ms over and over in the same process. On the 2-core
// development machine under a load of 8, a sleep ends 0.5 ms late at the
// median, 1 to 4 ms at p90 and 10 to 40 ms at p99, and a hundred
// consumers waking beside the client library's readers later still. Each
// figure may exceed the distribution's by the same three standard errors
// plus the larger of the two p90 overshoots (the mean, p50 and p90), or
// of the two p99 (the p99). The fixed run has no spread: its mean and
// median are checked against the test's sleepers alone, its p90 and p99
// are the overshoot.
func TestConsumerProcessingTimes(t *testing.T) {
	const n = 10_000
	ms := scenario.Duration(time.Millisecond)
	var fixedOver overshoots // the consumers' own, from the fixed run
	for _, d := range []scenario.Delay{
		{Distribution: scenario.DelayFixed, Mean: 50 * ms},
		{Distribution: scenario.DelayUniform, Min: 25 * ms, Max: 75 * ms},
		{Distribution: scenario.DelayExponential, Mean: 50 * ms},
		{Distribution: scenario.DelayLogNormal, Mean: 50 * ms, Sigma: 0.5},
	} {
		t.Run(d.Distribution, func(t *testing.T) {
			sc := scenario.Default()
			sc.DrainTimeout = scenario.Duration(30 * time.Second)
			sc.Producers = scenario.Producers{Count: 1, Messages: n, Confirm: 500}
			sc.Consumers = scenario.Consumers{Count: 100, Connections: 10, Ack: scenario.AckManual, Prefetch: 1,
				Delay: d.Mean, DelayDistribution: d.Distribution, DelayMin: d.Min, DelayMax: d.Max, DelaySigma: d.Sigma}
			sc.Queues = []scenario.Queue{{Name: "mqbench-processing"}}
			own(t, &sc)
			over := sleepOvershoot(t, 50*time.Millisecond)
			res := runOK(t, sc)
			o := over()
			p := processing(t, res)
			if p.Count != n {
				t.Fatalf("%d processing times measured, want one per message (%d)", p.Count, n)
			}
			if d.Distribution == scenario.DelayFixed {
				us := func(v int64) time.Duration { return time.Duration(v)*time.Microsecond - d.Mean.D() }
				fixedOver = overshoots{sorted: []time.Duration{us(p.P50Us), us(p.P90Us), us(p.P99Us)}}
				t.Logf("the consumers' own overshoot: p90 %v, p99 %v", fixedOver.sorted[1], fixedOver.sorted[2])
			}
			allow := func(q float64) time.Duration {
				if q <= 0.9 {
					return max(o.quantile(0.9), fixedOver.at(1))
				}
				return max(o.quantile(0.99), fixedOver.at(2))
			}
			sd, density := spread(d)
			within(t, "mean", time.Duration(p.MeanUs*1e3), d.Average(), 3*sd/math.Sqrt(n), allow(0.9))
			for _, q := range []struct {
				q   float64
				got int64
			}{{0.5, p.P50Us}, {0.9, p.P90Us}, {0.99, p.P99Us}} {
				if d.Distribution == scenario.DelayFixed && q.q > 0.5 {
					continue
				}
				se := math.Sqrt(q.q*(1-q.q)/n) / density(float64(d.Quantile(q.q)))
				within(t, fmt.Sprintf("p%g", 100*q.q), time.Duration(q.got*1e3), d.Quantile(q.q), 3*se, allow(q.q))
			}
		})
	}
}

// overshoots are how late sleeps ended.
type overshoots struct {
	mean   time.Duration
	sorted []time.Duration
}

// at is the i-th overshoot, 0 when there is none.
func (o overshoots) at(i int) time.Duration {
	if i >= len(o.sorted) {
		return 0
	}
	return o.sorted[i]
}

func (o overshoots) quantile(q float64) time.Duration {
	if len(o.sorted) == 0 {
		return 0
	}
	return o.sorted[min(int(q*float64(len(o.sorted))), len(o.sorted)-1)]
}

// sleepOvershoot measures, until the returned function is called, how
// late sleeps of d end in this process: 20 goroutines sleeping over and
// over.
func sleepOvershoot(t *testing.T, d time.Duration) func() overshoots {
	stop := make(chan struct{})
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				time.Sleep(d)
				late := time.Since(start) - d
				mu.Lock()
				all = append(all, late)
				mu.Unlock()
			}
		}()
	}
	return func() overshoots {
		close(stop)
		wg.Wait()
		slices.Sort(all)
		var sum time.Duration
		for _, v := range all {
			sum += v
		}
		o := overshoots{sorted: all}
		if len(all) > 0 {
			o.mean = sum / time.Duration(len(all))
		}
		t.Logf("sleep overshoot over %d sleeps: mean %v, p50 %v, p90 %v, p99 %v", len(all), o.mean, o.quantile(0.5), o.quantile(0.9), o.quantile(0.99))
		return o
	}
}

// processing is the consumers' measured processing times.
func processing(t *testing.T, res *result.Result) *metrics.Summary {
	t.Helper()
	k := res.Kinds["consumer"]
	if k == nil || k.Latency["processing"] == nil {
		t.Fatalf("no processing times in the result's kinds: %+v", res.Kinds)
	}
	return k.Latency["processing"]
}

// spread is a delay distribution's standard deviation (ns) and its
// density (per ns) at x ns.
func spread(d scenario.Delay) (float64, func(x float64) float64) {
	m := float64(d.Average())
	switch d.Distribution {
	case scenario.DelayUniform:
		w := float64(d.Max - d.Min)
		return w / math.Sqrt(12), func(float64) float64 { return 1 / w }
	case scenario.DelayExponential:
		return m, func(x float64) float64 { return math.Exp(-x/m) / m }
	case scenario.DelayLogNormal:
		s := d.Sigma
		mu := math.Log(m) - s*s/2
		return m * math.Sqrt(math.Exp(s*s)-1), func(x float64) float64 {
			z := (math.Log(x) - mu) / s
			return math.Exp(-z*z/2) / (x * s * math.Sqrt(2*math.Pi))
		}
	}
	return 0, func(float64) float64 { return math.Inf(1) }
}

// within checks a measured time against the expected one: at least
// want less tol (ns), at most want plus tol plus the sleeps' overshoot,
// and the histogram's 0.1% either way.
func within(t *testing.T, what string, got, want time.Duration, tol float64, overshoot time.Duration) {
	t.Helper()
	lo := float64(want) - tol - 0.001*float64(want)
	hi := float64(want) + tol + 0.001*float64(want) + float64(overshoot)
	t.Logf("%s %v, want %v (%v to %v)", what, got, want, time.Duration(lo), time.Duration(hi))
	if float64(got) < lo || float64(got) > hi {
		t.Errorf("%s %v, want %v: outside %v to %v", what, got, want, time.Duration(lo), time.Duration(hi))
	}
}
