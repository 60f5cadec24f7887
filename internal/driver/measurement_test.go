package driver

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// TestPacedConfirmLatency: a paced producer sleeps between messages, yet
// its confirms are timed when they arrive. At 20 msg/s a confirm timed
// when the producer next wakes would read ~50 ms (1/rate); the broker
// answers in about the time a message takes end to end.
func TestPacedConfirmLatency(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(3 * time.Second)
	sc.Producers = scenario.Producers{Count: 2, Rate: 20, Confirm: 10}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual}
	sc.Queues = []scenario.Queue{{Name: "mqbench-paced-confirm"}}
	own(t, &sc)
	res := runOK(t, sc)
	conf, e2e := res.Latency[metrics.Confirm], res.Latency[metrics.EndToEnd]
	if conf == nil || e2e == nil || conf.Count < 100 {
		t.Fatalf("confirm %+v e2e %+v", conf, e2e)
	}
	const interval = 50_000 // µs between a producer's messages
	if conf.P50Us > interval/4 {
		t.Errorf("confirm p50 %dµs: near the 50 ms between messages, not the broker's answer (e2e p50 %dµs)", conf.P50Us, e2e.P50Us)
	}
	if conf.P50Us > 5*e2e.P50Us+2000 {
		t.Errorf("confirm p50 %dµs is not of the order of e2e p50 %dµs", conf.P50Us, e2e.P50Us)
	}
}

// TestLeftInTheQueueIsNotLost: slow consumers and a short drain leave
// confirmed messages in the queue. They are "left", not "lost": the audit
// finds each of them in the queue, and their number is the depth the
// broker itself reports at the end. Nothing warns of a loss.
func TestLeftInTheQueueIsNotLost(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(2 * time.Second)
	sc.DrainTimeout = scenario.Duration(500 * time.Millisecond)
	sc.Producers = scenario.Producers{Count: 1, Rate: 1500, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 1, Delay: scenario.Duration(2 * time.Millisecond)}
	sc.Queues = []scenario.Queue{{Name: "mqbench-left"}}
	own(t, &sc)
	res := runOK(t, sc)
	a := res.Audit
	if a == nil || !a.Balanced {
		t.Fatalf("audit %+v", a)
	}
	depth := val(res.Queues[0].Depth) // the broker's count after the drain
	if a.Total.Left < 500 || a.Total.Left != depth {
		t.Fatalf("left %d, the broker's final depth %d: want them equal and in the hundreds", a.Total.Left, depth)
	}
	if a.Total.Lost != 0 || a.Total.Dropped != 0 {
		t.Fatalf("lost %d dropped %d: left messages taken for lost", a.Total.Lost, a.Total.Dropped)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w, "lost") {
			t.Errorf("warning of a loss that did not happen: %s", w)
		}
	}
}

// TestDroppedByTheQueuesLengthLimit: a queue with x-max-length drops the
// oldest messages when the consumer is slow. Those are "dropped" with the
// reason, not lost; the left ones fit the limit.
func TestDroppedByTheQueuesLengthLimit(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(2 * time.Second)
	sc.DrainTimeout = scenario.Duration(200 * time.Millisecond)
	sc.Producers = scenario.Producers{Count: 1, Rate: 1000, Confirm: 50}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 1, Delay: scenario.Duration(5 * time.Millisecond)}
	sc.Queues = []scenario.Queue{{Name: "mqbench-maxlen", Arguments: map[string]any{"x-max-length": 100}}}
	own(t, &sc)
	res := runOK(t, sc)
	a := res.Audit
	if a == nil || !a.Balanced {
		t.Fatalf("audit %+v", a)
	}
	q := a.Total
	if q.Dropped < 500 || !strings.Contains(q.DropReason, "x-max-length") || q.Lost != 0 || q.Left > 100 {
		t.Fatalf("dropped %d (%q) lost %d left %d: want hundreds dropped by the length limit, nothing lost, at most 100 left",
			q.Dropped, q.DropReason, q.Lost, q.Left)
	}
}

// prefill publishes bodies to queue through the test's own connection.
func prefill(t *testing.T, c *amqp.Connection, queue string, bodies [][]byte) {
	t.Helper()
	if err := publishBodies(c, queue, bodies); err != nil {
		t.Fatal(err)
	}
}

// publishBodies declares queue (durable, as the tests' scenarios do) and
// publishes bodies to it with confirms.
func publishBodies(c *amqp.Connection, queue string, bodies [][]byte) error {
	ch, err := c.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return err
	}
	return publishTo(c, queue, bodies)
}

