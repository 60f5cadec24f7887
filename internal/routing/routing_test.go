package routing

import "testing"

func TestTopicMatch(t *testing.T) {
	cases := []struct {
		pattern, key string
		want         bool
	}{
		{"kern.*", "kern.critical", true}, {"kern.*", "kern", false}, {"kern.*", "kern.a.b", false},
		{"*.critical", "app.critical", true}, {"#.audit", "app.info.audit", true}, {"#.audit", "audit", true},
		{"#", "", true}, {"#", "a.b.c", true}, {"a.#.z", "a.z", true}, {"a.#.z", "a.b.c.z", true},
		{"a.#.z", "a.b.c", false}, {"a.b", "a.b", true}, {"a.b", "a.c", false},
		{"*", "", false}, {"", "", true}, {"#", "", true}, {"*.*", ".", true}, {"a.*.b", "a..b", true}, // "" has no words (the broker agrees: TestTopicModelMatchesTheBroker)
	}
	for _, c := range cases {
		if got := TopicMatch(c.pattern, c.key); got != c.want {
			t.Errorf("TopicMatch(%q, %q) = %v", c.pattern, c.key, got)
		}
	}
}

func TestHeadersMatch(t *testing.T) {
	h := map[string]any{"region": "eu", "tier": int64(2)}
	cases := []struct {
		binding map[string]any
		want    bool
	}{
		{map[string]any{"x-match": "all", "region": "eu", "tier": int64(2)}, true},
		{map[string]any{"x-match": "all", "region": "us"}, false},
		{map[string]any{"x-match": "any", "region": "us", "tier": int64(2)}, true},
		{map[string]any{"region": "eu"}, true},
		{map[string]any{}, true},
	}
	for _, c := range cases {
		if got := HeadersMatch(c.binding, h); got != c.want {
			t.Errorf("HeadersMatch(%v) = %v", c.binding, got)
		}
	}
}
