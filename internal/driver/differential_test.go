package driver

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// The audit checked against counts from outside mqbench: what the broker
// itself returns (queue.purge's count, a queue's depth, a dead-letter
// queue's depth), read by the test on a connection of its own. Balanced
// holds by construction; these do not.

// slowConsumer is the backlog-building shape: 200 msg/s into one consumer
// that takes 20 ms a message (prefetch 1: at most 50/s), so the queue
// grows by about 150 messages a second.
func slowConsumer(qtype string, confirm int) scenario.Scenario {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(4 * time.Second)
	sc.DrainTimeout = scenario.Duration(500 * time.Millisecond)
	sc.Producers = scenario.Producers{Count: 1, Rate: 200, Confirm: confirm}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 1, Delay: scenario.Duration(20 * time.Millisecond)}
	sc.Queues = []scenario.Queue{{Name: "mqbench-diff", Type: qtype, Durable: true}}
	return sc
}

// purgeAfter purges the queue from the test's own connection after d and
// returns what queue.purge answered.
func purgeAfter(t *testing.T, url, name string, d time.Duration) <-chan int {
	out := make(chan int, 1)
	go func() {
		time.Sleep(d)
		c, err := amqp.Dial(url)
		if err != nil {
			t.Errorf("dial: %v", err)
			out <- -1
			return
		}
		defer c.Close()
		ch, err := c.Channel()
		if err != nil {
			t.Errorf("channel: %v", err)
			out <- -1
			return
		}
		n, err := ch.QueuePurge(name, false)
		if err != nil {
			t.Errorf("purge: %v", err)
		}
		out <- n
	}()
	return out
}

// TestPurgeIsLostExactly: K messages purged mid-run through queue.purge
// (the broker answers K) are exactly the audit's lost — with confirms,
// and without (the publishers' channels closed cleanly, so the broker had
// every message) — on a classic and a quorum queue; nothing is dropped
// (RabbitMQ 4's quorum delivery limit never fired: nothing was
// redelivered); left is what the end-of-run sweep read, or with --keep
// exactly the depth the test reads afterwards.
func TestPurgeIsLostExactly(t *testing.T) {
	cases := []struct {
		name    string
		qtype   string
		confirm int
		keep    bool
	}{
		{"classic without confirms", scenario.QueueClassic, 0, false},
		{"classic with confirms, kept", scenario.QueueClassic, 50, true},
		{"quorum with confirms", scenario.QueueQuorum, 50, false},
		{"quorum without confirms, kept", scenario.QueueQuorum, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := slowConsumer(tc.qtype, tc.confirm)
			sc.Keep = tc.keep
			own(t, &sc)
			name := sc.Queues[0].Name
			purged := purgeAfter(t, sc.URL, name, 2*time.Second)
			res := runOK(t, sc)
			k := int64(<-purged)
			q := onlyQueue(t, res)
			t.Logf("purged %d; audit %+v", k, q)
			if k < 100 {
				t.Fatalf("queue.purge returned %d: the test needs a backlog to purge", k)
			}
			if q.Lost != k || q.Dropped != 0 || q.Unknown != 0 || q.Unconfirmed != 0 || q.Duplicates != 0 || q.Unexpected != 0 {
				t.Errorf("lost %d, dropped %d, unknown %d, unconfirmed %d: want lost = %d purged, the rest 0", q.Lost, q.Dropped, q.Unknown, q.Unconfirmed, k)
			}
			if q.Consumed != val(res.Totals.Consumed) || q.Expected != res.Totals.Published {
				t.Errorf("audit consumed %d expected %d; the run counted %d consumed, %d published", q.Consumed, q.Expected, val(res.Totals.Consumed), res.Totals.Published)
			}
			if q.Left == 0 || q.Consumed+q.Left+q.Lost != q.Expected {
				t.Errorf("left %d: the slow consumer must leave messages, and the buckets add up", q.Left)
			}
			if tc.keep {
				if depth := depthOf(t, sc.URL, name); depth != q.Left {
					t.Errorf("left %d, the queue holds %d", q.Left, depth)
				}
			}
			if !hasWarning(res, "lost") {
				t.Errorf("no loss warning: %q", res.Warnings)
			}
		})
	}
}

