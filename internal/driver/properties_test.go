package driver

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/message"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/routing"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// Message properties, headers and bodies checked from outside mqbench: a
// plain amqp091 consumer reads what mqbench published and kept, and
// compares every message with what the scenario and the routing model
// say it must be.

// drawnHeaders are two headers drawn per message, weighted and a range,
// and a fixed one.
func drawnHeaders() map[string]any {
	return map[string]any{
		"kind":   "order",
		"region": map[string]any{"values": []any{"eu", "us", "ap"}, "weights": []any{2, 1, 1}},
		"tier":   map[string]any{"min": 1, "max": 3},
	}
}

// kept is one message a plain consumer read from a kept queue.
type kept struct {
	d             amqp.Delivery
	producer, seq int
	run           uint64
}

// readAll reads every message of queue name with a plain consumer (n at
// most, until the queue is empty), each identified by the stamp in its
// x-mqbench-stamp header.
func readAll(t *testing.T, url, name string) []kept {
	t.Helper()
	ch, err := brokerConn(t, url).Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	var out []kept
	for {
		d, ok, err := ch.Get(name, true)
		if err != nil {
			t.Fatalf("basic.get from %s: %v", name, err)
		}
		if !ok {
			return out
		}
		hdr, isBytes := d.Headers[scenario.StampHeader].([]byte)
		if !isBytes || len(hdr) != stamp.AuditSize {
			t.Fatalf("a message of %s has no %d-byte %s header: %v", name, stamp.AuditSize, scenario.StampHeader, d.Headers)
		}
		p, run, ok := stamp.Run(hdr)
		seq, _, _ := stamp.Read(hdr)
		if !ok {
			t.Fatalf("the stamp header of a message of %s names no run", name)
		}
		out = append(out, kept{d: d, producer: p, seq: int(seq), run: run})
	}
}

// bodyDir writes n small distinct JSON bodies and returns their directory
// and contents, in name order.
func bodyDir(t *testing.T, n int) (string, []string) {
	dir := t.TempDir()
	var bodies []string
	for i := range n {
		b := fmt.Sprintf(`{"order":%d,"note":"%s"}`, i, strings.Repeat("x", i*7))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("body-%02d.json", i)), []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	return dir, bodies
}

// TestPropertiesReachAPlainConsumer: every property and header mqbench is
// told to set is on every message a plain amqp091 consumer reads — fixed
// ones as given, message ids unique and as the template says, the
// timestamp the send time, drawn headers as the deck deals them and in
// the weights' proportions —, the bodies are the user's files in turn,
// and the stamp travels in its header.
func TestPropertiesReachAPlainConsumer(t *testing.T) {
	dir, bodies := bodyDir(t, 3)
	sc := scenario.Default()
	sc.Producers = scenario.Producers{Count: 2, Messages: 240, Confirm: 40, Persistent: true, Headers: drawnHeaders(),
		Body: &scenario.Body{Path: dir},
		Properties: &scenario.Properties{ContentType: "application/json", ContentEncoding: "identity", Expiration: scenario.Duration(10 * time.Minute),
			MessageID: "{run}-{producer}-{seq}", CorrelationID: "order-{seq}", AppID: "shop", Type: "order.created", Timestamp: true}}
	sc.Consumers.Count = 0
	sc.Queues = []scenario.Queue{{Name: "mqbench-props"}}
	sc.Keep = true
	own(t, &sc)
	uri, err := amqp.ParseURI(sc.URL)
	if err != nil {
		t.Fatal(err)
	}
	sc.Producers.Properties.UserID = uri.Username // the broker refuses any other
	before := time.Now().Unix()
	res := runOK(t, sc)
	after := time.Now().Unix()
	msgs := readAll(t, sc.URL, sc.Queues[0].Name)
	if len(msgs) != 240 || res.Totals.Published != 240 {
		t.Fatalf("read %d, published %d: want 240", len(msgs), res.Totals.Published)
	}
	_, draws := sc.Producers.HeaderDraws()
	deck := message.NewDeck(draws, 1)
	ids := map[string]bool{}
	regions := map[any]int{}
	for _, m := range msgs {
		d, where := m.d, fmt.Sprintf("producer %d message %d", m.producer, m.seq)
		if d.ContentType != "application/json" || d.ContentEncoding != "identity" || d.Expiration != "600000" || d.AppId != "shop" ||
			d.Type != "order.created" || d.UserId != uri.Username || d.DeliveryMode != amqp.Persistent {
			t.Fatalf("%s: properties %+v", where, d)
		}
		if want := fmt.Sprintf("%016x-%d-%d", m.run, m.producer, m.seq); d.MessageId != want || d.CorrelationId != "order-"+strconv.Itoa(m.seq) {
			t.Fatalf("%s: message id %q correlation id %q, want %q and order-%d", where, d.MessageId, d.CorrelationId, want, m.seq)
		}
		ids[d.MessageId] = true
		if ts := d.Timestamp.Unix(); ts < before || ts > after {
			t.Fatalf("%s: timestamp %d outside the run (%d–%d)", where, ts, before, after)
		}
		want := deck.Values(deck.Combination(deck.SlotAt(deck.Position(m.producer, int64(m.seq)))))
		if d.Headers["kind"] != "order" || d.Headers["region"] != want["region"] || fmt.Sprint(d.Headers["tier"]) != fmt.Sprint(want["tier"]) || len(d.Headers) != 4 {
			t.Fatalf("%s: headers %v, the deck says %v (and kind order, and the stamp)", where, d.Headers, want)
		}
		regions[d.Headers["region"]]++
		if string(d.Body) != bodies[(m.seq+m.producer)%len(bodies)] {
			t.Fatalf("%s: body %q", where, d.Body)
		}
	}
	if len(ids) != 240 {
		t.Fatalf("%d distinct message ids among 240 messages", len(ids))
	}
	// 240 messages are 20 whole decks of 12 slots per producer... of 4 × 3
	// slots: region eu 2/4, us 1/4, ap 1/4, exactly.
	if regions["eu"] != 120 || regions["us"] != 60 || regions["ap"] != 60 {
		t.Fatalf("regions %v, want eu 120, us 60, ap 60 (weights 2:1:1)", regions)
	}
}

