package capacity

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/driver"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// brokerSearch runs a short-step search of sc against the test broker.
func brokerSearch(t *testing.T, sc scenario.Scenario, cfg Config) *Doc {
	t.Helper()
	sc.URL = brokertest.URL(t)
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatal(p)
	}
	cfg.Base, cfg.Step, cfg.Warmup, cfg.Precision = sc, 1500*time.Millisecond, 500*time.Millisecond, 0.08
	cfg.Run = func(ctx context.Context, v scenario.Scenario) (*result.Result, error) {
		return driver.Run(ctx, v, driver.Options{Version: "test"})
	}
	doc, err := Search(t.Context(), withKinds(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range doc.Steps {
		t.Logf("%-8s %6.0f/s pass %-5v %v", st.Phase, st.TargetRate, st.Pass, st.Reasons)
	}
	return doc
}

// consumerBound is N consumers with prefetch 1, manual acks and a
// processing delay d on one queue: they serve at most N/d messages a
// second.
func consumerBound(n int, d time.Duration) scenario.Scenario {
	sc := scenario.Default()
	sc.DrainTimeout = scenario.Duration(time.Second)
	sc.Producers = scenario.Producers{Count: 1}
	sc.Consumers = scenario.Consumers{Count: n, Ack: scenario.AckManual, Prefetch: 1, Delay: scenario.Duration(d)}
	return sc
}

// TestCapacityObeysConsumerPhysics: 2 consumers × 10 ms serve at most
// 200 msg/s; the capacity found lies just under it (each message also
// costs an ack round trip and a timer's lateness).
func TestCapacityObeysConsumerPhysics(t *testing.T) {
	doc := brokerSearch(t, consumerBound(2, 10*time.Millisecond), Config{MinRate: 50, MaxRate: 400})
	got, bound := doc.Capacity.RatePerS, 200.0
	// What the consumers really served when overloaded (a step that failed
	// on the backlog): on a busy machine a 10 ms sleep runs late, and that
	// rate, not N/d, is what the machine could reach at that moment.
	served := bound
	for _, st := range doc.Steps {
		if slices.Contains(st.Failed, CheckBacklog) && st.Result != nil && st.Result.Rates.ConsumedPerS != nil {
			served = min(served, *st.Result.Rates.ConsumedPerS)
		}
	}
	t.Logf("capacity %.0f msg/s, N/d = %.0f (%.0f%%), served when overloaded %.0f (%.0f%%)", got, bound, 100*got/bound, served, 100*got/served)
	if got > bound || got < 0.75*served {
		t.Fatalf("capacity %.0f msg/s: want just under N/d = %.0f, and at least 75%% of what the consumers served when overloaded (%.0f)", got, bound, served)
	}
	if doc.Capacity.LimitedBy != CheckBacklog {
		t.Errorf("limited by %q, want the backlog (the consumers could not keep up)", doc.Capacity.LimitedBy)
	}
}

// TestCapacityObeysRPCServerPhysics: 2 RPC servers of concurrency 1 that
// take 10 ms per request serve at most 200 requests a second.
func TestCapacityObeysRPCServerPhysics(t *testing.T) {
	sc := scenario.Default()
	sc.DrainTimeout = scenario.Duration(time.Second)
	sc.Producers.Count, sc.Consumers.Count = 0, 0
	sc.Queues = nil
	sc.RPC.Clients, sc.RPC.Concurrency, sc.RPC.Servers = 2, 16, 2
	sc.RPC.Timeout = scenario.Duration(3 * time.Second)
	sc.RPC.ServerDelay = scenario.Delay{Distribution: scenario.DelayFixed, Mean: scenario.Duration(10 * time.Millisecond)}
	sc.RPC.Queue = "mqbench-capacity-rpc-" + brokertest.Suffix(t)
	doc := brokerSearch(t, sc, Config{MinRate: 50, MaxRate: 400})
	got, bound := doc.Capacity.RatePerS, 200.0
	// What a server really takes per request (the sleep overshoots, the
	// reply must be published, and on a busy machine both take longer),
	// as the servers measured it at the capacity found: S over that is
	// the bound the machine could reach.
	served := bound
	if r := doc.Best(); r != nil && r.Latency[metrics.RPCServer] != nil {
		served = 2 / (r.Latency[metrics.RPCServer].MeanUs / 1e6)
	}
	t.Logf("capacity %.0f req/s, S/d = %.0f (%.0f%%), S/measured service time = %.0f (%.0f%%)",
		got, bound, 100*got/bound, served, 100*got/served)
	if got > bound || got < 0.75*min(bound, served) {
		t.Fatalf("capacity %.0f req/s: want just under S/d = %.0f, and at least 75%% of S/(measured service time) = %.0f", got, bound, served)
	}
}

// TestTighterLatencyObjectiveNeverHigherOnTheBroker: the same setup
// searched with a tight and a loose p99 objective; the tight one's
// capacity is not higher (beyond the search's precision).
func TestTighterLatencyObjectiveNeverHigherOnTheBroker(t *testing.T) {
	sc := consumerBound(2, 5*time.Millisecond) // at most 400 msg/s
	tight := brokerSearch(t, sc, Config{MinRate: 100, MaxRate: 800, SLO: []Objective{{Path: "latency.end_to_end.p99_us", Max: 8000}}})
	loose := brokerSearch(t, sc, Config{MinRate: 100, MaxRate: 800, SLO: []Objective{{Path: "latency.end_to_end.p99_us", Max: 200000}}})
	t.Logf("p99 ≤ 8 ms: %.0f msg/s; p99 ≤ 200 ms: %.0f msg/s", tight.Capacity.RatePerS, loose.Capacity.RatePerS)
	if tight.Capacity.RatePerS > loose.Capacity.RatePerS*1.08 {
		t.Fatalf("the tighter objective found more capacity: %.0f > %.0f", tight.Capacity.RatePerS, loose.Capacity.RatePerS)
	}
}

// fallingBehind checks a search of consumers that serve at most bound
// msg/s: the capacity lies under it, and every step above it failed on the
// backlog — which counts what the consumers hold delivered and
// unprocessed, and a stream's consumer lag: the queue's ready count alone
// stays 0 there — whatever the consumed-against-published check said.
func fallingBehind(t *testing.T, doc *Doc, bound float64) {
	t.Helper()
	got := doc.Capacity.RatePerS
	t.Logf("capacity %.0f msg/s, bound %.0f (%.0f%%), limited by %s", got, bound, 100*got/bound, doc.Capacity.LimitedBy)
	if got > bound || got < 0.75*bound {
		t.Fatalf("capacity %.0f msg/s: want just under the consumers' %.0f msg/s", got, bound)
	}
	if l := doc.Capacity.LimitedBy; l != CheckBacklog && l != CheckConsumed {
		t.Errorf("limited by %q, want the backlog or consumed (the consumers could not keep up)", l)
	}
	for _, st := range doc.Steps {
		if st.TargetRate > bound*1.05 && !slices.Contains(st.Failed, CheckBacklog) {
			t.Errorf("step at %.0f/s (above %.0f) failed on %v, not on the backlog", st.TargetRate, bound, st.Failed)
		}
	}
}

// TestCapacityUnackedPileUpFails: two consumers with prefetch 1,000 that
// spend 10 ms per message serve at most 200 msg/s; above it deliveries
// pile up unacknowledged in their buffers while the queue's ready count
// stays 0, and those steps must still fail.
func TestCapacityUnackedPileUpFails(t *testing.T) {
	sc := consumerBound(2, 10*time.Millisecond)
	sc.Consumers.Prefetch = 1000
	fallingBehind(t, brokerSearch(t, sc, Config{MinRate: 50, MaxRate: 400}), 200)
}

// TestCapacityStreamConsumerFallsBehind: a stream-only search whose one
// consumer spends 10 ms per message serves at most 100 msg/s; above it
// the consumer lags behind the stream, and those steps must fail.
func TestCapacityStreamConsumerFallsBehind(t *testing.T) {
	sc := consumerBound(1, 10*time.Millisecond)
	sc.Consumers.Prefetch = 100
	name := "mqbench-capacity-stream-" + brokertest.Suffix(t)
	sc.Queues = []scenario.Queue{{Name: name, Type: scenario.QueueStream}}
	c := brokertest.Conn(t, brokertest.URL(t))
	// Each step deletes its stream; this is for a step that could not.
	t.Cleanup(func() { brokertest.DeleteQueue(c, name) })
	fallingBehind(t, brokerSearch(t, sc, Config{MinRate: 25, MaxRate: 200}), 100)
}