// TestDroppedIsWhatTheBrokerDropped: the broker really drops — a length
// limit (drop-head), a message TTL, a quorum delivery limit reached by
// nack with requeue — and dead-letters what it drops into a queue the
// test counts itself (the run keeps its queues): the audit's dropped is
// that count, nothing is lost, and the reason names the evidence.
func TestDroppedIsWhatTheBrokerDropped(t *testing.T) {
	cases := []struct {
		name   string
		shape  func(sc *scenario.Scenario)
		reason string
		settle bool // messages may still expire after the run: compare sums
	}{
		{"length limit", func(sc *scenario.Scenario) {
			sc.Queues[0].Arguments = map[string]any{"x-max-length": 50}
		}, "x-max-length 50", false},
		{"message TTL", func(sc *scenario.Scenario) {
			sc.Queues[0].Arguments = map[string]any{"x-message-ttl": 300}
		}, "x-message-ttl 300", true},
		{"per-message expiration", func(sc *scenario.Scenario) {
			sc.Queues[0].Arguments = map[string]any{}
			sc.Producers.Properties = &scenario.Properties{Expiration: scenario.Duration(300 * time.Millisecond)}
		}, "expiration 300", true},
		{"delivery limit", func(sc *scenario.Scenario) {
			sc.Queues[0].Type = scenario.QueueQuorum
			sc.Queues[0].Arguments = map[string]any{"x-delivery-limit": 2}
			sc.Duration = 0
			sc.Producers = scenario.Producers{Count: 1, Rate: 100, Messages: 200, Confirm: 50}
			sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckNack, Requeue: true, Prefetch: 10}
			sc.DrainTimeout = scenario.Duration(10 * time.Second)
		}, "x-delivery-limit 2", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := slowConsumer(scenario.QueueClassic, 50)
			sc.Queues = append(sc.Queues, scenario.Queue{Name: "mqbench-diff-dlq", Durable: true})
			sc.Keep = true
			tc.shape(&sc)
			own(t, &sc)
			main, dlq := sc.Queues[0].Name, sc.Queues[1].Name
			sc.Queues[0].Arguments["x-dead-letter-exchange"] = ""
			sc.Queues[0].Arguments["x-dead-letter-routing-key"] = dlq
			sc.Producers.RoutingKeys = []string{main}
			res := runOK(t, sc)
			q := onlyQueue(t, res)
			dead, left := depthOf(t, sc.URL, dlq), depthOf(t, sc.URL, main)
			t.Logf("dead-lettered %d, left %d; audit %+v", dead, left, q)
			if dead < 10 {
				t.Fatalf("the broker dead-lettered %d: the test needs it to drop", dead)
			}
			if q.Lost != 0 || q.Unconfirmed != 0 || !contains(q.DropReason, tc.reason) {
				t.Errorf("lost %d, unconfirmed %d, reason %q: want nothing lost, dropped for %q", q.Lost, q.Unconfirmed, q.DropReason, tc.reason)
			}
			switch {
			case tc.settle: // expired after mqbench read the queue: moved from left to dead
				if q.Dropped+q.Left != dead+left || q.Dropped > dead {
					t.Errorf("dropped %d + left %d, the broker: dead-lettered %d + left %d", q.Dropped, q.Left, dead, left)
				}
			case q.Dropped != dead || q.Left != left:
				t.Errorf("dropped %d, left %d; the broker dead-lettered %d and holds %d", q.Dropped, q.Left, dead, left)
			}
			if hasWarning(res, "lost") {
				t.Errorf("a loss warning for what the broker dropped: %q", res.Warnings)
			}
		})
	}
}

func onlyQueue(t *testing.T, res *result.Result) audit.Queue {
	t.Helper()
	if res.Audit == nil || len(res.Audit.Queues) != 1 {
		t.Fatalf("audit %+v: want one queue", res.Audit)
	}
	return res.Audit.Queues[0]
}

