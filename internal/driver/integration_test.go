package driver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// own gives a scenario's named queues and exchange the test's own suffix,
// makes its named classic queues durable (RabbitMQ 4.3 refuses transient
// non-exclusive queues; the tests run on 3.10 and 4.x alike) and points
// it at the test broker.
func own(t *testing.T, sc *scenario.Scenario) {
	t.Helper()
	for i := range sc.Queues {
		q := &sc.Queues[i]
		if q.Name != "" && !q.Exclusive && (q.Type == "" || q.Type == scenario.QueueClassic) {
			q.Durable = true
		}
	}
	ownAsShipped(t, sc)
}

// ownAsShipped is own without the durability: a shipped scenario must run
// as users get it, on every broker.
func ownAsShipped(t *testing.T, sc *scenario.Scenario) {
	t.Helper()
	sc.URL = brokertest.URL(t)
	suffix := brokertest.Suffix(t)
	if !sc.Exchange.Predeclared() {
		sc.Exchange.Name += "-" + suffix
	}
	for i := range sc.Queues {
		if q := &sc.Queues[i]; q.Name != "" {
			q.Name += "-" + suffix
		}
	}
	if sc.RPC.Enabled() && sc.RPC.Servers > 0 {
		sc.RPC.Queue += "-" + suffix
	}
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatalf("invalid scenario: %v", p)
	}
	// Clean up even when the run fails half-way, on the broker itself (a
	// test may point the scenario at a proxy afterwards).
	brokerURL := sc.URL
	t.Cleanup(func() {
		c, err := amqp.Dial(brokerURL)
		if err != nil {
			return
		}
		defer c.Close()
		for _, n := range sc.QueueNames() {
			if n != "" {
				brokertest.DeleteQueue(c, n)
			}
		}
		if sc.RPC.Servers > 0 {
			brokertest.DeleteQueue(c, sc.RPC.Queue)
		}
		if !sc.Exchange.Predeclared() {
			brokertest.DeleteExchange(c, sc.Exchange.Name)
		}
	})
}

func runOK(t *testing.T, sc scenario.Scenario) *result.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, sc, Options{Version: "test"})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// assertNothingLeft checks that every queue and the exchange the run used
// are gone from the broker.
func assertNothingLeft(t *testing.T, sc scenario.Scenario, res *result.Result) {
	t.Helper()
	c := brokertest.Conn(t, sc.URL)
	for _, q := range res.Queues {
		if brokertest.QueueExists(t, c, q.Name) {
			t.Errorf("queue %s is still on the broker", q.Name)
		}
	}
	if !sc.Exchange.Predeclared() && brokertest.ExchangeExists(t, c, sc.Exchange.Name) {
		t.Errorf("exchange %s is still on the broker", sc.Exchange.Name)
	}
}

// lastPhaseEnd is how a brief run of a shipped scenario must stop: at its
// duration, or with its last phase.
func lastPhaseEnd(sc scenario.Scenario, res *result.Result) string {
	switch {
	case len(sc.Phases) == 0:
		return result.StopDuration
	case len(res.Phases) != len(sc.Phases):
		return "(every phase)"
	}
	return res.Phases[len(res.Phases)-1].Ended
}

func val(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// TestScenarioFiles runs every shipped scenario briefly and checks what
// must hold for any of them.
func TestScenarioFiles(t *testing.T) {
	files, err := filepath.Glob("../../bench/scenarios/*.yaml")
	if err != nil || len(files) < 6 {
		t.Fatalf("found %d scenario files (%v), want at least 6", len(files), err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			sc, _, err := scenario.Load(f, scenario.Default())
			if err != nil {
				t.Fatal(err)
			}
			sc.Duration = scenario.Duration(1500 * time.Millisecond)
			sc.Warmup = 0
			if sc.Phased() { // its phases, shortened, leaving a phase that ends on a condition time to meet it
				sc.FitPhases(2 * time.Second)
				sc.Duration = scenario.Duration(4 * time.Second)
			}
			ownAsShipped(t, &sc)
			res := runOK(t, sc)
			if wantStop := lastPhaseEnd(sc, res); res.StopReason != wantStop {
				t.Errorf("stop reason %q, want %s (%d of %d phases)", res.StopReason, wantStop, len(res.Phases), len(sc.Phases))
			}
			if sc.Producers.Count > 0 && (res.Totals.Published == 0 || val(res.Totals.Consumed) <= 0) {
				t.Errorf("published %d, consumed %d: want traffic", res.Totals.Published, val(res.Totals.Consumed))
			}
			if sc.RPC.Clients > 0 && (val(res.Totals.RPCRequests) <= 0 || val(res.Totals.RPCReplies) <= 0 || res.Latency[metrics.RPC] == nil) {
				t.Errorf("rpc requests %d, replies %d: want RPC traffic", val(res.Totals.RPCRequests), val(res.Totals.RPCReplies))
			}
			if sc.Producers.Confirm > 0 && val(res.Totals.Confirmed) != res.Totals.Published {
				t.Errorf("confirmed %d of %d published", val(res.Totals.Confirmed), res.Totals.Published)
			}
			if sc.Consumers.Count > 0 && (res.Latency[metrics.EndToEnd] == nil || res.Latency[metrics.EndToEnd].Count == 0) {
				t.Error("no end-to-end latency")
			}
			if res.Broker.Product != "RabbitMQ" || res.Broker.Version == "" {
				t.Errorf("broker %+v: want product and version from the server properties", res.Broker)
			}
			assertNothingLeft(t, sc, res)
		})
	}
}

