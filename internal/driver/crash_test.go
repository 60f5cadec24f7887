package driver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// classicCounters are a node's own counts for its classic queues over
// AMQP 0-9-1 (rabbit_global_counters): messages delivered (redeliveries
// included), redelivered, and acknowledged. On a private node they are
// the test's alone.
type classicCounters struct{ delivered, redelivered, acked int64 }

func readClassicCounters(t *testing.T, n *brokertest.Node) classicCounters {
	t.Helper()
	const expr = `M = maps:get([{protocol,amqp091},{queue_type,rabbit_classic_queue}], rabbit_global_counters:overview()),
		[maps:get(K, M) || K <- [messages_delivered_total, messages_redelivered_total, messages_acknowledged_total]].`
	out, err := n.Ctl("eval", expr)
	if err != nil {
		t.Fatalf("rabbitmqctl eval: %v\n%s", err, out)
	}
	var c classicCounters
	if _, err := fmt.Sscanf(strings.TrimSpace(out), "[%d,%d,%d]", &c.delivered, &c.redelivered, &c.acked); err != nil {
		t.Fatalf("the node's counters %q: %v", out, err)
	}
	return c
}

// TestCrashingConsumersRedeliver: consumers that crash — close their
// channel holding deliveries unacknowledged, and subscribe again — make
// the broker redeliver what they held. What the audit counts as
// redelivered is what the broker itself counted as redelivered (its
// global counters, on a private node: independent of mqbench's counting,
// and nobody else's traffic); every message was acknowledged once (the
// broker's count of acks is the messages published), and delivered once
// plus once per redelivery; the audit's duplicates are the deliveries
// processed and left unacknowledged at a crash; nothing is lost, and the
// crashes are no faults.
//
// With prefetch 1 a consumer holds only the delivery it processed when it
// crashes: every redelivery is a duplicate. With prefetch 10 and acks
// every 5 deliveries it also holds deliveries the broker pushed ahead,
// unprocessed (redelivered, not duplicates), and 3 processed ones per
// crash at every 23rd delivery: 22 mod 5 not yet acknowledged, and the
// 23rd.
func TestCrashingConsumersRedeliver(t *testing.T) {
	n := brokertest.StartNode(t)
	for _, c := range []struct {
		name                   string
		messages               int64
		k                      scenario.Consumers
		unackedPerCrash        int64
		duplicatesAreRedeliver bool
	}{
		{"prefetch 1", 2000, scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 1, CrashEvery: 20}, 1, true},
		{"prefetch 10 ack multiple", 3000, scenario.Consumers{Count: 2, Ack: scenario.AckMultiple, MultiAckEvery: 5, Prefetch: 10, CrashEvery: 23}, 3, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := scenario.Default()
			sc.URL = n.URL()
			sc.DrainTimeout = scenario.Duration(30 * time.Second)
			sc.Producers = scenario.Producers{Count: 1, Messages: c.messages, Confirm: 100}
			sc.Consumers = c.k
			sc.Queues = []scenario.Queue{{Name: "mqbench-crash", Durable: true}}
			sc.Normalize()
			if p := sc.Validate(); p != nil {
				t.Fatal(p)
			}
			before := readClassicCounters(t, n)
			res := runOK(t, sc)
			after := readClassicCounters(t, n)
			broker := classicCounters{after.delivered - before.delivered, after.redelivered - before.redelivered, after.acked - before.acked}
			a := res.Audit.Total
			k := res.Kinds["consumer"]
			if k == nil {
				t.Fatalf("no consumer figures in the result: %+v", res.Kinds)
			}
			crashes, unacked, unprocessed := k.Counts["crashes"], k.Counts["crash_unacked"], k.Counts["crash_unprocessed"]
			t.Logf("broker %+v; audit %+v; crashes %d leaving %d processed and %d unprocessed unacknowledged", broker, a, crashes, unacked, unprocessed)

			if a.Redelivered != broker.redelivered || a.Redelivered == 0 {
				t.Errorf("the audit counts %d redelivered, the broker redelivered %d", a.Redelivered, broker.redelivered)
			}
			if broker.delivered != c.messages+broker.redelivered || broker.acked != c.messages {
				t.Errorf("the broker delivered %d and acknowledged %d: want every message (%d) acknowledged once, delivered once plus its redeliveries (%d)",
					broker.delivered, broker.acked, c.messages, broker.redelivered)
			}
			if a.Duplicates != unacked || unacked != c.unackedPerCrash*crashes || a.Redelivered != unacked+unprocessed {
				t.Errorf("duplicates %d, redelivered %d: want the %d crashes' %d processed and %d unprocessed unacknowledged deliveries",
					a.Duplicates, a.Redelivered, crashes, unacked, unprocessed)
			}
			if c.duplicatesAreRedeliver && (a.Duplicates != broker.redelivered || unprocessed != 0) {
				t.Errorf("with prefetch 1 every redelivery is a duplicate: duplicates %d, broker redelivered %d", a.Duplicates, broker.redelivered)
			}
			if !c.duplicatesAreRedeliver && unprocessed == 0 {
				t.Error("with prefetch 10 the crashes held no delivery the broker pushed ahead")
			}
			if least := c.messages / c.k.CrashEvery; crashes < least {
				t.Errorf("%d crashes: want one every %d deliveries, at least %d", crashes, c.k.CrashEvery, least)
			}
			if a.Lost != 0 || a.Left != 0 || a.Consumed != c.messages || !res.Audit.Balanced || val(res.Totals.Consumed) != c.messages+a.Duplicates {
				t.Errorf("audit %+v, consumed %d: every message consumed, the duplicates besides, nothing lost", a, val(res.Totals.Consumed))
			}
			if res.Drain == nil || res.Drain.Ended != result.DrainEmpty {
				t.Errorf("drain %+v: the drain must see the queue empty and nothing held in the client once the redeliveries are consumed", res.Drain)
			}
			if res.Faults.Reconnects != 0 || len(res.Faults.Outages) != 0 {
				t.Errorf("faults %+v: a crash on purpose is not a fault", res.Faults)
			}
		})
	}
}