// depthOf is the queue's ready count, read by the test itself.
func depthOf(t *testing.T, url, name string) int64 {
	t.Helper()
	c := brokertest.Conn(t, url)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("passive declare %s: %v", name, err)
	}
	return int64(q.Messages)
}

// timedSink keeps every interval with the wall time it arrived.
type timedSink struct {
	mu  sync.Mutex
	ivs []timedInterval
}

type timedInterval struct {
	at time.Time
	iv result.Interval
}

func (s *timedSink) Interval(iv result.Interval) {
	s.mu.Lock()
	s.ivs = append(s.ivs, timedInterval{time.Now(), iv})
	s.mu.Unlock()
}

func (s *timedSink) Done(*result.Result) {}

// nearest is the interval that arrived closest to at.
func (s *timedSink) nearest(at time.Time) (timedInterval, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best timedInterval
	for i, ti := range s.ivs {
		if i == 0 || absDur(ti.at.Sub(at)) < absDur(best.at.Sub(at)) {
			best = ti
		}
	}
	return best, len(s.ivs) > 0
}

func absDur(d time.Duration) time.Duration { return max(d, -d) }

// TestBacklogCountsWhatTheClientHolds: with no prefetch limit the broker
// pushes the whole backlog into the client, its queue reports nothing
// ready, and the backlog must still see every message: the part the
// consumers hold delivered and unprocessed agrees with the broker's own
// messages_unacknowledged (rabbitmqctl, read by the test) at the same
// moment, to within what the consumer processes in the time between the
// two readings.
func TestBacklogCountsWhatTheClientHolds(t *testing.T) {
	sc := scenario.Default()
	sc.Interval = scenario.Duration(250 * time.Millisecond)
	sc.DrainTimeout = scenario.Duration(20 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Messages: 400}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Delay: scenario.Duration(20 * time.Millisecond)}
	sc.Queues = []scenario.Queue{{Name: "mqbench-held", Durable: true}}
	own(t, &sc)
	sink := &timedSink{}
	type reading struct {
		at      time.Time
		took    time.Duration
		unacked int64
	}
	readings := make(chan reading, 1)
	go func() {
		time.Sleep(2500 * time.Millisecond)
		before := time.Now()
		out, err := brokertest.Ctl("-q", "list_queues", "name", "messages_unacknowledged")
		after := time.Now()
		// rabbitmqctl spends most of its run starting its own Erlang VM:
		// the query itself is near its end.
		r := reading{at: after, took: after.Sub(before), unacked: -1}
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); err == nil && len(f) == 2 && f[0] == sc.Queues[0].Name {
				r.unacked, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
		readings <- r
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, sc, Options{Version: "test", Sinks: []engine.Sink{sink}})
	if err != nil {
		t.Fatal(err)
	}
	r := <-readings
	got, ok := sink.nearest(r.at)
	if r.unacked < 50 || !ok || got.iv.BacklogParts == nil {
		t.Fatalf("the broker held %d unacknowledged (want a backlog in the client); interval %+v", r.unacked, got.iv)
	}
	b := *got.iv.BacklogParts
	// The consumer processes 50/s; the readings are apart by up to the
	// arrival gap, a sampling interval (the backlog is sampled apart from
	// the interval's end) and half of rabbitmqctl's own run.
	apart := absDur(got.at.Sub(r.at)) + sc.Interval.D() + r.took/2
	slack := int64(apart.Seconds()*50) + 10
	t.Logf("broker: %d unacked; mqbench %v earlier: %+v (slack %d)", r.unacked, r.at.Sub(got.at), b, slack)
	if b.Ready > 5 || b.Delivered < r.unacked-slack || b.Delivered > r.unacked+slack || *got.iv.Backlog != b.Total() {
		t.Errorf("backlog %+v, the broker says %d unacknowledged", b, r.unacked)
	}
	var peak int64
	for _, iv := range res.Intervals {
		if iv.Backlog != nil {
			peak = max(peak, *iv.Backlog)
		}
	}
	if peak < 300 {
		t.Errorf("the backlog peaked at %d: 400 messages went to a consumer that takes 50 a second", peak)
	}
}

