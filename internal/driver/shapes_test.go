package driver

import (
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// TestStreamTwoConsumersEachReadTheWholeStream: consumers of a stream do
// not compete: each reads every message, and each is audited against the
// whole stream.
func TestStreamTwoConsumersEachReadTheWholeStream(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(3 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Messages: 1000, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 100, StreamOffset: scenario.OffsetFirst}
	sc.Queues = []scenario.Queue{{Name: "mqbench-stream-two", Type: scenario.QueueStream}}
	own(t, &sc)
	res := runOK(t, sc)
	if val(res.Totals.Consumed) != 2000 {
		t.Fatalf("consumed %d, want 1000 by each of the two readers", val(res.Totals.Consumed))
	}
	a := res.Audit
	if a == nil || !a.Balanced || len(a.Queues) != 2 {
		t.Fatalf("audit %+v: want one balanced account per reader", a)
	}
	for _, q := range a.Queues {
		if q.Expected != 1000 || q.Consumed != 1000 || q.Duplicates != 0 || !strings.Contains(q.Name, "(consumer ") {
			t.Errorf("reader %+v: want all 1000 messages, once", q)
		}
	}
}

// TestStreamOffsets: a reader from the first offset also meets what the
// stream held before the run (foreign), one from the next offset does not.
func TestStreamOffsets(t *testing.T) {
	for _, c := range []struct {
		offset  string
		foreign int64
	}{{scenario.OffsetFirst, 50}, {scenario.OffsetNext, 0}} {
		t.Run(c.offset, func(t *testing.T) {
			sc := scenario.Default()
			sc.Duration = scenario.Duration(2 * time.Second)
			sc.Producers = scenario.Producers{Count: 1, Messages: 200, Confirm: 50}
			sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 50, StreamOffset: c.offset}
			sc.Queues = []scenario.Queue{{Name: "mqbench-stream-offset", Type: scenario.QueueStream}}
			own(t, &sc)
			conn := brokertest.Conn(t, sc.URL)
			ch, err := conn.Channel()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ch.QueueDeclare(sc.Queues[0].Name, true, false, false, false, map[string]any{"x-queue-type": "stream"}); err != nil {
				t.Fatal(err)
			}
			var earlier [][]byte
			for i := 0; i < 50; i++ {
				b := make([]byte, stamp.AuditSize)
				stamp.Write(b, uint32(i), time.Now().UnixNano())
				stamp.WriteRun(b, 0, 7)
				earlier = append(earlier, b)
			}
			if err := publishTo(conn, sc.Queues[0].Name, earlier); err != nil {
				t.Fatal(err)
			}
			res := runOK(t, sc)
			if val(res.Totals.Foreign) != c.foreign || val(res.Totals.Consumed) != 200 {
				t.Fatalf("foreign %d consumed %d: want %d foreign and this run's 200", val(res.Totals.Foreign), val(res.Totals.Consumed), c.foreign)
			}
		})
	}
}

// TestNackRequeueRedelivers: refused messages go back to the queue and
// are redelivered until a consumer takes them: every message is consumed
// once in the end, and the refusals and redeliveries are counted.
func TestNackRequeueRedelivers(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(3 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Messages: 1000, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckNack, Requeue: true, RejectFraction: 0.5, Prefetch: 50}
	sc.Queues = []scenario.Queue{{Name: "mqbench-nack"}}
	own(t, &sc)
	res := runOK(t, sc)
	a := res.Audit
	if a == nil || !a.Balanced || a.Total.Consumed != 1000 || a.Total.Left != 0 {
		t.Fatalf("audit %+v: every message consumed once in the end", a)
	}
	refused := val(res.Totals.Refused)
	if refused < 900 || a.Total.Redelivered < refused*9/10 {
		t.Fatalf("refused %d, redelivered %d: half of every delivery refused and redelivered", refused, a.Total.Redelivered)
	}
}

// TestRejectWithoutRequeueIsDropped: a quarter of the deliveries are
// rejected without requeue; the broker discards them. They are dropped —
// refused by the consumers — not lost.
func TestRejectWithoutRequeueIsDropped(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(2 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Messages: 1000, Confirm: 100}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckReject, RejectFraction: 0.25, Prefetch: 50}
	sc.Queues = []scenario.Queue{{Name: "mqbench-reject"}}
	own(t, &sc)
	res := runOK(t, sc)
	a := res.Audit
	if a == nil || !a.Balanced || a.Total.Lost != 0 {
		t.Fatalf("audit %+v", a)
	}
	if val(res.Totals.Refused) != 250 || a.Total.Dropped != 250 || a.Total.Consumed != 750 ||
		!strings.Contains(a.Total.DropReason, "refused by the consumers") {
		t.Fatalf("refused %d, dropped %d (%q), consumed %d: want 250, 250, 750", val(res.Totals.Refused), a.Total.Dropped, a.Total.DropReason, a.Total.Consumed)
	}
}