// publishTo publishes bodies to an existing queue with confirms.
func publishTo(c *amqp.Connection, queue string, bodies [][]byte) error {
	ch, err := c.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		return err
	}
	for _, b := range bodies {
		dc, err := ch.PublishWithDeferredConfirm("", queue, false, false, amqp.Publishing{Body: b})
		if err != nil {
			return err
		}
		if !dc.Wait() {
			return errors.New("nacked")
		}
	}
	return nil
}

// TestEarlierRunsMessagesAreForeign: a reused queue still holds an
// earlier run's messages (same stamp layout, same producer numbers) and
// some of another tool's. They are consumed and acked, counted as foreign,
// and kept out of this run's counts, latency and audit; a warning says the
// queue was not empty.
func TestEarlierRunsMessagesAreForeign(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = 0
	sc.Producers = scenario.Producers{Count: 1, Messages: 1000, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 100}
	sc.Queues = []scenario.Queue{{Name: "mqbench-reused"}}
	own(t, &sc)
	c := brokertest.Conn(t, sc.URL)
	var bodies [][]byte
	now := time.Now().UnixNano()
	for i := 0; i < 400; i++ { // an earlier mqbench run: producer 0, sequences 0..399
		b := make([]byte, stamp.AuditSize)
		stamp.Write(b, uint32(i), now-int64(time.Minute))
		stamp.WriteRun(b, 0, 0xEA51E4)
		bodies = append(bodies, b)
	}
	for i := 0; i < 100; i++ { // another tool's 12-byte stamps
		b := make([]byte, 12)
		stamp.Write(b, uint32(i), now)
		bodies = append(bodies, b)
	}
	prefill(t, c, sc.Queues[0].Name, bodies)
	sc.Consumers.Messages = 1000 // this run's count: foreign deliveries must not meet it
	res := runOK(t, sc)
	if got := val(res.Totals.Foreign); got != 500 {
		t.Errorf("foreign %d, want the 500 prefilled", got)
	}
	if val(res.Totals.Consumed) != 1000 || res.Totals.Published != 1000 {
		t.Errorf("consumed %d published %d: want this run's 1000 each", val(res.Totals.Consumed), res.Totals.Published)
	}
	if e2e := res.Latency[metrics.EndToEnd]; e2e == nil || e2e.Count != 1000 || e2e.MaxUs > 30_000_000 {
		t.Errorf("latency %+v: want this run's 1000 samples only (the earlier run's are a minute old)", e2e)
	}
	if a := res.Audit; a == nil || !a.Balanced || a.Total.Unexpected != 0 || a.Total.Duplicates != 0 || a.Total.Consumed != 1000 {
		t.Errorf("audit %+v", a)
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w, "held 500 messages before the run")
	}
	if !warned {
		t.Errorf("no warning about the queue's earlier messages: %q", res.Warnings)
	}
}

// TestMillisecondStampsAreMeasured: a consume-only run reads another
// tool's messages: milliseconds since the epoch (omq without consumers,
// PerfTest --use-millis) are measured, at that resolution, and said so;
// bodies without a readable stamp are counted, not silently dropped.
func TestMillisecondStampsAreMeasured(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(10 * time.Second)
	sc.Producers.Count = 0
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckAuto, Messages: 250}
	sc.Queues = []scenario.Queue{{Name: "mqbench-millis"}}
	own(t, &sc)
	// The other tool publishes while mqbench runs (a latency counts for a
	// message sent in the measured window).
	c := brokertest.Conn(t, sc.URL)
	published := make(chan error, 1)
	time.AfterFunc(time.Second, func() {
		var bodies [][]byte
		for i := 0; i < 200; i++ {
			b := make([]byte, 16)
			stamp.Write(b, uint32(i), time.Now().UnixMilli())
			bodies = append(bodies, b)
		}
		for i := 0; i < 50; i++ {
			bodies = append(bodies, []byte("no stamp"))
		}
		published <- publishBodies(c, sc.Queues[0].Name, bodies)
	})
	res := runOK(t, sc)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	e2e := res.Latency[metrics.EndToEnd]
	if e2e == nil || e2e.Count != 200 || e2e.MaxUs > 60_000_000 {
		t.Fatalf("latency %+v: want the 200 millisecond-stamped deliveries, measured", e2e)
	}
	if val(res.Totals.MillisecondStamps) != 200 || val(res.Totals.Unstamped) != 50 || val(res.Totals.Consumed) != 250 {
		t.Errorf("ms stamps %d unstamped %d consumed %d", val(res.Totals.MillisecondStamps), val(res.Totals.Unstamped), val(res.Totals.Consumed))
	}
	said := 0
	for _, w := range res.Warnings {
		if strings.Contains(w, "milliseconds") || strings.Contains(w, "no readable send time") {
			said++
		}
	}
	if said != 2 {
		t.Errorf("warnings %q: want one about millisecond stamps and one about unreadable ones", res.Warnings)
	}
}

