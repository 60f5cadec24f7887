package audit

import (
	"fmt"
	"strings"
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
