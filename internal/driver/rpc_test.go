package driver

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

func rpcScenario() scenario.Scenario {
	sc := scenario.Default()
	sc.Producers.Count, sc.Consumers.Count = 0, 0
	sc.RPC.Clients, sc.RPC.Servers = 1, 1
	return sc
}

// assertCallbackQueuesGone: the clients' server-named callback queues went
// with their connections, and the request queue mqbench created is gone.
func assertRPCLeftNothing(t *testing.T, sc scenario.Scenario, res *result.Result) {
	t.Helper()
	assertNothingLeft(t, sc, res)
	c := brokertest.Conn(t, sc.URL)
	if brokertest.QueueExists(t, c, sc.RPC.Queue) {
		t.Errorf("request queue %s is still on the broker", sc.RPC.Queue)
	}
}

// TestRPCEveryRequestGetsExactlyOneReply, in both reply modes.
func TestRPCEveryRequestGetsExactlyOneReply(t *testing.T) {
	for _, mode := range []string{scenario.ReplyExclusive, scenario.ReplyDirect} {
		t.Run(mode, func(t *testing.T) {
			sc := rpcScenario()
			sc.RPC.Clients, sc.RPC.ClientConnections, sc.RPC.Concurrency = 3, 2, 5
			sc.RPC.Servers, sc.RPC.ServerConcurrency = 2, 2
			sc.RPC.Requests = 3000
			sc.RPC.ReplyMode = mode
			sc.RPC.ServerWork, sc.RPC.FibonacciN = scenario.WorkFibonacci, 25
			own(t, &sc)
			res := runOK(t, sc)
			tot := res.Totals
			if res.StopReason != result.StopMessageCount {
				t.Errorf("stop reason %q", res.StopReason)
			}
			if val(tot.RPCRequests) != 3000 || val(tot.RPCReplies) != 3000 || val(tot.RPCServed) != 3000 {
				t.Fatalf("requests %d replies %d served %d; want 3000 each", val(tot.RPCRequests), val(tot.RPCReplies), val(tot.RPCServed))
			}
			if val(tot.RPCTimeouts)+val(tot.RPCUnmatched)+val(tot.RPCLate)+val(tot.RPCDuplicates) != 0 {
				t.Fatalf("timeouts %d unmatched %d late %d duplicates %d; want none",
					val(tot.RPCTimeouts), val(tot.RPCUnmatched), val(tot.RPCLate), val(tot.RPCDuplicates))
			}
			if res.Latency[metrics.RPC] == nil || res.Latency[metrics.RPC].Count != 3000 || res.Latency[metrics.RPCServer].Count != 3000 {
				t.Fatalf("latency counts: rpc %+v server %+v", res.Latency[metrics.RPC], res.Latency[metrics.RPCServer])
			}
			assertRPCLeftNothing(t, sc, res)
		})
	}
}

// TestRPCTimeoutsCountedApart: a server slower than the timeout produces
// timeouts and late replies, and neither enters the latency.
func TestRPCTimeoutsCountedApart(t *testing.T) {
	sc := rpcScenario()
	sc.Duration = scenario.Duration(1500 * time.Millisecond)
	sc.RPC.Concurrency = 2
	sc.RPC.Timeout = scenario.Duration(100 * time.Millisecond)
	sc.RPC.ServerConcurrency = 2
	sc.RPC.ServerDelay = scenario.Delay{Distribution: scenario.DelayFixed, Mean: scenario.Duration(150 * time.Millisecond)}
	own(t, &sc)
	res := runOK(t, sc)
	tot := res.Totals
	if val(tot.RPCTimeouts) < 10 || val(tot.RPCReplies) != 0 {
		t.Fatalf("timeouts %d replies %d: every request should time out", val(tot.RPCTimeouts), val(tot.RPCReplies))
	}
	if val(tot.RPCLate) == 0 {
		t.Error("no late replies counted, though the server answers every request after its timeout")
	}
	if res.Latency[metrics.RPC] != nil {
		t.Errorf("late replies leaked into the latency: %+v", res.Latency[metrics.RPC])
	}
	if val(tot.RPCRequests) != val(tot.RPCTimeouts) {
		t.Errorf("requests %d, timeouts %d: every request ends exactly one way", val(tot.RPCRequests), val(tot.RPCTimeouts))
	}
	assertRPCLeftNothing(t, sc, res)
}

