// Package routing models how RabbitMQ's exchanges route a message — direct
// keys, fanout, topic patterns, headers matches — and which routing key a
// producer gives each message. The producers and the delivery audit use the
// same rules, so the audit knows exactly which queue owes which message.
package routing

import (
	"fmt"
	"strings"

	"github.com/mqbench/mqbench/internal/scenario"
)

// TopicMatch reports whether an AMQP topic binding pattern matches a
// routing key: words are separated by dots, "*" stands for exactly one
// word and "#" for zero or more.
func TopicMatch(pattern, key string) bool {
	return topicWords(strings.Split(pattern, "."), strings.Split(key, "."))
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

// HeadersMatch reports whether a headers-exchange binding (its arguments,
// with x-match all or any) matches a message's headers.
func HeadersMatch(binding, headers map[string]any) bool {
	any := fmt.Sprint(binding["x-match"]) == "any"
	n, hits := 0, 0
	for k, v := range binding {
		if strings.HasPrefix(k, "x-") {
			continue
		}
		n++
		if hv, ok := headers[k]; ok && fmt.Sprint(hv) == fmt.Sprint(v) {
			hits++
		}
	}
	if any {
		return hits > 0
	}
	return hits == n
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
func Routes(kind, bindingKey string, bindingArgs map[string]any, key string, headers map[string]any) bool {
	switch kind {
	case scenario.ExchangeFanout:
		return true
	case scenario.ExchangeDirect:
		return bindingKey == key
	case scenario.ExchangeTopic:
		return TopicMatch(bindingKey, key)
	case scenario.ExchangeHeaders:
		return HeadersMatch(bindingArgs, headers)
	}
	return false
}