// TestConfirmedRateCountsTheWindowsConfirms: confirms still in flight at
// the window's end arrive during the drain; the confirmed rate counts them
// (it used to be short by the confirm window).
func TestConfirmedRateCountsTheWindowsConfirms(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(2 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Confirm: 1000}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 1000}
	sc.Queues = []scenario.Queue{{Name: "mqbench-confirm-rate"}}
	own(t, &sc)
	res := runOK(t, sc)
	if val(res.Totals.Confirmed) != res.Totals.Published {
		t.Fatalf("confirmed %d of %d published", val(res.Totals.Confirmed), res.Totals.Published)
	}
	pub, conf := res.Rates.PublishedPerS, *res.Rates.ConfirmedPerS
	if conf < pub*0.999 || conf > pub*1.001 {
		t.Errorf("confirmed %.0f/s vs published %.0f/s: every publish of the window was confirmed", conf, pub)
	}
}

// TestPacedProducerStopsByDuration: a paced producer with a message limit
// it cannot reach in the run ends with the run's duration, not as if it
// had met its count.
func TestPacedProducerStopsByDuration(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(3 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Rate: 2, Messages: 1000}
	sc.Queues = []scenario.Queue{{Name: "mqbench-paced-limit"}}
	own(t, &sc)
	res := runOK(t, sc)
	if res.StopReason != result.StopDuration || res.MeasuredS < 2.9 {
		t.Fatalf("stop %s after %.2fs: want duration after 3s", res.StopReason, res.MeasuredS)
	}
	if res.Totals.Published != 6 {
		t.Errorf("published %d, want 2/s × 3s", res.Totals.Published)
	}
}

// TestServerNamedQueueFollowedAfterReconnect: a server-named queue bound
// to a named exchange gets a new name when a network cut forces its
// re-declaration; producers route by the new name, so traffic keeps
// arriving (it used to stop, and count as lost).
func TestServerNamedQueueFollowedAfterReconnect(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(6 * time.Second)
	sc.Exchange = scenario.Exchange{Name: "mqbench-renamed", Type: scenario.ExchangeDirect}
	sc.Producers = scenario.Producers{Count: 1, Rate: 200, Confirm: 50}
	sc.Consumers = scenario.Consumers{Count: 1, Connections: 1, Ack: scenario.AckManual, Prefetch: 50}
	sc.Queues = []scenario.Queue{{Exclusive: true}} // server-named
	own(t, &sc)
	u, err := url.Parse(sc.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := brokertest.NewProxy(t, net.JoinHostPort(u.Hostname(), portOf(u)))
	u.Host = proxy.Addr()
	sc.URL = u.String()
	time.AfterFunc(1500*time.Millisecond, proxy.Cut)
	res := runOK(t, sc)
	if res.Faults.Reconnects < 1 {
		t.Fatalf("faults %+v: the cut did not force a reconnect", res.Faults)
	}
	var pubLate, consLate int64
	for _, iv := range res.Intervals {
		if iv.TS > 3 {
			pubLate += iv.Published
			consLate += iv.Consumed
		}
	}
	if pubLate == 0 || consLate < pubLate*9/10 {
		t.Fatalf("after the reconnect: published %d, consumed %d — traffic did not follow the renamed queue", pubLate, consLate)
	}
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "5672"
}

// TestDrainTimeoutZeroWithALargeWindow: no drain and thousands of
// confirms in flight: the audit is reconciled only after every producer
// stopped touching its bitsets (run under -race, a data race fails it).
func TestDrainTimeoutZeroWithALargeWindow(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(time.Second)
	sc.DrainTimeout = 0
	sc.Producers = scenario.Producers{Count: 2, Confirm: 5000}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{{Name: "mqbench-nodrain"}}
	own(t, &sc)
	res := runOK(t, sc)
	if res.Audit == nil || !res.Audit.Balanced {
		t.Fatalf("audit %+v", res.Audit)
	}
}