// headersQueues bind a headers exchange on the drawn headers' values in
// every way RabbitMQ matches: all, any, a header's presence, a value of
// another kind (a float; 3.x matches the integer 2, 4.x does not), and
// a value never drawn.
func headersQueues() []scenario.Queue {
	bind := func(name string, args map[string]any) scenario.Queue {
		return scenario.Queue{Name: name, Bindings: []scenario.Binding{{Arguments: args}}}
	}
	return []scenario.Queue{
		bind("mqbench-hx-eu", map[string]any{"x-match": "all", "region": "eu"}),
		bind("mqbench-hx-eu-1", map[string]any{"x-match": "all", "region": "eu", "tier": 1}),
		bind("mqbench-hx-us-or-3", map[string]any{"x-match": "any", "region": "us", "tier": 3}),
		bind("mqbench-hx-tier", map[string]any{"x-match": "all", "tier": nil}),
		bind("mqbench-hx-float", map[string]any{"x-match": "all", "tier": 2.0, "kind": "order"}),
		bind("mqbench-hx-mars", map[string]any{"x-match": "all", "region": "mars"}),
	}
}

// modelled is, for each queue, which (producer, seq) the routing model
// sends there, from the scenario alone: the deck's values per message and
// the broker's rules for headers matching.
func modelled(sc scenario.Scenario, published []int64, rules routing.Rules) []map[[2]int]bool {
	fixed, draws := sc.Producers.HeaderDraws()
	deck := message.NewDeck(draws, 1)
	out := make([]map[[2]int]bool, len(sc.Queues))
	for qi, q := range sc.Queues {
		out[qi] = map[[2]int]bool{}
		args := scenario.Table(q.Bindings[0].Arguments)
		for p, n := range published {
			for seq := int64(0); seq < n; seq++ {
				h := deck.Values(deck.Combination(deck.SlotAt(deck.Position(p, seq))))
				for k, v := range fixed {
					h[k] = v
				}
				if rules.HeadersMatch(args, h) {
					out[qi][[2]int{p, int(seq)}] = true
				}
			}
		}
	}
	return out
}

// brokerMajor is the major version of the broker a result ran against.
func brokerMajor(t *testing.T, res *result.Result) int {
	major, err := strconv.Atoi(strings.SplitN(res.Broker.Version, ".", 2)[0])
	if err != nil {
		t.Fatalf("broker version %q", res.Broker.Version)
	}
	return major
}