// TestRPCQueueingPhysics: S servers of concurrency 1 and delay d serve at
// most S/d requests per second; with C requests outstanding the round trip
// approaches C·d/S (Little's law) and is never below d.
func TestRPCQueueingPhysics(t *testing.T) {
	const servers, clients, concurrency = 2, 2, 4
	const d = 20 * time.Millisecond
	sc := rpcScenario()
	sc.Duration, sc.Warmup = scenario.Duration(5*time.Second), scenario.Duration(time.Second)
	sc.RPC.Clients, sc.RPC.Concurrency = clients, concurrency
	sc.RPC.Servers, sc.RPC.ServerConcurrency = servers, 1
	sc.RPC.ServerDelay = scenario.Delay{Distribution: scenario.DelayFixed, Mean: scenario.Duration(d)}
	own(t, &sc)
	res := runOK(t, sc)
	capacity := float64(servers) / d.Seconds() // 100/s
	rate := *res.Rates.RPCRepliesPerS
	if rate > capacity*1.02 {
		t.Errorf("reply rate %.1f/s exceeds the servers' capacity S/d = %.0f/s", rate, capacity)
	}
	if rate < capacity*0.85 {
		t.Errorf("reply rate %.1f/s, want close to S/d = %.0f/s with %d requests outstanding", rate, capacity, clients*concurrency)
	}
	little := time.Duration(clients*concurrency) * d / servers // 80ms
	p50 := time.Duration(res.Latency[metrics.RPC].P50Us) * time.Microsecond
	if p50 < little*9/10 || p50 > little*13/10 {
		t.Errorf("median round trip %v, want about C·d/S = %v", p50, little)
	}
	if min := time.Duration(res.Latency[metrics.RPC].MinUs) * time.Microsecond; min < d {
		t.Errorf("a round trip of %v is shorter than the server delay %v", min, d)
	}
	if min := time.Duration(res.Latency[metrics.RPCServer].MinUs) * time.Microsecond; min < d {
		t.Errorf("server processing of %v is shorter than its delay %v", min, d)
	}
}

// TestRPCProfilesAnExistingService: with no built-in servers, clients send
// a body from a file to an existing queue served by someone else, and the
// queue is left in place.
func TestRPCProfilesAnExistingService(t *testing.T) {
	sc := rpcScenario()
	sc.RPC.Servers = 0
	sc.RPC.Requests, sc.RPC.Concurrency = 200, 4
	sc.RPC.Queue = "mqbench-service-" + brokertest.Suffix(t)
	body := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(body, []byte(`{"op":"ping"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	sc.RPC.Body = body
	own(t, &sc)

	c := brokertest.Conn(t, sc.URL)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { brokertest.DeleteQueue(c, sc.RPC.Queue) })
	if _, err := ch.QueueDeclare(sc.RPC.Queue, true, false, false, false, nil); err != nil { // durable: 4.3 refuses transient non-exclusive queues
		t.Fatal(err)
	}
	// The "service": answers {"op":"ping"} with pong, anything else with an error.
	reqs, err := ch.Consume(sc.RPC.Queue, "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for d := range reqs {
			reply := []byte("pong")
			if string(d.Body) != `{"op":"ping"}` {
				reply = []byte("bad request")
			}
			_ = ch.Publish("", d.ReplyTo, false, false, amqp.Publishing{CorrelationId: d.CorrelationId, Body: reply})
		}
	}()
	res := runOK(t, sc)
	if val(res.Totals.RPCReplies) != 200 || res.Totals.RPCServed != nil {
		t.Fatalf("replies %d served %v; want 200 and null (no built-in servers)", val(res.Totals.RPCReplies), res.Totals.RPCServed)
	}
	if !brokertest.QueueExists(t, c, sc.RPC.Queue) {
		t.Fatal("the service's own request queue was deleted")
	}

	missing := sc
	missing.RPC.Queue = "mqbench-no-such-service-" + brokertest.Suffix(t)
	if _, err := Run(t.Context(), missing, Options{}); err == nil || !contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want a clear error for a missing request queue without servers", err)
	}
}
