package routing

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// brokerRoutes binds one queue per binding to a fresh exchange of kind,
// publishes one message per case (its index as the body), and returns, for
// each binding, the set of cases the broker routed to its queue, and the
// broker's version.
func brokerRoutes(t *testing.T, kind string, bindings []binding, cases []message) ([]map[int]bool, string) {
	t.Helper()
	c := brokertest.Conn(t, brokertest.URL(t))
	version, _ := c.Properties["version"].(string)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	ex := "mqbench-diff-" + brokertest.Suffix(t)
	if err := ch.ExchangeDeclare(ex, kind, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { brokertest.DeleteExchange(c, ex) })
	queues := make([]string, len(bindings))
	for i, b := range bindings {
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		queues[i] = q.Name
		if err := ch.QueueBind(q.Name, b.key, ex, false, amqp.Table(b.args)); err != nil {
			t.Fatalf("bind %+v: %v", b, err)
		}
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for i, m := range cases {
		dc, err := ch.PublishWithDeferredConfirm(ex, m.key, false, false, amqp.Publishing{Headers: amqp.Table(m.headers), Body: []byte(fmt.Sprint(i))})
		if err != nil || !dc.Wait() {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	out := make([]map[int]bool, len(bindings))
	for i, q := range queues {
		out[i] = map[int]bool{}
		for {
			d, ok, err := ch.Get(q, true)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			var n int
			fmt.Sscan(string(d.Body), &n)
			out[i][n] = true
		}
	}
	return out, version
}

type binding struct {
	key  string
	args map[string]any
}

type message struct {
	key     string
	headers map[string]any
}

// compare reports every (binding, message) pair on which the model and
// the broker disagree.
func compare(t *testing.T, kind string, bindings []binding, cases []message) {
	t.Helper()
	got, version := brokerRoutes(t, kind, bindings, cases)
	major, _ := strconv.Atoi(strings.Split(version, ".")[0])
	rules := RulesFor(major)
	disagree := 0
	for bi, b := range bindings {
		for mi, m := range cases {
			model := rules.Routes(kind, b.key, b.args, m.key, m.headers)
			if model != got[bi][mi] {
				disagree++
				t.Errorf("%s binding %q %s, message %q %s: broker routes %v, model %v", kind, b.key, typed(b.args), m.key, typed(m.headers), got[bi][mi], model)
			}
		}
	}
	t.Logf("RabbitMQ %s: %d bindings × %d messages, %d disagreements", version, len(bindings), len(cases), disagree)
}

// TestTopicModelMatchesTheBroker is a differential test: for a table of
// patterns and keys — empty keys, empty words, # and * at every position —
// the real broker's routing and the audit's model agree.
func TestTopicModelMatchesTheBroker(t *testing.T) {
	patterns := []string{"", "#", "*", "a", "a.*", "*.b", "a.#", "#.b", "a.#.b", "#.#", "*.*", "a.*.#", "#.a.#",
		"a..b", "*.", ".*", ".", "a.b.c", "#.*", "*.#", "#.*.#", "a.#.#.b", "*.*.*"}
	keys := []string{"", "a", "b", "a.b", "a.b.c", "a..b", ".", "a.", ".a", "x.a.y", "a.x.b", "aa.b", "a.b.b", "..", "a.x.y.b"}
	var bs []binding
	for _, p := range patterns {
		bs = append(bs, binding{key: p})
	}
	var ms []message
	for _, k := range keys {
		ms = append(ms, message{key: k})
	}
	compare(t, scenario.ExchangeTopic, bs, ms)
}

// TestHeadersModelMatchesTheBroker: typed values ("2" is not 2, 2 is 2.0),
// every x-match mode, x- arguments, presence-only (void) arguments.
func TestHeadersModelMatchesTheBroker(t *testing.T) {
	var bs []binding
	for _, mode := range []any{nil, "all", "any", "all-with-x", "any-with-x"} {
		for _, args := range []map[string]any{
			{},
			{"region": "eu"},
			{"region": "eu", "tier": int64(2)},
			{"tier": "2"},
			{"tier": 2.0},
			{"flag": true},
			{"region": "eu", "x-tag": "t1"},
			{"x-tag": "t1"},
			{"region": nil}, // presence only
		} {
			a := map[string]any{}
			for k, v := range args {
				a[k] = v
			}
			if mode != nil {
				a["x-match"] = mode
			}
			bs = append(bs, binding{args: a})
		}
	}
	ms := []message{
		{headers: nil},
		{headers: map[string]any{"region": "eu"}},
		{headers: map[string]any{"region": "us"}},
		{headers: map[string]any{"region": "eu", "tier": int64(2)}},
		{headers: map[string]any{"region": "eu", "tier": int32(2)}},
		{headers: map[string]any{"tier": "2"}},
		{headers: map[string]any{"tier": 2.0}},
		{headers: map[string]any{"flag": true}},
		{headers: map[string]any{"flag": "true"}},
		{headers: map[string]any{"region": "eu", "x-tag": "t1"}},
		{headers: map[string]any{"x-tag": "t1"}},
		{headers: map[string]any{"x-tag": "t2", "region": "eu", "tier": int64(3)}},
	}
	compare(t, scenario.ExchangeHeaders, bs, ms)
}

// typed prints a table with each value's type: 2 and 2.0 differ.
func typed(m map[string]any) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%T(%v)", k, v, v))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, " ") + "}"
}