// TestHeadersExchangeRoutesDrawnHeadersAsModelled, the differential test
// of headers drawn per message: mqbench publishes to a headers exchange
// and keeps the queues; a plain consumer reads each one, and the set of
// messages the broker put in each is exactly the set the model — the
// deck's values per message, the broker's own matching rules — sends
// there, message by message. Then the same scenario with consumers: the
// audit, which owes each queue what the model says, balances with
// nothing lost or unexpected, and latency is measured from the stamp in
// its header.
func TestHeadersExchangeRoutesDrawnHeadersAsModelled(t *testing.T) {
	dir, _ := bodyDir(t, 2)
	sc := scenario.Default()
	sc.Exchange = scenario.Exchange{Name: "mqbench-hx", Type: scenario.ExchangeHeaders}
	sc.Producers = scenario.Producers{Count: 2, Messages: 600, Confirm: 50, Headers: drawnHeaders(), Body: &scenario.Body{Path: dir}}
	sc.Consumers = scenario.Consumers{Count: 0, Ack: scenario.AckAuto}
	sc.Queues = headersQueues()
	sc.Keep = true
	own(t, &sc)
	res := runOK(t, sc)
	rules := routing.RulesFor(brokerMajor(t, res))
	want := modelled(sc, []int64{300, 300}, rules)
	for qi, q := range sc.Queues {
		got := map[[2]int]bool{}
		for _, m := range readAll(t, sc.URL, q.Name) {
			got[[2]int{m.producer, m.seq}] = true
		}
		missing, extra := 0, 0
		for k := range want[qi] {
			if !got[k] {
				missing++
			}
		}
		for k := range got {
			if !want[qi][k] {
				extra++
			}
		}
		t.Logf("%s: the broker routed %d, the model %d", q.Name, len(got), len(want[qi]))
		if missing != 0 || extra != 0 {
			t.Errorf("%s: %d messages the model routes there are not in it, %d in it the model does not route there", q.Name, missing, extra)
		}
	}
	if len(want[0]) == 0 || len(want[5]) != 0 || len(want[3]) != 600 {
		t.Fatalf("the bindings do not exercise the model: %d to eu, %d to mars, %d to tier", len(want[0]), len(want[5]), len(want[3]))
	}

	c := brokerConn(t, sc.URL) // the next run declares them anew, and deletes them
	for _, q := range sc.Queues {
		brokertest.DeleteQueue(c, q.Name)
	}
	brokertest.DeleteExchange(c, sc.Exchange.Name)
	sc.Keep = false
	sc.Consumers.Count = len(sc.Queues)
	res = runOK(t, sc)
	if res.Audit == nil || !res.Audit.Balanced {
		t.Fatalf("audit %+v", res.Audit)
	}
	for qi, q := range res.Audit.Queues {
		if q.Expected != int64(len(want[qi])) || q.Consumed != q.Expected || q.Lost != 0 || q.Unexpected != 0 || q.Duplicates != 0 {
			t.Errorf("audit of %s: expected %d consumed %d lost %d unexpected %d; the model routes %d there",
				q.Name, q.Expected, q.Consumed, q.Lost, q.Unexpected, len(want[qi]))
		}
	}
	e2e := res.Latency[metrics.EndToEnd]
	if e2e == nil || e2e.Count == 0 || val(res.Totals.Unstamped) > 0 || val(res.Totals.Foreign) > 0 {
		t.Fatalf("latency from the stamp header: %+v, unstamped %d, foreign %d", e2e, val(res.Totals.Unstamped), val(res.Totals.Foreign))
	}
	assertNothingLeft(t, sc, res)
}

// TestWrongUserIDFailsTheRun: a user_id that is not the login user's is
// refused by the broker, which closes the producer's channel; the run
// fails with the broker's reason (docs/BAD-INPUT.md) — with confirms and
// without, though a producer that met its quota publishes nothing more
// that would fail.
func TestWrongUserIDFailsTheRun(t *testing.T) {
	for _, confirm := range []int{10, 0} {
		t.Run(fmt.Sprint("confirm ", confirm), func(t *testing.T) {
			sc := scenario.Default()
			sc.Producers = scenario.Producers{Count: 1, Messages: 10, Confirm: confirm, Properties: &scenario.Properties{UserID: "someone-else"}}
			sc.Consumers.Count = 0
			sc.Queues = []scenario.Queue{{Name: "mqbench-user-id"}}
			own(t, &sc)
			res, err := Run(t.Context(), sc, Options{})
			if err == nil || !contains(err.Error(), "PRECONDITION_FAILED") || !contains(err.Error(), "someone-else") || !contains(err.Error(), "producer 0") {
				t.Fatalf("err = %v, want the broker's PRECONDITION_FAILED naming the user id and the producer", err)
			}
			if res == nil || res.StopReason != "error" {
				t.Fatalf("result %+v", res)
			}
		})
	}
}