// TestConfirmsAndManualAcksLoseNothing: with confirms and manual acks,
// everything published is confirmed and consumed.
func TestConfirmsAndManualAcksLoseNothing(t *testing.T) {
	for _, ack := range []string{scenario.AckManual, scenario.AckMultiple} {
		t.Run(ack, func(t *testing.T) {
			sc := scenario.Default()
			sc.Producers = scenario.Producers{Count: 3, Connections: 2, Messages: 6001, Confirm: 50, Size: 64}
			sc.Consumers = scenario.Consumers{Count: 2, Ack: ack, Prefetch: 100}
			if ack == scenario.AckMultiple {
				sc.Consumers.MultiAckEvery = 7 // 6001 is no multiple of 7: the tail must still be acked
			}
			sc.Queues = []scenario.Queue{{Name: "mqbench-lose-nothing"}}
			own(t, &sc)
			res := runOK(t, sc)
			if res.StopReason != result.StopMessageCount {
				t.Errorf("stop reason %q, want message-count", res.StopReason)
			}
			if res.Totals.Published != 6001 || val(res.Totals.Confirmed) != 6001 || val(res.Totals.Consumed) != 6001 || val(res.Totals.Nacked) != 0 {
				t.Fatalf("published %d confirmed %d consumed %d nacked %d; want 6001, 6001, 6001, 0",
					res.Totals.Published, val(res.Totals.Confirmed), val(res.Totals.Consumed), val(res.Totals.Nacked))
			}
			if res.Latency[metrics.Confirm] == nil || res.Latency[metrics.Confirm].Count != 6001 || res.Latency[metrics.EndToEnd].Count != 6001 {
				t.Errorf("latency counts: confirm %+v, e2e %d; want 6001 each", res.Latency[metrics.Confirm], res.Latency[metrics.EndToEnd].Count)
			}
			if q := res.Queues[0]; q.Consumed != 6001 || val(q.Depth) != 0 {
				t.Errorf("queue %s consumed %d, %d left; want 6001, 0", q.Name, q.Consumed, val(q.Depth))
			}
			if a := res.Audit; a == nil || !a.Balanced || a.Total.Expected != 6001 || a.Total.Consumed != 6001 ||
				a.Total.Lost+a.Total.Unconfirmed+a.Total.Duplicates+a.Total.Unexpected != 0 {
				t.Errorf("audit %+v", a)
			}
			assertNothingLeft(t, sc, res)
		})
	}
}

