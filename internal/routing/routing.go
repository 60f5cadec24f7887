// Package routing models how RabbitMQ's exchanges route a message — direct
// keys, fanout, topic patterns, headers matches — and which routing key a
// producer gives each message. The producers and the delivery audit use the
// same rules, so the audit knows exactly which queue owes which message.
package routing

import (
	"strings"

	"github.com/mqbench/mqbench/internal/scenario"
)

// TopicMatch reports whether an AMQP topic binding pattern matches a
// routing key as RabbitMQ matches it: words are separated by dots, "*"
// stands for exactly one word (an empty one too: "a..b" has three) and
// "#" for zero or more. An empty key or pattern has no words at all, so
// "*" does not match "" while "#" does.
func TopicMatch(pattern, key string) bool {
	return topicWords(words(pattern), words(key))
}

// words splits a topic key or pattern; "" has no words (strings.Split
// would give one empty word).
func words(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

func topicWords(p, k []string) bool {
	if len(p) == 0 {
		return len(k) == 0
	}
	switch p[0] {
	case "#":
		for i := 0; i <= len(k); i++ {
			if topicWords(p[1:], k[i:]) {
				return true
			}
		}
		return false
	case "*":
		return len(k) > 0 && topicWords(p[1:], k[1:])
	}
	return len(k) > 0 && p[0] == k[0] && topicWords(p[1:], k[1:])
}

// Rules is how one broker release routes. RabbitMQ 3.x compares header
// values with Erlang's == (the integer 2 equals the float 2.0); 4.x with
// =:= (it does not). Both were checked against a real broker of each
// (TestHeadersModelMatchesTheBroker on 3.10 and 4.0.5).
type Rules struct {
	// ExactNumbers: an integer header never equals a float one.
	ExactNumbers bool
}

// RulesFor returns the rules of a broker by its major version (0 when it
// did not say: the 3.x rules).
func RulesFor(major int) Rules { return Rules{ExactNumbers: major >= 4} }

// HeadersMatch reports whether a headers-exchange binding (its arguments)
// matches a message's headers, with the 3.x rules (Rules.HeadersMatch for
// a given release).
func HeadersMatch(binding, headers map[string]any) bool {
	return Rules{}.HeadersMatch(binding, headers)
}

// HeadersMatch reports whether a headers-exchange binding (its arguments)
// matches a message's headers, as RabbitMQ decides: with x-match "all"
// (the default, also for a value it does not know) every argument must
// match, with "any" one; arguments named x-… are left out unless the mode
// is "all-with-x" or "any-with-x". An argument without a value (nil, AMQP
// void) matches any value of that header; otherwise the values must be
// equal: numbers by value whatever their width (with ExactNumbers, an
// integer never equals a float), and never a number and a string ("2" is
// not 2).
func (r Rules) HeadersMatch(binding, headers map[string]any) bool {
	mode, _ := binding["x-match"].(string)
	withX := mode == scenario.XMatchAllWithX || mode == scenario.XMatchAnyWithX
	all, hit := true, false
	for k, want := range binding {
		if k == "x-match" || (!withX && strings.HasPrefix(k, "x-")) {
			continue
		}
		got, ok := headers[k]
		switch {
		case !ok:
			all = false
		case want == nil || r.equal(want, got):
			hit = true
		default:
			all = false
		}
	}
	if mode == scenario.XMatchAny || mode == scenario.XMatchAnyWithX {
		return hit
	}
	return all
}

// equal compares two field-table values as the broker does: numbers by
// value whatever their width (with ExactNumbers, integers and floats never
// equal), strings by content, booleans by truth; different kinds are never
// equal.
func (r Rules) equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y && (!r.ExactNumbers || isFloat(a) == isFloat(b))
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return false
}

func isFloat(v any) bool {
	switch v.(type) {
	case float32, float64:
		return true
	}
	return false
}

// number reads any integer or float kind as a float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// KeyIndex is the index of the routing key that producer number producer
// uses for its message seq, out of n keys. Producers start at different
// keys, so that every queue gets traffic even when each producer sends
// only a few messages.
func KeyIndex(producer int, seq int64, n int) int {
	return int((seq + int64(producer)) % int64(n))
}

// Routes reports whether an exchange of type kind routes a message with
// routing key key and headers to a queue bound with bindingKey and
// bindingArgs.
func (r Rules) Routes(kind, bindingKey string, bindingArgs map[string]any, key string, headers map[string]any) bool {
	switch kind {
	case scenario.ExchangeFanout:
		return true
	case scenario.ExchangeDirect:
		return bindingKey == key
	case scenario.ExchangeTopic:
		return TopicMatch(bindingKey, key)
	case scenario.ExchangeHeaders:
		return r.HeadersMatch(bindingArgs, headers)
	}
	return false
}