// TestBacklogUnknownWhenADepthCannotBeRead: a queue deleted mid-run (by
// the test) cannot be read any more; from then on the intervals' backlog
// is unknown (null) — never the last value read, frozen.
func TestBacklogUnknownWhenADepthCannotBeRead(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(3 * time.Second)
	sc.Interval = scenario.Duration(250 * time.Millisecond)
	sc.Producers = scenario.Producers{Count: 1, Rate: 50}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{{Name: "mqbench-read", Durable: true}, {Name: "mqbench-gone", Durable: true}}
	own(t, &sc)
	gone := sc.Queues[1].Name
	deleted := make(chan time.Time, 1)
	go func() {
		time.Sleep(1200 * time.Millisecond)
		c := brokertest.Conn(t, sc.URL)
		brokertest.DeleteQueue(c, gone)
		deleted <- time.Now()
	}()
	sink := &timedSink{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Run(ctx, sc, Options{Version: "test", Sinks: []engine.Sink{sink}}); err != nil {
		t.Logf("run: %v", err) // the teardown may find the queue gone
	}
	at := <-deleted
	var before, after, unknown int
	for _, ti := range sink.ivs {
		switch {
		case ti.at.Before(at):
			if ti.iv.Backlog != nil {
				before++
			}
		case ti.at.After(at.Add(sc.Interval.D() + 100*time.Millisecond)):
			after++
			if ti.iv.Backlog == nil {
				unknown++
			}
		}
	}
	if before == 0 || after < 3 || unknown != after {
		t.Errorf("%d intervals with a backlog before the deletion; %d of the %d after it unknown: want all", before, unknown, after)
	}
}

// TestHeldDeliveriesAtTheEndAreLeftNotLost: no prefetch limit, a consumer
// that takes 20 ms a message, and a drain cut short: when the run ends the
// client holds hundreds of deliveries. With manual acks they go back to
// the queue (the consumer's channel is closed) and the sweep finds them:
// left, never lost, and the run ends at once rather than processing them
// one by one; with automatic acks (gone from the broker already) they are
// booked as consumed without the delay. The test counts what the broker
// still holds itself when the queue is kept.
func TestHeldDeliveriesAtTheEndAreLeftNotLost(t *testing.T) {
	for _, ack := range []string{scenario.AckManual, scenario.AckAuto} {
		t.Run(ack, func(t *testing.T) {
			sc := scenario.Default()
			sc.Duration = scenario.Duration(2 * time.Second)
			sc.DrainTimeout = scenario.Duration(500 * time.Millisecond)
			sc.Producers = scenario.Producers{Count: 1, Rate: 500, Confirm: 100}
			sc.Consumers = scenario.Consumers{Count: 1, Ack: ack, Delay: scenario.Duration(20 * time.Millisecond)}
			sc.Queues = []scenario.Queue{{Name: "mqbench-held-end", Durable: true}}
			sc.Keep = true
			own(t, &sc)
			start := time.Now()
			res := runOK(t, sc)
			took := time.Since(start)
			q := onlyQueue(t, res)
			depth := depthOf(t, sc.URL, sc.Queues[0].Name)
			t.Logf("%s: took %v; audit %+v; the broker holds %d", ack, took, q, depth)
			if q.Lost != 0 || q.Unconfirmed != 0 || q.Consumed+q.Left != q.Expected || q.Consumed != val(res.Totals.Consumed) {
				t.Errorf("audit %+v: every message consumed or left, none lost", q)
			}
			if ack == scenario.AckManual && (q.Left < 300 || q.Left != depth) {
				t.Errorf("left %d, the broker holds %d: the held deliveries must be back in the queue", q.Left, depth)
			}
			if ack == scenario.AckAuto && depth != q.Left {
				t.Errorf("left %d, the broker holds %d", q.Left, depth)
			}
			if took > 15*time.Second {
				t.Errorf("the run took %v: held deliveries were processed one by one after the end", took)
			}
		})
	}
}