// TestFanoutDeliversEveryMessageToEveryQueue uses three server-named
// exclusive queues as in the seeds.
func TestFanoutDeliversEveryMessageToEveryQueue(t *testing.T) {
	sc := scenario.Default()
	sc.Exchange = scenario.Exchange{Name: "mqbench-fanout", Type: "fanout"}
	sc.Producers = scenario.Producers{Count: 2, Messages: 3000, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 3, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{{Count: 3, Exclusive: true}}
	own(t, &sc)
	res := runOK(t, sc)
	if len(res.Queues) != 3 {
		t.Fatalf("%d queues, want 3", len(res.Queues))
	}
	for _, q := range res.Queues {
		if !strings.HasPrefix(q.Name, "amq.gen-") {
			t.Errorf("queue %q is not server-named", q.Name)
		}
		if q.Consumed != 3000 {
			t.Errorf("queue %s consumed %d, want every one of the 3000 messages", q.Name, q.Consumed)
		}
	}
	if val(res.Totals.Consumed) != 9000 {
		t.Errorf("consumed %d, want 9000", val(res.Totals.Consumed))
	}
	// The audit knows fanout: each queue owes every message, separately.
	if a := res.Audit; a == nil || !a.Balanced || len(a.Queues) != 3 {
		t.Fatalf("audit %+v", a)
	}
	for _, q := range res.Audit.Queues {
		if q.Expected != 3000 || q.Consumed != 3000 || q.Lost != 0 {
			t.Errorf("audit of %s: %+v", q.Name, q)
		}
	}
	assertNothingLeft(t, sc, res)
}

// TestTopicRoutingDeliversOnlyMatches runs the shipped topic scenario with a
// message count: each key goes out exactly 1000 times.
func TestTopicRoutingDeliversOnlyMatches(t *testing.T) {
	sc, _, err := scenario.Load("../../bench/scenarios/topic-routing.yaml", scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Duration, sc.Producers.Rate, sc.Producers.Messages = 0, 0, 4000
	own(t, &sc)
	res := runOK(t, sc)
	// kern.critical, kern.info, app.critical, app.info.audit: 1000 each;
	// queues are kern.*, *.critical and #.audit in that order.
	want := map[string]int64{sc.Queues[0].Name: 2000, sc.Queues[1].Name: 2000, sc.Queues[2].Name: 1000}
	for _, q := range res.Queues {
		if q.Consumed != want[q.Name] {
			t.Errorf("queue %s consumed %d, want %d", q.Name, q.Consumed, want[q.Name])
		}
	}
	// The audit's own routing model (topic patterns) agrees with the broker.
	if a := res.Audit; a == nil || !a.Balanced {
		t.Fatalf("audit %+v", a)
	}
	for _, q := range res.Audit.Queues {
		if q.Expected != want[q.Name] || q.Consumed != want[q.Name] {
			t.Errorf("audit of %s: %+v", q.Name, q)
		}
	}
	assertNothingLeft(t, sc, res)
}

// TestPrefetchBoundsUnacked samples the broker's own unacked count while
// slow consumers with prefetch 5 work through a backlog.
func TestPrefetchBoundsUnacked(t *testing.T) {
	if _, err := exec.LookPath("rabbitmqctl"); err != nil && os.Getenv("MQBENCH_REQUIRE_BROKER") != "1" {
		t.Skip("rabbitmqctl not available")
	}
	sc := scenario.Default()
	sc.Duration = scenario.Duration(4 * time.Second)
	sc.DrainTimeout = scenario.Duration(time.Second)
	sc.Producers = scenario.Producers{Count: 1, Rate: 400, Size: 20}
	sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 5, Delay: scenario.Duration(10 * time.Millisecond)}
	sc.Queues = []scenario.Queue{{Name: "mqbench-prefetch"}}
	own(t, &sc)
	name := sc.Queues[0].Name
	maxSeen := make(chan int, 1)
	go func() {
		best := -1
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			out, err := brokertest.Ctl("-q", "list_queues", "name", "messages_unacknowledged")
			if err == nil {
				for _, line := range strings.Split(string(out), "\n") {
					f := strings.Fields(line)
					if len(f) == 2 && f[0] == name {
						if n, err := strconv.Atoi(f[1]); err == nil && n > best {
							best = n
						}
					}
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		maxSeen <- best
	}()
	res := runOK(t, sc)
	best := <-maxSeen
	if best < 0 {
		t.Fatal("rabbitmqctl never listed the queue")
	}
	if best > 2*5 {
		t.Errorf("broker reported %d unacked messages, more than 2 consumers × prefetch 5", best)
	}
	if best < 5 {
		t.Errorf("broker reported at most %d unacked: the consumers never filled their prefetch", best)
	}
	// Two consumers at 10 ms a message cannot exceed 200 msg/s.
	if r := *res.Rates.ConsumedPerS; r > 205 {
		t.Errorf("consumed %.0f msg/s, above what 2 consumers × 100 msg/s allow", r)
	}
	if val(res.Totals.MaxUnacked) != 1 {
		t.Errorf("max unacked per consumer %d, want 1 with ack manual", val(res.Totals.MaxUnacked))
	}
}

// TestPersistentMessagesAreMarked publishes with and without --persistent,
// keeps the queue, and reads the messages back with basic.get.
func TestPersistentMessagesAreMarked(t *testing.T) {
	for _, persistent := range []bool{true, false} {
		t.Run(strconv.FormatBool(persistent), func(t *testing.T) {
			sc := scenario.Default()
			sc.Producers = scenario.Producers{Count: 1, Messages: 20, Confirm: 20, Size: 100, Persistent: persistent}
			sc.Consumers.Count = 0
			sc.Queues = []scenario.Queue{{Name: "mqbench-persistent", Durable: true}}
			sc.Keep = true
			own(t, &sc)
			runOK(t, sc)
			c := brokertest.Conn(t, sc.URL)
			ch, err := c.Channel()
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for {
				d, ok, err := ch.Get(sc.Queues[0].Name, true)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got++
				if isPersistent := d.DeliveryMode == amqp.Persistent; isPersistent != persistent {
					t.Fatalf("message %d has delivery mode %d, persistent=%v wanted", got, d.DeliveryMode, persistent)
				}
				if len(d.Body) != 100 {
					t.Fatalf("body is %d bytes, want 100", len(d.Body))
				}
			}
			if got != 20 {
				t.Fatalf("read %d messages back, want 20", got)
			}
		})
	}
}

func brokerConn(t *testing.T, url string) *amqp.Connection { return brokertest.Conn(t, url) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