// TestPollingConsumer: basic.get consumers read everything too.
func TestPollingConsumer(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(2 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Messages: 500, Confirm: 50}
	sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Polling: true}
	sc.Queues = []scenario.Queue{{Name: "mqbench-polling"}}
	own(t, &sc)
	res := runOK(t, sc)
	if a := res.Audit; a == nil || !a.Balanced || a.Total.Consumed != 500 {
		t.Fatalf("audit %+v", a)
	}
}

// TestExitWhen: consumers draining a backlog stop the run once the queue
// is empty; with nothing to read, idle stops it after the idle time.
func TestExitWhen(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(time.Minute)
	sc.Producers.Count = 0
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 100, ExitWhen: scenario.ExitEmpty}
	sc.Queues = []scenario.Queue{{Name: "mqbench-exit"}}
	own(t, &sc)
	var bodies [][]byte
	for i := 0; i < 500; i++ {
		b := make([]byte, 16)
		stamp.Write(b, uint32(i), time.Now().UnixNano())
		bodies = append(bodies, b)
	}
	prefill(t, brokertest.Conn(t, sc.URL), sc.Queues[0].Name, bodies)
	res := runOK(t, sc)
	if res.StopReason != result.StopQueuesEmpty || val(res.Totals.Consumed) != 500 || res.MeasuredS > 15 {
		t.Fatalf("stop %s after %.1fs, consumed %d: want queues-empty once the 500 were read", res.StopReason, res.MeasuredS, val(res.Totals.Consumed))
	}
	sc.Consumers.ExitWhen, sc.Consumers.ExitIdle = scenario.ExitIdle, scenario.Duration(700*time.Millisecond)
	res = runOK(t, sc)
	if res.StopReason != result.StopIdle || res.MeasuredS < 0.6 || res.MeasuredS > 5 {
		t.Fatalf("stop %s after %.2fs: want idle after 0.7s of nothing", res.StopReason, res.MeasuredS)
	}
}

// TestSingleActiveConsumer obeys queueing physics: two consumers that each
// take 5 ms per message serve 400 msg/s together, but a single-active-
// consumer queue lets only one of them work: at most 200 msg/s.
func TestSingleActiveConsumer(t *testing.T) {
	rates := map[bool]float64{}
	for _, sac := range []bool{false, true} {
		sc := scenario.Default()
		sc.Duration = scenario.Duration(3 * time.Second)
		sc.DrainTimeout = 0
		sc.Producers = scenario.Producers{Count: 1, Rate: 350}
		sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 1, Delay: scenario.Duration(5 * time.Millisecond)}
		sc.Queues = []scenario.Queue{{Name: "mqbench-sac", SingleActiveConsumer: sac}}
		own(t, &sc)
		rates[sac] = *runOK(t, sc).Rates.ConsumedPerS
	}
	if rates[true] > 215 || rates[false] < 300 {
		t.Fatalf("consumed %.0f/s with a single active consumer (want ≤ 200), %.0f/s without (want ~350)", rates[true], rates[false])
	}
}

// TestQuorumDeliveryLimit: a quorum queue redelivers a refused message at
// most 20 times from RabbitMQ 4 on, then drops it; the audit says dropped
// by the delivery limit. On 3.x there is no default limit: the messages
// are still in the queue at the end (left).
func TestQuorumDeliveryLimit(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(4 * time.Second)
	sc.DrainTimeout = scenario.Duration(time.Second)
	sc.Producers = scenario.Producers{Count: 1, Messages: 50, Confirm: 50}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckNack, Requeue: true, Prefetch: 10}
	sc.Queues = []scenario.Queue{{Name: "mqbench-qq-limit", Type: scenario.QueueQuorum}}
	own(t, &sc)
	res := runOK(t, sc)
	a := res.Audit
	if a == nil || !a.Balanced || a.Total.Lost != 0 {
		t.Fatalf("audit %+v", a)
	}
	if majorVersion(res.Broker.Version) >= 4 {
		if a.Total.Dropped != 50 || !strings.Contains(a.Total.DropReason, "delivery limit") || val(res.Totals.Refused) < 50*20 {
			t.Fatalf("broker %s: dropped %d (%q), refused %d: want all 50 dropped after 20 redeliveries each",
				res.Broker.Version, a.Total.Dropped, a.Total.DropReason, val(res.Totals.Refused))
		}
	} else if a.Total.Left != 50 {
		t.Fatalf("broker %s: left %d, want the 50 still looping", res.Broker.Version, a.Total.Left)
	}
}
